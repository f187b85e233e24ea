//! Built-in Japanese national holiday rules (国民の祝日に関する法律).
//!
//! Rule-based: [`national_holidays`] computes every national holiday of a
//! year, including substitute holidays (振替休日) and citizens' holidays
//! (国民の休日). It follows the law as in force from 2000 on, including the
//! one-off dates of 2019 (accession), 2020 and 2021 (Olympics). Years before
//! 2000 are computed with the same rules and are only approximate.
//!
//! The year-end break (Dec 29 – Jan 3) is *not* a national holiday and is
//! handled by the calendar, not here.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// 振替休日: the name of a substitute holiday.
pub const SUBSTITUTE: &str = "振替休日";
/// 国民の休日: the name of a citizens' holiday (a day sandwiched between two
/// national holidays).
pub const CITIZENS: &str = "国民の休日";

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The `n`-th (1-based) Monday of `month` in `year`.
fn nth_monday(year: i32, month: u32, n: u32) -> Option<NaiveDate> {
    let first = ymd(year, month, 1)?;
    let offset = (7 - first.weekday().num_days_from_monday()) % 7;
    ymd(year, month, 1 + offset + 7 * (n - 1))
}

/// Day of March of the vernal equinox (春分日), by the usual approximation.
fn vernal_equinox_day(year: i32) -> u32 {
    let base = if year <= 2099 { 20.8431 } else { 21.8510 };
    equinox_day(year, base)
}

/// Day of September of the autumnal equinox (秋分日).
fn autumnal_equinox_day(year: i32) -> u32 {
    let base = if year <= 2099 { 23.2488 } else { 24.2488 };
    equinox_day(year, base)
}

fn equinox_day(year: i32, base: f64) -> u32 {
    let y = f64::from(year - 1980);
    let leap_corr = (year - 1980).div_euclid(4);
    let day = (base + 0.242_194 * y).floor() as i64 - i64::from(leap_corr);
    // Clamp defensively; for any sane year the result is 19..=24.
    day.clamp(1, 30) as u32
}

/// The statutory national holidays (国民の祝日) of `year`, without the
/// substitute and citizens' holidays derived from them.
fn statutory(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut v: Vec<(Option<NaiveDate>, &'static str)> = Vec::with_capacity(20);
    v.push((ymd(year, 1, 1), "元日"));
    v.push((nth_monday(year, 1, 2), "成人の日"));
    v.push((ymd(year, 2, 11), "建国記念の日"));
    if year >= 2020 {
        v.push((ymd(year, 2, 23), "天皇誕生日"));
    }
    v.push((ymd(year, 3, vernal_equinox_day(year)), "春分の日"));
    if year >= 2007 {
        v.push((ymd(year, 4, 29), "昭和の日"));
    } else {
        v.push((ymd(year, 4, 29), "みどりの日"));
    }
    if year == 2019 {
        v.push((ymd(year, 5, 1), "即位の日"));
    }
    v.push((ymd(year, 5, 3), "憲法記念日"));
    if year >= 2007 {
        v.push((ymd(year, 5, 4), "みどりの日"));
    }
    v.push((ymd(year, 5, 5), "こどもの日"));
    match year {
        2020 => v.push((ymd(year, 7, 23), "海の日")),
        2021 => v.push((ymd(year, 7, 22), "海の日")),
        ..=2002 => v.push((ymd(year, 7, 20), "海の日")),
        _ => v.push((nth_monday(year, 7, 3), "海の日")),
    }
    match year {
        2020 => v.push((ymd(year, 8, 10), "山の日")),
        2021 => v.push((ymd(year, 8, 8), "山の日")),
        2016.. => v.push((ymd(year, 8, 11), "山の日")),
        _ => {}
    }
    if year <= 2002 {
        v.push((ymd(year, 9, 15), "敬老の日"));
    } else {
        v.push((nth_monday(year, 9, 3), "敬老の日"));
    }
    v.push((ymd(year, 9, autumnal_equinox_day(year)), "秋分の日"));
    match year {
        2020 => v.push((ymd(year, 7, 24), "スポーツの日")),
        2021 => v.push((ymd(year, 7, 23), "スポーツの日")),
        2022.. => v.push((nth_monday(year, 10, 2), "スポーツの日")),
        _ => v.push((nth_monday(year, 10, 2), "体育の日")),
    }
    if year == 2019 {
        v.push((ymd(year, 10, 22), "即位礼正殿の儀"));
    }
    v.push((ymd(year, 11, 3), "文化の日"));
    v.push((ymd(year, 11, 23), "勤労感謝の日"));
    if year <= 2018 {
        v.push((ymd(year, 12, 23), "天皇誕生日"));
    }
    let mut out: Vec<(NaiveDate, &'static str)> = v
        .into_iter()
        .filter_map(|(d, n)| d.map(|d| (d, n)))
        .collect();
    out.sort_by_key(|(d, _)| *d);
    out
}

/// Every national holiday of `year` (statutory, 振替休日 and 国民の休日),
/// sorted by date.
pub fn national_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let statutory = statutory(year);
    let is_statutory = |d: NaiveDate| statutory.iter().any(|(h, _)| *h == d);
    let mut all = statutory.clone();

    // 振替休日 (Art. 3(2)): a statutory holiday on a Sunday makes the nearest
    // following day that is not a statutory holiday a holiday.
    for (date, _) in &statutory {
        if date.weekday() != Weekday::Sun {
            continue;
        }
        let mut d = *date;
        while let Some(next) = d.checked_add_days(Days::new(1)) {
            d = next;
            if !is_statutory(d) {
                if !all.iter().any(|(h, _)| *h == d) {
                    all.push((d, SUBSTITUTE));
                }
                break;
            }
        }
    }

    // 国民の休日 (Art. 3(3)): a day whose previous and next days are both
    // statutory holidays, and which is not itself a holiday. Before the 2007
    // amendment a Sunday could not be one (it only changes names, not
    // business days).
    for (date, _) in &statutory {
        let (Some(mid), Some(after)) = (
            date.checked_add_days(Days::new(1)),
            date.checked_add_days(Days::new(2)),
        ) else {
            continue;
        };
        let sunday_excluded = year < 2007 && mid.weekday() == Weekday::Sun;
        if is_statutory(after) && !sunday_excluded && !all.iter().any(|(h, _)| *h == mid) {
            all.push((mid, CITIZENS));
        }
    }

    all.retain(|(d, _)| d.year() == year);
    all.sort_by_key(|(d, _)| *d);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Parses a space-separated list of `M/D` dates of `year`.
    fn dates(year: i32, md: &str) -> BTreeSet<NaiveDate> {
        md.split_whitespace()
            .map(|s| {
                let (m, d) = s.split_once('/').expect("M/D");
                NaiveDate::from_ymd_opt(year, m.parse().expect("M"), d.parse().expect("D"))
                    .expect("valid date")
            })
            .collect()
    }

    fn computed(year: i32) -> BTreeSet<NaiveDate> {
        national_holidays(year)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }

    fn assert_year(year: i32, md: &str) {
        let expected = dates(year, md);
        let got = computed(year);
        let missing: Vec<_> = expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{year}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(
            got.len(),
            md.split_whitespace().count(),
            "{year}: duplicate entries in expectation?"
        );
    }

    // The complete lists as published by the Cabinet Office (内閣府).
    #[test]
    fn published_2018() {
        assert_year(
            2018,
            "1/1 1/8 2/11 2/12 3/21 4/29 4/30 5/3 5/4 5/5 7/16 8/11 9/17 9/23 9/24 10/8 11/3 11/23 12/23 12/24",
        );
    }

    #[test]
    fn older_law_spot_checks() {
        let name = |y, m, d| {
            national_holidays(y)
                .into_iter()
                .find(|(h, _)| *h == NaiveDate::from_ymd_opt(y, m, d).expect("date"))
                .map(|(_, n)| n)
        };
        // Before 2003 海の日 and 敬老の日 had fixed dates.
        assert_eq!(name(2002, 7, 20), Some("海の日"));
        assert_eq!(name(2002, 9, 15), Some("敬老の日"));
        assert_eq!(name(2003, 7, 21), Some("海の日"));
        assert_eq!(name(2003, 9, 15), Some("敬老の日"));
        // Until 2006 Apr 29 was みどりの日 and May 4 a citizens' holiday
        // (but not on a Sunday, as in 2003).
        assert_eq!(name(2006, 4, 29), Some("みどりの日"));
        assert_eq!(name(2006, 5, 4), Some(CITIZENS));
        assert_eq!(name(2003, 5, 4), None);
        assert_eq!(name(2007, 4, 29), Some("昭和の日"));
        assert_eq!(name(2007, 5, 4), Some("みどりの日"));
        // 山の日 from 2016; 体育の日 until 2019; 天皇誕生日 moved in 2020.
        assert_eq!(name(2015, 8, 11), None);
        assert_eq!(name(2016, 8, 11), Some("山の日"));
        assert_eq!(name(2019, 10, 14), Some("体育の日"));
        assert_eq!(name(2019, 12, 23), None);
        assert_eq!(name(2019, 2, 23), None);
        assert_eq!(name(2020, 2, 23), Some("天皇誕生日"));
        // 2019's one-off holidays.
        assert_eq!(name(2019, 5, 1), Some("即位の日"));
        assert_eq!(name(2019, 10, 22), Some("即位礼正殿の儀"));
        assert_eq!(name(2019, 4, 30), Some(CITIZENS));
        assert_eq!(name(2019, 5, 2), Some(CITIZENS));
        // 2020/2021 Olympic moves.
        assert_eq!(name(2020, 7, 24), Some("スポーツの日"));
        assert_eq!(name(2021, 8, 9), Some(SUBSTITUTE));
    }

    #[test]
    fn published_2019() {
        assert_year(
            2019,
            "1/1 1/14 2/11 3/21 4/29 4/30 5/1 5/2 5/3 5/4 5/5 5/6 7/15 8/11 8/12 9/16 9/23 10/14 10/22 11/3 11/4 11/23",
        );
    }

    #[test]
    fn published_2020() {
        assert_year(
            2020,
            "1/1 1/13 2/11 2/23 2/24 3/20 4/29 5/3 5/4 5/5 5/6 7/23 7/24 8/10 9/21 9/22 11/3 11/23",
        );
    }

    #[test]
    fn published_2021() {
        assert_year(
            2021,
            "1/1 1/11 2/11 2/23 3/20 4/29 5/3 5/4 5/5 7/22 7/23 8/8 8/9 9/20 9/23 11/3 11/23",
        );
    }

    #[test]
    fn published_2022() {
        assert_year(
            2022,
            "1/1 1/10 2/11 2/23 3/21 4/29 5/3 5/4 5/5 7/18 8/11 9/19 9/23 10/10 11/3 11/23",
        );
    }

    #[test]
    fn published_2023() {
        assert_year(
            2023,
            "1/1 1/2 1/9 2/11 2/23 3/21 4/29 5/3 5/4 5/5 7/17 8/11 9/18 9/23 10/9 11/3 11/23",
        );
    }

    #[test]
    fn published_2024() {
        assert_year(
            2024,
            "1/1 1/8 2/11 2/12 2/23 3/20 4/29 5/3 5/4 5/5 5/6 7/15 8/11 8/12 9/16 9/22 9/23 10/14 11/3 11/4 11/23",
        );
    }

    #[test]
    fn published_2025() {
        assert_year(
            2025,
            "1/1 1/13 2/11 2/23 2/24 3/20 4/29 5/3 5/4 5/5 5/6 7/21 8/11 9/15 9/23 10/13 11/3 11/23 11/24",
        );
    }

    #[test]
    fn published_2026() {
        assert_year(
            2026,
            "1/1 1/12 2/11 2/23 3/20 4/29 5/3 5/4 5/5 5/6 7/20 8/11 9/21 9/22 9/23 10/12 11/3 11/23",
        );
    }

    #[test]
    fn published_2027() {
        assert_year(
            2027,
            "1/1 1/11 2/11 2/23 3/21 3/22 4/29 5/3 5/4 5/5 7/19 8/11 9/20 9/23 10/11 11/3 11/23",
        );
    }

    #[test]
    fn names_of_derived_holidays() {
        let names: Vec<_> = national_holidays(2026);
        let get = |m, d| {
            names
                .iter()
                .find(|(h, _)| *h == NaiveDate::from_ymd_opt(2026, m, d).expect("date"))
                .map(|(_, n)| *n)
        };
        assert_eq!(get(5, 6), Some(SUBSTITUTE));
        assert_eq!(get(9, 22), Some(CITIZENS));
        assert_eq!(get(1, 1), Some("元日"));
        assert_eq!(get(10, 12), Some("スポーツの日"));
    }

    #[test]
    fn spot_checks_2028_to_2030() {
        let got = |y, m, d| computed(y).contains(&NaiveDate::from_ymd_opt(y, m, d).expect("d"));
        // Equinoxes.
        assert!(got(2028, 3, 20));
        assert!(got(2028, 9, 22));
        assert!(got(2029, 3, 20));
        assert!(got(2029, 9, 23));
        assert!(got(2030, 3, 20));
        assert!(got(2030, 9, 23));
        // 2028: 成人の日 Jan 10, 海の日 Jul 17, 敬老の日 Sep 18, スポーツの日 Oct 9.
        assert!(got(2028, 1, 10));
        assert!(got(2028, 7, 17));
        assert!(got(2028, 9, 18));
        assert!(got(2028, 10, 9));
        // 2029: Feb 11 is Sunday -> Feb 12 substitute; Apr 29 Sunday -> Apr 30.
        assert!(got(2029, 2, 12));
        assert!(got(2029, 4, 30));
        // 2029: Sep 23 Sunday -> Sep 24 substitute.
        assert!(got(2029, 9, 24));
        // 2030: 成人の日 Jan 14; 山の日 Aug 11 Sunday -> Aug 12.
        assert!(got(2030, 1, 14));
        assert!(got(2030, 8, 12));
        assert!(!got(2030, 8, 13));
    }

    // Derived by hand from the rules (weekday arithmetic), not yet published.
    #[test]
    fn derived_2028_to_2030() {
        assert_year(
            2028,
            "1/1 1/10 2/11 2/23 3/20 4/29 5/3 5/4 5/5 7/17 8/11 9/18 9/22 10/9 11/3 11/23",
        );
        assert_year(
            2029,
            "1/1 1/8 2/11 2/12 2/23 3/20 4/29 4/30 5/3 5/4 5/5 7/16 8/11 9/17 9/23 9/24 10/8 11/3 11/23",
        );
        assert_year(
            2030,
            "1/1 1/14 2/11 2/23 3/20 4/29 5/3 5/4 5/5 5/6 7/15 8/11 8/12 9/16 9/23 10/14 11/3 11/4 11/23",
        );
    }

    #[test]
    fn silver_week_citizens_holidays() {
        // 2009 and 2015: Sep 22 between 敬老の日 (Mon 21) and 秋分の日 (Wed 23).
        assert!(computed(2009).contains(&NaiveDate::from_ymd_opt(2009, 9, 22).expect("d")));
        assert!(computed(2015).contains(&NaiveDate::from_ymd_opt(2015, 9, 22).expect("d")));
        // 2032: 敬老の日 Sep 20, 秋分の日 Sep 22 -> Sep 21 citizens' holiday.
        assert!(computed(2032).contains(&NaiveDate::from_ymd_opt(2032, 9, 21).expect("d")));
    }

    #[test]
    fn every_year_is_sane() {
        for year in 2000..=2150 {
            let hs = national_holidays(year);
            assert!(hs.len() >= 15 && hs.len() <= 22, "{year}: {}", hs.len());
            assert!(
                hs.windows(2).all(|w| w[0].0 < w[1].0),
                "{year} not strictly sorted"
            );
        }
    }
}
