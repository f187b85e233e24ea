//! Caller authentication: off by default; with `SOG_API_KEYS_FILE` both
//! business routes need a key (bearer or `x-api-key`), refused requests get
//! 401/403 problems and never reach the upstream, docs and probes stay open,
//! the caller's name labels the metrics, and SIGHUP reloads the file.
mod common;

use std::path::Path;
use std::time::Duration;

use service_order_gateway::auth::hash_key;
use service_order_gateway::config::Config;

const BILLING_KEY: &str = "3f9c1a0e6b7d4c2a8e5f1b0c9d7a6e4f3f9c1a0e6b7d4c2a8e5f1b0c9d7a6e4f";
const PORTAL_KEY: &str = "portal-key-0123456789abcdef0123456789abcdef0123456789abcdef";
const ORDERS: &str = "/v1/business-process/service-orders?serviceName=uno";
const DETAILS: &str = "/v1/business-process/service-order-details?webentry_id=UN0000000001";

fn write_keys(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// billing may use both routes; portal only service-orders.
fn two_callers(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("api-keys");
    write_keys(
        &path,
        &[
            "# name:sha256(key)[:scopes]".to_owned(),
            format!("billing:{}", hash_key(BILLING_KEY)),
            format!("portal:{}:orders", hash_key(PORTAL_KEY)),
        ],
    );
    path
}

async fn problem(r: reqwest::Response) -> (u16, Option<String>, serde_json::Value) {
    let status = r.status().as_u16();
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "status {status}"
    );
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, challenge, r.json().await.unwrap())
}

#[tokio::test]
async fn without_a_keys_file_callers_need_no_key_and_are_anonymous() {
    let app = common::spawn_app().await;
    let r = app.get(ORDERS).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("www-authenticate").is_none());
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sog_http_requests_total")
                && l.contains("service-orders")
                && l.contains("caller=\"anonymous\"")),
        "{metrics}"
    );
}

#[tokio::test]
async fn keys_are_required_checked_and_scoped() {
    let dir = tempfile::tempdir().unwrap();
    let keys = two_callers(&dir);
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.server.api_keys_file = Some(keys.clone())
    })
    .await;

    // No key, a wrong key, a key in the wrong scheme: 401 with a challenge.
    let (status, challenge, body) = problem(app.get(ORDERS).await).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"service-order-gateway\"")
    );
    assert_eq!(body["status"], 401);
    for headers in [
        [("authorization", "Bearer not-a-key")],
        [("x-api-key", "not-a-key")],
        [("authorization", BILLING_KEY)],
    ] {
        let (status, challenge, _) = problem(app.get_with(DETAILS, &headers).await).await;
        assert_eq!(status, 401, "{headers:?}");
        assert!(challenge.unwrap().starts_with("Bearer realm="));
    }
    assert_eq!(
        app.api_calls(),
        0,
        "refused requests never reach the upstream"
    );

    // The right key, either way: served.
    let bearer = format!("Bearer {BILLING_KEY}");
    let r = app.get_with(ORDERS, &[("authorization", &bearer)]).await;
    assert_eq!(r.status(), 200);
    let r = app.get_with(DETAILS, &[("x-api-key", BILLING_KEY)]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.api_calls(), 2);

    // portal may list orders but not read customer data.
    let r = app.get_with(ORDERS, &[("x-api-key", PORTAL_KEY)]).await;
    assert_eq!(r.status(), 200);
    let (status, challenge, body) =
        problem(app.get_with(DETAILS, &[("x-api-key", PORTAL_KEY)]).await).await;
    assert_eq!(status, 403);
    assert!(challenge.is_none());
    assert!(body["detail"].as_str().unwrap().contains("portal"));
    assert_eq!(app.api_calls(), 2, "a 403 never reaches the upstream");

    // Docs, spec, probes and metrics stay open.
    for path in ["/healthz", "/readyz", "/openapi.json", "/docs/", "/metrics"] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let line = |caller: &str, status: &str| {
        metrics.lines().any(|l| {
            l.starts_with("sog_http_requests_total")
                && l.contains(&format!("caller=\"{caller}\""))
                && l.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(line("billing", "200"), "{metrics}");
    assert!(line("portal", "200"), "{metrics}");
    assert!(line("portal", "403"), "{metrics}");
    assert!(line("unauthenticated", "401"), "{metrics}");
    assert!(!metrics.contains(BILLING_KEY) && !metrics.contains(PORTAL_KEY));
}

#[tokio::test]
async fn the_spec_offers_both_key_forms_on_the_business_operations() {
    let app = common::spawn_app().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["apiKey"]["scheme"], "bearer");
    assert_eq!(schemes["apiKeyHeader"]["in"], "header");
    assert_eq!(schemes["apiKeyHeader"]["name"], "x-api-key");
    for path in [
        "/v1/business-process/service-orders",
        "/v1/business-process/service-order-details",
    ] {
        let op = &doc["paths"][path]["get"];
        let security = op["security"].to_string();
        assert!(security.contains("apiKey") && security.contains("apiKeyHeader"));
        assert!(op["responses"]["401"].is_object() && op["responses"]["403"].is_object());
    }
    assert!(doc["paths"]["/healthz"]["get"]["security"].is_null());
}

#[tokio::test]
async fn sighup_reloads_the_keys_and_an_invalid_file_keeps_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let keys = two_callers(&dir);
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.server.api_keys_file = Some(keys.clone())
    })
    .await;
    let status = |key: &'static str| {
        let app = &app;
        async move {
            app.get_with(ORDERS, &[("x-api-key", key)])
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(BILLING_KEY).await, 200);
    assert_eq!(status(PORTAL_KEY).await, 200);

    // billing's key is revoked; portal gets details too.
    write_keys(
        &keys,
        &[format!("portal:{}:orders,details", hash_key(PORTAL_KEY))],
    );
    assert_eq!(
        status(BILLING_KEY).await,
        200,
        "nothing changes before SIGHUP"
    );
    sighup();
    for _ in 0..200 {
        if status(BILLING_KEY).await == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status(BILLING_KEY).await, 401);
    let r = app.get_with(DETAILS, &[("x-api-key", PORTAL_KEY)]).await;
    assert_eq!(r.status(), 200);

    // A broken file is refused; the keys in force stay.
    std::fs::write(&keys, "portal:this-is-not-a-hash\n").unwrap();
    sighup();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(status(PORTAL_KEY).await, 200);
}

#[test]
fn an_invalid_keys_file_stops_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    std::fs::write(&path, "svc:my-raw-secret-key\n").unwrap();
    let err = Config::from_args([
        "service-order-gateway",
        "--demo",
        "--api-keys-file",
        path.to_str().unwrap(),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("SOG_API_KEYS_FILE"), "{err}");
    assert!(err.contains("line 1"), "{err}");
    assert!(!err.contains("my-raw-secret-key"), "{err}");
    let missing = Config::from_args([
        "service-order-gateway",
        "--demo",
        "--api-keys-file",
        "/nonexistent/keys",
    ])
    .unwrap_err()
    .to_string();
    assert!(missing.contains("SOG_API_KEYS_FILE"), "{missing}");
}

/// Sends SIGHUP to this test process (the gateways in it registered a
/// handler when they were built).
fn sighup() {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
