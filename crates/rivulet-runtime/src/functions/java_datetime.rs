//! Java date-time patterns and Flink's timestamp string parsers, on chrono.
//!
//! Flink formats and parses with `java.time.format.DateTimeFormatter` patterns
//! (`yyyy-MM-dd HH:mm:ss`); [`JavaPattern`] translates one into chrono items
//! once, so a column is formatted or parsed without re-reading the pattern.
//! The parsers here mirror Flink's `DateTimeUtils`: missing fields default to
//! 1970-01-01 00:00:00, and `TO_TIMESTAMP` falls back to `java.sql.Timestamp`'s
//! and `java.sql.Date`'s lenient forms.

use std::fmt::Write;

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// A Java `DateTimeFormatter` pattern translated to chrono.
#[derive(Debug, Clone)]
pub struct JavaPattern {
    items: Vec<Item<'static>>,
}

impl JavaPattern {
    /// Translates `pattern`; unknown or unsupported letters are errors worded
    /// as Java words them.
    pub fn new(pattern: &str) -> Result<JavaPattern, String> {
        let strftime = to_strftime(pattern)?;
        let items = StrftimeItems::new(&strftime)
            .parse_to_owned()
            .map_err(|e| format!("cannot use pattern '{pattern}': {e}"))?;
        Ok(JavaPattern { items })
    }

    /// The length in seconds of the coarsest unit the pattern shows (a day
    /// for `yyyy-MM-dd`, a minute for `HH:mm`), so that two values in the
    /// same such unit format alike; `None` when it shows fractions of a
    /// second or anything else a value of another second could change.
    pub fn resolution_seconds(&self) -> Option<i64> {
        use chrono::format::{Fixed, Numeric};
        const DAY: i64 = 86_400;
        let mut finest = DAY;
        for item in &self.items {
            let unit = match item {
                Item::Literal(_) | Item::OwnedLiteral(_) | Item::Space(_) | Item::OwnedSpace(_) => {
                    continue;
                }
                Item::Numeric(numeric, _) => match numeric {
                    Numeric::Year
                    | Numeric::YearDiv100
                    | Numeric::YearMod100
                    | Numeric::IsoYear
                    | Numeric::IsoYearDiv100
                    | Numeric::IsoYearMod100
                    | Numeric::Quarter
                    | Numeric::Month
                    | Numeric::Day
                    | Numeric::WeekFromSun
                    | Numeric::WeekFromMon
                    | Numeric::IsoWeek
                    | Numeric::NumDaysFromSun
                    | Numeric::WeekdayFromMon
                    | Numeric::Ordinal => DAY,
                    Numeric::Hour | Numeric::Hour12 => 3_600,
                    Numeric::Minute => 60,
                    Numeric::Second => 1,
                    _ => return None,
                },
                Item::Fixed(fixed) => match fixed {
                    Fixed::ShortMonthName
                    | Fixed::LongMonthName
                    | Fixed::ShortWeekdayName
                    | Fixed::LongWeekdayName => DAY,
                    Fixed::LowerAmPm | Fixed::UpperAmPm => 3_600,
                    _ => return None,
                },
                Item::Error => return None,
            };
            finest = finest.min(unit);
        }
        Some(finest)
    }

    /// Appends `value` formatted with this pattern to `out`.
    pub fn format_into(&self, value: &NaiveDateTime, out: &mut String) -> std::fmt::Result {
        write!(out, "{}", value.format_with_items(self.items.iter()))
    }

    /// Parses the whole of `text`, filling fields the pattern lacks as Flink
    /// does (year 1970, January, the 1st, midnight). `None` when it does not match.
    pub fn parse(&self, text: &str) -> Option<NaiveDateTime> {
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, text, self.items.iter()).ok()?;
        complete(&mut parsed)?;
        parsed.to_naive_datetime_with_offset(0).ok()
    }
}

/// Fills the fields Flink defaults when a pattern does not mention them.
fn complete(parsed: &mut Parsed) -> Option<()> {
    if parsed.year().is_none() {
        match (parsed.year_div_100(), parsed.year_mod_100()) {
            // Java's `yy` reads years 2000 to 2099.
            (None, Some(_)) => parsed.set_year_div_100(20).ok()?,
            (None, None) => parsed.set_year(1970).ok()?,
            _ => {}
        }
    }
    if parsed.ordinal().is_none() {
        if parsed.month().is_none() {
            parsed.set_month(1).ok()?;
        }
        if parsed.day().is_none() {
            parsed.set_day(1).ok()?;
        }
    }
    if parsed.hour_mod_12().is_none() {
        parsed.set_hour(0).ok()?;
    }
    if parsed.minute().is_none() {
        parsed.set_minute(0).ok()?;
    }
    if parsed.second().is_none() {
        parsed.set_second(0).ok()?;
    }
    Some(())
}

/// Rewrites a Java pattern as a chrono strftime string.
fn to_strftime(pattern: &str) -> Result<String, String> {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut at = 0;
    let literal = |out: &mut String, c: char| {
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
    };
    while at < chars.len() {
        let c = chars[at];
        if c == '\'' {
            // `''` is a quote; otherwise text up to the next quote is literal.
            if chars.get(at + 1) == Some(&'\'') {
                out.push('\'');
                at += 2;
                continue;
            }
            at += 1;
            loop {
                match chars.get(at) {
                    None => {
                        return Err(format!(
                            "Pattern ends with an incomplete string literal: {pattern}"
                        ));
                    }
                    Some('\'') if chars.get(at + 1) == Some(&'\'') => {
                        out.push('\'');
                        at += 2;
                    }
                    Some('\'') => {
                        at += 1;
                        break;
                    }
                    Some(&other) => {
                        literal(&mut out, other);
                        at += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            literal(&mut out, c);
            at += 1;
            continue;
        }
        let count = chars[at..].iter().take_while(|&&d| d == c).count();
        at += count;
        let too_many = || format!("Too many pattern letters: {c}");
        let two = |one: &str, two: &str| match count {
            1 => Ok(one.to_string()),
            2 => Ok(two.to_string()),
            _ => Err(too_many()),
        };
        let spec = match c {
            'y' | 'u' => match count {
                2 => "%y".to_string(),
                _ => "%Y".to_string(),
            },
            'M' | 'L' => match count {
                1 => "%-m".to_string(),
                2 => "%m".to_string(),
                3 => "%b".to_string(),
                4 => "%B".to_string(),
                _ => return Err(too_many()),
            },
            'd' => two("%-d", "%d")?,
            'D' => match count {
                1 => "%-j".to_string(),
                3 => "%j".to_string(),
                _ => {
                    return Err(format!(
                        "pattern letters '{}' are not supported",
                        "D".repeat(count)
                    ));
                }
            },
            'H' => two("%-H", "%H")?,
            'h' => two("%-I", "%I")?,
            'm' => two("%-M", "%M")?,
            's' => two("%-S", "%S")?,
            'S' => match count {
                3 => "%3f".to_string(),
                6 => "%6f".to_string(),
                9 => "%9f".to_string(),
                _ => {
                    return Err(format!(
                        "fraction-of-second '{}' is not supported; use SSS, SSSSSS or SSSSSSSSS",
                        "S".repeat(count)
                    ));
                }
            },
            'a' if count == 1 => "%p".to_string(),
            'a' => return Err(too_many()),
            'E' => match count {
                1..=3 => "%a".to_string(),
                4 => "%A".to_string(),
                _ => return Err(too_many()),
            },
            other => return Err(format!("Unknown pattern letter: {other}")),
        };
        out.push_str(&spec);
    }
    Ok(out)
}

/// Digits at the start of `text`, at least `min` and at most `max` of them.
fn digits(text: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if len < min || len > max {
        return None;
    }
    Some((text[..len].parse().ok()?, &text[len..]))
}

fn expect(text: &str, separator: char) -> Option<&str> {
    text.strip_prefix(separator)
}

/// A fraction of a second after its dot, 1 to 9 digits, in nanoseconds.
fn fraction(text: &str) -> Option<(u32, &str)> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 || len > 9 {
        return None;
    }
    let digits: u32 = text[..len].parse().ok()?;
    Some((digits * 10u32.pow(9 - len as u32), &text[len..]))
}

/// Flink's default timestamp reading (`TO_TIMESTAMP(string)`):
/// `yyyy-M[M]-d[d]`, optionally followed by ` H[H]:m[m]:s[s]` and a fraction.
pub fn parse_default_timestamp(text: &str) -> Option<NaiveDateTime> {
    date_and_optional_time(text, 9)
}

/// `yyyy-M[M]-d[d]` with up to `max_year_digits` year digits, optionally
/// followed by ` H[H]:m[m]:s[s][.fraction]`; midnight when the time is absent.
fn date_and_optional_time(text: &str, max_year_digits: usize) -> Option<NaiveDateTime> {
    let (year, rest) = digits(text, 4, max_year_digits)?;
    let (month, rest) = digits(expect(rest, '-')?, 1, 2)?;
    let (day, rest) = digits(expect(rest, '-')?, 1, 2)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    if rest.is_empty() {
        return date.and_hms_opt(0, 0, 0);
    }
    let (time, rest) = time_of_day(expect(rest, ' ')?, 1)?;
    rest.is_empty().then(|| date.and_time(time))
}

/// `h:m:s[.fraction]` with hours, minutes and seconds of `min_digits` to 2 digits.
fn time_of_day(text: &str, min_digits: usize) -> Option<(NaiveTime, &str)> {
    let (hour, rest) = digits(text, min_digits, 2)?;
    let (minute, rest) = digits(expect(rest, ':')?, min_digits, 2)?;
    let (second, rest) = digits(expect(rest, ':')?, min_digits, 2)?;
    let (nanos, rest) = match rest.strip_prefix('.') {
        Some(after) => fraction(after)?,
        None => (0, rest),
    };
    Some((
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?,
        rest,
    ))
}

/// `java.sql.Timestamp.valueOf` or, without a space, `java.sql.Date.valueOf`:
/// Flink's fallback when a `TO_TIMESTAMP` pattern does not match.
pub fn parse_sql_fallback(text: &str) -> Option<NaiveDateTime> {
    date_and_optional_time(text.trim(), 4)
}

/// How Flink reads a string given to `DATE_FORMAT`: `yyyy-MM-dd HH:mm:ss` as a
/// lenient `SimpleDateFormat`, so text after the seconds (a fraction too) is
/// ignored and anything shorter is no timestamp.
pub fn parse_leading_timestamp(text: &str) -> Option<NaiveDateTime> {
    let (year, rest) = digits(text, 1, 9)?;
    let (month, rest) = digits(expect(rest, '-')?, 1, 9)?;
    let (day, rest) = digits(expect(rest, '-')?, 1, 9)?;
    let (hour, rest) = digits(expect(rest, ' ')?, 1, 9)?;
    let (minute, rest) = digits(expect(rest, ':')?, 1, 9)?;
    let (second, _) = digits(expect(rest, ':')?, 1, 9)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_opt(hour, minute, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn format(pattern: &str, value: &str) -> String {
        let mut out = String::new();
        JavaPattern::new(pattern)
            .unwrap()
            .format_into(&at(value), &mut out)
            .unwrap();
        out
    }

    #[test]
    fn java_patterns_format_like_date_time_formatter() {
        let t = "2024-03-05 14:07:09.042";
        assert_eq!(format("yyyy-MM-dd HH:mm:ss", t), "2024-03-05 14:07:09");
        assert_eq!(format("yyyyMMdd", t), "20240305");
        assert_eq!(format("HH:mm", t), "14:07");
        assert_eq!(format("SSS", t), "042");
        assert_eq!(format("d/M/yy h:m a", t), "5/3/24 2:7 PM");
        assert_eq!(format("EEE, MMM d", t), "Tue, Mar 5");
        assert_eq!(format("EEEE MMMM", t), "Tuesday March");
        assert_eq!(
            format("yyyy-MM-dd'T'HH 'o''clock' 100%", t),
            "2024-03-05T14 o'clock 100%"
        );
        assert_eq!(format("DDD", t), "065");
    }

    #[test]
    fn a_pattern_resolves_to_the_finest_unit_it_shows() {
        let resolution = |p: &str| JavaPattern::new(p).unwrap().resolution_seconds();
        assert_eq!(resolution("yyyy-MM-dd"), Some(86_400));
        assert_eq!(resolution("EEE, MMM d"), Some(86_400));
        assert_eq!(resolution("h a"), Some(3_600));
        assert_eq!(resolution("HH:mm"), Some(60));
        assert_eq!(resolution("yyyy-MM-dd HH:mm:ss"), Some(1));
        assert_eq!(resolution("HH:mm:ss.SSS"), None);
        assert_eq!(resolution("'at' yyyy"), Some(86_400));
    }

    #[test]
    fn bad_patterns_are_named_as_java_names_them() {
        assert_eq!(
            JavaPattern::new("yyyy-T").unwrap_err(),
            "Unknown pattern letter: T"
        );
        assert_eq!(
            JavaPattern::new("ddd").unwrap_err(),
            "Too many pattern letters: d"
        );
        assert!(JavaPattern::new("'open").is_err());
    }

    #[test]
    fn patterns_parse_with_flink_defaults() {
        let p = |pattern: &str, text: &str| JavaPattern::new(pattern).unwrap().parse(text);
        assert_eq!(p("yyyyMMdd", "20240102"), Some(at("2024-01-02 00:00:00")));
        assert_eq!(p("HH:mm", "08:30"), Some(at("1970-01-01 08:30:00")));
        assert_eq!(
            p("yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.678"),
            Some(at("2024-01-02 03:04:05.678"))
        );
        assert_eq!(p("dd/MM/yy", "31/12/99"), Some(at("2099-12-31 00:00:00")));
        assert_eq!(p("yyyy-MM-dd", "2024-01-02 extra"), None);
        assert_eq!(p("yyyy-MM-dd", "2024-02-30"), None);
    }

    #[test]
    fn flink_default_and_fallback_timestamp_forms() {
        assert_eq!(
            parse_default_timestamp("2024-1-2"),
            Some(at("2024-01-02 00:00:00"))
        );
        assert_eq!(
            parse_default_timestamp("2024-01-02 3:04:05.5"),
            Some(at("2024-01-02 03:04:05.5"))
        );
        assert_eq!(parse_default_timestamp("2024-01-02T03:04:05"), None);
        assert_eq!(parse_default_timestamp("yesterday"), None);
        assert_eq!(
            parse_sql_fallback(" 1999-9-10 05:20:10 "),
            Some(at("1999-09-10 05:20:10"))
        );
        assert_eq!(
            parse_sql_fallback("1999-9-10"),
            Some(at("1999-09-10 00:00:00"))
        );
        assert_eq!(
            parse_leading_timestamp("2024-01-02 03:04:05.678"),
            Some(at("2024-01-02 03:04:05"))
        );
        assert_eq!(parse_leading_timestamp("2024-01-02"), None);
    }
}
