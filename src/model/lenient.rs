//! Lenient readers for single upstream values: null-ish strings, dates,
//! date-times, codes and counts that may be numbers or strings.
//!
//! Each reader of a JSON value returns `Ok(None)` for "no value" (JSON
//! `null`, a missing field, `"null"` in any case, `""` or whitespace only),
//! `Ok(Some(..))` for a value it could normalise, and `Err(raw)` with the raw
//! value's text for anything it could not: the caller then reports the field
//! as `null` and records `raw` in the item's `invalidValues`. No reader ever
//! guesses: a value is either normalised exactly or reported as invalid.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, Utc};
use serde_json::Value;

/// Seconds east of UTC of Japan Standard Time (UTC+9, no daylight saving).
const JST_OFFSET_SECONDS: i32 = 9 * 3600;

/// Whether an upstream string means "no value": empty, whitespace only, or
/// `null` in any letter case (surrounding whitespace ignored).
pub fn is_null_ish(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t.eq_ignore_ascii_case("null")
}

/// The raw text of a value for `invalidValues`: a string as itself, anything
/// else as compact JSON.
pub fn raw_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A free-text value. Strings are passed through untouched (not even
/// trimmed, so Japanese text survives byte for byte) unless null-ish;
/// numbers become their decimal text; booleans, arrays and objects are
/// invalid.
pub fn text(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_null_ish(s) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(number_text(n))),
        Some(other) => Err(raw_text(other)),
    }
}

/// A code such as `orderType`: a number becomes its decimal text (`1` ->
/// `"1"`), a string is trimmed of surrounding whitespace (`" 1 "` -> `"1"`)
/// and otherwise kept as sent (`"14-GO"`). Booleans, arrays and objects are
/// invalid.
pub fn code(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_null_ish(s) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(Value::Number(n)) => Ok(Some(number_text(n))),
        Some(other) => Err(raw_text(other)),
    }
}

/// A non-negative count that may be a number (`3`, `3.0`) or a string of
/// digits (`"3"`, `" 3 "`). Anything else is `None`.
pub fn count(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && (0.0..=9.0e15).contains(f))
                .map(|f| f as u64)
        }),
        Value::String(s) => {
            let t = s.trim();
            if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                t.parse().ok()
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A calendar date: `YYYY/MM/DD`, `YYYY/M/D`, `YYYY-MM-DD` (or `YYYY-M-D`),
/// validated. Surrounding whitespace is ignored.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let sep = if s.contains('/') { '/' } else { '-' };
    let mut parts = s.split(sep);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || !(1..=2).contains(&m.len())
        || !(1..=2).contains(&d.len())
        || ![y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A date value (see [`parse_date`]). Null-ish means no value; any other
/// value that is not such a date (including numbers) is invalid.
pub fn date(v: Option<&Value>) -> Result<Option<NaiveDate>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_null_ish(s) => Ok(None),
        Some(Value::String(s)) => parse_date(s).map(Some).ok_or_else(|| s.clone()),
        Some(other) => Err(raw_text(other)),
    }
}

/// A date or a date-time, normalised to text:
///
/// * a date (see [`parse_date`]) -> `YYYY-MM-DD`;
/// * an RFC 3339 date-time with `Z` or an offset (`2014-10-31T12:34:56+09:00`)
///   -> the same instant in UTC, `2014-10-31T03:34:56Z` (fractional seconds
///   kept only if present);
/// * a date-time without offset, `YYYY/MM/DD HH:MM:SS` (also with `-`, a
///   `T` separator, one-digit month/day, or without seconds), is Japan time
///   (UTC+9) -> the instant in UTC.
pub fn parse_date_or_datetime(s: &str) -> Option<String> {
    let s = s.trim();
    if let Some(d) = parse_date(s) {
        return Some(d.format("%Y-%m-%d").to_string());
    }
    let utc = match DateTime::parse_from_rfc3339(s) {
        Ok(dt) => dt.with_timezone(&Utc),
        Err(_) => {
            let (d, t) = s.split_once([' ', 'T', 't'])?;
            let date = parse_date(d)?;
            let time = parse_time(t.trim_start())?;
            let jst = FixedOffset::east_opt(JST_OFFSET_SECONDS)?;
            date.and_time(time)
                .and_local_timezone(jst)
                .single()?
                .with_timezone(&Utc)
        }
    };
    // Keep the output a plain four-digit-year RFC 3339 string.
    if !(1..=9999).contains(&chrono::Datelike::year(&utc)) {
        return None;
    }
    Some(utc.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// `HH:MM:SS`, `HH:MM:SS.fff` or `HH:MM` (no offset).
fn parse_time(t: &str) -> Option<NaiveTime> {
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
    {
        return None;
    }
    NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        .ok()
}

/// A date or date-time value (see [`parse_date_or_datetime`]). Null-ish
/// means no value; anything else that does not parse is invalid.
pub fn date_or_datetime(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_null_ish(s) => Ok(None),
        Some(Value::String(s)) => parse_date_or_datetime(s).map(Some).ok_or_else(|| s.clone()),
        Some(other) => Err(raw_text(other)),
    }
}

/// A number's decimal text; integral floats (`1.0`) lose the fraction.
fn number_text(n: &serde_json::Number) -> String {
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    match n.as_f64() {
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => (f as i64).to_string(),
        _ => n.to_string(),
    }
}

/// Collects the raw values of fields that could not be normalised, for an
/// item's `invalidValues`.
#[derive(Debug, Default)]
pub(crate) struct InvalidValues(BTreeMap<String, String>);

impl InvalidValues {
    /// The value of a reader's result; an invalid value is recorded under
    /// `field` and becomes `None`.
    pub(crate) fn keep<T>(&mut self, field: &str, read: Result<Option<T>, String>) -> Option<T> {
        match read {
            Ok(value) => value,
            Err(raw) => {
                self.0.insert(field.to_owned(), raw);
                None
            }
        }
    }

    /// The collected `field -> raw value` map.
    pub(crate) fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_ish() {
        for s in [
            "null", "NULL", "Null", " null ", "", "   ", "\t\n", "\u{3000}",
        ] {
            assert!(is_null_ish(s), "{s:?}");
            assert_eq!(text(Some(&json!(s))), Ok(None));
            assert_eq!(code(Some(&json!(s))), Ok(None));
            assert_eq!(date(Some(&json!(s))), Ok(None));
        }
        assert_eq!(text(None), Ok(None));
        assert_eq!(text(Some(&Value::Null)), Ok(None));
        assert!(!is_null_ish("nullx"));
    }

    #[test]
    fn text_passes_through_untouched() {
        for s in ["L2 代表", " 新設 ", "無し", "a\u{3000}b"] {
            assert_eq!(text(Some(&json!(s))), Ok(Some(s.to_owned())));
        }
        assert_eq!(text(Some(&json!(12))), Ok(Some("12".into())));
        assert_eq!(text(Some(&json!(true))), Err("true".into()));
        assert_eq!(text(Some(&json!({"a": 1}))), Err(r#"{"a":1}"#.into()));
    }

    #[test]
    fn codes() {
        assert_eq!(code(Some(&json!(1))), Ok(Some("1".into())));
        assert_eq!(code(Some(&json!(1.0))), Ok(Some("1".into())));
        assert_eq!(code(Some(&json!(-3))), Ok(Some("-3".into())));
        assert_eq!(code(Some(&json!(" 1 "))), Ok(Some("1".into())));
        assert_eq!(code(Some(&json!("14-GO"))), Ok(Some("14-GO".into())));
        assert_eq!(code(Some(&json!([1]))), Err("[1]".into()));
        assert_eq!(code(Some(&json!(false))), Err("false".into()));
    }

    #[test]
    fn counts() {
        assert_eq!(count(Some(&json!(3))), Some(3));
        assert_eq!(count(Some(&json!(3.0))), Some(3));
        assert_eq!(count(Some(&json!(" 3 "))), Some(3));
        for bad in [
            json!(-1),
            json!(1.5),
            json!("3a"),
            json!(""),
            json!(null),
            json!([3]),
        ] {
            assert_eq!(count(Some(&bad)), None, "{bad}");
        }
        assert_eq!(count(None), None);
    }

    #[test]
    fn dates() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(parse_date("2024/04/01"), d(2024, 4, 1));
        assert_eq!(parse_date("2026/1/5"), d(2026, 1, 5));
        assert_eq!(parse_date("2024-04-01"), d(2024, 4, 1));
        assert_eq!(parse_date(" 2024/02/29 "), d(2024, 2, 29));
        for bad in [
            "2024/13/45",
            "2023/02/29",
            "YYYY/MM/DD",
            "2024/01-05",
            "24/01/05",
            "2024/001/05",
            "2024/01/05/06",
            "2024/+1/05",
            "20240105",
            "2024/01/05 10:00:00",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(date(Some(&json!("2024/13/45"))), Err("2024/13/45".into()));
        assert_eq!(date(Some(&json!(20240105))), Err("20240105".into()));
    }

    #[test]
    fn dates_and_datetimes() {
        let p = parse_date_or_datetime;
        assert_eq!(p("2014/10/31").as_deref(), Some("2014-10-31"));
        assert_eq!(
            p("2014-10-31T12:34:56Z").as_deref(),
            Some("2014-10-31T12:34:56Z")
        );
        assert_eq!(
            p("2014-10-31T12:34:56+09:00").as_deref(),
            Some("2014-10-31T03:34:56Z")
        );
        assert_eq!(
            p("2014-10-31t01:00:00-05:00").as_deref(),
            Some("2014-10-31T06:00:00Z")
        );
        assert_eq!(
            p("2014-10-31T12:34:56.250Z").as_deref(),
            Some("2014-10-31T12:34:56.250Z")
        );
        // Without an offset: Japan time.
        assert_eq!(
            p("2014/10/31 12:34:56").as_deref(),
            Some("2014-10-31T03:34:56Z")
        );
        assert_eq!(
            p("2014/10/31 08:00:00").as_deref(),
            Some("2014-10-30T23:00:00Z")
        );
        assert_eq!(p("2014/1/5 8:00").as_deref(), Some("2014-01-04T23:00:00Z"));
        assert_eq!(
            p("2014-10-31T12:34:56").as_deref(),
            Some("2014-10-31T03:34:56Z")
        );
        for bad in [
            "2014/10/31 25:00:00",
            "2014/10/32 12:00:00",
            "2014/10/31 12:00:00 JST",
            "2014/10/31 +12:00",
            "tomorrow",
            "0000-01-01T00:00:00+09:00",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
