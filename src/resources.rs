//! The two republished resources as typed, validated requests: what they
//! are keyed by in the cache, what is sent upstream for them, and how the
//! upstream's raw answer becomes the normalised JSON callers get.

use bytes::Bytes;
use chrono::NaiveDate;

use crate::cache::CacheKey;
use crate::model::{NormaliseError, ServiceName, normalise_details, normalise_orders};
use crate::upstream::{Endpoint, UpstreamError};

/// A validated `service-orders` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersRequest {
    /// The service whose orders are asked for.
    pub service: ServiceName,
}

/// A validated `service-order-details` request with its date range resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailsRequest {
    /// Web entry id filter.
    pub webentry_id: Option<String>,
    /// Contract line number filter.
    pub n_no: Option<String>,
    /// VPN group number filter.
    pub v_no: Option<String>,
    /// First update date (JST) included.
    pub from: NaiveDate,
    /// Last update date (JST) included.
    pub to: NaiveDate,
    /// Whether the caller gave no dates (the range is the gateway's default).
    pub default_range: bool,
}

impl DetailsRequest {
    /// The first day of the default range ending on `to`: one month
    /// before it (what the upstream itself uses without dates).
    pub fn default_from(to: NaiveDate) -> NaiveDate {
        to.checked_sub_months(chrono::Months::new(1)).unwrap_or(to)
    }

    /// The key of the latest answer for these filters, whatever the dates.
    fn latest_alias(&self) -> CacheKey {
        let mut key = String::from("service-order-details?latest");
        self.push_filters(&mut key);
        key.into()
    }

    /// Appends the id filters to a key, in sorted parameter order.
    fn push_filters(&self, key: &mut String) {
        for (name, value) in [
            ("n_no", &self.n_no),
            ("v_no", &self.v_no),
            ("webentry_id", &self.webentry_id),
        ] {
            if let Some(v) = value {
                key.push('&');
                key.push_str(name);
                key.push('=');
                key.push_str(v);
            }
        }
    }
}

/// Either resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRequest {
    /// service-orders.
    Orders(OrdersRequest),
    /// service-order-details.
    Details(DetailsRequest),
}

/// Appends `date` as `YYYY-MM-DD` (what `NaiveDate`'s `Display` writes,
/// for the years 0-9999 that validated requests hold).
fn push_iso_date(out: &mut String, date: NaiveDate) {
    use chrono::Datelike;
    let (year, month, day) = (date.year(), date.month(), date.day());
    if !(0..=9999).contains(&year) {
        out.push_str(&date.to_string());
        return;
    }
    let digits = [
        year / 1000,
        year / 100 % 10,
        year / 10 % 10,
        year % 10,
        -1,
        (month / 10) as i32,
        (month % 10) as i32,
        -1,
        (day / 10) as i32,
        (day % 10) as i32,
    ];
    for d in digits {
        out.push(match d {
            -1 => '-',
            d => char::from(b'0' + d as u8),
        });
    }
}

/// The one conversion of a date into the form the upstream takes
/// (`YYYY/MM/DD`, the format its own responses use).
pub fn upstream_date(date: NaiveDate) -> String {
    date.format("%Y/%m/%d").to_string()
}

impl ResourceRequest {
    /// Which upstream endpoint serves it.
    pub fn endpoint(&self) -> Endpoint {
        match self {
            ResourceRequest::Orders(_) => Endpoint::Orders,
            ResourceRequest::Details(_) => Endpoint::Details,
        }
    }

    /// The canonical cache key: the endpoint, then for details the date
    /// range, always explicit and short-named (`from`, `to`: a key is kept
    /// once per cached entry), then the filters in sorted order, e.g.
    /// `service-order-details?from=2026-11-03&to=2026-12-03&webentry_id=UN0000000002`.
    pub fn cache_key(&self) -> CacheKey {
        match self {
            ResourceRequest::Orders(o) => {
                let mut key = String::with_capacity(48);
                key.push_str("service-orders?serviceName=");
                key.push_str(o.service.as_str());
                key.into()
            }
            ResourceRequest::Details(d) => {
                // Built by hand: this runs on every request, and chrono's
                // date formatting goes character by character.
                let mut key = String::with_capacity(128);
                key.push_str("service-order-details?from=");
                push_iso_date(&mut key, d.from);
                key.push_str("&to=");
                push_iso_date(&mut key, d.to);
                d.push_filters(&mut key);
                key.into()
            }
        }
    }

    /// For a details request without dates: a key that always holds the
    /// latest answer for the same filters, whatever day it was fetched, so
    /// that after midnight on a closed day the last answer can still be
    /// served (its body states the range it covers).
    pub fn latest_key(&self) -> Option<CacheKey> {
        match self {
            ResourceRequest::Details(d) if d.default_range => Some(d.latest_alias()),
            _ => None,
        }
    }

    /// For a details query without dates: the cache keys of the same
    /// filters with the default ranges of its day and of each day before,
    /// latest first (see [`ResponseCache::get_latest`](crate::cache::ResponseCache::get_latest)).
    /// Nothing for other requests.
    pub fn earlier_default_ranges(&self) -> impl Iterator<Item = CacheKey> + '_ {
        let details = match self {
            ResourceRequest::Details(d) if d.default_range => Some(d),
            _ => None,
        };
        details.into_iter().flat_map(|d| {
            d.to.iter_days().rev().map(move |to| {
                ResourceRequest::Details(DetailsRequest {
                    from: DetailsRequest::default_from(to),
                    to,
                    ..d.clone()
                })
                .cache_key()
            })
        })
    }

    /// Rebuilds the request a canonical cache key stands for (keys hold
    /// only validated ASCII values, so a plain split is exact).
    pub fn from_cache_key(key: &str) -> Option<ResourceRequest> {
        let (endpoint, query) = key.split_once('?')?;
        let pairs: Vec<(&str, &str)> = query.split('&').filter_map(|p| p.split_once('=')).collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        match endpoint {
            "service-orders" => Some(ResourceRequest::Orders(OrdersRequest {
                service: get("serviceName")?.parse().ok()?,
            })),
            "service-order-details" => Some(ResourceRequest::Details(DetailsRequest {
                webentry_id: get("webentry_id"),
                n_no: get("n_no"),
                v_no: get("v_no"),
                from: get("from")?.parse().ok()?,
                to: get("to")?.parse().ok()?,
                default_range: false,
            })),
            _ => None,
        }
    }

    /// The query parameters sent upstream.
    pub fn upstream_query(&self) -> Vec<(&'static str, String)> {
        match self {
            ResourceRequest::Orders(o) => vec![("serviceName", o.service.as_str().to_owned())],
            ResourceRequest::Details(d) => {
                let mut q = Vec::with_capacity(5);
                for (name, value) in [
                    ("webentry_id", &d.webentry_id),
                    ("n_no", &d.n_no),
                    ("v_no", &d.v_no),
                ] {
                    if let Some(v) = value {
                        q.push((name, v.clone()));
                    }
                }
                q.push(("data_update_date_from", upstream_date(d.from)));
                q.push(("data_update_date_to", upstream_date(d.to)));
                q
            }
        }
    }

    /// Turns the upstream's raw 2xx body into the normalised JSON bytes.
    pub fn normalise(&self, raw: &[u8]) -> Result<Bytes, UpstreamError> {
        let json = match self {
            ResourceRequest::Orders(o) => normalise_orders(o.service, raw)
                .map_err(classify)
                .and_then(|list| to_json(&list, raw.len())),
            ResourceRequest::Details(d) => {
                normalise_details(raw)
                    .map_err(classify)
                    .and_then(|mut list| {
                        list.data_update_date_from = Some(d.from);
                        list.data_update_date_to = Some(d.to);
                        to_json(&list, raw.len())
                    })
            }
        }?;
        // A temporary: `Entry::new` copies it into the exactly-sized block
        // the cache keeps.
        Ok(Bytes::from(json))
    }
}

/// Serialises into one buffer sized for the raw answer (the normalised JSON
/// is about as long), instead of growing one by doubling.
fn to_json<T: serde::Serialize>(value: &T, raw_len: usize) -> Result<Vec<u8>, UpstreamError> {
    let mut json = Vec::with_capacity(raw_len + raw_len / 8 + 64);
    serde_json::to_writer(&mut json, value)
        .map_err(|e| UpstreamError::Undecodable(e.to_string()))?;
    Ok(json)
}

fn classify(e: NormaliseError) -> UpstreamError {
    match e {
        NormaliseError::DetailsResultCode {
            code,
            detail_code,
            message,
        } => UpstreamError::ResultCode {
            code,
            detail: match (detail_code, message) {
                (Some(c), Some(m)) => Some(format!("{c}: {m}")),
                (Some(c), None) => Some(c),
                (None, Some(m)) => Some(m),
                (None, None) => None,
            },
        },
        other => UpstreamError::Undecodable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_written_as_chrono_writes_them() {
        let mut date = NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        while chrono::Datelike::year(&date) < 2101 {
            let mut ours = String::new();
            push_iso_date(&mut ours, date);
            assert_eq!(ours, date.to_string());
            date = date.succ_opt().unwrap();
        }
        for date in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(5, 1, 9).unwrap(),
        ] {
            let mut ours = String::new();
            push_iso_date(&mut ours, date);
            assert_eq!(ours, date.to_string());
        }
    }
}
