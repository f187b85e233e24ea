//! Property tests for query handling: arbitrary strings and percent-encoded
//! bytes given to `parse_orders` / `parse_details` (+ `DetailsFilter::resolve`)
//! never panic and give either a request or a 400 invalid-query problem; and
//! random query strings sent to the running gateway always get a 200 or a
//! 4xx (never a 5xx), with problem+json bodies for the errors.
//! (Arbitrary upstream bodies into the model are covered in `src/model/proptests.rs`.)
mod common;

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use service_order_gateway::api::problem::Problem;
use service_order_gateway::api::query::{MAX_ID_LEN, parse_details, parse_orders};

const NAMES: &[&str] = &[
    "serviceName",
    "webentry_id",
    "n_no",
    "v_no",
    "data_update_date_from",
    "data_update_date_to",
];

/// Every byte that is not unreserved is percent-encoded.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (*b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query of known or random names with random values, partly percent-encoded.
fn query_strategy() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        3 => proptest::sample::select(NAMES).prop_map(str::to_owned),
        1 => proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| encode(&b)),
    ];
    let value = prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| encode(&b)),
        1 => "[A-Za-z0-9]{1,34}",
        1 => "(19|20|29|30)[0-9]{2}-[01][0-9]-[0-3][0-9]",
        1 => proptest::sample::select(vec!["uno", "mss", "accs", "UNO", "%75no", "uno%00", "%2526"])
            .prop_map(str::to_owned),
    ];
    proptest::collection::vec((name, value, any::<bool>()), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(n, v, with_eq)| if with_eq { format!("{n}={v}") } else { n })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn assert_invalid_query(p: &Problem) -> Result<(), TestCaseError> {
    prop_assert_eq!(p.status, 400);
    prop_assert_eq!(
        p.problem_type.as_str(),
        "urn:service-order-gateway:problem:invalid-query"
    );
    prop_assert!(!p.detail.is_empty());
    prop_assert!(!p.invalid_params.is_empty());
    Ok(())
}

fn id_ok(id: &Option<String>) -> bool {
    id.as_ref().is_none_or(|v| {
        !v.is_empty() && v.len() <= MAX_ID_LEN && v.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

proptest! {
    #![proptest_config(Config { cases: 512, ..Config::default() })]

    #[test]
    fn parse_orders_never_panics_on_any_string(raw in any::<String>()) {
        match parse_orders(Some(&raw)) {
            Ok(req) => prop_assert!(raw.contains("serviceName"), "{} gave {:?}", raw, req),
            Err(p) => assert_invalid_query(&p)?,
        }
    }

    #[test]
    fn parse_orders_never_panics_on_structured_queries(raw in query_strategy()) {
        if let Err(p) = parse_orders(Some(&raw)) {
            assert_invalid_query(&p)?;
        }
    }

    #[test]
    fn parse_details_and_resolve_never_panic(
        raw in prop_oneof![any::<String>(), query_strategy()],
        days in 0i64..(1100 * 366),
    ) {
        let today = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
        match parse_details(Some(&raw)) {
            Ok(filter) => {
                prop_assert!(id_ok(&filter.webentry_id) && id_ok(&filter.n_no) && id_ok(&filter.v_no));
                match filter.clone().resolve(today) {
                    Ok(req) => {
                        prop_assert!(req.from <= req.to);
                        prop_assert_eq!(req.webentry_id, filter.webentry_id);
                    }
                    Err(p) => assert_invalid_query(&p)?,
                }
            }
            Err(p) => assert_invalid_query(&p)?,
        }
    }

    #[test]
    fn percent_encoded_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        for raw in [
            format!("serviceName={}", encode(&bytes)),
            format!("webentry_id={}", encode(&bytes)),
            format!("data_update_date_to={}", encode(&bytes)),
            encode(&bytes),
        ] {
            if let Err(p) = parse_orders(Some(&raw)) {
                assert_invalid_query(&p)?;
            }
            if let Err(p) = parse_details(Some(&raw)) {
                assert_invalid_query(&p)?;
            }
        }
    }
}

/// Random queries against the running gateway: 200 or 4xx, never 5xx;
/// every error is problem+json.
#[test]
fn random_queries_over_http_never_give_a_server_error() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(common::spawn_app());
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let paths = proptest::sample::select(vec![
        "/v1/business-process/service-orders",
        "/v1/business-process/service-order-details",
    ]);
    let result = runner.run(&(paths, query_strategy()), |(path, query)| {
        let url = format!("{path}?{query}");
        let (status, content_type, body) = rt.block_on(async {
            let r = app.get(&url).await;
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            (status, ct, r.bytes().await.unwrap_or_default())
        });
        prop_assert!(
            status == 200 || (400..500).contains(&status),
            "{} gave {}: {}",
            url,
            status,
            String::from_utf8_lossy(&body)
        );
        if status == 200 {
            prop_assert_eq!(content_type.as_str(), "application/json");
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            prop_assert!(v["items"].is_array());
        } else {
            prop_assert_eq!(content_type.as_str(), "application/problem+json", "{}", url);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            prop_assert_eq!(v["status"].as_u64(), Some(u64::from(status)));
            prop_assert!(
                v["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("urn:service-order-gateway:problem:"))
            );
            prop_assert!(v["title"].is_string() && v["detail"].is_string());
        }
        Ok(())
    });
    // The server still answers afterwards.
    let health = rt.block_on(async { app.get("/healthz").await.status() });
    drop(app);
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(health, 200);
}
