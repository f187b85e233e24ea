//! Loader for the Cabinet Office holiday list, `syukujitsu.csv`.
//!
//! The file has a header line (`国民の祝日・休日月日,国民の祝日・休日名称`)
//! followed by one `YYYY/M/D,名称` line per holiday, CRLF line endings, and is
//! encoded in Shift_JIS. UTF-8 (with or without a BOM) is accepted too, as are
//! zero-padded dates and `-` as the date separator.

use std::path::Path;

use chrono::NaiveDate;

use super::{CalendarError, Holiday};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes the file: UTF-8 if the bytes are valid UTF-8 (a BOM is dropped),
/// else Shift_JIS.
fn decode(bytes: &[u8]) -> Result<String, CalendarError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_owned());
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| s.into_owned())
        .ok_or(CalendarError::HolidayFileEncoding)
}

/// Parses `YYYY/M/D` (also zero-padded, also with `-`).
fn parse_date(field: &str) -> Option<NaiveDate> {
    let sep = if field.contains('/') { '/' } else { '-' };
    let mut parts = field.split(sep);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let num = |s: &str, max_len: usize| -> Option<u32> {
        if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if y.len() != 4 {
        return None;
    }
    let year = i32::try_from(num(y, 4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(m, 2)?, num(d, 2)?)
}

/// Strips one pair of surrounding double quotes, as some CSV writers add.
fn unquote(field: &str) -> &str {
    let field = field.trim();
    field
        .strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .map_or(field, str::trim)
}

/// Parses the contents of a `syukujitsu.csv` file.
///
/// The first non-blank line is skipped as a header if its first field is not
/// a date; blank lines are skipped; any other line that is not
/// `date,name` is an error naming its (1-based) line number.
pub fn parse_holidays_file(bytes: &[u8]) -> Result<Vec<Holiday>, CalendarError> {
    let text = decode(bytes)?;
    let mut out = Vec::new();
    let mut seen_content = false;
    for (idx, raw) in text.split('\n').enumerate() {
        let line_no = idx + 1;
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        let first_content = !seen_content;
        seen_content = true;
        let bad = |message: String| CalendarError::HolidayFileLine {
            line: line_no,
            message,
        };
        let mut fields = line.split(',');
        let date_field = unquote(fields.next().unwrap_or_default());
        let Some(date) = parse_date(date_field) else {
            if first_content {
                continue; // header line
            }
            return Err(bad(format!(
                "invalid date {date_field:?} (expected YYYY/M/D)"
            )));
        };
        let name = unquote(fields.next().unwrap_or_default());
        if name.is_empty() {
            return Err(bad(format!("missing holiday name for {date}")));
        }
        if let Some(extra) = fields.map(unquote).find(|f| !f.is_empty()) {
            return Err(bad(format!(
                "unexpected extra field {extra:?} (expected date,name)"
            )));
        }
        out.push(Holiday {
            date,
            name: name.to_owned(),
        });
    }
    Ok(out)
}

/// Reads and parses a `syukujitsu.csv` file from `path`.
pub fn load_holidays_file(path: &Path) -> Result<Vec<Holiday>, CalendarError> {
    let bytes = std::fs::read(path).map_err(|source| CalendarError::HolidayFileIo {
        path: path.to_path_buf(),
        source,
    })?;
    parse_holidays_file(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "国民の祝日・休日月日,国民の祝日・休日名称\r\n\
        1955/1/1,元日\r\n\
        2026/9/22,休日\r\n\
        2027/01/11,成人の日\r\n\
        2027-03-22,休日\r\n\
        \r\n";

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn check_sample(hs: &[Holiday]) {
        assert_eq!(hs.len(), 4);
        assert_eq!(hs[0].date, d(1955, 1, 1));
        assert_eq!(hs[0].name, "元日");
        assert_eq!(hs[1].date, d(2026, 9, 22));
        assert_eq!(hs[1].name, "休日");
        assert_eq!(hs[2].date, d(2027, 1, 11));
        assert_eq!(hs[3].date, d(2027, 3, 22));
    }

    #[test]
    fn parses_utf8() {
        check_sample(&parse_holidays_file(SAMPLE.as_bytes()).expect("parse"));
    }

    #[test]
    fn parses_utf8_with_bom() {
        let mut bytes = UTF8_BOM.to_vec();
        bytes.extend_from_slice(SAMPLE.as_bytes());
        check_sample(&parse_holidays_file(&bytes).expect("parse"));
    }

    #[test]
    fn parses_shift_jis() {
        let (encoded, _, unmappable) = encoding_rs::SHIFT_JIS.encode(SAMPLE);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&encoded).is_err(),
            "sample must not be UTF-8"
        );
        check_sample(&parse_holidays_file(&encoded).expect("parse"));
    }

    #[test]
    fn rejects_undecodable_bytes() {
        // 0xFF is neither UTF-8 nor Shift_JIS.
        let err = parse_holidays_file(b"2026/1/1,\xFF\xFF\r\n").expect_err("must fail");
        assert!(matches!(err, CalendarError::HolidayFileEncoding), "{err}");
    }

    #[test]
    fn header_only_and_empty_files_are_empty() {
        assert!(parse_holidays_file(b"").expect("empty").is_empty());
        let header = "国民の祝日・休日月日,国民の祝日・休日名称\r\n";
        assert!(
            parse_holidays_file(header.as_bytes())
                .expect("hdr")
                .is_empty()
        );
        // A file without a header works as well.
        let hs = parse_holidays_file(b"2026/1/1,New Year\n").expect("no header");
        assert_eq!(hs[0].date, d(2026, 1, 1));
    }

    #[test]
    fn bad_lines_report_line_numbers() {
        let text =
            "国民の祝日・休日月日,国民の祝日・休日名称\r\n2026/1/1,元日\r\n2026/13/1,変な日\r\n";
        let err = parse_holidays_file(text.as_bytes()).expect_err("bad month");
        match &err {
            CalendarError::HolidayFileLine { line, message } => {
                assert_eq!(*line, 3);
                assert!(message.contains("2026/13/1"), "{message}");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(err.to_string().contains("line 3"), "{err}");

        let err = parse_holidays_file(b"2026/1/1,a\n\n2026/1/2\n").expect_err("no name");
        assert!(
            matches!(err, CalendarError::HolidayFileLine { line: 3, .. }),
            "{err}"
        );

        let err = parse_holidays_file(b"2026/1/1,a,b\n").expect_err("extra field");
        assert!(
            matches!(err, CalendarError::HolidayFileLine { line: 1, .. }),
            "{err}"
        );

        // The header may only be the first line.
        let err = parse_holidays_file(b"2026/1/1,a\nheader,again\n").expect_err("late header");
        assert!(
            matches!(err, CalendarError::HolidayFileLine { line: 2, .. }),
            "{err}"
        );

        for bad in [
            "26/1/1,x",
            "2026/1,x",
            "2026/1/1/1,x",
            "2026/a/1,x",
            "2026/001/1,x",
        ] {
            let text = format!("hdr,hdr\n{bad}\n");
            assert!(
                parse_holidays_file(text.as_bytes()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn loads_from_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("syukujitsu.csv");
        let (encoded, _, _) = encoding_rs::SHIFT_JIS.encode(SAMPLE);
        std::fs::write(&path, &encoded).expect("write");
        check_sample(&load_holidays_file(&path).expect("load"));

        let err = load_holidays_file(&dir.path().join("missing.csv")).expect_err("missing");
        assert!(matches!(err, CalendarError::HolidayFileIo { .. }), "{err}");
        assert!(err.to_string().contains("missing.csv"), "{err}");
    }
}
