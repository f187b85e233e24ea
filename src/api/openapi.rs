//! The OpenAPI document (generated from the handlers by utoipa) and its
//! Swagger UI at `/docs`.

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};

/// The document's fixed parts; paths are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Service Order Gateway",
        description = "NTT Com's Service Order API, republished for internal callers: the same paths and query parameters, normalised JSON (real nulls, ISO 8601 dates, stable types, decoded order codes), cached with RFC 9211 `Cache-Status`, rate-limited towards NTT, and open around the clock (the details endpoint serves cached data outside NTT's 9:00-17:30 JST business hours).\n\nEvery error is `application/problem+json` (RFC 9457).",
        license(name = "Apache-2.0"),
    ),
    tags(
        (name = "service orders", description = "NTT Com's Service Order API, normalised and cached"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "admin", description = "Cache administration (needs SOG_ADMIN_TOKEN)"),
    ),
    // Referenced by the `serviceName` query parameter, which does not register it.
    components(schemas(crate::model::ServiceName)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // Referenced by the serviceName parameter; register it explicitly.
        components.schemas.insert(
            <crate::model::ServiceName as utoipa::ToSchema>::name().into_owned(),
            <crate::model::ServiceName as utoipa::PartialSchema>::schema(),
        );
        components.add_security_scheme(
            "adminToken",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("SOG_ADMIN_TOKEN"))
                    .build(),
            ),
        );
        // Caller API keys (only enforced when SOG_API_KEYS_FILE is set); either form works.
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The caller's API key as `Authorization: Bearer <key>` (required when the gateway runs with SOG_API_KEYS_FILE)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "apiKeyHeader",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "The caller's API key as `x-api-key: <key>` (an alternative to the bearer form)",
            ))),
        );
    }
}

/// The complete document, as served at `/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    crate::api::router_parts().1
}

/// The document as pretty JSON with a trailing newline (the form committed in `openapi/openapi.json`).
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc: Value = serde_json::from_str(&super::document_json()).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.contains(&"#/components/schemas/ServiceName".to_owned()));
        for r in found {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {r}"));
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "dangling $ref {r}"
            );
        }
    }
}
