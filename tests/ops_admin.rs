//! The cache admin API (`/admin/cache`): off (404) without an admin token,
//! bearer-protected (401 with `WWW-Authenticate`) when on, a per-endpoint
//! report without customer data, and purges by key, by endpoint and in full.
mod common;

use std::time::Duration;

use common::{TestApp, open_hours, problem, spawn_app_with};
use secrecy::SecretString;
use service_order_gateway::simulator::Target;

const ADMIN: &str = "0123456789abcdef-admin";

async fn admin_app() -> TestApp {
    spawn_app_with(open_hours(), |c| {
        c.server.admin_token = Some(SecretString::from(ADMIN));
    })
    .await
}

async fn admin(
    app: &TestApp,
    method: reqwest::Method,
    query: &str,
    bearer: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, format!("{}/admin/cache{query}", app.base));
    if let Some(b) = bearer {
        req = req.header("authorization", b);
    }
    req.send().await.unwrap()
}

fn cache_status(r: &reqwest::Response) -> String {
    r.headers()["cache-status"].to_str().unwrap().to_owned()
}

async fn purged(r: reqwest::Response) -> u64 {
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    body["purged"].as_u64().unwrap()
}

#[tokio::test]
async fn admin_routes_are_off_without_an_admin_token() {
    let app = common::spawn_app().await;
    assert_eq!(app.orders("uno").await.status(), 200);
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = admin(&app, method.clone(), "", Some("Bearer anything")).await;
        let body = problem(r, 404, "admin-disabled").await;
        assert!(body["detail"].as_str().unwrap().contains("SOG_ADMIN_TOKEN"));
    }
    // Nothing was purged.
    assert!(cache_status(&app.orders("uno").await).contains("hit"));
    assert_eq!(app.sim.count(Target::Orders), 1);
}

#[tokio::test]
async fn admin_routes_need_the_right_bearer_token() {
    let app = admin_app().await;
    assert_eq!(app.orders("uno").await.status(), 200);
    let wrong = [
        None,
        Some("Bearer wrong-token"),
        Some("Bearer "),
        Some(ADMIN),
        Some("Basic MDEyMzQ1Njc4OWFiY2RlZi1hZG1pbg=="),
        Some("Bearer 0123456789abcdef-admiN"),
    ];
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        for auth in wrong {
            let r = admin(&app, method.clone(), "", auth).await;
            let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
            assert!(challenge.starts_with("Bearer"), "{challenge}");
            let body = problem(r, 401, "unauthorized").await;
            assert!(!body.to_string().contains(ADMIN));
        }
    }
    // The DELETEs above purged nothing.
    assert!(cache_status(&app.orders("uno").await).contains("hit"));
    assert_eq!(app.sim.count(Target::Orders), 1);

    let r = admin(
        &app,
        reqwest::Method::GET,
        "",
        Some(&format!("Bearer {ADMIN}")),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_report_lists_entries_per_endpoint_without_customer_data() {
    let app = admin_app().await;
    let bearer = format!("Bearer {ADMIN}");
    assert_eq!(app.orders("uno").await.status(), 200);
    app.advance(Duration::from_secs(2));
    assert_eq!(app.orders("ucaas").await.status(), 200);
    app.advance(Duration::from_secs(2));
    let details = app.details("webentry_id=UN0000000002").await;
    assert_eq!(details.status(), 200);
    assert!(
        details
            .text()
            .await
            .unwrap()
            .contains("株式会社サンプル商事")
    );

    let r = admin(&app, reqwest::Method::GET, "", Some(&bearer)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let text = r.text().await.unwrap();
    for secret in [
        "株式会社",
        "contractorName",
        "03-1234-5678",
        "千代田区",
        ADMIN,
    ] {
        assert!(!text.contains(secret), "report shows {secret}: {text}");
    }
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["entries"], 3);
    assert!(report["bytes"].as_u64().unwrap() > 0);
    assert!(report["maxBytes"].as_u64().unwrap() > 0);
    let endpoints = report["endpoints"].as_array().unwrap();
    let find = |name: &str| {
        endpoints
            .iter()
            .find(|e| e["endpoint"] == name)
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let orders = find("service-orders");
    assert_eq!(orders["entries"], 2);
    assert!(orders["bytes"].as_u64().unwrap() > 0);
    assert_eq!(orders["oldest"]["key"], "service-orders?serviceName=uno");
    assert_eq!(orders["newest"]["key"], "service-orders?serviceName=ucaas");
    assert_eq!(orders["oldest"]["fetchedAt"], "2026-12-03T01:00:00Z");
    assert_eq!(orders["newest"]["fetchedAt"], "2026-12-03T01:00:02Z");
    assert!(orders["newest"]["bytes"].as_u64().unwrap() > 0);
    assert!(orders["newest"]["freshUntil"].as_str().is_some());
    let det = find("service-order-details");
    assert_eq!(det["entries"], 1);
    let key = det["newest"]["key"].as_str().unwrap();
    assert!(key.starts_with("service-order-details?"), "{key}");
    assert!(key.contains("webentry_id=UN0000000002"), "{key}");
    assert_eq!(det["oldest"]["key"], key);
}

#[tokio::test]
async fn purges_by_key_by_endpoint_and_everything() {
    let app = admin_app().await;
    let bearer = format!("Bearer {ADMIN}");
    for s in ["uno", "ucaas"] {
        assert_eq!(app.orders(s).await.status(), 200);
    }
    assert_eq!(app.details("webentry_id=UN0000000001").await.status(), 200);
    assert_eq!(app.sim.count(Target::Orders), 2);
    assert_eq!(app.sim.count(Target::Details), 1);

    // One key (URL-encoded in the query).
    let r = admin(
        &app,
        reqwest::Method::DELETE,
        "?key=service-orders%3FserviceName%3Duno",
        Some(&bearer),
    )
    .await;
    assert_eq!(purged(r).await, 1);
    let r = app.orders("uno").await;
    assert!(
        cache_status(&r).contains("fwd=miss"),
        "{}",
        cache_status(&r)
    );
    assert_eq!(app.sim.count(Target::Orders), 3);
    assert!(cache_status(&app.orders("ucaas").await).contains("hit"));
    assert_eq!(app.sim.count(Target::Orders), 3);
    // An unknown key purges nothing.
    let r = admin(
        &app,
        reqwest::Method::DELETE,
        "?key=service-orders%3FserviceName%3Dmss",
        Some(&bearer),
    )
    .await;
    assert_eq!(purged(r).await, 0);

    // An unknown endpoint is a 400.
    let r = admin(
        &app,
        reqwest::Method::DELETE,
        "?endpoint=bogus",
        Some(&bearer),
    )
    .await;
    let body = problem(r, 400, "invalid-query").await;
    assert_eq!(body["invalidParams"][0]["name"], "endpoint");

    // One endpoint: the orders go, the details stay.
    let r = admin(
        &app,
        reqwest::Method::DELETE,
        "?endpoint=service-orders",
        Some(&bearer),
    )
    .await;
    assert_eq!(purged(r).await, 2);
    assert!(cache_status(&app.details("webentry_id=UN0000000001").await).contains("hit"));
    assert_eq!(app.sim.count(Target::Details), 1);
    assert!(cache_status(&app.orders("ucaas").await).contains("fwd=miss"));
    assert_eq!(app.sim.count(Target::Orders), 4);

    // Everything.
    let r = admin(&app, reqwest::Method::DELETE, "", Some(&bearer)).await;
    assert_eq!(purged(r).await, 2);
    let r = admin(&app, reqwest::Method::GET, "", Some(&bearer)).await;
    let report: serde_json::Value = r.json().await.unwrap();
    assert_eq!(report["entries"], 0);
    assert!(cache_status(&app.details("webentry_id=UN0000000001").await).contains("fwd=miss"));
    assert_eq!(app.sim.count(Target::Details), 2);
    assert!(cache_status(&app.orders("ucaas").await).contains("fwd=miss"));
    assert_eq!(app.sim.count(Target::Orders), 5);
}
