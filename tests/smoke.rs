//! A first end-to-end check: both endpoints answer normalised JSON through the real server.
mod common;

#[tokio::test]
async fn both_endpoints_answer_through_the_gateway() {
    let app = common::spawn_app().await;
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["resultCount"], 3);
    let r = app.details("webentry_id=UN0000000002").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["items"][0]["webEntryId"], "UN0000000002");
    assert_eq!(app.api_calls(), 2);
}
