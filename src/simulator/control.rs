//! HTTP control routes under `/__sim/`, for driving a simulator running in
//! another process (benchmarks, the `sog-simulator` binary).
//!
//! These requests are not recorded, not counted, not delayed and never
//! faulted:
//! - `GET /__sim/stats`: JSON
//!   `{"count":{"token":N,"orders":N,"details":N,"any":N},"max_per_second":{..same keys..},"issued_tokens":N}`.
//! - `POST /__sim/fault?target=T&fault=SPEC[&n=N]`: with `n`, the next `N`
//!   requests to `T` get the fault ([`SimulatorControls::fail_next`]);
//!   without, a persistent fault ([`SimulatorControls::set_fault`];
//!   `fault=clear` removes it). `target` defaults to `any`; see
//!   [`parse_target`] and [`parse_fault_spec`].
//! - `POST /__sim/reset`: forgets received requests and removes every fault.
//! - `POST /__sim/revoke`: revokes every issued token.
//! - `POST /__sim/latency?d=50ms`: sets the added latency (humantime).

use axum::response::Response;
use http::{Method, StatusCode};

use super::{Fault, SimulatorControls, Target, json_response};

/// Parses a target name: `token`, `orders`, `details` or `any`
/// (case-insensitive).
pub fn parse_target(s: &str) -> Result<Target, String> {
    match s.to_ascii_lowercase().as_str() {
        "token" => Ok(Target::Token),
        "orders" => Ok(Target::Orders),
        "details" => Ok(Target::Details),
        "any" | "" => Ok(Target::Any),
        other => Err(format!("unknown target {other:?}")),
    }
}

/// Parses a fault in the simple string form; `Ok(None)` means `clear`.
///
/// Forms: `status:N`, `429`, `429:RETRY_AFTER_SECS`, `html:N`, `malformed`,
/// `closed`, `hang`, `unauthorized`, `clear`, and also `huge:BYTES`,
/// `slowdrip`, `invalid-utf8`, `deep:DEPTH`, `result:CODE:DETAIL_CODE:MESSAGE`.
pub fn parse_fault_spec(s: &str) -> Result<Option<Fault>, String> {
    let (kind, arg) = match s.split_once(':') {
        Some((k, a)) => (k, Some(a)),
        None => (s, None),
    };
    let number = |what: &str| -> Result<u64, String> {
        arg.ok_or_else(|| format!("{what} needs a number: {s:?}"))?
            .parse::<u64>()
            .map_err(|e| format!("{s:?}: {e}"))
    };
    let status = |what: &str| -> Result<u16, String> {
        let n = number(what)?;
        u16::try_from(n)
            .ok()
            .filter(|n| (100..=999).contains(n))
            .ok_or_else(|| format!("bad status in {s:?}"))
    };
    let usize_arg = |what: &str| -> Result<usize, String> {
        usize::try_from(number(what)?).map_err(|e| e.to_string())
    };
    let fault = match kind.to_ascii_lowercase().as_str() {
        "clear" | "none" => return Ok(None),
        "status" => Fault::Status(status("status")?),
        "429" => Fault::TooManyRequests {
            retry_after: match arg {
                Some(_) => Some(number("429")?),
                None => None,
            },
        },
        "html" => Fault::HtmlError(status("html")?),
        "malformed" => Fault::MalformedJson,
        "closed" => Fault::Closed,
        "hang" => Fault::Hang,
        "unauthorized" | "401" => Fault::Unauthorized,
        "huge" => Fault::HugeBody(usize_arg("huge")?),
        "slowdrip" | "slow-drip" => Fault::SlowDrip,
        "invalid-utf8" | "utf8" => Fault::InvalidUtf8,
        "deep" => Fault::DeepNesting(usize_arg("deep")?),
        "result" => {
            let mut parts = arg.unwrap_or("").splitn(3, ':');
            let code = parts.next().filter(|c| !c.is_empty()).unwrap_or("500");
            Fault::ResultCode {
                code: code.to_owned(),
                detail_code: parts.next().unwrap_or("E99").to_owned(),
                message: parts.next().unwrap_or("エラーが発生しました").to_owned(),
            }
        }
        _ => return Err(format!("unknown fault {s:?}")),
    };
    Ok(Some(fault))
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    json_response(status, body.to_string())
}

fn error(message: impl Into<String>) -> Response {
    reply(
        StatusCode::BAD_REQUEST,
        serde_json::json!({"error": message.into()}),
    )
}

fn stats(controls: &SimulatorControls) -> serde_json::Value {
    let per = |f: &dyn Fn(Target) -> usize| {
        serde_json::json!({
            "token": f(Target::Token),
            "orders": f(Target::Orders),
            "details": f(Target::Details),
            "any": f(Target::Any),
        })
    };
    serde_json::json!({
        "count": per(&|t| controls.count(t)),
        "max_per_second": per(&|t| controls.max_per_second(t)),
        "issued_tokens": controls.issued_tokens().len(),
    })
}

/// Handles a request whose path starts with `/__sim/`.
pub(super) async fn handle(
    controls: &SimulatorControls,
    method: &Method,
    path: &str,
    query: Option<&str>,
) -> Response {
    let params: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match (method.as_str(), path.trim_end_matches('/')) {
        ("GET", "/__sim/stats") => reply(StatusCode::OK, stats(controls)),
        ("POST", "/__sim/reset") => {
            controls.reset_counters();
            controls.clear_faults();
            reply(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        ("POST", "/__sim/revoke") => {
            controls.revoke_tokens();
            reply(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        ("POST", "/__sim/latency") => match humantime::parse_duration(param("d").unwrap_or("")) {
            Ok(d) => {
                controls.set_latency(d);
                reply(StatusCode::OK, serde_json::json!({"ok": true}))
            }
            Err(e) => error(format!("bad d: {e}")),
        },
        ("POST", "/__sim/fault") => {
            let target = match parse_target(param("target").unwrap_or("any")) {
                Ok(t) => t,
                Err(e) => return error(e),
            };
            let fault = match parse_fault_spec(param("fault").unwrap_or("")) {
                Ok(f) => f,
                Err(e) => return error(e),
            };
            match (param("n"), fault) {
                (Some(n), Some(fault)) => match n.parse::<usize>() {
                    Ok(n) => controls.fail_next(target, n, fault),
                    Err(e) => return error(format!("bad n: {e}")),
                },
                (Some(_), None) => return error("n needs a fault other than clear"),
                (None, fault) => controls.set_fault(target, fault),
            }
            reply(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "unknown simulator control route"}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs() {
        assert_eq!(parse_fault_spec("clear"), Ok(None));
        assert_eq!(parse_fault_spec("status:503"), Ok(Some(Fault::Status(503))));
        assert_eq!(
            parse_fault_spec("429"),
            Ok(Some(Fault::TooManyRequests { retry_after: None }))
        );
        assert_eq!(
            parse_fault_spec("429:7"),
            Ok(Some(Fault::TooManyRequests {
                retry_after: Some(7)
            }))
        );
        assert_eq!(
            parse_fault_spec("html:502"),
            Ok(Some(Fault::HtmlError(502)))
        );
        assert_eq!(
            parse_fault_spec("malformed"),
            Ok(Some(Fault::MalformedJson))
        );
        assert_eq!(parse_fault_spec("closed"), Ok(Some(Fault::Closed)));
        assert_eq!(parse_fault_spec("hang"), Ok(Some(Fault::Hang)));
        assert_eq!(
            parse_fault_spec("unauthorized"),
            Ok(Some(Fault::Unauthorized))
        );
        assert_eq!(
            parse_fault_spec("deep:10"),
            Ok(Some(Fault::DeepNesting(10)))
        );
        assert!(parse_fault_spec("status:abc").is_err());
        assert!(parse_fault_spec("status:42").is_err());
        assert!(parse_fault_spec("bogus").is_err());
        assert_eq!(parse_target("Details"), Ok(Target::Details));
        assert!(parse_target("nope").is_err());
    }
}
