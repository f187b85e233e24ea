//! Fixed, deterministic data for `GET /v1/business-process/service-orders`.
//!
//! Bodies are hand-written JSON (not serialized from a map) so that field
//! order and the number-vs-string quirks are exactly as written here.
//!
//! What each `serviceName` returns (all bodies are valid JSON):
//! - `uno`: 3 items. Item 1 is the document example (`serviceName`
//!   `"uno-virtual"`, numeric `orderType`/`orderStatus` `1`, ISO
//!   `offerPlanDate`, `orderRequestId`). Item 2 uses `orderRequestNum`,
//!   `offerPlanDate` `"2026/12/10"`, string `orderStatus` `"14-GO"`. Item 3
//!   has `offerPlanDate` `"null"`, `orderStatus` `5`. `resultCount` is the
//!   number `3`.
//! - `ucaas`: 2 items, string codes (`"4"`, `"1"`), item 2 has an extra
//!   `remarks` field; `resultCount` is the string `"2"`.
//! - `sip-trunking`: 3 items, `orderStatus` `"2-1"`, `"S1K"`, `1`;
//!   `orderType` `4`; `resultCount` `3`.
//! - `mss`: 4 items: one with **no** `orderStatus` field (complete), one with
//!   `"orderStatus":""`, one `"-"`, one `1`; `resultCount` `"4"`.
//! - `050plusbiz`: 2 items, `orderStatus` `"0"` and `"1"`, `orderType` `"1"`;
//!   `resultCount` `2`.
//! - `ip-voice`: 2 items, `orderStatus` `"S1K"`, `remarks` field, mixed
//!   `orderRequestId`/`orderRequestNum`; `resultCount` `2`.
//! - `smart-pbx`: 2 items, `orderType` `2`/`"3"`, `offerPlanDate` `"null"`;
//!   `resultCount` `"2"`.
//! - `accs`: `{"items":[],"resultCount":0}`.
//! - `bdp-e`: 6 items, `orderStatus` `2` (complete) and `1`, `orderType` `3`
//!   and `"2"`; `resultCount` `6`.
//!
//! A missing or unknown `serviceName` gets a 400 Apigee fault.

use axum::response::Response;
use http::StatusCode;

use super::{bad_request, json_response};

/// The nine accepted `serviceName` values.
pub(super) const SERVICE_NAMES: [&str; 9] = [
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

fn body_for(service: &str) -> Option<&'static str> {
    Some(match service {
        "uno" => {
            r#"{"items":[{"contractId":"N10000001","serviceName":"uno-virtual","orderType":1,"offerPlanDate":"2014-10-31T12:34:56Z","orderStatus":1,"orderRequestId":"R00000000001"},{"contractId":"N10000002","serviceName":"uno","orderType":"2","offerPlanDate":"2026/12/10","orderStatus":"14-GO","orderRequestNum":"R00000000002"},{"contractId":"N10000003","serviceName":"uno-global","orderType":3,"offerPlanDate":"null","orderStatus":5,"orderRequestId":"R00000000003"}],"resultCount":3}"#
        }
        "ucaas" => {
            r#"{"items":[{"contractId":"U20000001","serviceName":"ucaas","orderType":"4","offerPlanDate":"2025-04-01T00:00:00Z","orderStatus":"1","orderRequestNum":"R00000000011"},{"contractId":"U20000002","serviceName":"UCaaS","orderType":"1","offerPlanDate":"2026/01/15","orderStatus":"1","orderRequestNum":"R00000000012","remarks":"番号ポータビリティ手続き中"}],"resultCount":"2"}"#
        }
        "sip-trunking" => {
            r#"{"items":[{"contractId":"S30000001","serviceName":"sip-trunking","orderType":4,"offerPlanDate":"2025-11-20T09:00:00Z","orderStatus":"2-1","orderRequestId":"R00000000021"},{"contractId":"S30000002","serviceName":"SIP Trunking","orderType":"1","offerPlanDate":"2026/03/31","orderStatus":"S1K","orderRequestNum":"R00000000022"},{"contractId":"S30000003","serviceName":"sip-trunking","orderType":2,"offerPlanDate":"null","orderStatus":1,"orderRequestId":"R00000000023"}],"resultCount":3}"#
        }
        "mss" => {
            r#"{"items":[{"contractId":"M40000001","serviceName":"mss","orderType":1,"offerPlanDate":"2025-06-30T15:00:00Z","orderRequestId":"R00000000031"},{"contractId":"M40000002","serviceName":"mss","orderType":"2","offerPlanDate":"2026/02/01","orderStatus":"","orderRequestNum":"R00000000032"},{"contractId":"M40000003","serviceName":"MSS","orderType":"3","offerPlanDate":"null","orderStatus":"-","orderRequestNum":"R00000000033"},{"contractId":"M40000004","serviceName":"mss","orderType":1,"offerPlanDate":"2026/04/01","orderStatus":1,"orderRequestId":"R00000000034","remarks":""}],"resultCount":"4"}"#
        }
        "050plusbiz" => {
            r#"{"items":[{"contractId":"P50000001","serviceName":"050plus for Biz","orderType":"1","offerPlanDate":"2026/05/07","orderStatus":"0","orderRequestNum":"R00000000041"},{"contractId":"P50000002","serviceName":"050plusbiz","orderType":"1","offerPlanDate":"2025-12-01T01:23:45Z","orderStatus":"1","orderRequestNum":"R00000000042"}],"resultCount":2}"#
        }
        "ip-voice" => {
            r#"{"items":[{"contractId":"V60000001","serviceName":"ip-voice","orderType":2,"offerPlanDate":"2026/07/01","orderStatus":"S1K","orderRequestId":"R00000000051","remarks":"工事日調整中"},{"contractId":"V60000002","serviceName":"IP Voice","orderType":1,"offerPlanDate":"2025-09-09T09:09:09Z","orderStatus":2,"orderRequestNum":"R00000000052"}],"resultCount":2}"#
        }
        "smart-pbx" => {
            r#"{"items":[{"contractId":"X70000001","serviceName":"smart-pbx","orderType":2,"offerPlanDate":"null","orderStatus":1,"orderRequestNum":"R00000000061"},{"contractId":"X70000002","serviceName":"Arcstar Smart PBX","orderType":"3","offerPlanDate":"2026/08/31","orderStatus":"1","orderRequestId":"R00000000062"}],"resultCount":"2"}"#
        }
        "accs" => r#"{"items":[],"resultCount":0}"#,
        "bdp-e" => {
            r#"{"items":[{"contractId":"B90000001","serviceName":"bdp-e","orderType":3,"offerPlanDate":"2025-03-31T23:59:59Z","orderStatus":2,"orderRequestId":"R00000000081"},{"contractId":"B90000002","serviceName":"bdp-e","orderType":"2","offerPlanDate":"2026/10/01","orderStatus":1,"orderRequestId":"R00000000082"},{"contractId":"B90000003","serviceName":"BDP-E","orderType":1,"offerPlanDate":"2026/10/02","orderStatus":"1","orderRequestNum":"R00000000083"},{"contractId":"B90000004","serviceName":"bdp-e","orderType":1,"offerPlanDate":"null","orderStatus":"2","orderRequestNum":"R00000000084"},{"contractId":"B90000005","serviceName":"bdp-e","orderType":"1","offerPlanDate":"2026-01-05T00:00:00Z","orderStatus":2,"orderRequestId":"R00000000085","remarks":"移設"},{"contractId":"B90000006","serviceName":"bdp-e","orderType":2,"offerPlanDate":"2026/11/30","orderStatus":1,"orderRequestId":"R00000000086"}],"resultCount":6}"#
        }
        _ => return None,
    })
}

/// Answers an authorized service-orders request.
pub(super) fn respond(query: Option<&str>) -> Response {
    let service = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "serviceName")
            .map(|(_, v)| v.into_owned())
    });
    let Some(service) = service else {
        return bad_request(
            "Required parameter missing: serviceName",
            "messaging.adaptors.http.flow.BadRequest",
        );
    };
    match body_for(&service).filter(|_| SERVICE_NAMES.contains(&service.as_str())) {
        Some(body) => json_response(StatusCode::OK, body),
        None => bad_request(
            &format!("Invalid serviceName: {service}"),
            "messaging.adaptors.http.flow.BadRequest",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_valid_json_with_consistent_count() {
        for name in SERVICE_NAMES {
            let body = body_for(name).unwrap_or_else(|| panic!("{name}"));
            let v: serde_json::Value = serde_json::from_str(body).expect(name);
            let items = v["items"].as_array().expect("items").len();
            let count = match &v["resultCount"] {
                serde_json::Value::Number(n) => n.as_u64().expect("u64") as usize,
                serde_json::Value::String(s) => s.parse().expect("count"),
                other => panic!("{other}"),
            };
            assert_eq!(items, count, "{name}");
            if name != "accs" {
                assert!((2..=6).contains(&items), "{name}");
            }
        }
    }
}
