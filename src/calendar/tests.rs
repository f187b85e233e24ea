//! Tests of the business calendar.

use super::*;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The UTC instant of a JST wall-clock time.
fn jst_at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    jst()
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid JST time")
        .with_timezone(&Utc)
}

fn cal() -> BusinessCalendar {
    BusinessCalendar::new(DetailsDays::JpBusiness, OpeningHours::default())
}

#[test]
fn jst_is_utc_plus_nine() {
    assert_eq!(jst().local_minus_utc(), 9 * 3600);
    // 2026-12-02 15:00 UTC is already Thursday 2026-12-03 in JST.
    let at = Utc
        .with_ymd_and_hms(2026, 12, 2, 15, 0, 0)
        .single()
        .expect("t");
    assert_eq!(BusinessCalendar::today_jst(at), date(2026, 12, 3));
    let at = Utc
        .with_ymd_and_hms(2026, 12, 2, 14, 59, 59)
        .single()
        .expect("t");
    assert_eq!(BusinessCalendar::today_jst(at), date(2026, 12, 2));
}

#[test]
fn open_boundaries_on_a_thursday() {
    let c = cal();
    assert!(!c.is_open(jst_at(2026, 12, 3, 8, 59, 59)));
    assert!(c.is_open(jst_at(2026, 12, 3, 9, 0, 0)));
    assert!(c.is_open(jst_at(2026, 12, 3, 12, 0, 0)));
    assert!(c.is_open(jst_at(2026, 12, 3, 17, 29, 59)));
    assert!(!c.is_open(jst_at(2026, 12, 3, 17, 30, 0)));
    assert!(!c.is_open(jst_at(2026, 12, 3, 20, 0, 0)));
    assert!(!c.is_open(jst_at(2026, 12, 3, 0, 0, 0)));
    // Sub-second precision: 17:29:59.999 is still open.
    assert!(c.is_open(jst_at(2026, 12, 3, 17, 30, 0) - Duration::milliseconds(1)));
}

#[test]
fn weekends_and_holidays_are_closed() {
    let c = cal();
    assert!(!c.is_open(jst_at(2026, 12, 5, 10, 0, 0))); // Saturday
    assert!(!c.is_open(jst_at(2026, 12, 6, 10, 0, 0))); // Sunday
    assert!(!c.is_open(jst_at(2026, 11, 23, 10, 0, 0))); // 勤労感謝の日 (Monday)
    assert_eq!(c.holiday_name(date(2026, 11, 23)), Some("勤労感謝の日"));
    assert_eq!(c.holiday_name(date(2026, 5, 6)), Some("振替休日"));
    assert_eq!(c.holiday_name(date(2026, 9, 22)), Some("国民の休日"));
    assert_eq!(c.holiday_name(date(2026, 11, 24)), None);
    assert!(c.is_open(jst_at(2026, 11, 24, 10, 0, 0)));
    assert!(!c.is_business_day(date(2026, 9, 22)));
}

#[test]
fn year_end_break_is_closed() {
    let c = cal();
    for (y, m, d) in [
        (2026, 12, 29),
        (2026, 12, 30),
        (2026, 12, 31),
        (2027, 1, 1),
        (2027, 1, 2),
        (2027, 1, 3),
    ] {
        assert!(!c.is_business_day(date(y, m, d)), "{y}-{m}-{d}");
        assert!(!c.is_open(jst_at(y, m, d, 10, 0, 0)), "{y}-{m}-{d}");
    }
    // Mon Dec 28 and Mon Jan 4 are business days.
    assert!(c.is_open(jst_at(2026, 12, 28, 10, 0, 0)));
    assert_eq!(c.holiday_name(date(2027, 1, 4)), None);
    assert_eq!(c.holiday_name(date(2027, 1, 11)), Some("成人の日"));
    assert!(c.is_business_day(date(2027, 1, 4)));
    // Only Jan 1 of the break is a national holiday.
    assert_eq!(c.holiday_name(date(2026, 12, 30)), None);
}

#[test]
fn next_opening_after_the_year_end_break() {
    let c = cal();
    assert_eq!(
        c.next_opening(jst_at(2026, 12, 28, 18, 0, 0)),
        Some(jst_at(2027, 1, 4, 9, 0, 0))
    );
    assert_eq!(
        c.next_change(jst_at(2026, 12, 31, 12, 0, 0)),
        Some(jst_at(2027, 1, 4, 9, 0, 0))
    );
}

#[test]
fn next_opening_over_weekends() {
    let c = cal();
    // Friday 2026-12-04 evening -> Monday 2026-12-07.
    assert_eq!(
        c.next_opening(jst_at(2026, 12, 4, 18, 0, 0)),
        Some(jst_at(2026, 12, 7, 9, 0, 0))
    );
    // Friday 2026-07-17 evening; Monday 07-20 is 海の日 -> Tuesday 07-21.
    assert_eq!(
        c.next_opening(jst_at(2026, 7, 17, 18, 0, 0)),
        Some(jst_at(2026, 7, 21, 9, 0, 0))
    );
    // Silver week 2026: Fri 09-18 evening -> Thu 09-24 (21, 22, 23 are holidays).
    assert_eq!(
        c.next_opening(jst_at(2026, 9, 18, 18, 0, 0)),
        Some(jst_at(2026, 9, 24, 9, 0, 0))
    );
    // Early morning on a business day: today's opening.
    assert_eq!(
        c.next_opening(jst_at(2026, 12, 3, 6, 0, 0)),
        Some(jst_at(2026, 12, 3, 9, 0, 0))
    );
    // Exactly at opening (open now): the next day's opening.
    assert_eq!(
        c.next_opening(jst_at(2026, 12, 3, 9, 0, 0)),
        Some(jst_at(2026, 12, 4, 9, 0, 0))
    );
}

#[test]
fn next_change_and_closes_at() {
    let c = cal();
    let noon = jst_at(2026, 12, 3, 12, 0, 0);
    let close = jst_at(2026, 12, 3, 17, 30, 0);
    assert_eq!(c.closes_at(noon), Some(close));
    assert_eq!(c.next_change(noon), Some(close));
    // Open now: next opening is after today's window.
    assert_eq!(c.next_opening(noon), Some(jst_at(2026, 12, 4, 9, 0, 0)));
    // Closed now: closes_at is None, next change is the next opening.
    let evening = jst_at(2026, 12, 3, 17, 30, 0);
    assert_eq!(c.closes_at(evening), None);
    assert_eq!(c.next_change(evening), Some(jst_at(2026, 12, 4, 9, 0, 0)));
}

#[test]
fn all_days_still_has_hours() {
    let c = BusinessCalendar::new(DetailsDays::All, OpeningHours::default());
    assert!(c.is_open(jst_at(2026, 12, 5, 10, 0, 0))); // Saturday
    assert!(c.is_open(jst_at(2027, 1, 1, 10, 0, 0))); // 元日
    assert!(!c.is_open(jst_at(2026, 12, 5, 18, 0, 0)));
    assert_eq!(
        c.next_opening(jst_at(2026, 12, 4, 18, 0, 0)),
        Some(jst_at(2026, 12, 5, 9, 0, 0))
    );
    // Holiday names are still known.
    assert_eq!(c.holiday_name(date(2027, 1, 1)), Some("元日"));
}

#[test]
fn none_never_opens() {
    let c = BusinessCalendar::new(DetailsDays::None, OpeningHours::default());
    let at = jst_at(2026, 12, 3, 12, 0, 0);
    assert!(!c.is_open(at));
    assert!(!c.is_business_day(date(2026, 12, 3)));
    assert_eq!(c.next_opening(at), None);
    assert_eq!(c.next_change(at), None);
    assert_eq!(c.closes_at(at), None);
}

#[test]
fn accessors_and_debug() {
    let hours: OpeningHours = "10:00-16:00".parse().expect("hours");
    let c = BusinessCalendar::new(DetailsDays::All, hours);
    assert_eq!(c.days(), DetailsDays::All);
    assert_eq!(c.hours(), hours);
    let dbg = format!("{c:?}");
    assert!(dbg.contains("10:00-16:00"), "{dbg}");
    assert!(dbg.len() < 300, "Debug output should be short: {dbg}");
}

#[test]
fn opening_hours_parsing() {
    let h: OpeningHours = "09:00-17:30".parse().expect("hours");
    assert_eq!(h, OpeningHours::default());
    assert_eq!(h.to_string(), "09:00-17:30");

    let h: OpeningHours = "09:00:00-17:30:30".parse().expect("hours");
    assert_eq!(h.open, NaiveTime::from_hms_opt(9, 0, 0).expect("t"));
    assert_eq!(h.close, NaiveTime::from_hms_opt(17, 30, 30).expect("t"));
    assert_eq!(h.to_string(), "09:00-17:30:30");
    assert_eq!(
        h.to_string().parse::<OpeningHours>().expect("round trip"),
        h
    );

    let h: OpeningHours = " 08:15 - 20:00 ".parse().expect("whitespace");
    assert_eq!(h.to_string(), "08:15-20:00");

    for bad in [
        "9-5",
        "17:30-09:00",
        "09:00-09:00",
        "25:00-26:00",
        "09:60-10:00",
        "09:00",
        "",
        "09:00-17:30-18:00",
        "09:0-17:30",
        "09:00-17:30:5",
        "aa:bb-cc:dd",
        "+9:00-17:00",
    ] {
        let err = bad.parse::<OpeningHours>().expect_err(bad);
        assert!(
            matches!(err, CalendarError::InvalidHours { .. }),
            "{bad}: {err}"
        );
        assert!(err.to_string().contains("invalid opening hours"), "{err}");
    }
}

#[test]
fn details_days_parsing() {
    assert_eq!(DetailsDays::default(), DetailsDays::JpBusiness);
    for (s, d) in [
        ("jp-business", DetailsDays::JpBusiness),
        ("JP-Business", DetailsDays::JpBusiness),
        ("all", DetailsDays::All),
        ("ALL", DetailsDays::All),
        ("none", DetailsDays::None),
        ("None", DetailsDays::None),
    ] {
        assert_eq!(s.parse::<DetailsDays>().expect(s), d);
    }
    for d in [DetailsDays::JpBusiness, DetailsDays::All, DetailsDays::None] {
        assert_eq!(d.to_string().parse::<DetailsDays>().expect("round trip"), d);
    }
    assert_eq!(DetailsDays::JpBusiness.to_string(), "jp-business");
    for bad in ["", "business", "jp_business", "weekdays"] {
        let err = bad.parse::<DetailsDays>().expect_err(bad);
        assert!(matches!(err, CalendarError::InvalidDays { .. }), "{bad}");
    }
}

#[test]
fn holidays_file_overrides_its_years_only() {
    let file = "国民の祝日・休日月日,国民の祝日・休日名称\r\n\
        2031/1/1,元日\r\n\
        2031/6/10,架空の日\r\n";
    let hs = parse_holidays_file(file.as_bytes()).expect("parse");
    let c = cal().with_holidays_file(hs);
    // The made-up holiday is a holiday (Tue 2031-06-10).
    assert_eq!(c.holiday_name(date(2031, 6, 10)), Some("架空の日"));
    assert!(!c.is_business_day(date(2031, 6, 10)));
    // Built-in 2031 holidays not in the file are dropped: 建国記念の日 Tue 2031-02-11.
    assert_eq!(c.holiday_name(date(2031, 2, 11)), None);
    assert!(c.is_business_day(date(2031, 2, 11)));
    assert_eq!(c.holiday_name(date(2031, 1, 1)), Some("元日"));
    // 2030 keeps the built-in rules.
    assert_eq!(c.holiday_name(date(2030, 2, 11)), Some("建国記念の日"));
    assert_eq!(c.holiday_name(date(2030, 8, 12)), Some("振替休日"));
    // The year-end break still applies in a file year.
    assert!(!c.is_business_day(date(2031, 1, 2)));
    // The built-in calendar is unchanged.
    assert_eq!(cal().holiday_name(date(2031, 2, 11)), Some("建国記念の日"));
}

#[test]
fn holidays_file_for_years_outside_the_precomputed_range() {
    let c = cal().with_holidays_file(vec![Holiday {
        date: date(2200, 3, 3),
        name: "x".to_owned(),
    }]);
    assert_eq!(c.holiday_name(date(2200, 3, 3)), Some("x"));
    assert_eq!(c.holiday_name(date(2200, 1, 1)), None);
    // Years outside the precomputed range without a file use the rules.
    assert_eq!(c.holiday_name(date(2201, 1, 1)), Some("元日"));
    assert_eq!(cal().holiday_name(date(1999, 11, 3)), Some("文化の日"));
}

proptest! {
    #[test]
    fn next_opening_is_an_opening(secs in 1_577_836_800i64..1_924_991_999i64) {
        // 2020-01-01 .. 2030-12-31 (UTC).
        let c = cal();
        let at = DateTime::<Utc>::from_timestamp(secs, 0).expect("in range");
        let next = c.next_opening(at).expect("always opens eventually");
        prop_assert!(next > at);
        prop_assert!(c.is_open(next));
        prop_assert!(!c.is_open(next - Duration::seconds(1)));
        // It is the *first* opening after `at` unless open at `at`.
        if !c.is_open(at) {
            prop_assert_eq!(c.next_change(at), Some(next));
            prop_assert!(next - at < Duration::days(12));
        } else {
            let close = c.closes_at(at).expect("open");
            prop_assert!(close > at && close < next);
            prop_assert_eq!(c.next_change(at), Some(close));
            prop_assert!(!c.is_open(close));
        }
    }
}
