//! `GET /v1/business-process/service-order-details` end to end: the
//! envelope, per-quirk normalisation of records ("null"/"" strings, dates
//! without leading zeros, impossible dates into `invalidValues`, Japanese
//! text byte for byte, empty results), and the query the upstream received
//! (ids, ISO dates sent as YYYY/MM/DD, the default month in JST).
mod common;

use serde_json::{Value, json};
use service_order_gateway::calendar::DetailsDays;
use service_order_gateway::simulator::{ReceivedRequest, Target};

async fn details_json(app: &common::TestApp, query: &str) -> Value {
    let r = app.details(query).await;
    assert_eq!(r.status(), 200, "details?{query}");
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    r.json().await.unwrap()
}

fn details_calls(app: &common::TestApp) -> Vec<ReceivedRequest> {
    app.sim
        .received()
        .into_iter()
        .filter(|c| c.target == Target::Details)
        .collect()
}

fn query_of(call: &ReceivedRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(call.query.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn envelope_carries_code_detail_and_the_date_range() {
    let app = common::spawn_app().await;
    let body = details_json(&app, "webentry_id=UN0000000002").await;
    assert_eq!(body["resultCount"], json!(1));
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    // The simulator sends code 200 as a number here; callers get text.
    assert_eq!(body["code"], json!("200"));
    assert_eq!(body["detailCode"], "I01");
    assert_eq!(body["detailMsg"], "正常終了しました。(検索結果:1件)");
    // No dates asked for: the gateway states the month it used (JST).
    assert_eq!(body["dataUpdateDateFrom"], "2026-11-03");
    assert_eq!(body["dataUpdateDateTo"], "2026-12-03");
}

#[tokio::test]
async fn string_result_code_is_the_same_success() {
    let app = common::spawn_app().await;
    // An odd last digit makes the simulator send "200" as a string.
    let body = details_json(&app, "webentry_id=UN0000000001").await;
    assert_eq!(body["code"], json!("200"));
    assert_eq!(body["resultCount"], json!(1));
}

#[tokio::test]
async fn null_strings_and_empty_strings_become_null() {
    let app = common::spawn_app().await;
    let body = details_json(&app, "webentry_id=UN0000000001").await;
    let item = &body["items"][0];
    assert_eq!(item["webEntryId"], "UN0000000001");
    // "null" in the upstream record is a JSON null, and the key is present.
    assert_eq!(item["officeName"], Value::Null);
    assert!(item.as_object().unwrap().contains_key("officeName"));
    assert_eq!(item["darkId"], Value::Null);
    assert_eq!(item["applYmd"], "2026-04-01");

    let body = details_json(&app, "webentry_id=UN0000000004").await;
    let item = &body["items"][0];
    // "" in the upstream record is a JSON null too.
    assert_eq!(item["officeName"], Value::Null);
    assert_eq!(item["putPlaceFloor"], Value::Null);
    assert_eq!(item["kind"], "変更");
    assert_eq!(item["changeRelationNum"], "02");
}

#[tokio::test]
async fn dates_become_iso_and_impossible_dates_are_reported() {
    let app = common::spawn_app().await;
    // 2026/1/5 (no leading zeros) is a valid date.
    let body = details_json(&app, "webentry_id=UN0000000005").await;
    assert_eq!(body["items"][0]["holdoutScheduleYmd"], "2026-01-05");
    assert_eq!(body["items"][0]["applYmd"], "2025-12-01");

    // UN0000000003 has a main and a backup line; the main line carries 2024/13/45.
    let body = details_json(&app, "webentry_id=UN0000000003").await;
    assert_eq!(body["resultCount"], json!(2));
    let main = &body["items"][0];
    assert_eq!(main["mainBackIdentifier"], "1");
    assert_eq!(main["areaFieldResearchScheduleYmd"], Value::Null);
    assert_eq!(
        main["invalidValues"],
        json!({"areaFieldResearchScheduleYmd": "2024/13/45"})
    );
    assert_eq!(main["holdoutScheduleYmd"], "2026-05-01");
    let backup = &body["items"][1];
    assert_eq!(backup["mainBackIdentifier"], "2");
    assert_eq!(backup["areaFieldResearchScheduleYmd"], Value::Null);
    assert!(backup.get("invalidValues").is_none());
}

#[tokio::test]
async fn japanese_text_passes_through_byte_for_byte() {
    let app = common::spawn_app().await;
    let r = app.details("webentry_id=UN0000000002").await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    for text in [
        "東京都",
        "千代田区大手町2-3-1",
        "大手町プレイスウエストタワー",
        "新設",
        "株式会社サンプル商事",
        "情報システム部",
    ] {
        assert!(
            bytes.windows(text.len()).any(|w| w == text.as_bytes()),
            "{text} is not in the body as raw UTF-8"
        );
    }
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let item = &body["items"][0];
    assert_eq!(item["putPlaceAddPrefectures"], "東京都");
    assert_eq!(item["putPlaceAdd"], "千代田区大手町2-3-1");
    assert_eq!(item["putPlaceTel"], "03-1234-5678");
    assert_eq!(item["kind"], "新設");
    assert_eq!(item["serviceName"], "L3 ギャランティ");
}

#[tokio::test]
async fn empty_result_is_200_with_no_items() {
    let app = common::spawn_app().await;
    let body = details_json(&app, "webentry_id=EMPTY1").await;
    assert_eq!(body["items"], json!([]));
    assert_eq!(body["resultCount"], json!(0));
    assert_eq!(body["code"], json!("200"));
}

#[tokio::test]
async fn filters_and_iso_dates_are_sent_upstream_as_the_document_wants() {
    let app = common::spawn_app().await;
    let body = details_json(
        &app,
        "webentry_id=UN0000000003&n_no=N000000032&v_no=V00000003&data_update_date_from=2026-11-01&data_update_date_to=2026-11-30",
    )
    .await;
    assert_eq!(body["resultCount"], json!(1));
    assert_eq!(body["items"][0]["contractLineNumDistribut"], "N000000032");
    assert_eq!(body["dataUpdateDateFrom"], "2026-11-01");
    assert_eq!(body["dataUpdateDateTo"], "2026-11-30");

    let calls = details_calls(&app);
    assert_eq!(calls.len(), 1);
    let q = query_of(&calls[0]);
    let get = |name: &str| {
        q.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} not sent upstream: {q:?}"))
    };
    assert_eq!(get("webentry_id"), "UN0000000003");
    assert_eq!(get("n_no"), "N000000032");
    assert_eq!(get("v_no"), "V00000003");
    assert_eq!(get("data_update_date_from"), "2026/11/01");
    assert_eq!(get("data_update_date_to"), "2026/11/30");
    assert_eq!(q.len(), 5, "nothing else is sent: {q:?}");
}

#[tokio::test]
async fn without_dates_the_gateway_sends_the_month_up_to_today_in_jst() {
    // 08:00 JST on 2026-12-03 is still 2026-12-02 in UTC: the dates must be
    // JST. (The details endpoint is configured open around the clock here.)
    let app = common::spawn_app_with(common::jst_at(2026, 12, 3, 8, 0), |config| {
        config.calendar.days = DetailsDays::All;
        config.calendar.hours = "00:00-23:59:59".parse().unwrap();
    })
    .await;
    let body = details_json(&app, "webentry_id=ABC123").await;
    assert_eq!(body["dataUpdateDateFrom"], "2026-11-03");
    assert_eq!(body["dataUpdateDateTo"], "2026-12-03");
    let calls = details_calls(&app);
    assert_eq!(calls.len(), 1);
    let q = query_of(&calls[0]);
    assert!(q.contains(&("data_update_date_from".into(), "2026/11/03".into())));
    assert!(q.contains(&("data_update_date_to".into(), "2026/12/03".into())));
    assert!(q.contains(&("webentry_id".into(), "ABC123".into())));
    // The synthetic record for an unknown id carries that id.
    assert_eq!(body["items"][0]["webEntryId"], "ABC123");
}

#[tokio::test]
async fn only_from_given_means_to_is_today() {
    let app = common::spawn_app().await;
    let body = details_json(&app, "data_update_date_from=2026-10-15").await;
    assert_eq!(body["dataUpdateDateFrom"], "2026-10-15");
    assert_eq!(body["dataUpdateDateTo"], "2026-12-03");
    let q = query_of(&details_calls(&app)[0]);
    assert!(q.contains(&("data_update_date_to".into(), "2026/12/03".into())));
}

#[tokio::test]
async fn the_upstream_gets_the_bearer_token_user_agent_and_request_id() {
    let app = common::spawn_app().await;
    let r = app
        .get_with(
            "/v1/business-process/service-order-details?webentry_id=UN0000000007",
            &[("x-request-id", "details-req-7")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "details-req-7");
    let calls = details_calls(&app);
    assert_eq!(calls.len(), 1);
    let token = app.sim.issued_tokens().last().cloned().expect("a token");
    assert_eq!(
        calls[0].headers["authorization"].to_str().unwrap(),
        format!("Bearer {token}")
    );
    assert!(
        calls[0].headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("service-order-gateway/")
    );
    assert_eq!(calls[0].headers["x-request-id"], "details-req-7");
}
