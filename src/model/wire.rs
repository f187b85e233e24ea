//! The upstream's raw JSON, read as tolerantly as possible.
//!
//! Every field is an `Option<serde_json::Value>`: a missing field and JSON
//! `null` are both `None`, a field of any JSON type is accepted, and unknown
//! fields are ignored. Interpreting the values is left to [`super::lenient`].
//! The only things that fail here are a body that is not JSON and a body
//! that is JSON but not an object.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::NormaliseError;

/// Parses an upstream body into its top-level JSON object. A leading UTF-8
/// byte order mark is skipped.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, NormaliseError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(NormaliseError::UnexpectedShape(
            "the body is not a JSON object",
        )),
        Err(e) => Err(NormaliseError::NotJson {
            line: e.line(),
            column: e.column(),
        }),
    }
}

/// Deserialises one of the all-optional wire structs from a JSON object.
/// Cannot fail in practice (every field accepts any value); mapped to a
/// shape error rather than unwrapped all the same.
pub(crate) fn from_object<T: for<'de> Deserialize<'de>>(
    map: Map<String, Value>,
    what: &'static str,
) -> Result<T, NormaliseError> {
    serde_json::from_value(Value::Object(map)).map_err(|_| NormaliseError::UnexpectedShape(what))
}

/// The envelope of `GET /v1/business-process/service-orders`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawOrdersEnvelope {
    /// The orders (documented as an array; may be missing).
    pub items: Option<Value>,
    /// Documented as Int; may be a string.
    pub result_count: Option<Value>,
}

/// One element of `items` of the orders envelope.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawOrder {
    /// Service contract ID.
    pub contract_id: Option<Value>,
    /// Free text, e.g. `uno-virtual`: not one of the nine query values.
    pub service_name: Option<Value>,
    /// Documented as Int; seen as strings such as `"14-GO"`.
    pub order_type: Option<Value>,
    /// A date or a date-time in several formats.
    pub offer_plan_date: Option<Value>,
    /// Documented as Int; seen as strings.
    pub order_status: Option<Value>,
    /// The name used by the document's example.
    pub order_request_id: Option<Value>,
    /// The name used by the document's table.
    pub order_request_num: Option<Value>,
}

/// The envelope of `GET /v1/business-process/service-order-details`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawDetailsEnvelope {
    /// Documented as String, sent as the number 200 in the example.
    pub code: Option<Value>,
    /// `{"detailCode": .., "detailMsg": ..}` in the example.
    pub detail: Option<Value>,
    /// The table lists `detailCode` at top level: accepted there too.
    pub detail_code: Option<Value>,
    /// The table lists `detailMsg` at top level: accepted there too.
    pub detail_msg: Option<Value>,
    /// The records (an array; may be missing or null).
    pub result: Option<Value>,
}

/// The `detail` object of the details envelope.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawDetail {
    /// Execution result detail code, e.g. `I01`.
    pub detail_code: Option<Value>,
    /// Result message (Japanese).
    pub detail_msg: Option<Value>,
}

/// One element of `result` of the details envelope. It has some seventy
/// fields, all read by name from the object (see
/// `super::details::OrderDetail`), so it is kept as the object itself: a
/// missing field reads as `None`, unknown fields are never looked at.
#[derive(Debug, Default)]
pub(crate) struct RawOrderDetail(pub Map<String, Value>);

impl RawOrderDetail {
    /// The raw value of `field`; JSON `null` reads as `None`.
    pub(crate) fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }
}
