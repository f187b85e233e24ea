//! Input validation and the HTTP surface around the two endpoints: every
//! bad query is a 400 problem+json naming the parameter and never reaches
//! the upstream; unknown paths are 404 problems, other methods 405 problems
//! with `Allow`, HEAD works; `/openapi.json` and `/docs` are served.
mod common;

use serde_json::Value;

const ORDERS: &str = "/v1/business-process/service-orders";
const DETAILS: &str = "/v1/business-process/service-order-details";

/// Asserts a problem+json response and returns its body.
async fn problem(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().unwrap().starts_with("urn:"));
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

/// A 400 invalid-query problem about `param`, with nothing sent upstream.
async fn rejected(app: &common::TestApp, path_and_query: &str, param: &str) -> Value {
    let before = app.api_calls();
    let body = problem(app.get(path_and_query).await, 400).await;
    assert_eq!(
        body["type"], "urn:service-order-gateway:problem:invalid-query",
        "{path_and_query}"
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(param),
        "{path_and_query}: detail {detail:?} does not name {param}"
    );
    assert!(
        body["invalidParams"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == param),
        "{path_and_query}: invalidParams {} lacks {param}",
        body["invalidParams"]
    );
    assert!(
        body["instance"]
            .as_str()
            .unwrap()
            .starts_with("/v1/business-process/"),
        "{path_and_query}"
    );
    assert_eq!(
        app.api_calls(),
        before,
        "{path_and_query} reached the upstream"
    );
    body
}

const SERVICES: [&str; 9] = [
    "uno",
    "ucaas",
    "sip-trunking",
    "mss",
    "050plusbiz",
    "ip-voice",
    "smart-pbx",
    "accs",
    "bdp-e",
];

#[tokio::test]
async fn missing_service_name_lists_the_nine_values() {
    let app = common::spawn_app().await;
    let body = rejected(&app, ORDERS, "serviceName").await;
    let detail = body["detail"].as_str().unwrap();
    for s in SERVICES {
        assert!(detail.contains(s), "{s} not in {detail:?}");
    }
    let allowed: Vec<&str> = body["allowedValues"]
        .as_array()
        .expect("allowedValues")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed, SERVICES);
    assert!(detail.contains("required"));
    assert_eq!(app.api_calls(), 0);
}

#[tokio::test]
async fn invalid_unknown_and_repeated_orders_parameters() {
    let app = common::spawn_app().await;
    let body = rejected(&app, &format!("{ORDERS}?serviceName=UNO"), "serviceName").await;
    assert!(body["detail"].as_str().unwrap().contains("\"UNO\""));
    assert!(body["allowedValues"].is_array());
    rejected(&app, &format!("{ORDERS}?serviceName=nope"), "serviceName").await;
    rejected(&app, &format!("{ORDERS}?serviceName="), "serviceName").await;
    let body = rejected(&app, &format!("{ORDERS}?serviceName=uno&foo=1"), "foo").await;
    assert!(body["detail"].as_str().unwrap().contains("not a parameter"));
    let body = rejected(
        &app,
        &format!("{ORDERS}?serviceName=uno&serviceName=mss"),
        "serviceName",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("repeated"));
    // A details parameter is unknown on the orders endpoint.
    rejected(
        &app,
        &format!("{ORDERS}?serviceName=uno&webentry_id=UN1"),
        "webentry_id",
    )
    .await;
    assert_eq!(app.api_calls(), 0);
}

#[tokio::test]
async fn invalid_details_ids() {
    let app = common::spawn_app().await;
    let body = rejected(&app, &format!("{DETAILS}?webentry_id="), "webentry_id").await;
    assert!(body["detail"].as_str().unwrap().contains("empty"));
    let long = "A".repeat(33);
    let body = rejected(&app, &format!("{DETAILS}?n_no={long}"), "n_no").await;
    assert!(body["detail"].as_str().unwrap().contains("32"));
    // 32 characters is fine.
    let ok = app.details(&format!("n_no={}", "A".repeat(32))).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(app.api_calls(), 1);
    let body = rejected(&app, &format!("{DETAILS}?webentry_id=UN-1"), "webentry_id").await;
    assert!(body["detail"].as_str().unwrap().contains("letters"));
    // Percent-encoded Japanese (あ).
    rejected(&app, &format!("{DETAILS}?v_no=%E3%81%82"), "v_no").await;
    rejected(
        &app,
        &format!("{DETAILS}?webentry_id=UN%200001"),
        "webentry_id",
    )
    .await;
    rejected(&app, &format!("{DETAILS}?v_no=1&v_no=2"), "v_no").await;
    rejected(&app, &format!("{DETAILS}?serviceName=uno"), "serviceName").await;
    assert_eq!(app.api_calls(), 1);
}

#[tokio::test]
async fn invalid_details_dates() {
    let app = common::spawn_app().await;
    for bad in [
        "2026-02-30",
        "2026/01/01",
        "2026-1-5",
        "20261201",
        "yesterday",
    ] {
        let body = rejected(
            &app,
            &format!("{DETAILS}?data_update_date_from={bad}"),
            "data_update_date_from",
        )
        .await;
        assert!(body["detail"].as_str().unwrap().contains("YYYY-MM-DD"));
    }
    rejected(
        &app,
        &format!("{DETAILS}?data_update_date_to=2026-13-01"),
        "data_update_date_to",
    )
    .await;
    // from after to.
    let body = rejected(
        &app,
        &format!("{DETAILS}?data_update_date_from=2026-12-02&data_update_date_to=2026-12-01"),
        "data_update_date_from",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("after"));
    // from in the future without to: to defaults to today (2026-12-03 JST).
    let body = rejected(
        &app,
        &format!("{DETAILS}?data_update_date_from=2027-01-01"),
        "data_update_date_from",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("2026-12-03"), "{detail}");
    // Several bad parameters are all named at once.
    let body = rejected(
        &app,
        &format!("{DETAILS}?webentry_id=UN-1&data_update_date_to=x"),
        "webentry_id",
    )
    .await;
    assert_eq!(body["invalidParams"].as_array().unwrap().len(), 2);
    assert_eq!(app.api_calls(), 0);
}

#[tokio::test]
async fn unknown_paths_are_404_problems() {
    let app = common::spawn_app().await;
    for path in ["/nope", "/v1/business-process/service-order", "/v2/x?y=1"] {
        let body = problem(app.get(path).await, 404).await;
        assert_eq!(body["type"], "urn:service-order-gateway:problem:not-found");
        assert!(body["detail"].as_str().unwrap().contains("/docs"));
    }
    assert_eq!(app.api_calls(), 0);
}

#[tokio::test]
async fn other_methods_are_405_problems_with_allow() {
    let app = common::spawn_app().await;
    for path in [ORDERS, DETAILS] {
        let r = app
            .client
            .post(format!("{}{path}?serviceName=uno", app.base))
            .body("{}")
            .send()
            .await
            .unwrap();
        let allow = r.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allow.contains("GET"), "{path}: Allow {allow}");
        assert!(!allow.contains("POST"), "{path}: Allow {allow}");
        let body = problem(r, 405).await;
        assert!(body["type"].as_str().unwrap().contains("method"), "{body}");
    }
    let r = app
        .client
        .delete(format!("{}{ORDERS}?serviceName=uno", app.base))
        .send()
        .await
        .unwrap();
    problem(r, 405).await;
    assert_eq!(app.api_calls(), 0);
}

#[tokio::test]
async fn head_works() {
    let app = common::spawn_app().await;
    let r = app
        .client
        .head(format!("{}{ORDERS}?serviceName=uno", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert!(r.headers().contains_key("etag"));
    assert!(r.bytes().await.unwrap().is_empty());
    // A HEAD with a bad query is still validated.
    let r = app
        .client
        .head(format!("{}{ORDERS}?serviceName=x", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.api_calls(), 1);
}

#[tokio::test]
async fn openapi_document_describes_both_paths_and_problems() {
    let app = common::spawn_app().await;
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let orders = &doc["paths"][ORDERS]["get"];
    let details = &doc["paths"][DETAILS]["get"];
    assert!(orders.is_object(), "orders path missing");
    assert!(details.is_object(), "details path missing");
    assert!(
        orders["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "serviceName")
    );
    for name in [
        "webentry_id",
        "n_no",
        "v_no",
        "data_update_date_from",
        "data_update_date_to",
    ] {
        assert!(
            details["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == name),
            "{name}"
        );
    }
    let problem_schema = &doc["components"]["schemas"]["Problem"];
    assert!(problem_schema.is_object(), "Problem schema missing");
    for field in ["type", "title", "status", "detail"] {
        assert!(
            problem_schema["properties"][field].is_object(),
            "Problem.{field}"
        );
    }
    assert!(
        orders["responses"]["400"]["content"]["application/problem+json"].is_object(),
        "400 is documented as problem+json"
    );
    assert_eq!(app.api_calls(), 0);
}

#[tokio::test]
async fn docs_serve_swagger_ui() {
    let app = common::spawn_app().await;
    let r = app.get("/docs/").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.to_ascii_lowercase().contains("swagger"));
    // /docs without the slash ends up there too (reqwest follows redirects).
    let r = app.get("/docs").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .to_ascii_lowercase()
            .contains("swagger")
    );
}
