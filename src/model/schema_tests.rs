//! Checks on the generated OpenAPI schemas of the model types: what Swagger
//! UI and generated clients see must match what is serialised.

use serde_json::{Value, json};
use utoipa::OpenApi;

use super::{
    OrderCode, OrderCodeName, OrderDetail, OrderDetailList, ServiceName, ServiceOrder,
    ServiceOrderList,
};

#[derive(OpenApi)]
#[openapi(components(schemas(
    ServiceName,
    ServiceOrderList,
    ServiceOrder,
    OrderCode,
    OrderCodeName,
    OrderDetailList,
    OrderDetail
)))]
struct ModelDoc;

fn schemas() -> Value {
    serde_json::to_value(ModelDoc::openapi()).unwrap()["components"]["schemas"].clone()
}

fn property_names(schema: &Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn every_property_is_described() {
    let all = schemas();
    for (name, schema) in all.as_object().unwrap() {
        assert!(schema["description"].is_string(), "{name}");
        assert!(!schema["example"].is_null(), "{name} has no example");
        if let Some(props) = schema["properties"].as_object() {
            for (prop, s) in props {
                let described =
                    s["description"].is_string() || s["oneOf"][1]["description"].is_string();
                assert!(described, "{name}.{prop}");
            }
        }
    }
}

#[test]
fn order_detail_schema_lists_every_field_nullable_and_required() {
    let schema = &schemas()["OrderDetail"];
    let mut props = property_names(schema);
    props.sort();
    let mut expected: Vec<String> = OrderDetail::FIELD_NAMES
        .iter()
        .map(|s| s.to_string())
        .chain(["invalidValues".to_string()])
        .collect();
    expected.sort();
    assert_eq!(props, expected);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, OrderDetail::FIELD_NAMES);
    for name in OrderDetail::FIELD_NAMES {
        let p = &schema["properties"][name];
        assert_eq!(p["type"], json!(["string", "null"]), "{name}");
        let is_date = name.ends_with("Ymd") || *name == "comFieldResearchExpectedDay";
        assert_eq!(p["format"] == "date", is_date, "{name}");
    }
    assert_eq!(
        schema["properties"]["contractorName"]["description"],
        "Customer name."
    );
}

#[test]
fn service_order_schema() {
    let all = schemas();
    let schema = &all["ServiceOrder"];
    assert_eq!(
        schema["required"],
        json!([
            "contractId",
            "serviceName",
            "orderType",
            "offerPlanDate",
            "orderStatus",
            "orderRequestId"
        ])
    );
    assert_eq!(
        all["OrderCodeName"]["enum"],
        json!([
            "new",
            "change",
            "cancel",
            "received",
            "investigated",
            "access_line_contracted",
            "device_contracted",
            "complete",
            "in_progress"
        ])
    );
    assert_eq!(all["OrderCode"]["required"], json!(["code", "name"]));
    assert_eq!(
        all["ServiceName"]["enum"],
        json!(ServiceName::ALL.map(|s| s.as_str()))
    );
    assert_eq!(
        all["ServiceOrderList"]["required"],
        json!(["items", "resultCount"])
    );
    let date = &schema["properties"]["offerPlanDate"];
    assert!(date["description"].as_str().unwrap().contains("RFC 3339"));
    assert_eq!(date["example"], "2014-10-31T12:34:56Z");
}

#[test]
fn examples_are_what_the_types_serialise() {
    let all = schemas();
    let orders: ServiceOrderList =
        serde_json::from_value(all["ServiceOrderList"]["example"].clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&orders).unwrap(),
        all["ServiceOrderList"]["example"]
    );
    let order: ServiceOrder =
        serde_json::from_value(all["ServiceOrder"]["example"].clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&order).unwrap(),
        all["ServiceOrder"]["example"]
    );
    let details: OrderDetailList =
        serde_json::from_value(all["OrderDetailList"]["example"].clone()).unwrap();
    assert_eq!(details.items.len(), 1);
    assert_eq!(
        serde_json::to_value(&details).unwrap(),
        all["OrderDetailList"]["example"]
    );
    assert_eq!(
        all["OrderDetailList"]["required"],
        json!([
            "items",
            "resultCount",
            "code",
            "detailCode",
            "detailMsg",
            "dataUpdateDateFrom",
            "dataUpdateDateTo"
        ])
    );
}
