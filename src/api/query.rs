//! Query strings into typed requests, before anything goes upstream.
//!
//! Unknown parameters, repeated parameters, empty values, over-long or
//! non-alphanumeric ids, invalid dates and `from` after `to` are all 400s
//! that name every bad parameter at once.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::api::problem::{InvalidParam, Problem};
use crate::model::ServiceName;
use crate::resources::{DetailsRequest, OrdersRequest};

/// The longest id accepted for `webentry_id`, `n_no` and `v_no`.
pub const MAX_ID_LEN: usize = 32;

const ORDERS_PARAMS: &[&str] = &["serviceName"];
const DETAILS_PARAMS: &[&str] = &[
    "webentry_id",
    "n_no",
    "v_no",
    "data_update_date_from",
    "data_update_date_to",
];

/// A query's (name, value) pairs, borrowed from the query unless decoding changed them.
type Pairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// Splits a raw query into (name, value) pairs, rejecting unknown and repeated names.
fn pairs<'a>(raw: Option<&'a str>, allowed: &[&str], errors: &mut Vec<InvalidParam>) -> Pairs<'a> {
    let mut seen: Pairs<'a> = Vec::new();
    let Some(raw) = raw else { return seen };
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if name.is_empty() && value.is_empty() {
            continue;
        }
        let shown = || name.chars().take(64).collect::<String>();
        if !allowed.contains(&name.as_ref()) {
            let shown = shown();
            if !errors.iter().any(|e| e.name == shown) {
                errors.push(InvalidParam {
                    name: shown,
                    reason: format!(
                        "is not a parameter of this endpoint (allowed: {})",
                        allowed.join(", ")
                    ),
                });
            }
            continue;
        }
        if seen.iter().any(|(n, _)| *n == name) {
            let shown = shown();
            if !errors.iter().any(|e| e.name == shown) {
                errors.push(InvalidParam {
                    name: shown,
                    reason: "is repeated; give it once".into(),
                });
            }
            continue;
        }
        seen.push((name, value));
    }
    seen
}

fn take<'a>(pairs: &'a Pairs<'_>, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_ref())
}

/// Parses a `service-orders` query.
pub fn parse_orders(raw: Option<&str>) -> Result<OrdersRequest, Problem> {
    let mut errors = Vec::new();
    let pairs = pairs(raw, ORDERS_PARAMS, &mut errors);
    let allowed = || {
        ServiceName::ALL
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let service = match take(&pairs, "serviceName") {
        None => {
            errors.push(InvalidParam {
                name: "serviceName".into(),
                reason: format!("is required: one of {}", allowed()),
            });
            None
        }
        Some(value) => match value.parse::<ServiceName>() {
            Ok(s) => Some(s),
            Err(_) => {
                errors.push(InvalidParam {
                    name: "serviceName".into(),
                    reason: format!("must be one of {} (got {:?})", allowed(), truncate(value)),
                });
                None
            }
        },
    };
    match (service, errors.is_empty()) {
        (Some(service), true) => Ok(OrdersRequest { service }),
        _ => Err(Problem::invalid_query(errors).allowed(
            ServiceName::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        )),
    }
}

/// The caller's details filters before defaults are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailsFilter {
    /// Web entry id.
    pub webentry_id: Option<String>,
    /// Contract line number.
    pub n_no: Option<String>,
    /// VPN group number.
    pub v_no: Option<String>,
    /// First update date, if given.
    pub from: Option<NaiveDate>,
    /// Last update date, if given.
    pub to: Option<NaiveDate>,
}

impl DetailsFilter {
    /// Fixes the date range the upstream would otherwise choose itself:
    /// without dates it uses one month before the request date, so the
    /// gateway makes that explicit in JST (`today` is today's JST date).
    /// A missing `to` is today; a missing `from` is one month before `to`.
    pub fn resolve(self, today: NaiveDate) -> Result<DetailsRequest, Problem> {
        let default_range = self.from.is_none() && self.to.is_none();
        let to = self.to.unwrap_or(today);
        let from = self
            .from
            .unwrap_or_else(|| DetailsRequest::default_from(to));
        if from > to {
            return Err(Problem::invalid_query(vec![InvalidParam {
                name: "data_update_date_from".into(),
                reason: format!("({from}) is after data_update_date_to ({to})"),
            }]));
        }
        Ok(DetailsRequest {
            webentry_id: self.webentry_id,
            n_no: self.n_no,
            v_no: self.v_no,
            from,
            to,
            default_range,
        })
    }
}

/// Parses a `service-order-details` query.
pub fn parse_details(raw: Option<&str>) -> Result<DetailsFilter, Problem> {
    let mut errors = Vec::new();
    let pairs = pairs(raw, DETAILS_PARAMS, &mut errors);
    let mut id = |name: &str| -> Option<String> {
        let value = take(&pairs, name)?;
        let reason = if value.is_empty() {
            Some("must not be empty (leave the parameter out instead)".to_owned())
        } else if value.chars().count() > MAX_ID_LEN {
            Some(format!("must be at most {MAX_ID_LEN} characters"))
        } else if !value.chars().all(|c| c.is_ascii_alphanumeric()) {
            Some("must contain only letters A-Z, a-z and digits 0-9".to_owned())
        } else {
            None
        };
        match reason {
            Some(reason) => {
                errors.push(InvalidParam {
                    name: name.into(),
                    reason,
                });
                None
            }
            None => Some(value.to_owned()),
        }
    };
    let webentry_id = id("webentry_id");
    let n_no = id("n_no");
    let v_no = id("v_no");
    let mut date = |name: &str| -> Option<NaiveDate> {
        let value = take(&pairs, name)?;
        match parse_iso_date(value) {
            Some(d) => Some(d),
            None => {
                errors.push(InvalidParam {
                    name: name.into(),
                    reason: format!("must be a date as YYYY-MM-DD (got {:?})", truncate(value)),
                });
                None
            }
        }
    };
    let from = date("data_update_date_from");
    let to = date("data_update_date_to");
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            errors.push(InvalidParam {
                name: "data_update_date_from".into(),
                reason: format!("({f}) is after data_update_date_to ({t})"),
            });
        }
    }
    if errors.is_empty() {
        Ok(DetailsFilter {
            webentry_id,
            n_no,
            v_no,
            from,
            to,
        })
    } else {
        Err(Problem::invalid_query(errors))
    }
}

/// Parses a `service-order-details` query and resolves its date range as
/// of `now` (in JST): what the handler and the hit lane both need.
pub fn parse_details_request(
    raw: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DetailsRequest, Problem> {
    parse_details(raw)?.resolve(crate::calendar::BusinessCalendar::today_jst(now))
}

/// A strict ISO 8601 calendar date (`YYYY-MM-DD`, four-digit year 1900-2999).
pub fn parse_iso_date(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    (1900..3000)
        .contains(&chrono::Datelike::year(&date))
        .then_some(date)
}

fn truncate(value: &str) -> String {
    let mut s: String = value.chars().take(40).collect();
    if value.chars().count() > 40 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_query() {
        assert_eq!(
            parse_orders(Some("serviceName=050plusbiz"))
                .unwrap()
                .service
                .as_str(),
            "050plusbiz"
        );
        let p = parse_orders(None).unwrap_err();
        assert_eq!(p.status, 400);
        assert!(p.detail.contains("uno, ucaas, sip-trunking"));
        assert!(parse_orders(Some("serviceName=UNO")).is_err());
        let p = parse_orders(Some("serviceName=uno&serviceName=mss")).unwrap_err();
        assert!(p.detail.contains("repeated"));
        let p = parse_orders(Some("serviceName=uno&foo=1")).unwrap_err();
        assert_eq!(p.invalid_params[0].name, "foo");
    }

    #[test]
    fn details_query() {
        let f = parse_details(Some("webentry_id=UN0001&data_update_date_from=2026-11-01")).unwrap();
        let d = f
            .resolve(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap())
            .unwrap();
        assert_eq!(d.to.to_string(), "2026-12-03");
        assert_eq!(d.from.to_string(), "2026-11-01");
        let d = parse_details(None)
            .unwrap()
            .resolve(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap())
            .unwrap();
        assert_eq!(d.from.to_string(), "2026-02-28");
        for bad in [
            "webentry_id=",
            "webentry_id=UN-1",
            "webentry_id=%E3%81%82",
            "n_no=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "data_update_date_from=2026/01/01",
            "data_update_date_from=2026-02-30",
            "data_update_date_from=2026-12-02&data_update_date_to=2026-12-01",
            "v_no=1&v_no=2",
        ] {
            assert!(
                parse_details(Some(bad)).is_err(),
                "{bad} should be rejected"
            );
        }
        let future_from = parse_details(Some("data_update_date_from=2027-01-01")).unwrap();
        assert!(
            future_from
                .resolve(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap())
                .is_err()
        );
    }
}
