//! Property tests: whatever the upstream sends, normalising never panics,
//! and whatever it produces serialises and reads back unchanged.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

use super::{
    NormaliseError, OrderDetail, OrderDetailList, ServiceName, ServiceOrderList, normalise_details,
    normalise_orders,
};

/// Field names the normalisers look at, so generated objects hit them.
const KEYS: &[&str] = &[
    "items",
    "resultCount",
    "contractId",
    "serviceName",
    "orderType",
    "offerPlanDate",
    "orderStatus",
    "orderRequestId",
    "orderRequestNum",
    "code",
    "detail",
    "detailCode",
    "detailMsg",
    "result",
    "applYmd",
    "comFieldResearchExpectedDay",
    "kind",
    "withdrawKbn",
];

/// Strings the normalisers treat specially, plus arbitrary ones.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "null",
            "NULL",
            "",
            " ",
            "1",
            " 1 ",
            "4",
            "14-GO",
            "2-1",
            "S1K",
            "-",
            "0",
            "200",
            "000000",
            "100000",
            "910000",
            "3",
            "2024/13/45",
            "2026/1/5",
            "2024-02-29",
            "2014-10-31T12:34:56Z",
            "2014-10-31T12:34:56+09:00",
            "2014/10/31 12:34:56",
            "0000-01-01T00:00:00+09:00",
            "9999-12-31T23:59:59-23:59",
            "新設",
            "無し",
            "\u{3000}",
            "YYYY/MM/DD",
        ])
        .prop_map(String::from),
        any::<String>(),
        "[0-9/: T+-]{0,24}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // non-finite becomes null
        string().prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![select(KEYS).prop_map(String::from), "[a-zA-Z]{0,6}"]
}

/// Arbitrary nested JSON whose objects often use the keys that matter.
fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An object with (some of) the given fields set to arbitrary leaves or JSON.
fn record(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (select(fields), prop_oneof![3 => leaf(), 1 => json()]),
        0..12,
    )
    .prop_map(|kv| {
        Value::Object(
            kv.into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<_, _>>(),
        )
    })
}

const ORDER_FIELDS: &[&str] = &[
    "contractId",
    "serviceName",
    "orderType",
    "offerPlanDate",
    "orderStatus",
    "orderRequestId",
    "orderRequestNum",
];

/// Bodies shaped like the orders envelope.
fn orders_body() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(prop_oneof![8 => record(ORDER_FIELDS), 1 => leaf()], 0..6),
        leaf(),
    )
        .prop_map(|(items, count)| serde_json::json!({"items": items, "resultCount": count}))
}

/// Bodies shaped like the details envelope.
fn details_body() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            select(vec!["200", "0", "000000", "100000", "910000"])
                .prop_map(|s| Value::String(s.into())),
            Just(Value::from(200)),
            leaf(),
        ],
        json(),
        prop::collection::vec(
            prop_oneof![8 => record(OrderDetail::FIELD_NAMES), 1 => leaf()],
            0..4,
        ),
    )
        .prop_map(|(code, detail, result)| {
            serde_json::json!({"code": code, "detail": detail, "result": result})
        })
}

fn check_orders(body: &[u8]) {
    for service in ServiceName::ALL {
        if let Ok(list) = normalise_orders(service, body) {
            assert_eq!(list.result_count, list.items.len() as u64);
            let text = serde_json::to_string(&list).unwrap();
            let back: ServiceOrderList = serde_json::from_str(&text).unwrap();
            assert_eq!(back, list);
            for item in &list.items {
                for field in item.invalid_values.keys() {
                    assert!(ORDER_FIELDS.contains(&field.as_str()), "{field}");
                }
            }
        }
    }
}

fn check_details(body: &[u8]) {
    match normalise_details(body) {
        Ok(list) => {
            assert_eq!(list.result_count, list.items.len() as u64);
            assert!(super::details::SUCCESS_CODES.contains(&list.code.as_str()));
            let text = serde_json::to_string(&list).unwrap();
            let back: OrderDetailList = serde_json::from_str(&text).unwrap();
            assert_eq!(back, list);
            for item in &list.items {
                for field in item.invalid_values.keys() {
                    assert!(
                        OrderDetail::FIELD_NAMES.contains(&field.as_str()),
                        "{field}"
                    );
                }
            }
        }
        Err(NormaliseError::DetailsResultCode { code, .. }) => {
            assert!(!super::details::SUCCESS_CODES.contains(&code.as_str()));
        }
        Err(_) => {}
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check_orders(&body);
        check_details(&body);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json()) {
        let body = serde_json::to_vec(&value).unwrap();
        check_orders(&body);
        check_details(&body);
    }

    #[test]
    fn orders_shaped_json_never_panics(value in orders_body()) {
        let body = serde_json::to_vec(&value).unwrap();
        check_orders(&body);
        // A well-formed envelope with object items always normalises.
        let all_objects = value["items"].as_array().unwrap().iter().all(|v| v.is_object() || v.is_null());
        prop_assert_eq!(normalise_orders(ServiceName::Uno, &body).is_ok(), all_objects);
    }

    #[test]
    fn details_shaped_json_never_panics(value in details_body()) {
        check_details(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn truncated_json_never_panics(value in orders_body(), cut in any::<prop::sample::Index>()) {
        let body = serde_json::to_vec(&value).unwrap();
        let body = &body[..cut.index(body.len() + 1)];
        check_orders(body);
        check_details(body);
    }
}
