//! No secrets or customer data in the logs: with a JSON subscriber at
//! `trace` level capturing everything the process logs, a full sequence
//! (orders and details, token revocation and 401 retry, upstream 500s, a
//! 429, validation errors, token endpoint failures) never logs the client
//! secret, an issued access token or any customer name, address or phone
//! number from the details data; the responses never carry the secret or a
//! token either. A second gateway with caller API keys and a client secret
//! file (keys right, wrong and out of scope, a SIGHUP reload) never logs or
//! returns an API key, and names the caller in its access lines.
//!
//! The subscriber is process-global: this file holds ONE test.
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use service_order_gateway::auth::hash_key;
use service_order_gateway::config::SecretSource;
use service_order_gateway::simulator::{Fault, Target};

const BILLING_KEY: &str = "billing-key-7e3a9c1f5b2d8e4a6c0f1b3d5e7a9c2f";
const PORTAL_KEY: &str = "portal-key-1c3e5a7b9d0f2e4c6a8b1d3f5e7c9a0b";
const WRONG_KEY: &str = "guessed-key-0000111122223333444455556666";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Customer data in the simulator's details records (names, addresses,
/// phone numbers, people), and the names of fields that only a raw body holds.
const CUSTOMER_DATA: &[&str] = &[
    "株式会社サンプル商事",
    "株式会社テスト物産",
    "合同会社みなと技研",
    "有限会社さくら運輸",
    "一般社団法人デモ協会",
    "千代田区大手町2-3-1",
    "大手町プレイスウエストタワー",
    "大阪市北区梅田1-1-1",
    "名古屋市中村区名駅1-1-4",
    "福岡市博多区博多駅前2-1-1",
    "横浜市西区みなとみらい2-2-1",
    "03-1234-5678",
    "06-1234-5678",
    "045-123-4567",
    "100-8019",
    "山田 太郎",
    "情報システム部",
    "contractorName",
    "putPlaceTel",
];

async fn record(log: &mut String, r: reqwest::Response) -> u16 {
    let status = r.status().as_u16();
    log.push_str(&format!("{status}\n"));
    for (name, value) in r.headers() {
        log.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
    }
    log.push_str(&r.text().await.unwrap());
    log.push('\n');
    status
}

#[tokio::test]
async fn logs_and_responses_never_carry_secrets_or_customer_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber in this test binary");

    let app = common::spawn_app().await;
    let mut responses = String::new();
    let out = &mut responses;

    // Normal answers, with customer data in the details.
    assert_eq!(record(out, app.orders("uno").await).await, 200);
    for i in 1..=7 {
        let r = app
            .get_with(
                &format!("/v1/business-process/service-order-details?webentry_id=UN000000000{i}"),
                &[("x-request-id", &format!("details-{i}"))],
            )
            .await;
        assert_eq!(record(out, r).await, 200);
    }
    assert_eq!(
        record(out, app.details("webentry_id=SYNTH0001").await).await,
        200
    );
    // Hits (the second one from the hit lane's memo).
    for i in 1..=2 {
        let r = app
            .get_with(
                "/v1/business-process/service-order-details?webentry_id=UN0000000002",
                &[("x-request-id", &format!("lane-hit-{i}"))],
            )
            .await;
        assert_eq!(record(out, r).await, 200);
    }

    // The upstream revokes the token: 401, a new token, a retry.
    app.sim.revoke_tokens();
    assert_eq!(record(out, app.orders("ucaas").await).await, 200);
    assert!(app.sim.issued_tokens().len() >= 2);

    // Upstream 500s (retried, then given up), and an HTML error page.
    app.sim.fail_next(Target::Orders, 3, Fault::Status(500));
    assert_eq!(record(out, app.orders("mss").await).await, 502);
    app.sim.fail_next(Target::Details, 3, Fault::HtmlError(500));
    assert_eq!(
        record(out, app.details("webentry_id=SYNTH0002").await).await,
        502
    );

    // Validation errors.
    assert_eq!(record(out, app.orders("bogus").await).await, 400);
    assert_eq!(
        record(
            out,
            app.details("webentry_id=UN0000000001&webentry_id=x").await
        )
        .await,
        400
    );

    // The token endpoint fails: 500, then rejects the credentials.
    app.sim.revoke_tokens();
    app.sim.set_fault(Target::Token, Some(Fault::Status(500)));
    assert_eq!(record(out, app.orders("accs").await).await, 502);
    app.sim.set_fault(Target::Token, Some(Fault::Unauthorized));
    assert_eq!(record(out, app.orders("bdp-e").await).await, 502);
    app.sim.set_fault(Target::Token, None);
    assert_eq!(record(out, app.orders("ip-voice").await).await, 200);

    // A 429 from the upstream (last: it pauses upstream calls).
    app.sim.fail_next(
        Target::Orders,
        1,
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
    );
    assert_eq!(record(out, app.orders("smart-pbx").await).await, 503);

    let mut tokens = app.sim.issued_tokens();
    app.stop().await;

    // With caller authentication and a secret file: keys right, wrong and
    // out of scope, then a SIGHUP reload of both files.
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("api-keys");
    std::fs::write(
        &keys_file,
        format!(
            "billing:{}\nportal:{}:orders\n",
            hash_key(BILLING_KEY),
            hash_key(PORTAL_KEY)
        ),
    )
    .unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, "demo-secret\n").unwrap();
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.server.api_keys_file = Some(keys_file.clone());
        c.upstream.client_secret = SecretSource::File(secret_file.clone());
    })
    .await;
    let details = "/v1/business-process/service-order-details?webentry_id=UN0000000003";
    let bearer = format!("Bearer {BILLING_KEY}");
    let r = app.get_with(details, &[("authorization", &bearer)]).await;
    assert_eq!(record(out, r).await, 200);
    let r = app.get_with(details, &[("x-api-key", WRONG_KEY)]).await;
    assert_eq!(record(out, r).await, 401);
    let r = app.get_with(details, &[("x-api-key", PORTAL_KEY)]).await;
    assert_eq!(record(out, r).await, 403);
    let r = app
        .get_with(
            "/v1/business-process/service-orders?serviceName=uno",
            &[("x-api-key", PORTAL_KEY)],
        )
        .await;
    assert_eq!(record(out, r).await, 200);
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    app.eventually("both files reloaded", || {
        let logs = captured.0.lock().unwrap();
        let logs = String::from_utf8_lossy(&logs);
        logs.contains("client secret reloaded") && logs.contains("API keys reloaded")
    })
    .await;
    tokens.extend(app.sim.issued_tokens());
    app.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("\"caller\":\"billing\""),
        "the caller's name is logged"
    );
    assert!(logs.contains("\"caller\":\"portal\""));
    for key in [BILLING_KEY, PORTAL_KEY, WRONG_KEY] {
        assert!(!logs.contains(key), "an API key is in the logs");
        assert!(!responses.contains(key), "an API key is in a response");
        assert!(
            !logs.contains(&hash_key(key)),
            "an API key hash is in the logs"
        );
    }

    // Sanity: the capture works and holds access lines and upstream events.
    assert!(logs.contains("sog::access"), "no access log lines");
    assert!(
        logs.contains("\"level\":\"TRACE\""),
        "not capturing at trace level"
    );
    assert!(logs.contains("\"status\":200"));
    assert!(logs.contains("\"status\":502"));
    assert!(logs.contains("details-3"), "request ids are logged");
    for id in ["lane-hit-1", "lane-hit-2"] {
        let line = logs
            .lines()
            .find(|l| l.contains("sog::access") && l.contains(id))
            .unwrap_or_else(|| panic!("no access line for the hit {id}"));
        assert!(line.contains("\"cache\":\"hit\""), "{line}");
        assert!(line.contains("\"status\":200"), "{line}");
    }
    assert!(logs.contains("rejected the access token"));
    assert!(logs.contains("could not obtain an upstream access token"));
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    // Sanity: the responses do carry customer data, so the log check means something.
    assert!(responses.contains("株式会社サンプル商事"));
    assert!(responses.contains("03-1234-5678"));

    assert!(tokens.len() >= 3, "tokens issued: {}", tokens.len());
    for secret in std::iter::once("demo-secret".to_owned()).chain(tokens) {
        assert!(!logs.contains(&secret), "a secret is in the logs");
        assert!(!responses.contains(&secret), "a secret is in a response");
    }
    for data in CUSTOMER_DATA {
        let line = logs.lines().find(|l| l.contains(data));
        assert!(line.is_none(), "customer data {data:?} logged: {line:?}");
    }
}
