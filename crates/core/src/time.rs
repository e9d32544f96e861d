//! Recorded time. The core never reads a clock: every instant arrives inside a command as
//! RFC 3339 text with an offset and is kept as milliseconds since the Unix epoch.
//! Festival days are Asia/Shanghai calendar days (UTC+8, no daylight saving since 1991).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// Seconds east of UTC for Asia/Shanghai.
pub const SHANGHAI_OFFSET_S: i64 = 8 * 3600;
const MS_PER_DAY: i64 = 86_400_000;

/// An instant: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ts(pub i64);

/// A festival day: days since 1970-01-01 on the Asia/Shanghai calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Day(pub i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 time with an offset (e.g. 2021-11-11T20:00:00+08:00)")]
pub struct BadTime(pub String);

impl Ts {
    /// Parses RFC 3339 with a mandatory offset (`Z` or `±hh:mm`).
    pub fn parse(s: &str) -> Result<Ts, BadTime> {
        let dt = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| BadTime(s.to_string()))?;
        let ms = dt.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms).map(Ts).map_err(|_| BadTime(s.to_string()))
    }

    /// Midnight at the start of `day` in Asia/Shanghai.
    pub fn start_of(day: Day) -> Ts {
        Ts(day.0 as i64 * MS_PER_DAY - SHANGHAI_OFFSET_S * 1000)
    }

    pub fn day(self) -> Day {
        Day((self.0 + SHANGHAI_OFFSET_S * 1000).div_euclid(MS_PER_DAY) as i32)
    }

    pub fn plus_ms(self, ms: i64) -> Ts {
        Ts(self.0 + ms)
    }

    /// RFC 3339 in Asia/Shanghai time, with milliseconds only when they are not zero.
    pub fn to_rfc3339(self) -> String {
        let offset = UtcOffset::from_whole_seconds(SHANGHAI_OFFSET_S as i32).expect("valid offset");
        let nanos = self.0 as i128 * 1_000_000;
        match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(dt) => {
                let dt = dt.to_offset(offset);
                let (y, mo, d) = (dt.year(), dt.month() as u8, dt.day());
                let (h, mi, s) = (dt.hour(), dt.minute(), dt.second());
                let ms = dt.millisecond();
                let Some(y) = u16::try_from(y).ok().filter(|y| *y <= 9999) else {
                    return match ms {
                        0 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+08:00"),
                        _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}+08:00"),
                    };
                };
                // By hand rather than `format!`: every event a response or a view shows
                // carries times, and the formatting machinery was a visible share of a
                // coupon claim's answer.
                let mut out = String::with_capacity(29);
                digits(&mut out, u32::from(y), 4);
                for (sep, v) in [('-', mo), ('-', d), ('T', h), (':', mi), (':', s)] {
                    out.push(sep);
                    digits(&mut out, u32::from(v), 2);
                }
                if ms != 0 {
                    out.push('.');
                    digits(&mut out, u32::from(ms), 3);
                }
                out.push_str("+08:00");
                out
            }
            Err(_) => format!("@{}ms", self.0),
        }
    }
}

/// `v` in decimal, zero-padded to `width` digits (at most 4; `v` below 10^width).
fn digits(out: &mut String, v: u32, width: u32) {
    for i in (0..width).rev() {
        let d = (v / 10u32.pow(i)) % 10;
        out.push(char::from(b'0' + d as u8));
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// RFC 3339 text in human-readable formats (JSON); milliseconds in binary ones (the log).
impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_rfc3339())
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ts, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Ts::parse(&s).map_err(serde::de::Error::custom)
        } else {
            i64::deserialize(d).map(Ts)
        }
    }
}

impl Day {
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Day> {
        let m = time::Month::try_from(month).ok()?;
        let date = Date::from_calendar_date(year, m, day).ok()?;
        Some(Day(date.to_julian_day()
            - Date::from_calendar_date(1970, time::Month::January, 1).expect("epoch").to_julian_day()))
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Day> {
        let mut it = s.splitn(3, '-');
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        if s.len() != 10 {
            return None;
        }
        Day::from_ymd(y, m, d)
    }

    pub fn next(self) -> Day {
        Day(self.0 + 1)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let epoch = Date::from_calendar_date(1970, time::Month::January, 1).expect("epoch");
        match Date::from_julian_day(epoch.to_julian_day() + self.0) {
            Ok(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day()),
            Err(_) => write!(f, "day{}", self.0),
        }
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i32(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        if !d.is_human_readable() {
            return i32::deserialize(d).map(Day);
        }
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Day::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a date YYYY-MM-DD")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_and_maps_to_shanghai_days() {
        let a = Ts::parse("2021-11-11T00:00:00+08:00").unwrap();
        let b = Ts::parse("2021-11-10T16:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.day().to_string(), "2021-11-11");
        // One millisecond earlier is still 11-10 in Shanghai.
        assert_eq!(a.plus_ms(-1).day().to_string(), "2021-11-10");
        assert_eq!(Ts::start_of(a.day()), a);
        assert_eq!(a.to_rfc3339(), "2021-11-11T00:00:00+08:00");
    }

    proptest::proptest! {
        /// Years 1 to 9999: the hand-written formatting is the `format!` one, and parses back to the time.
        #[test]
        fn formats_as_rfc3339_and_parses_back(ms in -62_135_596_800_000i64..253_402_300_799_999i64) {
            let t = Ts(ms);
            let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap()
                .to_offset(UtcOffset::from_whole_seconds(SHANGHAI_OFFSET_S as i32).unwrap());
            let (y, mo, d, h, mi, s, milli) =
                (dt.year(), dt.month() as u8, dt.day(), dt.hour(), dt.minute(), dt.second(), dt.millisecond());
            let want = if milli == 0 {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+08:00")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}+08:00")
            };
            proptest::prop_assert_eq!(t.to_rfc3339(), want.clone());
            if y >= 0 {
                proptest::prop_assert_eq!(Ts::parse(&want).unwrap(), t);
            }
        }
    }

    #[test]
    fn rejects_times_without_offset() {
        assert!(Ts::parse("2021-11-11T00:00:00").is_err());
        assert!(Ts::parse("2021-11-11").is_err());
        assert!(Ts::parse("yesterday").is_err());
    }

    #[test]
    fn day_round_trips_through_text() {
        let d = Day::parse("2021-10-20").unwrap();
        assert_eq!(d.to_string(), "2021-10-20");
        assert_eq!(d.next().to_string(), "2021-10-21");
        assert!(Day::parse("2021-02-30").is_none());
        assert!(Day::parse("2021-2-3").is_none());
    }
}
