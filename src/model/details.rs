//! Service order details (`GET /v1/business-process/service-order-details`):
//! the normalised [`OrderDetailList`] / [`OrderDetail`] types and
//! [`normalise_details`], which builds them from the upstream's raw JSON.
//!
//! [`OrderDetail`] has one field per row of the document's "Response
//! Parameters" table (except the envelope's `code`, `detailCode` and
//! `detailMsg`), with the same camelCase names and in the same order. All are
//! free text except the dates (names ending in `Ymd`, plus
//! `comFieldResearchExpectedDay`), which become `YYYY-MM-DD`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::NormaliseError;
use super::lenient::{self, InvalidValues};
use super::wire::{self, RawDetail, RawDetailsEnvelope, RawOrderDetail};

/// Result codes that mean success: `200` (the document), `0`, `000000`, and
/// `100000` (the sister APIs' "no data": success with an empty list).
pub const SUCCESS_CODES: [&str; 4] = ["200", "0", "000000", "100000"];

/// The normalised answer of `service-order-details`.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schema(example = example_detail_list)]
pub struct OrderDetailList {
    /// The order detail records, in upstream order.
    pub items: Vec<OrderDetail>,
    /// Result count: the number of `items`.
    #[schema(example = 1, minimum = 0)]
    pub result_count: u64,
    /// Execution result code, as text (the upstream sends `200` as a number
    /// or a string). Always a success code here (`200`, `0`, `000000` or
    /// `100000`); when the upstream sent no code but a result array, `200`.
    #[schema(example = "200")]
    pub code: String,
    /// Execution result detail code.
    #[schema(required = true, nullable, example = "I01")]
    pub detail_code: Option<String>,
    /// Result message, as sent (usually Japanese).
    #[schema(
        required = true,
        nullable,
        example = "正常終了しました。(検索結果:1件)"
    )]
    pub detail_msg: Option<String>,
    /// The start of the update-date range that was asked for
    /// (`data_update_date_from`), `YYYY-MM-DD`.
    #[schema(required = true, nullable, format = Date, example = "2024-04-01")]
    pub data_update_date_from: Option<NaiveDate>,
    /// The end of the update-date range that was asked for
    /// (`data_update_date_to`), `YYYY-MM-DD`.
    #[schema(required = true, nullable, format = Date, example = "2024-04-30")]
    pub data_update_date_to: Option<NaiveDate>,
}

/// Declares [`OrderDetail`] and its conversion from one upstream record from
/// a single list of fields, so the Rust field, its JSON name, its reader and
/// its documentation cannot drift apart.
macro_rules! order_detail {
    ($(
        $(#[$attr:meta])*
        $field:ident: $ty:ty = $json:tt => $read:ident;
    )*) => {
        /// One service order detail record.
        ///
        /// Every field is present in the JSON; `null` means the upstream sent
        /// no value (`"null"`, `""`, `null` or nothing) or a value that could
        /// not be normalised, in which case the raw value is in
        /// `invalidValues`. Text is passed through exactly as sent (often
        /// Japanese).
        #[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
        #[schema(example = example_detail)]
        pub struct OrderDetail {
            $(
                $(#[$attr])*
                #[serde(rename = $json)]
                pub $field: $ty,
            )*
            /// Fields whose upstream value could not be normalised (for
            /// example a date such as `2024/13/45`): field name to the raw
            /// value (a string as sent, anything else as JSON text). Those
            /// fields are `null`. Omitted when empty.
            #[serde(rename = "invalidValues", skip_serializing_if = "BTreeMap::is_empty", default)]
            #[schema(example = json!({"applYmd": "2024/13/45"}))]
            pub invalid_values: BTreeMap<String, String>,
        }

        impl OrderDetail {
            /// The upstream's field names, in the document's order.
            pub const FIELD_NAMES: &'static [&'static str] = &[$($json),*];

            fn from_wire(raw: &RawOrderDetail) -> Self {
                let mut invalid = InvalidValues::default();
                $(
                    let $field = invalid.keep($json, lenient::$read(raw.get($json)));
                )*
                OrderDetail {
                    $($field,)*
                    invalid_values: invalid.into_map(),
                }
            }
        }
    };
}

order_detail! {
    /// WEB Entry ID.
    #[schema(required = true, nullable, example = "UN0123456789")]
    web_entry_id: Option<String> = "webEntryId" => text;
    /// WEB Entry sub ID.
    #[schema(required = true, nullable, example = "01")]
    change_relation_num: Option<String> = "changeRelationNum" => text;
    /// Main/Backup flag.
    #[schema(required = true, nullable, example = "1")]
    main_back_identifier: Option<String> = "mainBackIdentifier" => text;
    /// Order number.
    #[schema(required = true, nullable, example = "1234567890123")]
    order_num: Option<String> = "orderNum" => text;
    /// VPN Group number.
    #[schema(required = true, nullable, example = "V12345678")]
    contract_vpn_num: Option<String> = "contractVpnNum" => text;
    /// Contract line number (Application).
    #[schema(required = true, nullable)]
    contract_line_num_appl: Option<String> = "contractLineNumAppl" => text;
    /// Contract line number (Distribution).
    #[schema(required = true, nullable, example = "N123456789")]
    contract_line_num_distribut: Option<String> = "contractLineNumDistribut" => text;
    /// Dark fiber ID.
    #[schema(required = true, nullable)]
    dark_id: Option<String> = "darkId" => text;
    /// Quotation group ID.
    #[schema(required = true, nullable, example = "GU12345678-0001")]
    quotation_group_id: Option<String> = "quotationGroupId" => text;
    /// Application date. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date, example = "2024-04-01")]
    appl_ymd: Option<NaiveDate> = "applYmd" => date;
    /// Project name.
    #[schema(required = true, nullable, example = "EXAMPLE/New office")]
    item_name: Option<String> = "itemName" => text;
    /// Customer name.
    #[schema(required = true, nullable, example = "Example Corporation")]
    contractor_name: Option<String> = "contractorName" => text;
    /// Customer office name.
    #[schema(required = true, nullable)]
    office_name: Option<String> = "officeName" => text;
    /// Order type (Japanese, e.g. `新設` new installation).
    #[schema(required = true, nullable, example = "新設")]
    kind: Option<String> = "kind" => text;
    /// Product name.
    #[schema(required = true, nullable, example = "Universal One")]
    product_name: Option<String> = "productName" => text;
    /// Service name.
    #[schema(required = true, nullable, example = "L2 代表")]
    service_name: Option<String> = "serviceName" => text;
    /// Main access line type.
    #[schema(required = true, nullable)]
    accs_line_type_main: Option<String> = "accsLineTypeMain" => text;
    /// Line speed.
    #[schema(required = true, nullable)]
    line_speed: Option<String> = "lineSpeed" => text;
    /// Zipcode.
    #[schema(required = true, nullable)]
    put_place_zip_num: Option<String> = "putPlaceZipNum" => text;
    /// State (prefecture).
    #[schema(required = true, nullable)]
    put_place_add_prefectures: Option<String> = "putPlaceAddPrefectures" => text;
    /// City and address1.
    #[schema(required = true, nullable)]
    put_place_add: Option<String> = "putPlaceAdd" => text;
    /// address2.
    #[schema(required = true, nullable)]
    put_place_building_name: Option<String> = "putPlaceBuildingName" => text;
    /// Floor.
    #[schema(required = true, nullable)]
    put_place_floor: Option<String> = "putPlaceFloor" => text;
    /// Phone number.
    #[schema(required = true, nullable)]
    put_place_tel: Option<String> = "putPlaceTel" => text;
    /// Sales channel code.
    #[schema(required = true, nullable)]
    sale_channel_code: Option<String> = "saleChannelCode" => text;
    /// Customer service department name.
    #[schema(required = true, nullable)]
    customer_department_name: Option<String> = "customerDepartmentName" => text;
    /// Application status.
    #[schema(required = true, nullable)]
    support_request_status: Option<String> = "supportRequestStatus" => text;
    /// Application date. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    support_request_action_ymd: Option<NaiveDate> = "supportRequestActionYmd" => date;
    /// Access line installation flag (Japanese, e.g. `無し` none).
    #[schema(required = true, nullable, example = "無し")]
    accs_const_presence: Option<String> = "accsConstPresence" => text;
    /// Universal One Terminal.
    #[schema(required = true, nullable)]
    universal_one_terminal: Option<String> = "universalOneTerminal" => text;
    /// Terminal installation type.
    #[schema(required = true, nullable)]
    term_const_div: Option<String> = "termConstDiv" => text;
    /// Desired date of service. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date, example = "2024-05-15")]
    holdout_schedule_ymd: Option<NaiveDate> = "holdoutScheduleYmd" => date;
    /// Application date (first). `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    recept_ymd: Option<NaiveDate> = "receptYmd" => date;
    /// Application date (change). `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    change_relation_recept_ymd: Option<NaiveDate> = "changeRelationReceptYmd" => date;
    /// Site survey status (Japanese, e.g. `不要` not required).
    #[schema(required = true, nullable, example = "不要")]
    field_research_status: Option<String> = "fieldResearchStatus" => text;
    /// Preferred date of site survey for access line. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    area_field_research_schedule_ymd: Option<NaiveDate> = "areaFieldResearchScheduleYmd" => date;
    /// Preferred time slot of site survey for access line.
    #[schema(required = true, nullable)]
    area_field_research_time_zone: Option<String> = "areaFieldResearchTimeZone" => text;
    /// Scheduled time slot of site survey for access line.
    #[schema(required = true, nullable)]
    area_field_research_schedule_time_zone: Option<String> = "areaFieldResearchScheduleTimeZone" => text;
    /// Operator of site survey for access line.
    #[schema(required = true, nullable)]
    area_field_research_worker: Option<String> = "areaFieldResearchWorker" => text;
    /// Witness of site survey for access line.
    #[schema(required = true, nullable)]
    area_field_research_observer: Option<String> = "areaFieldResearchObserver" => text;
    /// Implementation date of site survey for access line. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    area_field_research_action_ymd: Option<NaiveDate> = "areaFieldResearchActionYmd" => date;
    /// Preferred time slot of site survey by NTT Communications.
    #[schema(required = true, nullable)]
    com_field_research_time_zone: Option<String> = "comFieldResearchTimeZone" => text;
    /// Scheduled date of site survey by NTT Communications. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    com_field_research_expected_day: Option<NaiveDate> = "comFieldResearchExpectedDay" => date;
    /// Scheduled time slot of site survey by NTT Communications.
    #[schema(required = true, nullable)]
    com_field_research_expected_time_zone: Option<String> = "comFieldResearchExpectedTimeZone" => text;
    /// Operator of site survey by NTT Communications.
    #[schema(required = true, nullable)]
    com_field_research_worker: Option<String> = "comFieldResearchWorker" => text;
    /// Witness of site survey by NTT Communications.
    #[schema(required = true, nullable)]
    com_field_research_observer: Option<String> = "comFieldResearchObserver" => text;
    /// Implementation date of site survey by NTT Communications. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    com_field_research_action_ymd: Option<NaiveDate> = "comFieldResearchActionYmd" => date;
    /// Appurtenant installation flag.
    #[schema(required = true, nullable)]
    ancillary_const_presence: Option<String> = "ancillaryConstPresence" => text;
    /// Connection test status.
    #[schema(required = true, nullable)]
    continuity_const_trial_status: Option<String> = "continuityConstTrialStatus" => text;
    /// Preferred date for connection installation. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    df_const_hope_ymd: Option<NaiveDate> = "dfConstHopeYmd" => date;
    /// Scheduled date for connection installation. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    continuity_const_schedule_ymd: Option<NaiveDate> = "continuityConstScheduleYmd" => date;
    /// Scheduled time slot for connection installation.
    #[schema(required = true, nullable)]
    continuity_const_schedule_time_zone: Option<String> = "continuityConstScheduleTimeZone" => text;
    /// Operator for connection installation.
    #[schema(required = true, nullable)]
    continuity_const_worker: Option<String> = "continuityConstWorker" => text;
    /// Witness for connection installation.
    #[schema(required = true, nullable)]
    continuity_const_observer: Option<String> = "continuityConstObserver" => text;
    /// Implementation date of connection installation. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    continuity_const_action_ymd: Option<NaiveDate> = "continuityConstActionYmd" => date;
    /// Access line installation status.
    #[schema(required = true, nullable)]
    home_const_status: Option<String> = "homeConstStatus" => text;
    /// Preferred date for access line installation. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    accs_line_schedule_ymd: Option<NaiveDate> = "accsLineScheduleYmd" => date;
    /// Preferred time slot for access line installation.
    #[schema(required = true, nullable)]
    home_const_time_zone: Option<String> = "homeConstTimeZone" => text;
    /// Scheduled time slot for access line installation.
    #[schema(required = true, nullable)]
    accs_line_schedule_time_zone: Option<String> = "accsLineScheduleTimeZone" => text;
    /// Operator for access line installation.
    #[schema(required = true, nullable)]
    home_const_worker: Option<String> = "homeConstWorker" => text;
    /// Witness for access line installation.
    #[schema(required = true, nullable)]
    home_const_observer: Option<String> = "homeConstObserver" => text;
    /// Implementation date for access line installation. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    accs_line_action_ymd: Option<NaiveDate> = "accsLineActionYmd" => date;
    /// Customer Edge router status.
    #[schema(required = true, nullable)]
    term_const_status: Option<String> = "termConstStatus" => text;
    /// Preferred date of customer Edge router installation. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    term_const_schedule_ymd: Option<NaiveDate> = "termConstScheduleYmd" => date;
    /// Preferred time slot of customer Edge router installation.
    #[schema(required = true, nullable)]
    term_const_hope_time_zone: Option<String> = "termConstHopeTimeZone" => text;
    /// Scheduled time slot of customer Edge router installation.
    #[schema(required = true, nullable)]
    term_const_schedule_time_zone: Option<String> = "termConstScheduleTimeZone" => text;
    /// Operator for customer Edge router installation.
    #[schema(required = true, nullable)]
    term_const_worker: Option<String> = "termConstWorker" => text;
    /// Witness for customer Edge router installation.
    #[schema(required = true, nullable)]
    term_const_observer: Option<String> = "termConstObserver" => text;
    /// Implementation date of customer Edge router installation. `YYYY-MM-DD` (the upstream sends `YYYY/MM/DD`).
    #[schema(required = true, nullable, format = Date)]
    term_const_action_ymd: Option<NaiveDate> = "termConstActionYmd" => date;
    /// Withdraw flag.
    #[schema(required = true, nullable)]
    withdraw_kbn: Option<String> = "withdrawKbn" => text;
}

/// Normalises the upstream's `service-order-details` body.
///
/// * The body must be a JSON object with a `code` (a number or a string) and
///   an optional `detail: {detailCode, detailMsg}`; `detailCode` and
///   `detailMsg` are also accepted at top level.
/// * A code outside [`SUCCESS_CODES`] is an upstream error:
///   [`NormaliseError::DetailsResultCode`], never an empty list.
/// * A success code with `result` missing or `null` is an empty list. A
///   missing code with a `result` array is treated as success (`code`
///   `"200"`); a missing code without a `result` array is a shape error.
/// * `result` must otherwise be an array of objects (`null` elements are
///   skipped). `resultCount` is the number of items.
/// * `dataUpdateDateFrom`/`dataUpdateDateTo` are left `None` for the caller
///   to fill in with the range it asked for.
pub fn normalise_details(body: &[u8]) -> Result<OrderDetailList, NormaliseError> {
    let envelope: RawDetailsEnvelope =
        wire::from_object(wire::parse_object(body)?, "unreadable details envelope")?;

    let nested = match envelope.detail {
        Some(Value::Object(map)) => wire::from_object(map, "unreadable `detail`")?,
        _ => RawDetail::default(),
    };
    // An unusable detail code or message is dropped: it is only informative.
    let detail_code = lenient::text(nested.detail_code.as_ref())
        .ok()
        .flatten()
        .or_else(|| lenient::text(envelope.detail_code.as_ref()).ok().flatten());
    let detail_msg = lenient::text(nested.detail_msg.as_ref())
        .ok()
        .flatten()
        .or_else(|| lenient::text(envelope.detail_msg.as_ref()).ok().flatten());

    let code = lenient::code(envelope.code.as_ref())
        .map_err(|_| NormaliseError::UnexpectedShape("`code` is not a string or a number"))?;
    let has_result_array = matches!(envelope.result, Some(Value::Array(_)));
    let code = match code {
        Some(code) => code,
        None if has_result_array => "200".to_owned(),
        None => {
            return Err(NormaliseError::UnexpectedShape(
                "neither a `code` nor a `result` array is present",
            ));
        }
    };
    if !SUCCESS_CODES.contains(&code.as_str()) {
        return Err(NormaliseError::DetailsResultCode {
            code,
            detail_code,
            message: detail_msg,
        });
    }

    let raw_items = match envelope.result {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(NormaliseError::UnexpectedShape("`result` is not an array")),
    };
    let mut items = Vec::with_capacity(raw_items.len());
    for raw in raw_items {
        match raw {
            Value::Null => {}
            Value::Object(map) => items.push(OrderDetail::from_wire(&RawOrderDetail(map))),
            _ => {
                return Err(NormaliseError::UnexpectedShape(
                    "an element of `result` is not an object",
                ));
            }
        }
    }
    Ok(OrderDetailList {
        result_count: items.len() as u64,
        items,
        code,
        detail_code,
        detail_msg,
        data_update_date_from: None,
        data_update_date_to: None,
    })
}

/// A realistic upstream details body with fake data, in the upstream's own
/// form (`YYYY/MM/DD`, `"null"`), used for the OpenAPI examples.
const EXAMPLE_UPSTREAM_DETAILS: &str = r#"{
    "code": 200,
    "detail": {"detailCode": "I01", "detailMsg": "正常終了しました。(検索結果:1件)"},
    "result": [{
        "webEntryId": "UN0123456789",
        "changeRelationNum": "01",
        "mainBackIdentifier": "1",
        "orderNum": "1234567890123",
        "contractVpnNum": "V12345678",
        "contractLineNumAppl": "null",
        "contractLineNumDistribut": "N123456789",
        "darkId": "null",
        "quotationGroupId": "GU12345678-0001",
        "applYmd": "2024/04/01",
        "itemName": "EXAMPLE/New office",
        "contractorName": "Example Corporation",
        "officeName": "null",
        "kind": "新設",
        "productName": "Universal One",
        "serviceName": "L2 代表",
        "saleChannelCode": "SC000001",
        "accsConstPresence": "無し",
        "holdoutScheduleYmd": "2024/05/15",
        "fieldResearchStatus": "不要",
        "areaFieldResearchTimeZone": "不要",
        "continuityConstTrialStatus": "不要",
        "homeConstStatus": "不要",
        "termConstStatus": "不要",
        "withdrawKbn": "null"
    }]
}"#;

/// The OpenAPI example of [`OrderDetailList`]: the normalised
/// [`EXAMPLE_UPSTREAM_DETAILS`] with an update-date range filled in.
fn example_detail_list() -> Value {
    normalise_details(EXAMPLE_UPSTREAM_DETAILS.as_bytes())
        .ok()
        .map(|mut list| {
            list.data_update_date_from = NaiveDate::from_ymd_opt(2024, 4, 1);
            list.data_update_date_to = NaiveDate::from_ymd_opt(2024, 4, 30);
            list
        })
        .and_then(|list| serde_json::to_value(list).ok())
        .unwrap_or(Value::Null)
}

/// The OpenAPI example of [`OrderDetail`]: the first item of
/// [`example_detail_list`].
fn example_detail() -> Value {
    example_detail_list()
        .get("items")
        .and_then(|items| items.get(0))
        .cloned()
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The document's example, verbatim.
    const DOCUMENT_EXAMPLE: &str = include_str!("testdata/document-details-example.json");

    fn details(body: Value) -> Result<OrderDetailList, NormaliseError> {
        normalise_details(body.to_string().as_bytes())
    }

    fn first_item(record: Value) -> Value {
        let list = details(json!({"code": 200, "result": [record]})).unwrap();
        serde_json::to_value(&list.items[0]).unwrap()
    }

    #[test]
    fn document_example_normalises() {
        let list = normalise_details(DOCUMENT_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(list.code, "200");
        assert_eq!(list.detail_code.as_deref(), Some("I01"));
        assert_eq!(
            list.detail_msg.as_deref(),
            Some("正常終了しました。(検索結果:1件)")
        );
        assert_eq!(list.result_count, 1);
        let item = serde_json::to_value(&list.items[0]).unwrap();
        let fields = item.as_object().unwrap();
        // Every documented field, plus invalidValues for the date placeholders.
        assert_eq!(fields.len(), OrderDetail::FIELD_NAMES.len() + 1);
        assert_eq!(item["webEntryId"], "UN**********");
        assert_eq!(item["changeRelationNum"], "01");
        assert_eq!(item["contractLineNumAppl"], Value::Null);
        assert_eq!(item["kind"], "新設");
        assert_eq!(item["serviceName"], "L2 代表");
        assert_eq!(item["accsConstPresence"], "無し");
        assert_eq!(item["fieldResearchStatus"], "不要");
        assert_eq!(item["withdrawKbn"], Value::Null);
        // "YYYY/MM/DD" is a placeholder, not a date.
        assert_eq!(item["applYmd"], Value::Null);
        assert_eq!(item["holdoutScheduleYmd"], Value::Null);
        assert_eq!(
            item["invalidValues"],
            json!({"applYmd": "YYYY/MM/DD", "holdoutScheduleYmd": "YYYY/MM/DD"})
        );
    }

    #[test]
    fn field_names_follow_the_document_table_in_order() {
        // The keys of the document's record, in the order written.
        let record = &DOCUMENT_EXAMPLE[DOCUMENT_EXAMPLE.find("\"result\"").unwrap()..];
        let doc_names: Vec<&str> = record
            .lines()
            .skip(1)
            .filter_map(|line| line.trim().strip_prefix('"')?.split_once("\":"))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(doc_names, OrderDetail::FIELD_NAMES);
        // The serialised order is the same.
        let list = details(json!({"code": 200, "result": [{}]})).unwrap();
        let text = serde_json::to_string(&list.items[0]).unwrap();
        let positions: Vec<usize> = OrderDetail::FIELD_NAMES
            .iter()
            .map(|name| text.find(&format!("\"{name}\":null")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.starts_with(r#"{"webEntryId":null,"#), "{text}");
        assert!(text.ends_with(r#","withdrawKbn":null}"#), "{text}");
    }

    #[test]
    fn list_serialises_camel_case_in_order() {
        let mut list = details(json!({"code": "200", "result": []})).unwrap();
        list.data_update_date_from = NaiveDate::from_ymd_opt(2024, 4, 1);
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"{"items":[],"resultCount":0,"code":"200","detailCode":null,"detailMsg":null,"dataUpdateDateFrom":"2024-04-01","dataUpdateDateTo":null}"#
        );
    }

    #[test]
    fn dates_and_null_ish_values() {
        let item = first_item(json!({
            "applYmd": "2024/04/01",
            "receptYmd": "2026/1/5",
            "dfConstHopeYmd": "2026-01-05",
            "comFieldResearchExpectedDay": "2024/12/24",
            "termConstActionYmd": "2024/13/45",
            "accsLineActionYmd": "null",
            "homeConstWorker": "",
            "darkId": "NULL",
            "officeName": null
        }));
        assert_eq!(item["applYmd"], "2024-04-01");
        assert_eq!(item["receptYmd"], "2026-01-05");
        assert_eq!(item["dfConstHopeYmd"], "2026-01-05");
        assert_eq!(item["comFieldResearchExpectedDay"], "2024-12-24");
        assert_eq!(item["termConstActionYmd"], Value::Null);
        assert_eq!(item["accsLineActionYmd"], Value::Null);
        assert_eq!(item["homeConstWorker"], Value::Null);
        assert_eq!(item["darkId"], Value::Null);
        assert_eq!(item["officeName"], Value::Null);
        assert_eq!(
            item["invalidValues"],
            json!({"termConstActionYmd": "2024/13/45"})
        );
    }

    #[test]
    fn japanese_text_passes_through_byte_for_byte() {
        let text = "東京都千代田区大手町１－１　大手町ビル";
        let body = format!(r#"{{"code":200,"result":[{{"putPlaceAdd":"{text}","kind":"新設"}}]}}"#);
        let list = normalise_details(body.as_bytes()).unwrap();
        assert_eq!(list.items[0].put_place_add.as_deref(), Some(text));
        assert_eq!(list.items[0].kind.as_deref(), Some("新設"));
        let out = serde_json::to_string(&list).unwrap();
        assert!(out.contains(text));
    }

    #[test]
    fn code_as_number_or_string() {
        for code in [json!(200), json!("200"), json!(" 200 ")] {
            let list = details(json!({"code": code, "result": [{"orderNum": "1"}]})).unwrap();
            assert_eq!(list.code, "200");
            assert_eq!(list.result_count, 1);
        }
    }

    #[test]
    fn other_success_codes() {
        for code in [json!(0), json!("0"), json!("000000"), json!("100000")] {
            let list = details(json!({"code": code})).unwrap();
            assert_eq!(list.result_count, 0, "{code}");
            assert!(list.items.is_empty());
        }
        let list = details(json!({"code": "100000", "result": null})).unwrap();
        assert_eq!(list.code, "100000");
        assert!(list.items.is_empty());
    }

    #[test]
    fn missing_code_with_a_result_array_is_success() {
        let list = details(json!({"result": [{}, null, {}]})).unwrap();
        assert_eq!(list.code, "200");
        assert_eq!(list.result_count, 2);
        assert!(matches!(
            details(json!({})),
            Err(NormaliseError::UnexpectedShape(_))
        ));
        assert!(matches!(
            details(json!({"fault": {"faultstring": "x"}})),
            Err(NormaliseError::UnexpectedShape(_))
        ));
    }

    #[test]
    fn detail_codes_nested_or_top_level() {
        let list = details(json!({"code": 200, "detailCode": "I01", "detailMsg": "ok"})).unwrap();
        assert_eq!(list.detail_code.as_deref(), Some("I01"));
        assert_eq!(list.detail_msg.as_deref(), Some("ok"));
        let list = details(json!({
            "code": 200,
            "detail": {"detailCode": "I02", "detailMsg": "null"},
            "detailCode": "I01",
            "detailMsg": "top"
        }))
        .unwrap();
        assert_eq!(list.detail_code.as_deref(), Some("I02"));
        assert_eq!(list.detail_msg.as_deref(), Some("top"));
        let list = details(json!({"code": 200, "detail": "odd", "detailCode": {}})).unwrap();
        assert_eq!(list.detail_code, None);
        assert_eq!(list.detail_msg, None);
    }

    #[test]
    fn non_success_code_is_an_error_without_customer_data() {
        let err = details(json!({
            "code": "910000",
            "detail": {"detailCode": "E01", "detailMsg": "パラメータエラー: n_no=N123456789 山田"},
            "result": [{"contractorName": "山田太郎"}]
        }))
        .unwrap_err();
        assert_eq!(
            err,
            NormaliseError::DetailsResultCode {
                code: "910000".into(),
                detail_code: Some("E01".into()),
                message: Some("パラメータエラー: n_no=N123456789 山田".into()),
            }
        );
        let text = err.to_string();
        assert!(text.contains("910000") && text.contains("E01"), "{text}");
        for secret in ["山田", "N123456789", "パラメータ"] {
            assert!(!text.contains(secret), "{text}");
        }
        for code in [json!(500), json!("400"), json!("E"), json!(-1)] {
            assert!(matches!(
                details(json!({"code": code, "result": []})),
                Err(NormaliseError::DetailsResultCode { .. })
            ));
        }
    }

    #[test]
    fn bodies_that_are_not_an_envelope_are_errors() {
        for body in [&b"[]"[..], b"\"200\"", b"200", b"null"] {
            assert_eq!(
                normalise_details(body),
                Err(NormaliseError::UnexpectedShape(
                    "the body is not a JSON object"
                ))
            );
        }
        for body in [&b""[..], b"{", b"<html></html>", b"code=200"] {
            assert!(matches!(
                normalise_details(body),
                Err(NormaliseError::NotJson { .. })
            ));
        }
        for body in [
            json!({"code": {"value": 200}}),
            json!({"code": true}),
            json!({"code": 200, "result": {"orderNum": "1"}}),
            json!({"code": 200, "result": ["x"]}),
        ] {
            assert!(
                matches!(
                    details(body.clone()),
                    Err(NormaliseError::UnexpectedShape(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_ignored_and_odd_values_reported() {
        let item = first_item(json!({
            "orderNum": 12345,
            "newFieldFromUpstream": "x",
            "itemName": ["a"],
            "applYmd": 20240401
        }));
        assert_eq!(item["orderNum"], "12345");
        assert!(item.get("newFieldFromUpstream").is_none());
        assert_eq!(item["itemName"], Value::Null);
        assert_eq!(
            item["invalidValues"],
            json!({"itemName": "[\"a\"]", "applYmd": "20240401"})
        );
    }

    #[test]
    fn deserialises_what_it_serialises() {
        let list = normalise_details(DOCUMENT_EXAMPLE.as_bytes()).unwrap();
        let json = serde_json::to_value(&list).unwrap();
        let back: OrderDetailList = serde_json::from_value(json).unwrap();
        assert_eq!(back, list);
    }

    #[test]
    fn openapi_examples_are_normalised_fake_data() {
        let list = example_detail_list();
        assert_eq!(list["resultCount"], 1);
        assert_eq!(list["dataUpdateDateFrom"], "2024-04-01");
        let item = example_detail();
        assert_eq!(item["applYmd"], "2024-04-01");
        assert_eq!(item["contractorName"], "Example Corporation");
        assert!(item.get("invalidValues").is_none());
    }
}
