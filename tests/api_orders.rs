//! `GET /v1/business-process/service-orders` end to end: every upstream quirk
//! normalised through the real server (per service), the envelope, and what
//! the simulated upstream received (query, bearer token, User-Agent,
//! x-request-id).
mod common;

use serde_json::{Value, json};
use service_order_gateway::simulator::Target;

async fn orders_json(app: &common::TestApp, service: &str) -> Value {
    let r = app.orders(service).await;
    assert_eq!(r.status(), 200, "orders for {service}");
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    r.json().await.unwrap()
}

#[tokio::test]
async fn uno_quirks_are_normalised() {
    let app = common::spawn_app().await;
    let body = orders_json(&app, "uno").await;
    assert_eq!(body["resultCount"], json!(3));
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);

    // Item 1: the document example; numeric codes become text codes, the
    // date-time stays RFC 3339 UTC.
    assert_eq!(items[0]["contractId"], "N10000001");
    assert_eq!(items[0]["serviceName"], "uno-virtual");
    assert_eq!(items[0]["orderType"], json!({"code": "1", "name": "new"}));
    assert_eq!(items[0]["offerPlanDate"], "2014-10-31T12:34:56Z");
    assert_eq!(items[0]["orderStatus"]["code"], "1");
    assert_eq!(items[0]["orderRequestId"], "R00000000001");
    assert!(items[0].get("invalidValues").is_none());

    // Item 2: string code "2", YYYY/MM/DD date, unknown status code kept
    // with no name, orderRequestNum renamed.
    assert_eq!(
        items[1]["orderType"],
        json!({"code": "2", "name": "change"})
    );
    assert_eq!(items[1]["offerPlanDate"], "2026-12-10");
    assert_eq!(
        items[1]["orderStatus"],
        json!({"code": "14-GO", "name": null})
    );
    assert_eq!(items[1]["orderRequestId"], "R00000000002");
    assert!(items[1].get("orderRequestNum").is_none());

    // Item 3: the string "null" is a JSON null, present as a key.
    assert_eq!(items[2]["offerPlanDate"], Value::Null);
    assert!(items[2].as_object().unwrap().contains_key("offerPlanDate"));
    assert_eq!(items[2]["orderStatus"]["code"], "5");
    assert_eq!(app.sim.count(Target::Orders), 1);
}

#[tokio::test]
async fn numeric_and_string_codes_are_the_same_code() {
    let app = common::spawn_app().await;
    let uno = orders_json(&app, "uno").await;
    let ucaas = orders_json(&app, "ucaas").await;
    // uno item 1 sends orderType 1 (number), ucaas item 2 sends "1" (string).
    assert_eq!(uno["items"][0]["orderType"]["code"], json!("1"));
    assert_eq!(ucaas["items"][1]["orderType"]["code"], json!("1"));
    assert_eq!(
        uno["items"][0]["orderType"]["name"],
        ucaas["items"][1]["orderType"]["name"]
    );
    // ucaas sends resultCount as the string "2": callers get a number.
    assert_eq!(ucaas["resultCount"], json!(2));
    // orderRequestNum becomes orderRequestId; a YYYY/MM/DD date becomes ISO.
    assert_eq!(ucaas["items"][0]["orderRequestId"], "R00000000011");
    assert_eq!(ucaas["items"][1]["offerPlanDate"], "2026-01-15");
    assert_eq!(ucaas["items"][0]["offerPlanDate"], "2025-04-01T00:00:00Z");
}

#[tokio::test]
async fn mss_missing_or_blank_status_means_complete() {
    let app = common::spawn_app().await;
    let body = orders_json(&app, "mss").await;
    assert_eq!(body["resultCount"], json!(4));
    let items = body["items"].as_array().unwrap();
    // No orderStatus field at all: MSS says that means complete.
    assert_eq!(
        items[0]["orderStatus"],
        json!({"code": null, "name": "complete"})
    );
    // "" is no status either (as documented in model::orders): complete.
    assert_eq!(
        items[1]["orderStatus"],
        json!({"code": null, "name": "complete"})
    );
    assert_eq!(items[1]["offerPlanDate"], "2026-02-01");
    // "-" is kept as a code.
    assert_eq!(items[2]["orderStatus"]["code"], "-");
    assert_eq!(items[2]["offerPlanDate"], Value::Null);
    assert_eq!(items[3]["orderStatus"]["code"], "1");
    // Every item has every field.
    for item in items {
        for field in [
            "contractId",
            "serviceName",
            "orderType",
            "offerPlanDate",
            "orderStatus",
            "orderRequestId",
        ] {
            assert!(item.as_object().unwrap().contains_key(field), "{field}");
        }
    }
}

#[tokio::test]
async fn sip_trunking_unknown_codes_keep_the_code_without_a_name() {
    let app = common::spawn_app().await;
    let body = orders_json(&app, "sip-trunking").await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(body["resultCount"], json!(3));
    assert_eq!(items[0]["orderStatus"]["code"], "2-1");
    assert_eq!(
        items[1]["orderStatus"],
        json!({"code": "S1K", "name": null})
    );
    assert_eq!(items[1]["serviceName"], "SIP Trunking");
    assert_eq!(items[1]["offerPlanDate"], "2026-03-31");
    assert_eq!(items[0]["offerPlanDate"], "2025-11-20T09:00:00Z");
    assert_eq!(items[2]["offerPlanDate"], Value::Null);
}

#[tokio::test]
async fn every_service_answers_with_the_envelope() {
    let app = common::spawn_app().await;
    for service in [
        "uno",
        "ucaas",
        "sip-trunking",
        "mss",
        "050plusbiz",
        "ip-voice",
        "smart-pbx",
        "accs",
        "bdp-e",
    ] {
        let body = orders_json(&app, service).await;
        let obj = body.as_object().unwrap();
        assert_eq!(obj.len(), 2, "{service}: only items and resultCount");
        let n = body["items"].as_array().unwrap().len() as u64;
        assert_eq!(body["resultCount"], json!(n), "{service}");
        for item in body["items"].as_array().unwrap() {
            if let Some(date) = item["offerPlanDate"].as_str() {
                assert!(
                    date.len() == 10 && date.as_bytes()[4] == b'-'
                        || (date.len() == 20 && date.ends_with('Z')),
                    "{service}: {date} is neither YYYY-MM-DD nor RFC 3339 UTC"
                );
            }
        }
    }
    assert_eq!(app.sim.count(Target::Orders), 9);
}

#[tokio::test]
async fn empty_accs_is_200_with_no_items() {
    let app = common::spawn_app().await;
    let body = orders_json(&app, "accs").await;
    assert_eq!(body, json!({"items": [], "resultCount": 0}));
}

#[tokio::test]
async fn the_upstream_gets_the_service_name_token_user_agent_and_request_id() {
    let app = common::spawn_app().await;
    let r = app
        .get_with(
            "/v1/business-process/service-orders?serviceName=050plusbiz",
            &[("x-request-id", "req-orders-42")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "req-orders-42");

    let calls: Vec<_> = app
        .sim
        .received()
        .into_iter()
        .filter(|c| c.target == Target::Orders)
        .collect();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.method, "GET");
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(call.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    assert_eq!(query, vec![("serviceName".into(), "050plusbiz".into())]);
    let token = app.sim.issued_tokens().last().cloned().expect("a token");
    assert_eq!(
        call.headers["authorization"].to_str().unwrap(),
        format!("Bearer {token}")
    );
    assert!(
        call.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("service-order-gateway/")
    );
    assert_eq!(call.headers["x-request-id"], "req-orders-42");
}

#[tokio::test]
async fn a_generated_request_id_is_echoed() {
    let app = common::spawn_app().await;
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!id.is_empty());
    // The id the gateway made up is the one it sent upstream.
    let sent = app
        .sim
        .received()
        .into_iter()
        .find(|c| c.target == Target::Orders)
        .expect("an orders call");
    assert_eq!(sent.headers["x-request-id"].to_str().unwrap(), id);
}
