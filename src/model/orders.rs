//! Service orders (`GET /v1/business-process/service-orders`): the
//! normalised [`ServiceOrderList`] / [`ServiceOrder`] / [`OrderCode`] types,
//! the per-service decode tables for `orderType` and `orderStatus`, and
//! [`normalise_orders`], which builds them from the upstream's raw JSON.
//!
//! The decode tables are keyed by the *requested* [`ServiceName`] (the
//! query's `serviceName`), because the `serviceName` inside a result is free
//! text (`uno-virtual` in the document's example). For `uno` the table for
//! "Arcstar Universal One in Japan" is used (the Global one is "TBD").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::lenient::{self, InvalidValues};
use super::wire::{self, RawOrder, RawOrdersEnvelope};
use super::{NormaliseError, ServiceName};

/// The normalised answer of `service-orders` for one service.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "items": [
        {
            "contractId": "N123456789",
            "serviceName": "uno-virtual",
            "orderType": {"code": "1", "name": "new"},
            "offerPlanDate": "2014-10-31T12:34:56Z",
            "orderStatus": {"code": "1", "name": "received"},
            "orderRequestId": "R000012345678"
        },
        {
            "contractId": "N987654321",
            "serviceName": "uno",
            "orderType": {"code": "14-GO", "name": null},
            "offerPlanDate": null,
            "orderStatus": {"code": "5", "name": "complete"},
            "orderRequestId": null,
            "invalidValues": {"offerPlanDate": "2024/13/45"}
        }
    ],
    "resultCount": 2
}))]
pub struct ServiceOrderList {
    /// The service's orders, in upstream order.
    pub items: Vec<ServiceOrder>,
    /// Result count: always the number of `items`. The upstream sends its
    /// own count (a number or a numeric string); when it is missing,
    /// invalid, or disagrees with the items actually present, the number of
    /// items wins.
    #[schema(example = 1, minimum = 0)]
    pub result_count: u64,
}

/// One service order.
///
/// Every field is present in the JSON; `null` means the upstream sent no
/// value (missing, `null`, `"null"` or `""`) or a value that could not be
/// normalised, in which case the raw value is in `invalidValues`.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "contractId": "N123456789",
    "serviceName": "uno-virtual",
    "orderType": {"code": "1", "name": "new"},
    "offerPlanDate": "2014-10-31T12:34:56Z",
    "orderStatus": {"code": "1", "name": "received"},
    "orderRequestId": "R000012345678"
}))]
pub struct ServiceOrder {
    /// Service contract ID.
    #[schema(required = true, nullable, example = "N123456789")]
    pub contract_id: Option<String>,
    /// Service name, free text exactly as the upstream sent it (for example
    /// `uno-virtual`); not necessarily one of the query's service names.
    #[schema(required = true, nullable, example = "uno-virtual")]
    pub service_name: Option<String>,
    /// Order type: the upstream's code and, where the requested service has
    /// a decode table, its meaning (`new`, `change`, `cancel`).
    #[schema(required = true, nullable)]
    pub order_type: Option<OrderCode>,
    /// Provides date (planned provisioning date). Either a full-date
    /// `YYYY-MM-DD` (the upstream sent a date, e.g. `2014/10/31`) or a UTC
    /// date-time in RFC 3339 with `Z` (the upstream sent a date-time; one
    /// without an offset, `YYYY/MM/DD HH:MM:SS`, is read as Japan time).
    #[schema(
        required = true,
        nullable,
        example = "2014-10-31T12:34:56Z",
        pattern = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?$"
    )]
    pub offer_plan_date: Option<String>,
    /// Order status: the upstream's code and, where the requested service
    /// has a decode table, its meaning. For `mss` a missing status means
    /// complete: `{"code": null, "name": "complete"}`.
    #[schema(required = true, nullable)]
    pub order_status: Option<OrderCode>,
    /// Order request ID (the upstream sends it as `orderRequestId` or as
    /// `orderRequestNum`; `orderRequestId` wins if both are present).
    #[schema(required = true, nullable, example = "R000012345678")]
    pub order_request_id: Option<String>,
    /// Fields whose upstream value could not be normalised: the upstream's
    /// field name (the same as here, except `orderRequestNum`) to the raw
    /// value (a string as sent, anything else as JSON text). Those fields
    /// are `null`. Omitted when empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    #[schema(example = json!({"offerPlanDate": "2024/13/45"}))]
    pub invalid_values: BTreeMap<String, String>,
}

/// An upstream code (`orderType` or `orderStatus`) with its decoded meaning.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"code": "1", "name": "new"}))]
pub struct OrderCode {
    /// The upstream's code as text, as sent (numbers as their decimal text,
    /// strings trimmed): `"1"`, also codes outside the document's tables
    /// such as `"14-GO"`, `"2-1"`, `"S1K"`, `"-"`, `"0"`. `null` only for
    /// the MSS rule "no status means complete".
    #[schema(required = true, nullable, example = "1")]
    pub code: Option<String>,
    /// The code's meaning from the document's table for the requested
    /// service; `null` when the service has no table or the code is not in
    /// it.
    #[schema(required = true, nullable, example = "new")]
    pub name: Option<OrderCodeName>,
}

/// The meaning of an order code, from the upstream document's tables.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[schema(example = "in_progress")]
pub enum OrderCodeName {
    /// Order type: new.
    New,
    /// Order type: change.
    Change,
    /// Order type: cancel.
    Cancel,
    /// Order status (uno): received.
    Received,
    /// Order status (uno): investigated.
    Investigated,
    /// Order status (uno): access line contracted.
    AccessLineContracted,
    /// Order status (uno): device contracted.
    DeviceContracted,
    /// Order status: complete.
    Complete,
    /// Order status: in progress.
    InProgress,
}

/// The meaning of an `orderType` code for the requested service:
///
/// * `uno`, `bdp-e`, `mss`: 1 new, 2 change, 3 cancel;
/// * `sip-trunking`, `ucaas`: 1 new, 2 change, 3 cancel, 4 change;
/// * `050plusbiz`, `ip-voice`, `smart-pbx`, `accs`: no table.
fn order_type_name(service: ServiceName, code: &str) -> Option<OrderCodeName> {
    use OrderCodeName::*;
    use ServiceName::*;
    match (service, code) {
        (Uno | BdpE | Mss | SipTrunking | Ucaas, "1") => Some(New),
        (Uno | BdpE | Mss | SipTrunking | Ucaas, "2") => Some(Change),
        (Uno | BdpE | Mss | SipTrunking | Ucaas, "3") => Some(Cancel),
        (SipTrunking | Ucaas, "4") => Some(Change),
        _ => None,
    }
}

/// The meaning of an `orderStatus` code for the requested service:
///
/// * `uno`: 1 received, 2 investigated, 3 access line contracted,
///   4 device contracted, 5 complete;
/// * `bdp-e`: 1 in progress, 2 complete;
/// * `mss`: 1 in progress (no status: complete, see [`normalise_orders`]);
/// * `sip-trunking`, `ucaas`: 1 in progress;
/// * the others: no table.
fn order_status_name(service: ServiceName, code: &str) -> Option<OrderCodeName> {
    use OrderCodeName::*;
    use ServiceName::*;
    match (service, code) {
        (Uno, "1") => Some(Received),
        (Uno, "2") => Some(Investigated),
        (Uno, "3") => Some(AccessLineContracted),
        (Uno, "4") => Some(DeviceContracted),
        (Uno, "5") => Some(Complete),
        (BdpE, "1") => Some(InProgress),
        (BdpE, "2") => Some(Complete),
        (Mss | SipTrunking | Ucaas, "1") => Some(InProgress),
        _ => None,
    }
}

/// Normalises the upstream's `service-orders` body for the requested
/// `service`.
///
/// * The body must be a JSON object; `items` may be missing or `null` (no
///   orders), otherwise it must be an array of objects (`null` elements are
///   skipped).
/// * Codes become [`OrderCode`]s decoded with the requested service's table;
///   unknown codes are kept with `name: null`. For `mss` an absent status
///   (missing, `null`, `"null"`, `""`) means complete.
/// * `resultCount` is always `items.len()` (see [`ServiceOrderList`]).
/// * A value that cannot be normalised makes that field `null` and is
///   recorded in the item's `invalidValues`; it never fails the response.
pub fn normalise_orders(
    service: ServiceName,
    body: &[u8],
) -> Result<ServiceOrderList, NormaliseError> {
    let envelope: RawOrdersEnvelope =
        wire::from_object(wire::parse_object(body)?, "unreadable orders envelope")?;
    let raw_items = match envelope.items {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(NormaliseError::UnexpectedShape("`items` is not an array")),
    };
    let mut items = Vec::with_capacity(raw_items.len());
    for raw in raw_items {
        match raw {
            Value::Null => {}
            Value::Object(map) => {
                let raw: RawOrder = wire::from_object(map, "unreadable element of `items`")?;
                items.push(normalise_order(service, &raw));
            }
            _ => {
                return Err(NormaliseError::UnexpectedShape(
                    "an element of `items` is not an object",
                ));
            }
        }
    }
    let result_count = items.len() as u64;
    if let Some(upstream) = lenient::count(envelope.result_count.as_ref()) {
        if upstream != result_count {
            tracing::debug!(
                upstream,
                actual = result_count,
                %service,
                "upstream resultCount disagrees with the items present; using the item count"
            );
        }
    }
    Ok(ServiceOrderList {
        items,
        result_count,
    })
}

fn normalise_order(service: ServiceName, raw: &RawOrder) -> ServiceOrder {
    let mut invalid = InvalidValues::default();
    let contract_id = invalid.keep("contractId", lenient::text(raw.contract_id.as_ref()));
    let service_name = invalid.keep("serviceName", lenient::text(raw.service_name.as_ref()));
    let order_type = invalid
        .keep("orderType", lenient::code(raw.order_type.as_ref()))
        .map(|code| OrderCode {
            name: order_type_name(service, &code),
            code: Some(code),
        });
    let offer_plan_date = invalid.keep(
        "offerPlanDate",
        lenient::date_or_datetime(raw.offer_plan_date.as_ref()),
    );
    let order_status = match lenient::code(raw.order_status.as_ref()) {
        Ok(None) if service == ServiceName::Mss => Some(OrderCode {
            code: None,
            name: Some(OrderCodeName::Complete),
        }),
        read => invalid.keep("orderStatus", read).map(|code| OrderCode {
            name: order_status_name(service, &code),
            code: Some(code),
        }),
    };
    let order_request_id = invalid
        .keep(
            "orderRequestId",
            lenient::text(raw.order_request_id.as_ref()),
        )
        .or_else(|| {
            invalid.keep(
                "orderRequestNum",
                lenient::text(raw.order_request_num.as_ref()),
            )
        });
    ServiceOrder {
        contract_id,
        service_name,
        order_type,
        offer_plan_date,
        order_status,
        order_request_id,
        invalid_values: invalid.into_map(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn orders(service: ServiceName, body: Value) -> Value {
        let list = normalise_orders(service, body.to_string().as_bytes()).unwrap();
        serde_json::to_value(list).unwrap()
    }

    fn one(service: ServiceName, item: Value) -> Value {
        orders(service, json!({"items": [item], "resultCount": 1}))["items"][0].clone()
    }

    #[test]
    fn document_example_with_commas_fixed() {
        let body = r#"{
"items":
[
{
"contractId":"N********",
"serviceName":"uno-virtual",
"orderType":1,
"offerPlanDate":"2014-10-31T12:34:56Z",
"orderStatus":1,
"orderRequestId":"************"
}
],
"resultCount":1
}"#;
        let list = normalise_orders(ServiceName::Uno, body.as_bytes()).unwrap();
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            json!({
                "items": [{
                    "contractId": "N********",
                    "serviceName": "uno-virtual",
                    "orderType": {"code": "1", "name": "new"},
                    "offerPlanDate": "2014-10-31T12:34:56Z",
                    "orderStatus": {"code": "1", "name": "received"},
                    "orderRequestId": "************"
                }],
                "resultCount": 1
            })
        );
        // As written in the document (missing commas) it is not JSON.
        let broken = body.replace("\"orderStatus\":1,", "\"orderStatus\":1");
        assert!(matches!(
            normalise_orders(ServiceName::Uno, broken.as_bytes()),
            Err(NormaliseError::NotJson { .. })
        ));
    }

    #[test]
    fn serialises_camel_case_in_order_with_every_field() {
        let list =
            normalise_orders(ServiceName::Uno, br#"{"items":[{}],"resultCount":1}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"{"items":[{"contractId":null,"serviceName":null,"orderType":null,"offerPlanDate":null,"orderStatus":null,"orderRequestId":null}],"resultCount":1}"#
        );
    }

    #[test]
    fn null_ish_strings_become_null() {
        let item = one(
            ServiceName::Uno,
            json!({
                "contractId": "null",
                "serviceName": "",
                "orderType": "NULL",
                "offerPlanDate": "  ",
                "orderStatus": null,
                "orderRequestId": "null"
            }),
        );
        assert_eq!(
            item,
            json!({
                "contractId": null,
                "serviceName": null,
                "orderType": null,
                "offerPlanDate": null,
                "orderStatus": null,
                "orderRequestId": null
            })
        );
    }

    #[test]
    fn dates_are_normalised() {
        let date = |raw: Value| one(ServiceName::Uno, json!({ "offerPlanDate": raw }));
        assert_eq!(date(json!("2014/10/31"))["offerPlanDate"], "2014-10-31");
        assert_eq!(date(json!("2026/1/5"))["offerPlanDate"], "2026-01-05");
        assert_eq!(date(json!("2026-01-05"))["offerPlanDate"], "2026-01-05");
        assert_eq!(
            date(json!("2014-10-31T12:34:56+09:00"))["offerPlanDate"],
            "2014-10-31T03:34:56Z"
        );
        assert_eq!(
            date(json!("2014/10/31 12:34:56"))["offerPlanDate"],
            "2014-10-31T03:34:56Z"
        );
    }

    #[test]
    fn bad_date_is_null_and_reported() {
        let item = one(
            ServiceName::Uno,
            json!({"contractId": "N123456789", "offerPlanDate": "2024/13/45"}),
        );
        assert_eq!(item["offerPlanDate"], Value::Null);
        assert_eq!(item["contractId"], "N123456789");
        assert_eq!(
            item["invalidValues"],
            json!({"offerPlanDate": "2024/13/45"})
        );
    }

    #[test]
    fn codes_as_numbers_and_strings_are_the_same() {
        for raw in [json!(1), json!("1"), json!(" 1 "), json!(1.0)] {
            let item = one(
                ServiceName::Uno,
                json!({"orderType": raw, "orderStatus": raw}),
            );
            assert_eq!(
                item["orderType"],
                json!({"code": "1", "name": "new"}),
                "{raw}"
            );
            assert_eq!(
                item["orderStatus"],
                json!({"code": "1", "name": "received"}),
                "{raw}"
            );
        }
    }

    #[test]
    fn unknown_codes_are_kept_without_a_name() {
        for raw in ["14-GO", "2-1", "S1K", "-", "0", "9"] {
            let item = one(
                ServiceName::Uno,
                json!({"orderType": raw, "orderStatus": raw}),
            );
            assert_eq!(item["orderType"], json!({"code": raw, "name": null}));
            assert_eq!(item["orderStatus"], json!({"code": raw, "name": null}));
            assert!(item.get("invalidValues").is_none());
        }
    }

    #[test]
    fn non_scalar_codes_are_invalid() {
        let item = one(
            ServiceName::Uno,
            json!({"orderType": {"a": 1}, "orderStatus": [1], "contractId": true}),
        );
        assert_eq!(item["orderType"], Value::Null);
        assert_eq!(item["orderStatus"], Value::Null);
        assert_eq!(item["contractId"], Value::Null);
        assert_eq!(
            item["invalidValues"],
            json!({"orderType": r#"{"a":1}"#, "orderStatus": "[1]", "contractId": "true"})
        );
    }

    #[test]
    fn order_request_num_or_id() {
        let id = |item: Value| one(ServiceName::Uno, item)["orderRequestId"].clone();
        assert_eq!(id(json!({"orderRequestId": "R1"})), "R1");
        assert_eq!(id(json!({"orderRequestNum": "R2"})), "R2");
        assert_eq!(id(json!({"orderRequestNum": 12345})), "12345");
        assert_eq!(
            id(json!({"orderRequestId": "R1", "orderRequestNum": "R2"})),
            "R1"
        );
        assert_eq!(
            id(json!({"orderRequestId": "null", "orderRequestNum": "R2"})),
            "R2"
        );
        assert_eq!(id(json!({})), Value::Null);
    }

    #[test]
    fn uno_status_table() {
        let names = [
            "received",
            "investigated",
            "access_line_contracted",
            "device_contracted",
            "complete",
        ];
        for (code, name) in (1..=5).zip(names) {
            let item = one(ServiceName::Uno, json!({ "orderStatus": code }));
            assert_eq!(
                item["orderStatus"],
                json!({"code": code.to_string(), "name": name})
            );
        }
        let item = one(ServiceName::Uno, json!({"orderStatus": 6}));
        assert_eq!(item["orderStatus"], json!({"code": "6", "name": null}));
    }

    #[test]
    fn type_tables_per_requested_service() {
        use ServiceName::*;
        let name = |s, code: u8| one(s, json!({ "orderType": code }))["orderType"]["name"].clone();
        for s in [Uno, BdpE, Mss, SipTrunking, Ucaas] {
            assert_eq!(name(s, 1), "new");
            assert_eq!(name(s, 2), "change");
            assert_eq!(name(s, 3), "cancel");
        }
        assert_eq!(name(SipTrunking, 4), "change");
        assert_eq!(name(Ucaas, 4), "change");
        for s in [Uno, BdpE, Mss] {
            assert_eq!(name(s, 4), Value::Null);
        }
        // The result's own serviceName does not matter: the query's does.
        let item = one(Uno, json!({"serviceName": "ucaas", "orderType": 4}));
        assert_eq!(item["orderType"], json!({"code": "4", "name": null}));
        assert_eq!(item["serviceName"], "ucaas");
    }

    #[test]
    fn status_tables_per_requested_service() {
        use ServiceName::*;
        let status = |s, code: u8| one(s, json!({ "orderStatus": code }))["orderStatus"].clone();
        assert_eq!(status(BdpE, 1), json!({"code": "1", "name": "in_progress"}));
        assert_eq!(status(BdpE, 2), json!({"code": "2", "name": "complete"}));
        for s in [Mss, SipTrunking, Ucaas] {
            assert_eq!(status(s, 1), json!({"code": "1", "name": "in_progress"}));
            assert_eq!(status(s, 2), json!({"code": "2", "name": null}));
        }
    }

    #[test]
    fn services_without_tables_keep_codes_without_names() {
        use ServiceName::*;
        for s in [Plus050Biz, IpVoice, SmartPbx, Accs] {
            let item = one(s, json!({"orderType": 1, "orderStatus": "1"}));
            assert_eq!(item["orderType"], json!({"code": "1", "name": null}), "{s}");
            assert_eq!(
                item["orderStatus"],
                json!({"code": "1", "name": null}),
                "{s}"
            );
            // No MSS rule for them either.
            assert_eq!(one(s, json!({}))["orderStatus"], Value::Null);
        }
    }

    #[test]
    fn mss_without_status_is_complete() {
        let complete = json!({"code": null, "name": "complete"});
        for item in [
            json!({}),
            json!({"orderStatus": null}),
            json!({"orderStatus": "null"}),
            json!({"orderStatus": ""}),
        ] {
            assert_eq!(one(ServiceName::Mss, item)["orderStatus"], complete);
        }
        let invalid = one(ServiceName::Mss, json!({"orderStatus": {}}));
        assert_eq!(invalid["orderStatus"], Value::Null);
        assert_eq!(invalid["invalidValues"], json!({"orderStatus": "{}"}));
    }

    #[test]
    fn result_count_is_the_number_of_items() {
        let three = json!([{}, {}, {}]);
        for count in [
            json!(3),
            json!("3"),
            json!(" 3 "),
            json!(7),
            json!("x"),
            json!(null),
        ] {
            let list = orders(
                ServiceName::Uno,
                json!({"items": three, "resultCount": count}),
            );
            assert_eq!(list["resultCount"], 3, "{count}");
        }
        let list = orders(ServiceName::Uno, json!({"items": three}));
        assert_eq!(list["resultCount"], 3);
    }

    #[test]
    fn missing_or_null_items_are_an_empty_list() {
        for body in [
            json!({}),
            json!({"items": null, "resultCount": 0}),
            json!({"resultCount": "0"}),
        ] {
            assert_eq!(
                orders(ServiceName::Uno, body),
                json!({"items": [], "resultCount": 0})
            );
        }
        // null elements are skipped.
        let list = orders(ServiceName::Uno, json!({"items": [null, {}]}));
        assert_eq!(list["resultCount"], 1);
    }

    #[test]
    fn japanese_text_passes_through_byte_for_byte() {
        let text = "ユニバーサルワン　L2 代表（新設）";
        let body = format!(r#"{{"items":[{{"serviceName":"{text}","contractId":" N1 "}}]}}"#);
        let list = normalise_orders(ServiceName::Uno, body.as_bytes()).unwrap();
        assert_eq!(list.items[0].service_name.as_deref(), Some(text));
        assert_eq!(list.items[0].contract_id.as_deref(), Some(" N1 "));
        assert!(serde_json::to_string(&list).unwrap().contains(text));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let item = one(
            ServiceName::Uno,
            json!({"contractId": "N1", "extra": {"deep": [1, 2]}, "ContractId": "other"}),
        );
        assert_eq!(item["contractId"], "N1");
        assert!(item.get("extra").is_none());
        assert!(item.get("invalidValues").is_none());
        let list = orders(
            ServiceName::Uno,
            json!({"items": [], "fault": "x", "next": 2}),
        );
        assert_eq!(list, json!({"items": [], "resultCount": 0}));
    }

    #[test]
    fn bodies_that_are_not_an_envelope_are_errors() {
        for body in [&b"[]"[..], b"\"text\"", b"1", b"null", b"true"] {
            assert_eq!(
                normalise_orders(ServiceName::Uno, body),
                Err(NormaliseError::UnexpectedShape(
                    "the body is not a JSON object"
                ))
            );
        }
        for body in [&b""[..], b"<html>", b"{\"items\":", b"\xff\xfe"] {
            assert!(matches!(
                normalise_orders(ServiceName::Uno, body),
                Err(NormaliseError::NotJson { .. })
            ));
        }
        for body in [
            json!({"items": {}}),
            json!({"items": "x"}),
            json!({"items": [1]}),
        ] {
            assert!(matches!(
                normalise_orders(ServiceName::Uno, body.to_string().as_bytes()),
                Err(NormaliseError::UnexpectedShape(_))
            ));
        }
        // A byte order mark is fine.
        let list = normalise_orders(ServiceName::Uno, b"\xEF\xBB\xBF{\"items\":[]}").unwrap();
        assert_eq!(list.result_count, 0);
    }

    #[test]
    fn error_messages_contain_no_body() {
        let secret = "Yamada-Taro";
        let body = format!(r#"{{"items": "{secret}"}}"#);
        let err = normalise_orders(ServiceName::Uno, body.as_bytes()).unwrap_err();
        assert!(!err.to_string().contains(secret));
        let body = format!(r#"{{"items": [{{"contractId": "{secret}" ]}}"#);
        let err = normalise_orders(ServiceName::Uno, body.as_bytes()).unwrap_err();
        assert!(!err.to_string().contains(secret), "{err}");
    }

    #[test]
    fn deserialises_what_it_serialises() {
        let list = orders(
            ServiceName::Mss,
            json!({"items": [{"orderType": 2, "offerPlanDate": "bad", "contractId": "N1"}]}),
        );
        let back: ServiceOrderList = serde_json::from_value(list.clone()).unwrap();
        assert_eq!(serde_json::to_value(back).unwrap(), list);
    }
}
