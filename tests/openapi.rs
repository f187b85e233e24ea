//! The committed `openapi/openapi.json` is exactly what the code generates,
//! and the document describes what callers rely on.

use service_order_gateway::api::openapi::document_json;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn committed_spec_matches_the_code() {
    let generated = document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi")).unwrap();
        std::fs::write(COMMITTED, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date with the code.\n\
         Regenerate it with:  UPDATE_OPENAPI=1 cargo test --locked --test openapi\n\
         and commit the result."
    );
}

#[test]
fn spec_documents_paths_errors_and_cache_headers() {
    let doc: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
    for path in [
        "/v1/business-process/service-orders",
        "/v1/business-process/service-order-details",
    ] {
        let get = &doc["paths"][path]["get"];
        assert!(get.is_object(), "{path} missing");
        let ok = &get["responses"]["200"];
        for header in ["Cache-Status", "Age", "ETag", "Cache-Control"] {
            assert!(
                ok["headers"][header].is_object(),
                "{path} 200 lacks {header}"
            );
        }
        for status in ["400", "502", "503", "504"] {
            assert!(
                get["responses"][status]["content"]["application/problem+json"].is_object(),
                "{path} {status} is not documented as problem+json"
            );
        }
    }
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Problem",
        "ServiceOrderList",
        "ServiceOrder",
        "OrderDetailList",
        "OrderDetail",
        "ServiceName",
    ] {
        assert!(schemas[name].is_object(), "schema {name} missing");
    }
    let service_names = schemas["ServiceName"]["enum"].as_array().unwrap();
    assert_eq!(service_names.len(), 9);
}
