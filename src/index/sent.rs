//! When an e-mail was sent, for `sent:` in a query (`sent:2020-03`, `sent:2019..2020-06-30`,
//! `sent:>=2021`).
//!
//! Days are numbers `YYYYMMDD` (2020-03-05 is 20200305), so that days compare as numbers and
//! a month or a year is a range of them: March 2020 is `20200300..20200400`, 2020 is
//! `20200000..20210000` (the bounds need not be days themselves). The day of an e-mail is the
//! date its `Date` header gives, in the message's own time zone (what the reader of the
//! message sees on it; Outlook `.msg` files store the time in UTC). An attachment has the
//! day of its message.

use std::ops::Range;

use crate::ingest::types::MailInfo;

/// Whether `year`-`month`-`day` is a day of the (proleptic Gregorian) calendar.
fn is_day(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The day an e-mail was sent (`YYYYMMDD`), from the RFC 3339 date [`MailInfo`] keeps; `None`
/// without a `Date` header or with one that names no real day.
pub fn sent_day(mail: &MailInfo) -> Option<u32> {
    let date = mail.date.as_deref()?;
    let part = |r: Range<usize>| -> Option<u32> {
        let s = date.get(r)?;
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if date.as_bytes().get(4) != Some(&b'-') || date.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    let (y, m, d) = (part(0..4)?, part(5..7)?, part(8..10)?);
    (y > 0 && is_day(y, m, d)).then_some(y * 10_000 + m * 100 + d)
}

/// The days an e-mail may have been sent on: `from` (included) to `until` (excluded), as
/// `YYYYMMDD` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentWindow {
    /// First day admitted (or a lower bound below it).
    pub from: u32,
    /// First day past the window (or a bound above the last day admitted).
    pub until: u32,
}

/// How `sent:` is written, for error messages.
const FORMS: &str = "write a day, month or year (sent:2020-03-05, sent:2020-03, sent:2020), \
                     a range of them (sent:2019-11..2020-02-15, sent:2021.., sent:..2019) or a \
                     comparison (sent:>=2020-06, sent:<2021)";

/// The window a comparison with a period (its range of days) makes.
type Comparison = fn(Range<u32>) -> SentWindow;

/// A day, month or year: `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (`/` may stand for `-`), as the
/// range of day numbers it spans.
fn period(s: &str) -> Result<Range<u32>, String> {
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    let number = |p: &str, digits: &[usize]| -> Option<u32> {
        (digits.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let not_a_date = || format!("{s:?} is not a date");
    let year = number(parts[0], &[4]).ok_or_else(not_a_date)?;
    if year == 0 {
        return Err(not_a_date());
    }
    let start = year * 10_000;
    match parts[1..] {
        [] => Ok(start..start + 10_000),
        [m] => {
            let m = number(m, &[1, 2]).ok_or_else(not_a_date)?;
            if !(1..=12).contains(&m) {
                return Err(format!("{s:?}: there is no month {m}"));
            }
            let start = start + m * 100;
            Ok(start..start + 100)
        }
        [m, d] => {
            let (m, d) = (
                number(m, &[1, 2]).ok_or_else(not_a_date)?,
                number(d, &[1, 2]).ok_or_else(not_a_date)?,
            );
            if !is_day(year, m, d) {
                return Err(format!("{s:?} is not a day of the calendar"));
            }
            let day = start + m * 100 + d;
            Ok(day..day + 1)
        }
        _ => Err(not_a_date()),
    }
}

impl SentWindow {
    /// Every day.
    pub const ANY: SentWindow = SentWindow {
        from: 0,
        until: u32::MAX,
    };

    /// Reads what follows `sent:`: a period (`2020-03`), a range of periods, both ends
    /// included (`2019-11..2020-02-15`, `2021..`, `..2019`), or a comparison with one
    /// (`>2020`: from 2021 on; `>=2020-06`, `<2021`, `<=2020-12-31`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let why = |e: String| format!("sent:{spec}: {e}; {FORMS}");
        // `>P` starts after P, `>=P` with it; `<P` ends before P, `<=P` with it.
        let comparisons: [(&str, Comparison); 4] = [
            (">=", |p| SentWindow {
                from: p.start,
                ..Self::ANY
            }),
            ("<=", |p| SentWindow {
                until: p.end,
                ..Self::ANY
            }),
            (">", |p| SentWindow {
                from: p.end,
                ..Self::ANY
            }),
            ("<", |p| SentWindow {
                until: p.start,
                ..Self::ANY
            }),
        ];
        let compared = comparisons
            .iter()
            .find_map(|(op, window)| spec.strip_prefix(op).map(|p| (p, window)));
        let window = if let Some((a, b)) = spec.split_once("..") {
            if a.is_empty() && b.is_empty() {
                return Err(why("a range needs a first or a last day".into()));
            }
            let bound = |s: &str| -> Result<Option<Range<u32>>, String> {
                (!s.is_empty()).then(|| period(s).map_err(why)).transpose()
            };
            SentWindow {
                from: bound(a)?.map_or(Self::ANY.from, |p| p.start),
                until: bound(b)?.map_or(Self::ANY.until, |p| p.end),
            }
        } else if let Some((p, window)) = compared {
            window(period(p).map_err(why)?)
        } else {
            let p = period(spec).map_err(why)?;
            SentWindow {
                from: p.start,
                until: p.end,
            }
        };
        if window.is_empty() {
            return Err(format!("sent:{spec} ends before it starts"));
        }
        Ok(window)
    }

    /// The days both windows admit.
    pub fn and(self, other: SentWindow) -> SentWindow {
        SentWindow {
            from: self.from.max(other.from),
            until: self.until.min(other.until),
        }
    }

    /// Whether no day lies in the window.
    pub fn is_empty(&self) -> bool {
        self.from >= self.until
    }

    /// Whether an e-mail (or attachment) sent on `day` is in the window; a document without
    /// a day (not an e-mail, or a message without a date) never is.
    pub fn admits(&self, day: Option<u32>) -> bool {
        day.is_some_and(|d| (self.from..self.until).contains(&d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(spec: &str) -> (u32, u32) {
        let w = SentWindow::parse(spec).unwrap_or_else(|e| panic!("{e}"));
        (w.from, w.until)
    }

    fn mail(date: &str) -> MailInfo {
        MailInfo {
            date: Some(date.into()),
            ..MailInfo::default()
        }
    }

    #[test]
    fn an_e_mail_is_sent_on_the_day_its_own_date_header_names() {
        assert_eq!(sent_day(&mail("2020-03-03T10:15:00Z")), Some(20200303));
        // The sender's local day, not the day in UTC.
        assert_eq!(sent_day(&mail("2020-03-03T23:30:00-05:00")), Some(20200303));
        assert_eq!(sent_day(&mail("2020-02-29T08:00:00Z")), Some(20200229));
        for bad in [
            "2019-02-29T08:00:00Z",
            "2020-13-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "yesterday",
            "",
        ] {
            assert_eq!(sent_day(&mail(bad)), None, "{bad}");
        }
        assert_eq!(sent_day(&MailInfo::default()), None);
    }

    #[test]
    fn a_day_month_or_year_is_the_window_of_its_days() {
        assert_eq!(window("2020-03-05"), (20200305, 20200306));
        assert_eq!(window("2020/3/5"), (20200305, 20200306));
        assert_eq!(window("2020-03"), (20200300, 20200400));
        assert_eq!(window("2020"), (20200000, 20210000));
        let march = SentWindow::parse("2020-03").unwrap();
        assert!(march.admits(Some(20200301)) && march.admits(Some(20200331)));
        assert!(!march.admits(Some(20200229)) && !march.admits(Some(20200401)));
        assert!(
            !march.admits(None),
            "a document without a date is never in a window"
        );
    }

    #[test]
    fn ranges_include_both_ends_and_comparisons_read_as_written() {
        assert_eq!(window("2019-11..2020-02-15"), (20191100, 20200216));
        assert_eq!(window("2021.."), (20210000, u32::MAX));
        assert_eq!(window("..2019"), (0, 20200000));
        // After 2020 is from 2021 on; before 2021 is up to the end of 2020.
        assert_eq!(window(">2020"), (20210000, u32::MAX));
        assert_eq!(window(">=2020-06"), (20200600, u32::MAX));
        assert_eq!(window("<2021"), (0, 20210000));
        assert_eq!(window("<=2020-12-31"), (0, 20201232));
        let both = SentWindow::parse(">=2020-06")
            .unwrap()
            .and(SentWindow::parse("<2021").unwrap());
        assert_eq!((both.from, both.until), (20200600, 20210000));
        assert!(
            SentWindow::parse("2020")
                .unwrap()
                .and(SentWindow::parse("2021").unwrap())
                .is_empty()
        );
    }

    #[test]
    fn what_is_not_a_date_is_refused_with_the_forms_that_are() {
        for (spec, says) in [
            ("3/5/2020", "is not a date"),
            ("2020-13", "no month 13"),
            ("2021-02-29", "not a day of the calendar"),
            ("2020-03-05-01", "is not a date"),
            ("..", "needs a first or a last day"),
            ("", "is not a date"),
            ("march", "is not a date"),
        ] {
            let e = SentWindow::parse(spec).unwrap_err();
            assert!(
                e.contains(says) && e.contains("sent:2020-03"),
                "{spec}: {e}"
            );
        }
        let e = SentWindow::parse("2021..2020").unwrap_err();
        assert!(e.contains("ends before it starts"), "{e}");
    }
}
