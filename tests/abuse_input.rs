//! Abusive requests against the real gateway: over-long query strings, a
//! parameter flood, invalid UTF-8 and percent-encoding tricks, header floods
//! and raw garbage in the request line. Each gets a clear 4xx (problem+json
//! where the gateway answers itself), nothing is forwarded upstream, and the
//! server still answers `/healthz` afterwards.
mod common;

use std::time::Duration;

use common::TestApp;
use serde_json::Value;
use service_order_gateway::simulator::Target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ORDERS: &str = "/v1/business-process/service-orders";
const DETAILS: &str = "/v1/business-process/service-order-details";

/// Asserts `r` is a problem+json with `status`, and returns its body.
async fn assert_problem(r: reqwest::Response, status: u16, what: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "{what}: status");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json", "{what}: content-type");
    let body: Value = r.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "{what}: body status");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:service-order-gateway:problem:")),
        "{what}: type in {body}"
    );
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    body
}

/// The server still answers, and nothing reached the upstream API.
async fn assert_still_up_and_nothing_forwarded(app: &TestApp) {
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200, "healthz after abuse");
    assert_eq!(app.api_calls(), 0, "nothing may be forwarded upstream");
}

fn names_of_invalid(body: &Value) -> Vec<String> {
    body["invalidParams"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn ten_kilobyte_query_string_is_414() {
    let app = common::spawn_app().await;
    let long = "A".repeat(10 * 1024);
    for path in [
        format!("{ORDERS}?serviceName=uno&x={long}"),
        format!("{DETAILS}?webentry_id={long}"),
    ] {
        let body = assert_problem(app.get(&path).await, 414, "10 KB query").await;
        assert_eq!(
            body["type"],
            "urn:service-order-gateway:problem:uri-too-long"
        );
        assert!(body["detail"].as_str().unwrap().contains("2048"), "{body}");
    }
    assert_still_up_and_nothing_forwarded(&app).await;
}

#[tokio::test]
async fn five_hundred_parameters_are_400_and_each_is_named() {
    let app = common::spawn_app().await;
    // 500 distinct two-character names: 1.5 KB, under the URI limit.
    let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    let names: Vec<String> = (0..500)
        .map(|i| format!("{}{}", alphabet[i / 36], alphabet[i % 36]))
        .collect();
    let query = names.join("&");
    let r = app.get(&format!("{ORDERS}?serviceName=uno&{query}")).await;
    let body = assert_problem(r, 400, "500 params (orders)").await;
    let invalid = names_of_invalid(&body);
    assert_eq!(invalid.len(), 500, "every unknown name is reported once");
    assert_eq!(invalid[0], "aa");

    // 250 repetitions of a known parameter (as many as fit the URI limit):
    // one "repeated" entry.
    let repeated = vec!["v_no=1"; 250].join("&");
    let r = app.get(&format!("{DETAILS}?{repeated}")).await;
    let body = assert_problem(r, 400, "250 repeats (details)").await;
    assert_eq!(names_of_invalid(&body), vec!["v_no".to_owned()]);
    assert!(body["detail"].as_str().unwrap().contains("repeated"));
    assert_still_up_and_nothing_forwarded(&app).await;
}

#[tokio::test]
async fn invalid_utf8_percent_encoding_is_400() {
    let app = common::spawn_app().await;
    let body = assert_problem(
        app.get(&format!("{ORDERS}?serviceName=%FF%FE")).await,
        400,
        "serviceName=%FF%FE",
    )
    .await;
    assert_eq!(names_of_invalid(&body), vec!["serviceName".to_owned()]);
    let body = assert_problem(
        app.details("webentry_id=%FF%FE").await,
        400,
        "webentry_id=%FF%FE",
    )
    .await;
    assert_eq!(names_of_invalid(&body), vec!["webentry_id".to_owned()]);
    // Invalid UTF-8 in a parameter name too.
    let body = assert_problem(
        app.get(&format!("{ORDERS}?serviceName=uno&%FF%FE=1")).await,
        400,
        "name %FF%FE",
    )
    .await;
    assert_eq!(names_of_invalid(&body).len(), 1);
    assert_still_up_and_nothing_forwarded(&app).await;
}

#[tokio::test]
async fn percent_encoding_tricks_are_rejected_but_plain_encoding_works() {
    let app = common::spawn_app().await;
    for (query, param) in [
        ("serviceName=uno%00", "serviceName"),
        ("serviceName=%00", "serviceName"),
        ("serviceName=%2526", "serviceName"),
        // Double-encoded "u": decoded once it is "%75no", never "uno".
        ("serviceName=%2575no", "serviceName"),
        ("serviceName=uno%26serviceName%3Dmss", "serviceName"),
        ("serviceName=uno%20", "serviceName"),
        ("serviceName=%E3%81%82", "serviceName"),
    ] {
        let body = assert_problem(app.get(&format!("{ORDERS}?{query}")).await, 400, query).await;
        assert!(
            names_of_invalid(&body).contains(&param.to_owned()),
            "{query}: {body}"
        );
    }
    for (query, param) in [
        ("webentry_id=UN%00", "webentry_id"),
        ("webentry_id=%2555N0000000001", "webentry_id"),
        ("webentry_id=UN0000000001%2F..%2F", "webentry_id"),
        ("n_no=%0D%0AX-Injected:%201", "n_no"),
        ("v_no=1%26webentry_id%3DX", "v_no"),
        (
            "data_update_date_from=2026-11-01%00",
            "data_update_date_from",
        ),
    ] {
        let body = assert_problem(app.details(query).await, 400, query).await;
        assert!(
            names_of_invalid(&body).contains(&param.to_owned()),
            "{query}: {body}"
        );
    }
    assert_still_up_and_nothing_forwarded(&app).await;

    // `%75no` is a valid spelling of "uno": served, and sent upstream decoded.
    let r = app.get(&format!("{ORDERS}?serviceName=%75no")).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["resultCount"], 3);
    assert_eq!(app.sim.count(Target::Orders), 1);
    let sent = app
        .sim
        .received()
        .into_iter()
        .find(|r| r.target == Target::Orders)
        .expect("the orders call");
    assert_eq!(sent.query.as_deref(), Some("serviceName=uno"));
    // ...and it shares the cache entry with the plain spelling.
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["cache-status"]
            .to_str()
            .unwrap()
            .contains("; hit")
    );
    assert_eq!(app.sim.count(Target::Orders), 1);
}

#[tokio::test]
async fn header_flood_is_431() {
    let app = common::spawn_app().await;
    let names: Vec<String> = (0..70).map(|i| format!("x-flood-{i}")).collect();
    let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let r = app
        .get_with(&format!("{ORDERS}?serviceName=uno"), &headers)
        .await;
    let body = assert_problem(r, 431, "70 headers").await;
    assert_eq!(
        body["type"],
        "urn:service-order-gateway:problem:headers-too-large"
    );
    assert_still_up_and_nothing_forwarded(&app).await;
}

#[tokio::test]
async fn single_twenty_kilobyte_header_is_431() {
    let app = common::spawn_app().await;
    let big = "b".repeat(20 * 1024);
    let r = app
        .get_with(&format!("{ORDERS}?serviceName=uno"), &[("x-big", &big)])
        .await;
    let body = assert_problem(r, 431, "20 KB header").await;
    assert!(body["detail"].as_str().unwrap().contains("16384"), "{body}");
    let r = app
        .get_with(&format!("{DETAILS}?webentry_id=UN1"), &[("x-big", &big)])
        .await;
    assert_problem(r, 431, "20 KB header (details)").await;
    assert_still_up_and_nothing_forwarded(&app).await;
}

/// Sends raw bytes on a fresh connection and returns what came back (up to 2 s).
async fn raw_exchange(app: &TestApp, bytes: &[u8]) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn raw_garbage_in_the_request_line_is_refused_and_the_server_stays_up() {
    let app = common::spawn_app().await;
    let cases: [&[u8]; 5] = [
        b"GET /v1/business-process/service-orders?serviceName=\xff\xfe\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /\x01\x02\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /v1/business-process/service-orders?serviceName=uno HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    ];
    for bytes in cases {
        let answer = raw_exchange(&app, bytes).await;
        // hyper refuses it with a bare 400 before any handler runs.
        assert!(
            answer.starts_with("HTTP/1.1 400 "),
            "{:?} got {answer:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    // A well-formed raw request still gets served on a fresh connection.
    let answer = raw_exchange(
        &app,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_still_up_and_nothing_forwarded(&app).await;
}
