//! What callers of the gateway see, and how it is made from the upstream's JSON.
//!
//! This module owns:
//!
//! * the normalised response types (with [`utoipa::ToSchema`] so the
//!   published OpenAPI document describes exactly what is serialised):
//!   [`ServiceOrderList`] / [`ServiceOrder`] for `service-orders` and
//!   [`OrderDetailList`] / [`OrderDetail`] for `service-order-details`;
//! * [`ServiceName`], the nine `serviceName` query values;
//! * the conversion from the upstream's raw, loosely typed JSON
//!   ([`normalise_orders`], [`normalise_details`]) and its error,
//!   [`NormaliseError`].
//!
//! The conversion is deliberately lenient (see `upstream-facts.md`): the
//! string `"null"`, `""` and JSON `null` all mean "no value", codes may be
//! numbers or strings, dates arrive as `YYYY/MM/DD`, unknown fields are
//! ignored. A single value that cannot be normalised never fails a whole
//! response: the field becomes `null` and the raw value is reported in that
//! item's `invalidValues`. Only a body that is not JSON, is not the expected
//! envelope, or (for details) carries a non-success result code is an error.
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod details;
pub mod lenient;
pub mod orders;
mod wire;

#[cfg(test)]
mod schema_tests;

#[cfg(test)]
mod proptests;

pub use details::{OrderDetail, OrderDetailList, normalise_details};
pub use orders::{OrderCode, OrderCodeName, ServiceOrder, ServiceOrderList, normalise_orders};

/// A service whose orders can be queried: the upstream's `serviceName`
/// query value. Serialises (and parses, case-sensitively) as exactly the
/// upstream's spelling, e.g. `sip-trunking` or `050plusbiz`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
#[schema(example = "uno")]
pub enum ServiceName {
    /// Arcstar Universal One (`uno`).
    #[serde(rename = "uno")]
    Uno,
    /// UCaaS (`ucaas`).
    #[serde(rename = "ucaas")]
    Ucaas,
    /// SIP Trunking (`sip-trunking`).
    #[serde(rename = "sip-trunking")]
    SipTrunking,
    /// Managed Security Services (`mss`).
    #[serde(rename = "mss")]
    Mss,
    /// 050 plus for Biz (`050plusbiz`).
    #[serde(rename = "050plusbiz")]
    Plus050Biz,
    /// IP Voice (`ip-voice`).
    #[serde(rename = "ip-voice")]
    IpVoice,
    /// Smart PBX (`smart-pbx`).
    #[serde(rename = "smart-pbx")]
    SmartPbx,
    /// ACCS (`accs`).
    #[serde(rename = "accs")]
    Accs,
    /// BDP-E (`bdp-e`).
    #[serde(rename = "bdp-e")]
    BdpE,
}

impl ServiceName {
    /// Every service, in the order the upstream document lists them.
    pub const ALL: [ServiceName; 9] = [
        ServiceName::Uno,
        ServiceName::Ucaas,
        ServiceName::SipTrunking,
        ServiceName::Mss,
        ServiceName::Plus050Biz,
        ServiceName::IpVoice,
        ServiceName::SmartPbx,
        ServiceName::Accs,
        ServiceName::BdpE,
    ];

    /// The upstream's query value, e.g. `"sip-trunking"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceName::Uno => "uno",
            ServiceName::Ucaas => "ucaas",
            ServiceName::SipTrunking => "sip-trunking",
            ServiceName::Mss => "mss",
            ServiceName::Plus050Biz => "050plusbiz",
            ServiceName::IpVoice => "ip-voice",
            ServiceName::SmartPbx => "smart-pbx",
            ServiceName::Accs => "accs",
            ServiceName::BdpE => "bdp-e",
        }
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `serviceName` that is not one of the nine query values. The rejected
/// text is deliberately not kept (it is caller input, not worth echoing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown serviceName; expected one of: uno, ucaas, sip-trunking, mss, 050plusbiz, ip-voice, smart-pbx, accs, bdp-e"
)]
pub struct UnknownServiceName;

impl FromStr for ServiceName {
    type Err = UnknownServiceName;

    /// Exact, case-sensitive match of one of the nine query values.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServiceName::ALL
            .into_iter()
            .find(|name| name.as_str() == s)
            .ok_or(UnknownServiceName)
    }
}

/// Why an upstream body could not be normalised.
///
/// The messages never contain the body or any value from it that could be
/// customer data: they only say what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormaliseError {
    /// The body is not valid JSON (position of the syntax error only).
    #[error("upstream body is not valid JSON (syntax error at line {line}, column {column})")]
    NotJson {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
    },
    /// The body is JSON but not the expected envelope; says what was wrong.
    #[error("upstream body is JSON but not the expected envelope: {0}")]
    UnexpectedShape(&'static str),
    /// The details API answered with a result code that is not a success
    /// code (`200`, `0`, `000000`, `100000`). The fields carry the upstream's
    /// values for the API layer; the message shows only the codes, and only
    /// if they look like codes.
    #[error(
        "upstream details API returned result code {} (detail code {})",
        printable_code(Some(.code)),
        printable_code(.detail_code.as_deref())
    )]
    DetailsResultCode {
        /// The upstream's `code`, as a string (numbers converted).
        code: String,
        /// The upstream's `detailCode`, if any.
        detail_code: Option<String>,
        /// The upstream's `detailMsg`, if any (not part of the message).
        message: Option<String>,
    },
}

/// A code for an error message: shown only when it looks like a code
/// (short, ASCII letters, digits, `-` or `_`), so no free text leaks.
fn printable_code(code: Option<&str>) -> &str {
    match code {
        None => "none",
        Some(c)
            if !c.is_empty()
                && c.len() <= 16
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            c
        }
        Some(_) => "(not shown)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_round_trip_through_str_serde_and_display() {
        let expected = [
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
        for (name, text) in ServiceName::ALL.into_iter().zip(expected) {
            assert_eq!(name.as_str(), text);
            assert_eq!(name.to_string(), text);
            assert_eq!(text.parse::<ServiceName>(), Ok(name));
            assert_eq!(serde_json::to_value(name).unwrap(), serde_json::json!(text));
            assert_eq!(
                serde_json::from_value::<ServiceName>(serde_json::json!(text)).unwrap(),
                name
            );
        }
    }

    #[test]
    fn service_name_parsing_is_exact() {
        for bad in [
            "UNO",
            "Uno",
            " uno",
            "uno ",
            "sip_trunking",
            "plus050-biz",
            "",
        ] {
            assert_eq!(
                bad.parse::<ServiceName>(),
                Err(UnknownServiceName),
                "{bad:?}"
            );
        }
        assert!(!UnknownServiceName.to_string().contains("UNO"));
    }

    #[test]
    fn error_messages_hide_free_text() {
        let err = NormaliseError::DetailsResultCode {
            code: "Yamada Taro 03-1234-5678".into(),
            detail_code: Some("E01".into()),
            message: Some("山田太郎".into()),
        };
        let text = err.to_string();
        assert!(!text.contains("Yamada"), "{text}");
        assert!(!text.contains("山田"), "{text}");
        assert!(text.contains("E01"), "{text}");
    }
}
