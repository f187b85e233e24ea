//! The one error type for everything that can go wrong talking to NTT,
//! classified where it happens so the API layer can map it to a status in
//! one place and the cache can decide whether stale data may be served.

use std::time::Duration;

/// An upstream call that did not produce usable data.
///
/// Messages describe what the upstream did, never what it sent verbatim
/// beyond a short, sanitised summary: bodies can hold customer data.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// No answer within the upstream timeout.
    #[error("the upstream did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made or broke.
    #[error("could not reach the upstream: {0}")]
    Connect(String),
    /// The upstream answered 429: its bandwidth control rejected us.
    #[error("the upstream's bandwidth control rejected the call (429)")]
    RateLimited {
        /// How long the upstream asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The upstream answered with an error status.
    #[error("the upstream answered {status}{}", summary.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    Status {
        /// The HTTP status the upstream sent.
        status: u16,
        /// What its error body said, when it could be read (sanitised, short).
        summary: Option<String>,
    },
    /// The token endpoint rejected our credentials or request.
    #[error("the upstream's token endpoint refused the credentials ({status}){}", summary.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    TokenRejected {
        /// The HTTP status of the token endpoint.
        status: u16,
        /// What its error body said (sanitised, short).
        summary: Option<String>,
    },
    /// The body could not be decoded into the documented shape.
    #[error("the upstream's answer could not be decoded: {0}")]
    Undecodable(String),
    /// The details envelope carried a non-success result code.
    #[error("the upstream reported result code {code}{}", detail.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())]
    ResultCode {
        /// The envelope's `code`.
        code: String,
        /// `detailCode` and `detailMsg`, when present.
        detail: Option<String>,
    },
    /// The body exceeded the size we accept.
    #[error("the upstream's answer was larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// We did not call: the upstream budget was spent for longer than the caller can wait.
    #[error("the upstream budget is spent; next call possible in {retry_after:?}")]
    BudgetExhausted {
        /// When budget will be available again.
        retry_after: Duration,
    },
}

impl UpstreamError {
    /// Whether retrying the same idempotent GET could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            UpstreamError::Connect(_) => true,
            UpstreamError::Status { status, .. } => (500..600).contains(status) && *status != 501,
            _ => false,
        }
    }

    /// A short stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            UpstreamError::Timeout(_) => "timeout",
            UpstreamError::Connect(_) => "connect",
            UpstreamError::RateLimited { .. } => "rate_limited",
            UpstreamError::Status { .. } => "status",
            UpstreamError::TokenRejected { .. } => "token_rejected",
            UpstreamError::Undecodable(_) => "undecodable",
            UpstreamError::ResultCode { .. } => "result_code",
            UpstreamError::TooLarge { .. } => "too_large",
            UpstreamError::BudgetExhausted { .. } => "budget_exhausted",
        }
    }
}

/// Reads an upstream error body loosely (Apigee `fault` objects, result
/// codes, HTML pages) into a short summary that is safe to show a caller:
/// only known fields, truncated, control characters removed.
pub fn summarise_error_body(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let is_json = content_type.is_some_and(|c| c.contains("json"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if is_json {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            let fault = &value["fault"];
            let pick = |v: &serde_json::Value| v.as_str().map(str::to_owned);
            let message = pick(&fault["faultstring"])
                .or_else(|| pick(&value["error_description"]))
                .or_else(|| pick(&value["message"]))
                .or_else(|| pick(&value["detail"]["detailMsg"]))
                .or_else(|| pick(&value["detailMsg"]));
            let code = pick(&fault["detail"]["errorcode"])
                .or_else(|| pick(&value["error"]))
                .or_else(|| pick(&value["detail"]["detailCode"]))
                .or_else(|| value["code"].as_str().map(str::to_owned))
                .or_else(|| value["code"].as_i64().map(|c| c.to_string()));
            let text = match (message, code) {
                (Some(m), Some(c)) => format!("{m} [{c}]"),
                (Some(m), None) => m,
                (None, Some(c)) => format!("[{c}]"),
                (None, None) => return Some("an error body without a message".into()),
            };
            return Some(sanitise(&text));
        }
    }
    if content_type.is_some_and(|c| c.contains("html")) || body.starts_with(b"<") {
        let text = String::from_utf8_lossy(body);
        let title = text
            .find("<title>")
            .and_then(|start| {
                let rest = &text[start + 7..];
                rest.find("</title>").map(|end| rest[..end].to_owned())
            })
            .unwrap_or_else(|| "an HTML error page".into());
        return Some(format!("HTML page: {}", sanitise(&title)));
    }
    None
}

fn sanitise(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    clean.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apigee_faults_are_summarised() {
        let body = br#"{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}"#;
        assert_eq!(
            summarise_error_body(Some("application/json"), body).unwrap(),
            "Invalid access token [oauth.v2.InvalidAccessToken]"
        );
    }

    #[test]
    fn html_pages_give_their_title_only() {
        let body =
            b"<html><head><title>502 Bad Gateway</title></head><body>secret stuff</body></html>";
        let s = summarise_error_body(Some("text/html"), body).unwrap();
        assert_eq!(s, "HTML page: 502 Bad Gateway");
    }

    #[test]
    fn garbage_gives_nothing() {
        assert_eq!(summarise_error_body(Some("text/plain"), b"\xff\xfe"), None);
    }
}
