//! Rendering of error bodies and injected [`Fault`]s.
//!
//! Owns the Apigee-style fault body used for every error the simulator
//! answers (the real upstream's error bodies are undocumented; the Apigee
//! shape is a guess based on the token format).

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{StatusCode, header};

use super::{Fault, SimulatorControls, Target, json_response};

/// How long a [`Fault::Hang`] waits when nobody stops the simulator.
const HANG_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Bytes a [`Fault::SlowDrip`] body sends, one every [`DRIP_EVERY`].
const DRIP_BYTES: usize = 600;
const DRIP_EVERY: Duration = Duration::from_millis(200);

/// An Apigee-style fault:
/// `{"fault":{"faultstring":"..","detail":{"errorcode":".."}}}`.
pub(super) fn apigee(status: StatusCode, faultstring: &str, errorcode: &str) -> Response {
    let body = serde_json::json!({
        "fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}
    });
    json_response(status, body.to_string())
}

/// The 401 for an unknown or revoked token.
pub(super) fn unauthorized() -> Response {
    apigee(
        StatusCode::UNAUTHORIZED,
        "Invalid Access Token",
        "keymanagement.service.invalid_access_token",
    )
}

fn status_or_500(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// faultstring and errorcode for a plain [`Fault::Status`].
fn describe(status: StatusCode) -> (String, &'static str) {
    let errorcode = match status.as_u16() {
        400 => "messaging.adaptors.http.flow.BadRequest",
        401 => "keymanagement.service.invalid_access_token",
        403 => "messaging.adaptors.http.flow.Forbidden",
        404 => "messaging.adaptors.http.flow.ApplicationNotFound",
        429 => "policies.ratelimit.QuotaViolation",
        500 => "messaging.runtime.InternalServerError",
        502 => "messaging.adaptors.http.flow.BadGateway",
        503 => "messaging.adaptors.http.flow.ServiceUnavailable",
        504 => "messaging.adaptors.http.flow.GatewayTimeout",
        _ => "messaging.adaptors.http.flow.ErrorResponseCode",
    };
    let faultstring = match status.as_u16() {
        503 => "The Service is temporarily unavailable".to_owned(),
        504 => "Gateway Timeout".to_owned(),
        _ => status
            .canonical_reason()
            .unwrap_or("Received error response")
            .to_owned(),
    };
    (faultstring, errorcode)
}

/// A truncated body that starts like the target's normal answer.
fn malformed_body(target: Target) -> &'static str {
    match target {
        Target::Token => r#"{"accessToken":"q8XwZ2nB4kLmP0sR7tUv"#,
        Target::Details => {
            r#"{"code":200,"detail":{"detailCode":"I01","detailMsg":"正常終了しました。(検索結果:1件)"},"result":[{"webEntryId":"UN00000"#
        }
        Target::Orders | Target::Any => {
            r#"{"items":[{"contractId":"N10000001","serviceName":"uno-virtual","orderType":1,"offerPl"#
        }
    }
}

/// A body with invalid UTF-8 (0xFF 0xFE, and a lone continuation byte) in a
/// string value, otherwise well-formed JSON.
fn invalid_utf8_body(target: Target) -> Vec<u8> {
    let (before, after): (&[u8], &[u8]) = match target {
        Target::Token => (
            br#"{"accessToken":"AbC"#,
            br#"dEf","tokenType":"BearerToken","expiresIn":"3599","scope":"READ WRITE","issuedAt":"1407483969339"}"#,
        ),
        Target::Details => (
            br#"{"code":200,"detail":{"detailCode":"I01","detailMsg":"OK"},"result":[{"webEntryId":"UN0000000001","contractorName":"ABC"#,
            br#"DEF"}]}"#,
        ),
        Target::Orders | Target::Any => (
            br#"{"items":[{"contractId":"N1"#,
            br#"23","serviceName":"uno","orderType":1,"offerPlanDate":"2014-10-31T12:34:56Z","orderStatus":1,"orderRequestId":"R0001"}],"resultCount":1}"#,
        ),
    };
    let mut body = before.to_vec();
    body.extend_from_slice(&[0xFF, 0xFE, 0x80]);
    body.extend_from_slice(after);
    body
}

fn huge_body(n: usize) -> Vec<u8> {
    let prefix = br#"{"items":[{"contractId":"N10000001","serviceName":"uno","remarks":""#;
    let mut body = Vec::with_capacity(n);
    body.extend_from_slice(&prefix[..prefix.len().min(n)]);
    body.resize(n, b'x');
    body
}

fn html(status: StatusCode) -> Response {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(body))
        .unwrap_or_default()
}

fn slow_drip(controls: &SimulatorControls) -> Response {
    let text: Vec<u8> = br#"{"items":[{"contractId":"N10000001","serviceName":"uno","orderType":1,"offerPlanDate":"2014-10-31T12:34:56Z","orderStatus":1,"orderRequestId":"R0000000001","remarks":""#
        .iter()
        .copied()
        .chain(std::iter::repeat(b' '))
        .take(DRIP_BYTES)
        .collect();
    let controls = controls.clone();
    let stream = futures::stream::unfold(0usize, move |i| {
        let controls = controls.clone();
        let byte = text.get(i).copied();
        async move {
            let byte = byte?;
            tokio::select! {
                () = tokio::time::sleep(DRIP_EVERY) => {}
                () = controls.stopped() => return None,
            }
            Some((Ok::<_, std::io::Error>(Bytes::from(vec![byte])), i + 1))
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}

/// The response for an injected fault.
pub(super) async fn render(
    controls: &SimulatorControls,
    target: Target,
    fault: &Fault,
) -> Response {
    match fault {
        Fault::Status(code) => {
            let status = status_or_500(*code);
            let (faultstring, errorcode) = describe(status);
            apigee(status, &faultstring, errorcode)
        }
        Fault::TooManyRequests { retry_after } => {
            let mut response = apigee(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit quota violation. Quota limit  exceeded. Identifier : _default",
                "policies.ratelimit.QuotaViolation",
            );
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, http::HeaderValue::from(*secs));
            }
            response
        }
        Fault::HtmlError(code) => html(status_or_500(*code)),
        Fault::MalformedJson => json_response(StatusCode::OK, malformed_body(target)),
        Fault::Unauthorized => unauthorized(),
        Fault::Closed => apigee(
            StatusCode::FORBIDDEN,
            "Service is not available at this time",
            "service.closed",
        ),
        Fault::ResultCode {
            code,
            detail_code,
            message,
        } => {
            let body = format!(
                r#"{{"code":{},"detail":{{"detailCode":{},"detailMsg":{}}},"result":[]}}"#,
                quote(code),
                quote(detail_code),
                quote(message)
            );
            json_response(StatusCode::OK, body)
        }
        Fault::Hang => {
            if !controls.is_stopped() {
                tokio::select! {
                    () = tokio::time::sleep(HANG_FOR) => {}
                    () = controls.stopped() => {}
                }
            }
            apigee(
                StatusCode::SERVICE_UNAVAILABLE,
                "The Service is temporarily unavailable",
                "messaging.adaptors.http.flow.ServiceUnavailable",
            )
        }
        Fault::HugeBody(n) => json_response(StatusCode::OK, huge_body(*n)),
        Fault::SlowDrip => slow_drip(controls),
        Fault::InvalidUtf8 => json_response(StatusCode::OK, invalid_utf8_body(target)),
        Fault::DeepNesting(depth) => {
            let mut body = "[".repeat(*depth);
            body.push_str(&"]".repeat(*depth));
            json_response(StatusCode::OK, body)
        }
    }
}

/// A JSON string literal.
pub(super) fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}
