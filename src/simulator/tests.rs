//! Tests of the simulator over real HTTP (reqwest against 127.0.0.1:0).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde_json::Value;

use super::*;
use crate::clock::ManualClock;

async fn start(config: SimulatorConfig) -> Simulator {
    Simulator::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start")
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn creds() -> Value {
    serde_json::json!({"grantType":"client_credentials","clientId":"demo-client","clientSecret":"demo-secret"})
}

async fn token_response(sim: &Simulator, body: Value) -> reqwest::Response {
    client()
        .post(format!("{}{TOKEN_PATH}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .expect("send")
}

async fn token(sim: &Simulator) -> String {
    let v: Value = token_response(sim, creds())
        .await
        .json()
        .await
        .expect("json");
    v["accessToken"].as_str().expect("token").to_owned()
}

async fn api(sim: &Simulator, path_and_query: &str, token: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path_and_query}", sim.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("send")
}

async fn body_json(resp: reqwest::Response) -> Value {
    serde_json::from_slice(&resp.bytes().await.expect("bytes")).expect("json")
}

fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn fault_errorcode(v: &Value) -> &str {
    v["fault"]["detail"]["errorcode"].as_str().unwrap_or("")
}

#[tokio::test]
async fn token_is_issued_with_string_fields_and_clock_time() {
    let start_at = Utc
        .with_ymd_and_hms(2026, 1, 5, 0, 30, 0)
        .single()
        .expect("date");
    let clock = ManualClock::new(start_at);
    let sim = start(SimulatorConfig {
        clock: clock.clone(),
        ..SimulatorConfig::default()
    })
    .await;
    let resp = token_response(&sim, creds()).await;
    assert_eq!(resp.status(), 200);
    assert!(content_type(&resp).starts_with("application/json"));
    let v = body_json(resp).await;
    for field in ["accessToken", "tokenType", "expiresIn", "scope", "issuedAt"] {
        assert!(v[field].is_string(), "{field} must be a string: {v}");
    }
    let tok = v["accessToken"].as_str().expect("token");
    assert_eq!(tok.len(), 28);
    assert!(tok.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(v["tokenType"], "BearerToken");
    assert_eq!(v["expiresIn"], "3599");
    assert_eq!(v["scope"], "READ WRITE");
    assert_eq!(v["issuedAt"], start_at.timestamp_millis().to_string());
    assert_eq!(sim.controls().issued_tokens(), vec![tok.to_owned()]);

    // charset in the content type is accepted too.
    let resp = client()
        .post(format!("{}{TOKEN_PATH}", sim.base_url()))
        .header("content-type", "application/json; charset=utf-8")
        .body(creds().to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(sim.controls().issued_tokens().len(), 2);
}

#[tokio::test]
async fn token_rejects_bad_credentials_and_bad_bodies() {
    let sim = start(SimulatorConfig::default()).await;
    let resp = token_response(
        &sim,
        serde_json::json!({"grantType":"client_credentials","clientId":"demo-client","clientSecret":"nope"}),
    )
    .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        fault_errorcode(&body_json(resp).await),
        "oauth.v2.InvalidClientIdentifier"
    );

    let bad_bodies = [
        serde_json::json!({"grantType":"password","clientId":"demo-client","clientSecret":"demo-secret"}),
        serde_json::json!({"clientId":"demo-client","clientSecret":"demo-secret"}),
        serde_json::json!({"grant_type":"client_credentials","client_id":"demo-client","client_secret":"demo-secret"}),
        serde_json::json!(["not", "an", "object"]),
    ];
    for body in bad_bodies {
        let resp = token_response(&sim, body.clone()).await;
        assert_eq!(resp.status(), 400, "{body}");
        assert!(body_json(resp).await["fault"]["faultstring"].is_string());
    }
    let url = format!("{}{TOKEN_PATH}", sim.base_url());
    let not_json = client()
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"grantType\":")
        .send()
        .await
        .expect("send");
    assert_eq!(not_json.status(), 400);
    let form = client()
        .post(&url)
        .form(&[
            ("grantType", "client_credentials"),
            ("clientId", "demo-client"),
            ("clientSecret", "demo-secret"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(form.status(), 400);
    let get = client().get(&url).send().await.expect("send");
    assert_eq!(get.status(), 405);
    assert!(sim.controls().issued_tokens().is_empty());
}

#[tokio::test]
async fn tokens_expire_with_the_clock_and_can_be_revoked() {
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 4, 1, 1, 0, 0)
            .single()
            .expect("date"),
    );
    let sim = start(SimulatorConfig {
        clock: clock.clone(),
        token_ttl: Duration::from_secs(60),
        static_token: Some("STATIC".to_owned()),
        ..SimulatorConfig::default()
    })
    .await;
    let orders = format!("{ORDERS_PATH}?serviceName=uno");
    let tok = token(&sim).await;
    assert_eq!(api(&sim, &orders, &tok).await.status(), 200);
    clock.advance(Duration::from_secs(59));
    assert_eq!(api(&sim, &orders, &tok).await.status(), 200);
    clock.advance(Duration::from_secs(1));
    let expired = api(&sim, &orders, &tok).await;
    assert_eq!(expired.status(), 401);
    assert_eq!(
        fault_errorcode(&body_json(expired).await),
        "keymanagement.service.access_token_expired"
    );

    let tok2 = token(&sim).await;
    assert_eq!(api(&sim, &orders, &tok2).await.status(), 200);
    sim.controls().revoke_tokens();
    assert_eq!(api(&sim, &orders, &tok2).await.status(), 401);
    assert_eq!(api(&sim, &orders, "STATIC").await.status(), 200);
    assert_eq!(api(&sim, &orders, "garbage").await.status(), 401);
    let no_auth = client()
        .get(format!("{}{orders}", sim.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(no_auth.status(), 401);
    assert_eq!(sim.controls().issued_tokens().len(), 2);
}

#[tokio::test]
async fn orders_show_every_quirk() {
    let sim = start(SimulatorConfig::default()).await;
    let tok = token(&sim).await;
    let raw = |service: &'static str| {
        let sim = &sim;
        let tok = tok.clone();
        async move {
            let resp = api(sim, &format!("{ORDERS_PATH}?serviceName={service}"), &tok).await;
            assert_eq!(resp.status(), 200, "{service}");
            resp.text().await.expect("text")
        }
    };
    let uno = raw("uno").await;
    assert!(uno.contains(r#""serviceName":"uno-virtual""#));
    assert!(uno.contains(r#""orderType":1,"#));
    assert!(uno.contains(r#""orderStatus":"14-GO""#));
    assert!(uno.contains(r#""orderRequestId""#) && uno.contains(r#""orderRequestNum""#));
    assert!(uno.contains(r#""offerPlanDate":"2014-10-31T12:34:56Z""#));
    assert!(uno.contains(r#""offerPlanDate":"2026/12/10""#));
    assert!(uno.contains(r#""offerPlanDate":"null""#));
    assert!(uno.ends_with(r#""resultCount":3}"#));

    let mss: Value = serde_json::from_str(&raw("mss").await).expect("json");
    let items = mss["items"].as_array().expect("items");
    assert!(items.iter().any(|i| i.get("orderStatus").is_none()));
    assert!(items.iter().any(|i| i["orderStatus"] == ""));
    assert_eq!(mss["resultCount"], "4");

    let ucaas = raw("ucaas").await;
    assert!(ucaas.contains(r#""resultCount":"2""#) && ucaas.contains(r#""remarks""#));
    let sip = raw("sip-trunking").await;
    assert!(sip.contains(r#""2-1""#) && sip.contains(r#""S1K""#));
    let plus = raw("050plusbiz").await;
    assert!(plus.contains(r#""orderStatus":"0""#));
    assert!(raw("mss").await.contains(r#""orderStatus":"-""#));
    assert_eq!(raw("accs").await, r#"{"items":[],"resultCount":0}"#);
    for service in ["ip-voice", "smart-pbx", "bdp-e"] {
        let v: Value = serde_json::from_str(&raw(service).await).expect("json");
        assert!(!v["items"].as_array().expect("items").is_empty());
    }

    for bad in ["?serviceName=nope", "?serviceName=", ""] {
        let resp = api(&sim, &format!("{ORDERS_PATH}{bad}"), &tok).await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert!(body_json(resp).await["fault"].is_object());
    }
}

#[tokio::test]
async fn details_envelope_records_and_parameters() {
    let sim = start(SimulatorConfig::default()).await;
    let tok = token(&sim).await;

    let all = api(&sim, DETAILS_PATH, &tok).await;
    assert_eq!(all.status(), 200);
    let text = all.text().await.expect("text");
    assert!(text.starts_with(r#"{"code":200,"detail":{"detailCode":"I01","detailMsg":"正常終了しました。(検索結果:8件)"},"result":[{"webEntryId":"UN0000000001","changeRelationNum":"01","#));
    let v: Value = serde_json::from_str(&text).expect("json");
    let records = v["result"].as_array().expect("result");
    assert_eq!(records.len(), 8);
    for r in records {
        let obj = r.as_object().expect("object");
        assert_eq!(obj.len(), 70);
        assert!(obj.values().all(Value::is_string));
    }
    assert_eq!(records[0]["darkId"], "null");
    assert_eq!(records[0]["kind"], "新設");
    assert_eq!(records[0]["accsConstPresence"], "無し");
    assert_eq!(records[0]["fieldResearchStatus"], "不要");
    assert_eq!(records[1]["putPlaceAdd"], "千代田区大手町2-3-1");
    assert_eq!(
        records[1]["putPlaceBuildingName"],
        "大手町プレイスウエストタワー"
    );
    assert_eq!(records[1]["putPlaceTel"], "03-1234-5678");
    assert_eq!(records[1]["officeName"], "本社");
    assert!(
        records
            .iter()
            .any(|r| r["areaFieldResearchScheduleYmd"] == "2024/13/45")
    );
    assert!(records.iter().any(|r| r["officeName"] == ""));
    assert!(
        records
            .iter()
            .any(|r| r["holdoutScheduleYmd"] == "2026/1/5")
    );
    assert!(records.iter().any(|r| r["kind"] == "変更"));

    // Odd last byte: code is a string.
    let one = body_json(
        api(
            &sim,
            &format!("{DETAILS_PATH}?webentry_id=UN0000000001"),
            &tok,
        )
        .await,
    )
    .await;
    assert_eq!(one["code"], "200");
    assert_eq!(
        one["detail"]["detailMsg"],
        "正常終了しました。(検索結果:1件)"
    );
    let two = body_json(
        api(
            &sim,
            &format!("{DETAILS_PATH}?webentry_id=UN0000000002"),
            &tok,
        )
        .await,
    )
    .await;
    assert_eq!(two["code"], 200);

    let filtered = body_json(
        api(
            &sim,
            &format!("{DETAILS_PATH}?webentry_id=UN0000000003&n_no=N000000032&data_update_date_from=2026/01/01&data_update_date_to=2026/12/31"),
            &tok,
        )
        .await,
    )
    .await;
    assert_eq!(filtered["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(filtered["result"][0]["mainBackIdentifier"], "2");
    let by_vpn = body_json(api(&sim, &format!("{DETAILS_PATH}?v_no=V00000001"), &tok).await).await;
    assert_eq!(by_vpn["result"].as_array().map(Vec::len), Some(2));

    for bad in ["2026-01-01", "2026/1/1", "2024/13/45", "yesterday"] {
        let resp = api(
            &sim,
            &format!("{DETAILS_PATH}?data_update_date_from={bad}"),
            &tok,
        )
        .await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert!(body_json(resp).await["fault"].is_object());
    }
    let reversed = api(
        &sim,
        &format!("{DETAILS_PATH}?data_update_date_from=2026/02/01&data_update_date_to=2026/01/01"),
        &tok,
    )
    .await;
    assert_eq!(reversed.status(), 400);
    assert_eq!(api(&sim, DETAILS_PATH, "bad-token").await.status(), 401);
}

#[tokio::test]
async fn details_synthetic_and_empty() {
    let sim = start(SimulatorConfig::default()).await;
    let tok = token(&sim).await;
    let get = |id: &'static str| {
        let sim = &sim;
        let tok = tok.clone();
        async move {
            api(sim, &format!("{DETAILS_PATH}?webentry_id={id}"), &tok)
                .await
                .text()
                .await
                .expect("text")
        }
    };
    let a = get("BENCH000042").await;
    assert_eq!(a, get("BENCH000042").await, "deterministic");
    let v: Value = serde_json::from_str(&a).expect("json");
    assert_eq!(v["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["result"][0]["webEntryId"], "BENCH000042");
    assert_eq!(v["result"][0].as_object().map(|o| o.len()), Some(70));
    assert_ne!(a, get("BENCH000043").await);

    let empty: Value = serde_json::from_str(&get("EMPTY0001").await).expect("json");
    assert_eq!(empty["result"], serde_json::json!([]));
    assert_eq!(
        empty["detail"]["detailMsg"],
        "正常終了しました。(検索結果:0件)"
    );
}

#[tokio::test]
async fn simple_faults_have_expected_status_and_content_type() {
    let sim = start(SimulatorConfig::default()).await;
    let controls = sim.controls();
    let tok = token(&sim).await;
    let cases: Vec<(Fault, u16, &str)> = vec![
        (Fault::Status(503), 503, "application/json"),
        (Fault::Status(500), 500, "application/json"),
        (
            Fault::TooManyRequests {
                retry_after: Some(3),
            },
            429,
            "application/json",
        ),
        (
            Fault::TooManyRequests { retry_after: None },
            429,
            "application/json",
        ),
        (Fault::HtmlError(502), 502, "text/html"),
        (Fault::MalformedJson, 200, "application/json"),
        (Fault::Unauthorized, 401, "application/json"),
        (Fault::Closed, 403, "application/json"),
        (
            Fault::ResultCode {
                code: "500".into(),
                detail_code: "E99".into(),
                message: "エラーが発生しました".into(),
            },
            200,
            "application/json",
        ),
        (Fault::HugeBody(100_000), 200, "application/json"),
        (Fault::InvalidUtf8, 200, "application/json"),
        (Fault::DeepNesting(5000), 200, "application/json"),
    ];
    for (fault, status, ctype) in cases {
        controls.set_fault(Target::Details, Some(fault.clone()));
        let resp = api(&sim, DETAILS_PATH, &tok).await;
        assert_eq!(resp.status().as_u16(), status, "{fault:?}");
        assert!(content_type(&resp).starts_with(ctype), "{fault:?}");
        let retry_after = resp.headers().get("retry-after").cloned();
        let body = resp.bytes().await.expect("body");
        let parsed = serde_json::from_slice::<Value>(&body);
        match &fault {
            Fault::TooManyRequests { retry_after: r } => {
                assert_eq!(
                    retry_after.map(|v| v.to_str().expect("ascii").to_owned()),
                    r.map(|s| s.to_string())
                );
                assert_eq!(
                    fault_errorcode(&parsed.expect("json")),
                    "policies.ratelimit.QuotaViolation"
                );
            }
            Fault::Closed => {
                let v = parsed.expect("json");
                assert_eq!(
                    v["fault"]["faultstring"],
                    "Service is not available at this time"
                );
                assert_eq!(fault_errorcode(&v), "service.closed");
            }
            Fault::ResultCode { .. } => {
                let v = parsed.expect("json");
                assert_eq!(v["code"], "500");
                assert_eq!(v["detail"]["detailCode"], "E99");
                assert_eq!(v["result"], serde_json::json!([]));
            }
            Fault::HtmlError(_) => assert!(String::from_utf8_lossy(&body).contains("<html>")),
            Fault::MalformedJson => assert!(parsed.is_err()),
            Fault::HugeBody(n) => {
                assert_eq!(body.len(), *n);
                assert!(body.starts_with(b"{\"items\":["));
            }
            Fault::InvalidUtf8 => {
                assert!(std::str::from_utf8(&body).is_err());
                assert!(parsed.is_err());
            }
            Fault::DeepNesting(depth) => {
                assert_eq!(body.len(), depth * 2);
                assert!(body.starts_with(b"[[[[") && body.ends_with(b"]]]]"));
            }
            Fault::Status(_) | Fault::Unauthorized => {
                assert!(parsed.expect("json")["fault"]["faultstring"].is_string());
            }
            Fault::Hang | Fault::SlowDrip => unreachable!(),
        }
    }
    // Other targets are untouched by a Details fault.
    assert_eq!(
        api(&sim, &format!("{ORDERS_PATH}?serviceName=uno"), &tok)
            .await
            .status(),
        200
    );
    controls.set_fault(Target::Details, None);
    assert_eq!(api(&sim, DETAILS_PATH, &tok).await.status(), 200);
}

#[tokio::test]
async fn hang_and_slow_drip_never_finish_in_time() {
    let sim = start(SimulatorConfig::default()).await;
    let controls = sim.controls();
    controls.fail_next(Target::Token, 1, Fault::Hang);
    let hung = client()
        .post(format!("{}{TOKEN_PATH}", sim.base_url()))
        .json(&creds())
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.expect_err("must time out").is_timeout());
    assert_eq!(controls.received()[0].status, 0, "no answer recorded");

    controls.fail_next(Target::Orders, 1, Fault::SlowDrip);
    let tok = token(&sim).await;
    let resp = api(&sim, &format!("{ORDERS_PATH}?serviceName=uno"), &tok).await;
    assert_eq!(resp.status(), 200);
    let started = Instant::now();
    let mut resp = resp;
    let first = tokio::time::timeout(Duration::from_secs(2), resp.chunk())
        .await
        .expect("first byte in time")
        .expect("chunk")
        .expect("some");
    assert_eq!(first.len(), 1);
    let rest = tokio::time::timeout(Duration::from_millis(700), async {
        while resp.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(rest.is_err(), "body must not finish quickly");
    assert!(started.elapsed() >= Duration::from_millis(700));

    // Shutdown ends hanging requests promptly.
    controls.set_fault(Target::Any, Some(Fault::Hang));
    let url = format!("{}{TOKEN_PATH}", sim.base_url());
    let pending = tokio::spawn(async move { client().post(url).json(&creds()).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    sim.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(3));
    let _ = tokio::time::timeout(Duration::from_secs(3), pending)
        .await
        .expect("hanging request ended");
}

#[tokio::test]
async fn fail_next_is_consumed_before_persistent_faults() {
    let sim = start(SimulatorConfig::default()).await;
    let controls = sim.controls();
    let tok = token(&sim).await;
    let orders = format!("{ORDERS_PATH}?serviceName=uno");
    controls.set_fault(Target::Any, Some(Fault::Status(503)));
    controls.fail_next(
        Target::Orders,
        2,
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
    );
    controls.fail_next(Target::Orders, 1, Fault::Status(500));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(api(&sim, &orders, &tok).await.status().as_u16());
    }
    assert_eq!(statuses, [429, 429, 500, 503]);
    controls.set_fault(Target::Any, None);
    assert_eq!(api(&sim, &orders, &tok).await.status(), 200);

    controls.fail_next(Target::Any, 1, Fault::Unauthorized);
    assert_eq!(api(&sim, DETAILS_PATH, &tok).await.status(), 401);
    assert_eq!(api(&sim, DETAILS_PATH, &tok).await.status(), 200);

    // A specific persistent fault wins over an Any one.
    controls.set_fault(Target::Any, Some(Fault::Status(503)));
    controls.set_fault(Target::Details, Some(Fault::Closed));
    assert_eq!(api(&sim, DETAILS_PATH, &tok).await.status(), 403);
    assert_eq!(api(&sim, &orders, &tok).await.status(), 503);
    assert_eq!(token_response(&sim, creds()).await.status(), 503);
    controls.clear_faults();
    assert_eq!(api(&sim, &orders, &tok).await.status(), 200);
}

#[tokio::test]
async fn requests_are_recorded_and_counted() {
    let sim = start(SimulatorConfig::default()).await;
    let controls = sim.controls();
    let tok = token(&sim).await;
    for _ in 0..5 {
        api(&sim, &format!("{ORDERS_PATH}?serviceName=mss"), &tok).await;
    }
    api(&sim, &format!("{DETAILS_PATH}?webentry_id=X1"), &tok).await;
    let unknown = api(&sim, "/v1/nowhere", &tok).await;
    assert_eq!(unknown.status(), 404);
    assert!(body_json(unknown).await["fault"].is_object());

    assert_eq!(controls.count(Target::Token), 1);
    assert_eq!(controls.count(Target::Orders), 5);
    assert_eq!(controls.count(Target::Details), 1);
    assert_eq!(controls.count(Target::Any), 8);
    assert_eq!(controls.max_per_second(Target::Orders), 5);
    assert_eq!(controls.max_per_second(Target::Any), 8);

    let received = controls.received();
    assert_eq!(received.len(), 8);
    let first = &received[0];
    assert_eq!(
        (first.target, first.method.as_str(), first.path.as_str()),
        (Target::Token, "POST", TOKEN_PATH)
    );
    assert_eq!(first.status, 200);
    let sent: Value = serde_json::from_slice(&first.body).expect("json body");
    assert_eq!(sent["clientId"], "demo-client");
    let second = &received[1];
    assert_eq!(second.query.as_deref(), Some("serviceName=mss"));
    assert_eq!(
        second
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {tok}").as_str())
    );
    assert_eq!(received[7].target, Target::Any);
    assert_eq!(received[7].status, 404);
    assert!(received.windows(2).all(|w| w[0].at <= w[1].at));

    controls.reset_counters();
    assert_eq!(controls.count(Target::Any), 0);
    assert_eq!(controls.max_per_second(Target::Any), 0);
    // Tokens survive a counter reset.
    assert_eq!(
        api(&sim, &format!("{ORDERS_PATH}?serviceName=uno"), &tok)
            .await
            .status(),
        200
    );
}

#[test]
fn sliding_window_counts() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let times = [
        ms(0),
        ms(100),
        ms(900),
        ms(1000),
        ms(1050),
        ms(1999),
        ms(3000),
    ];
    // [100, 1050] and [1000, 1999]: the window is shorter than one second.
    assert_eq!(max_in_window(&times, Duration::from_secs(1)), 4);
    assert_eq!(max_in_window(&[], Duration::from_secs(1)), 0);
    assert_eq!(max_in_window(&[ms(5), ms(0)], Duration::from_secs(1)), 2);
}

#[tokio::test]
async fn latency_is_added_and_adjustable() {
    let sim = start(SimulatorConfig {
        latency: Duration::from_millis(150),
        ..SimulatorConfig::default()
    })
    .await;
    let t = Instant::now();
    let tok = token(&sim).await;
    assert!(t.elapsed() >= Duration::from_millis(150));
    sim.controls().set_latency(Duration::ZERO);
    let t = Instant::now();
    api(&sim, &format!("{ORDERS_PATH}?serviceName=uno"), &tok).await;
    assert!(t.elapsed() < Duration::from_millis(150));
}

#[tokio::test]
async fn control_routes_work_over_http() {
    let sim = start(SimulatorConfig::default()).await;
    let base = sim.base_url();
    let post = |path: String| async move { client().post(path).send().await.expect("send") };
    assert_eq!(
        post(format!("{base}/__sim/fault?target=token&fault=status:503"))
            .await
            .status(),
        200
    );
    assert_eq!(token_response(&sim, creds()).await.status(), 503);
    assert_eq!(
        post(format!("{base}/__sim/fault?target=token&fault=clear"))
            .await
            .status(),
        200
    );
    assert_eq!(
        post(format!("{base}/__sim/fault?target=any&fault=429:2&n=1"))
            .await
            .status(),
        200
    );
    let limited = token_response(&sim, creds()).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(
        limited
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert_eq!(token_response(&sim, creds()).await.status(), 200);
    assert_eq!(
        post(format!("{base}/__sim/fault?target=any&fault=bogus"))
            .await
            .status(),
        400
    );

    let stats: Value = client()
        .get(format!("{base}/__sim/stats"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["count"]["token"], 3);
    assert_eq!(stats["count"]["any"], 3);
    assert_eq!(stats["max_per_second"]["token"], 3);
    assert_eq!(stats["issued_tokens"], 1);

    assert_eq!(
        post(format!("{base}/__sim/fault?fault=html:502"))
            .await
            .status(),
        200
    );
    assert_eq!(post(format!("{base}/__sim/reset")).await.status(), 200);
    assert_eq!(sim.controls().count(Target::Any), 0);
    assert_eq!(
        token_response(&sim, creds()).await.status(),
        200,
        "reset clears faults"
    );
    assert_eq!(
        post(format!("{base}/__sim/latency?d=1ms")).await.status(),
        200
    );
    assert_eq!(post(format!("{base}/__sim/revoke")).await.status(), 200);
    assert_eq!(
        sim.controls().count(Target::Any),
        1,
        "control routes are not recorded"
    );
}

#[tokio::test]
async fn router_can_be_served_by_others() {
    let (router, controls) = router(SimulatorConfig {
        static_token: Some("T".into()),
        ..SimulatorConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let resp = client()
        .get(format!("http://{addr}{ORDERS_PATH}?serviceName=accs"))
        .bearer_auth("T")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(controls.count(Target::Orders), 1);
    server.abort();
}
