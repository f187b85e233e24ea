//! The JST business calendar: when the upstream "service-order-details"
//! endpoint is open.
//!
//! This module owns:
//! - [`DetailsDays`] and [`OpeningHours`], the operator's configuration
//!   (parsed from strings such as `jp-business` and `09:00-17:30`);
//! - [`BusinessCalendar`], which answers "is it open now?", "when does it
//!   next open / close?" for an instant in UTC;
//! - the built-in Japanese national holiday rules (`holidays`), and the
//!   loader for the Cabinet Office's `syukujitsu.csv` ([`parse_holidays_file`],
//!   [`load_holidays_file`]), whose dates can override the built-in rules.
//!
//! A Japanese business day is a weekday that is not a national holiday
//! (including 振替休日 and 国民の休日) and not in the year-end break
//! (Dec 29 – Jan 3). Japan Standard Time is UTC+9 with no daylight saving.

mod holidays;
mod syukujitsu;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc, Weekday};

pub use syukujitsu::{load_holidays_file, parse_holidays_file};

/// How far ahead [`BusinessCalendar::next_opening`] searches, in days.
const SEARCH_DAYS: u64 = 400;

/// Years whose built-in holidays are precomputed; other years are computed
/// on demand.
const PRECOMPUTED_YEARS: RangeInclusive<i32> = 2000..=2150;

/// Japan Standard Time: UTC+9, no daylight saving time.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset")
}

/// Errors from parsing calendar configuration or holiday files.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// A `DetailsDays` string that is not `jp-business`, `all` or `none`.
    #[error("invalid details days {value:?}: expected one of jp-business, all, none")]
    InvalidDays {
        /// The rejected input.
        value: String,
    },
    /// An `OpeningHours` string that is malformed or empty (open >= close).
    #[error("invalid opening hours {value:?}: {reason} (expected e.g. 09:00-17:30)")]
    InvalidHours {
        /// The rejected input.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A line of a holiday file that cannot be parsed.
    #[error("holiday file line {line}: {message}")]
    HolidayFileLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
    /// A holiday file that is neither valid UTF-8 nor valid Shift_JIS.
    #[error("holiday file is neither valid UTF-8 nor valid Shift_JIS")]
    HolidayFileEncoding,
    /// A holiday file that cannot be read.
    #[error("cannot read holiday file {}: {source}", path.display())]
    HolidayFileIo {
        /// The file's path.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Which days the details endpoint is available on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DetailsDays {
    /// Japanese business days only (`jp-business`).
    #[default]
    JpBusiness,
    /// Every day of the week (`all`); opening hours still apply.
    All,
    /// Never (`none`): the endpoint is treated as always closed.
    None,
}

impl DetailsDays {
    /// The configuration spelling: `jp-business`, `all` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            DetailsDays::JpBusiness => "jp-business",
            DetailsDays::All => "all",
            DetailsDays::None => "none",
        }
    }
}

impl fmt::Display for DetailsDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DetailsDays {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jp-business" => Ok(DetailsDays::JpBusiness),
            "all" => Ok(DetailsDays::All),
            "none" => Ok(DetailsDays::None),
            _ => Err(CalendarError::InvalidDays {
                value: s.to_owned(),
            }),
        }
    }
}

/// Daily opening hours in JST: open from `open` (inclusive) to `close`
/// (exclusive), within one calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpeningHours {
    /// Opening time (inclusive).
    pub open: NaiveTime,
    /// Closing time (exclusive); always after `open`.
    pub close: NaiveTime,
}

impl Default for OpeningHours {
    fn default() -> Self {
        OpeningHours {
            open: NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
            close: NaiveTime::from_hms_opt(17, 30, 0).expect("valid time"),
        }
    }
}

fn parse_clock(s: &str) -> Result<NaiveTime, String> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(format!("{s:?} is not HH:MM or HH:MM:SS"));
    }
    let mut nums = [0u32; 3];
    for (i, p) in parts.iter().enumerate() {
        let ok_len = if i == 0 {
            (1..=2).contains(&p.len())
        } else {
            p.len() == 2
        };
        if !ok_len || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{s:?} is not HH:MM or HH:MM:SS"));
        }
        nums[i] = p.parse().map_err(|_| format!("{s:?} is not a number"))?;
    }
    NaiveTime::from_hms_opt(nums[0], nums[1], nums[2])
        .ok_or_else(|| format!("{s:?} is not a valid time of day"))
}

impl FromStr for OpeningHours {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| CalendarError::InvalidHours {
            value: s.to_owned(),
            reason,
        };
        let (open, close) = s
            .split_once('-')
            .ok_or_else(|| err("missing '-' between open and close".to_owned()))?;
        let open = parse_clock(open).map_err(err)?;
        let close = parse_clock(close).map_err(err)?;
        if open >= close {
            return Err(err("opening time must be before closing time".to_owned()));
        }
        Ok(OpeningHours { open, close })
    }
}

fn fmt_clock(t: NaiveTime, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if t.second() == 0 {
        write!(f, "{:02}:{:02}", t.hour(), t.minute())
    } else {
        write!(f, "{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_clock(self.open, f)?;
        f.write_str("-")?;
        fmt_clock(self.close, f)
    }
}

/// One holiday: a date and its name (e.g. `元日`, `振替休日`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Holiday {
    /// The date (in JST, as all calendar dates here).
    pub date: NaiveDate,
    /// The holiday's name.
    pub name: String,
}

type HolidayMap = HashMap<NaiveDate, Cow<'static, str>>;

/// The JST business calendar of the details endpoint.
///
/// Cheap to query: holidays are precomputed into a map (built-in rules for
/// 2000–2150, computed on demand outside that range), and cheap to clone
/// (the map is shared).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use service_order_gateway::calendar::{BusinessCalendar, DetailsDays, OpeningHours};
///
/// let cal = BusinessCalendar::new(DetailsDays::JpBusiness, "09:00-17:30".parse().unwrap());
/// // Thu 2026-12-03 10:00 JST = 01:00 UTC: open until 17:30 JST (08:30 UTC).
/// let at = Utc.with_ymd_and_hms(2026, 12, 3, 1, 0, 0).unwrap();
/// assert!(cal.is_open(at));
/// assert_eq!(cal.closes_at(at), Some(Utc.with_ymd_and_hms(2026, 12, 3, 8, 30, 0).unwrap()));
/// // Next opening after that: Fri 2026-12-04 09:00 JST.
/// assert_eq!(cal.next_opening(at), Some(Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap()));
/// ```
#[derive(Clone)]
pub struct BusinessCalendar {
    days: DetailsDays,
    hours: OpeningHours,
    holidays: Arc<HolidayMap>,
    /// Years for which a holiday file is authoritative.
    file_years: BTreeSet<i32>,
}

impl fmt::Debug for BusinessCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessCalendar")
            .field("days", &self.days)
            .field("hours", &format_args!("{}", self.hours))
            .field("holidays", &self.holidays.len())
            .field("file_years", &self.file_years)
            .finish()
    }
}

impl BusinessCalendar {
    /// A calendar with the built-in Japanese holiday rules.
    pub fn new(days: DetailsDays, hours: OpeningHours) -> Self {
        let mut map = HolidayMap::new();
        for year in PRECOMPUTED_YEARS {
            for (date, name) in holidays::national_holidays(year) {
                map.insert(date, Cow::Borrowed(name));
            }
        }
        BusinessCalendar {
            days,
            hours,
            holidays: Arc::new(map),
            file_years: BTreeSet::new(),
        }
    }

    /// Applies a holiday file (e.g. the Cabinet Office's `syukujitsu.csv`).
    ///
    /// For every year that appears in `holidays`, the file is authoritative:
    /// built-in holidays of that year that are not in the file are dropped.
    /// Years not in the file keep the built-in rules.
    pub fn with_holidays_file(mut self, holidays: Vec<Holiday>) -> Self {
        let years: BTreeSet<i32> = holidays.iter().map(|h| h.date.year()).collect();
        let map = Arc::make_mut(&mut self.holidays);
        map.retain(|date, _| {
            !years.contains(&date.year()) || self.file_years.contains(&date.year())
        });
        for h in holidays {
            map.insert(h.date, Cow::Owned(h.name));
        }
        self.file_years.extend(years);
        self
    }

    /// Which days the endpoint is available on.
    pub fn days(&self) -> DetailsDays {
        self.days
    }

    /// The daily opening hours (JST).
    pub fn hours(&self) -> OpeningHours {
        self.hours
    }

    /// The name of the national holiday on `date` (a JST date), if any.
    ///
    /// The year-end break (Dec 29 – Jan 3) is not a national holiday, except
    /// for 元日 (Jan 1).
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        if let Some(name) = self.holidays.get(&date) {
            return Some(name);
        }
        let year = date.year();
        if PRECOMPUTED_YEARS.contains(&year) || self.file_years.contains(&year) {
            return None;
        }
        holidays::national_holidays(year)
            .into_iter()
            .find(|(d, _)| *d == date)
            .map(|(_, name)| name)
    }

    /// Whether `date` (a JST date) is a day the endpoint opens on, per
    /// [`DetailsDays`]: `All` => every day, `None` => no day, `JpBusiness` =>
    /// not a weekend, national holiday or year-end break (Dec 29 – Jan 3).
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        match self.days {
            DetailsDays::All => true,
            DetailsDays::None => false,
            DetailsDays::JpBusiness => {
                !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
                    && !is_year_end_break(date)
                    && self.holiday_name(date).is_none()
            }
        }
    }

    /// Whether the endpoint is open at `at`: a business day (by JST date) and
    /// `open <= JST time < close`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&jst());
        let time = local.time();
        self.is_business_day(local.date_naive())
            && self.hours.open <= time
            && time < self.hours.close
    }

    /// The next instant strictly after `at` at which the endpoint opens.
    ///
    /// If it is open at `at`, that is the opening after the current window
    /// closes. `None` if it never opens (`DetailsDays::None`) or does not open
    /// within about 400 days.
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.days == DetailsDays::None {
            return None;
        }
        let today = Self::today_jst(at);
        (0..=SEARCH_DAYS)
            .filter_map(|n| today.checked_add_days(Days::new(n)))
            .filter(|d| self.is_business_day(*d))
            .filter_map(|d| jst_instant(d, self.hours.open))
            .find(|opening| *opening > at)
    }

    /// The next instant after `at` at which [`is_open`](Self::is_open) flips:
    /// today's closing time if open now, else the next opening. `None` if it
    /// never changes.
    pub fn next_change(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(at) {
            self.closes_at(at)
        } else {
            self.next_opening(at)
        }
    }

    /// If open at `at`, the instant the current window closes; else `None`.
    pub fn closes_at(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.is_open(at) {
            return None;
        }
        jst_instant(Self::today_jst(at), self.hours.close)
    }

    /// The JST calendar date of `at`.
    pub fn today_jst(at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&jst()).date_naive()
    }
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        BusinessCalendar::new(DetailsDays::default(), OpeningHours::default())
    }
}

/// Dec 29 – Jan 3, inclusive.
fn is_year_end_break(date: NaiveDate) -> bool {
    match date.month() {
        12 => date.day() >= 29,
        1 => date.day() <= 3,
        _ => false,
    }
}

/// The UTC instant of JST `date` at `time`.
fn jst_instant(date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    date.and_time(time)
        .and_local_timezone(jst())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests;
