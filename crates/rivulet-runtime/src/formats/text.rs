//! How Java and Flink write single values as text: `Double.toString`,
//! `LocalDateTime.toString`, `Instant.toString`, and the SQL timestamp form
//! of Flink's csv and json formats.

use std::fmt::Write;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// Java's `Double.toString`: plain between 10^-3 and 10^7, scientific
/// (`1.0E10`) outside, always with a fractional digit.
pub fn java_double(value: f64) -> String {
    java_floating(
        value.is_nan(),
        value.is_infinite(),
        value > 0.0,
        value.abs(),
        || (value.to_string(), format!("{value:e}")),
    )
}

/// Java's `Float.toString`, the same rules on the shortest `f32` digits.
pub fn java_float(value: f32) -> String {
    java_floating(
        value.is_nan(),
        value.is_infinite(),
        value > 0.0,
        f64::from(value).abs(),
        || (value.to_string(), format!("{value:e}")),
    )
}

/// Java's rules for both widths; `digits` gives the shortest plain and
/// scientific forms at the value's own width.
fn java_floating(
    nan: bool,
    infinite: bool,
    positive: bool,
    magnitude: f64,
    digits: impl FnOnce() -> (String, String),
) -> String {
    if nan {
        return "NaN".into();
    }
    if infinite {
        return if positive { "Infinity" } else { "-Infinity" }.into();
    }
    let (plain, scientific) = digits();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        with_fraction(plain)
    } else {
        java_scientific(scientific)
    }
}

fn with_fraction(mut plain: String) -> String {
    if !plain.contains('.') {
        plain.push_str(".0");
    }
    plain
}

/// `1.5e-5` → `1.5E-5`, `1e10` → `1.0E10`.
fn java_scientific(rust: String) -> String {
    match rust.split_once('e') {
        Some((mantissa, exponent)) => format!("{}E{exponent}", with_fraction(mantissa.into())),
        None => rust,
    }
}

/// `yyyy-MM-dd`, as `LocalDate.toString` and ISO_LOCAL_DATE write it.
pub fn iso_date(date: &NaiveDate, out: &mut String) {
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month(),
        date.day()
    );
}

/// Nanoseconds as Java's ISO formatters print them: nothing when zero, else
/// in groups of three digits.
fn java_fraction(nanos: u32, out: &mut String) {
    let _ = match nanos {
        0 => Ok(()),
        n if n % 1_000_000 == 0 => write!(out, ".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => write!(out, ".{:06}", n / 1_000),
        n => write!(out, ".{n:09}"),
    };
}

/// `LocalTime.toString`: `HH:mm`, then `:ss` and a fraction when not zero.
pub fn java_local_time(time: &NaiveTime, out: &mut String) {
    let _ = write!(out, "{:02}:{:02}", time.hour(), time.minute());
    let nanos = time.nanosecond() % 1_000_000_000;
    if time.second() != 0 || nanos != 0 {
        let _ = write!(out, ":{:02}", time.second());
        java_fraction(nanos, out);
    }
}

/// `LocalDateTime.toString`: `2024-01-01T12:00`, seconds only when needed.
pub fn java_local_date_time(value: &NaiveDateTime, out: &mut String) {
    iso_date(&value.date(), out);
    out.push('T');
    java_local_time(&value.time(), out);
}

/// `Instant.toString` of a UTC date-time: always seconds, then `Z`.
pub fn java_instant(value: &NaiveDateTime, out: &mut String) {
    iso_date(&value.date(), out);
    let time = value.time();
    let _ = write!(
        out,
        "T{:02}:{:02}:{:02}",
        time.hour(),
        time.minute(),
        time.second()
    );
    java_fraction(time.nanosecond() % 1_000_000_000, out);
    out.push('Z');
}

/// Flink's SQL time form: `HH:mm:ss`, then the fraction without trailing zeros.
pub fn sql_time(time: &NaiveTime, out: &mut String) {
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        time.hour(),
        time.minute(),
        time.second()
    );
    let nanos = time.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// Flink's SQL timestamp form (csv and json formats): `2024-01-01 12:00:00`,
/// a fraction only when not zero, and `Z` after a TIMESTAMP_LTZ.
pub fn sql_timestamp(value: &NaiveDateTime, local_zone: bool, out: &mut String) {
    iso_date(&value.date(), out);
    out.push(' ');
    sql_time(&value.time(), out);
    if local_zone {
        out.push('Z');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl Fn(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    #[test]
    fn doubles_print_as_java_prints_them() {
        assert_eq!(java_double(3.0), "3.0");
        assert_eq!(java_double(-0.5), "-0.5");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(1234567.25), "1234567.25");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.5e-5), "1.5E-5");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(f64::NAN), "NaN");
        assert_eq!(java_float(2.5), "2.5");
        assert_eq!(java_float(1e10), "1.0E10");
    }

    #[test]
    fn timestamps_print_as_java_and_flink_print_them() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap();
        let noon = t("2024-01-01 12:00:00");
        let frac = t("2024-01-01 12:00:00.120");
        assert_eq!(with(|o| java_local_date_time(&noon, o)), "2024-01-01T12:00");
        assert_eq!(
            with(|o| java_local_date_time(&frac, o)),
            "2024-01-01T12:00:00.120"
        );
        assert_eq!(with(|o| java_instant(&noon, o)), "2024-01-01T12:00:00Z");
        assert_eq!(
            with(|o| sql_timestamp(&noon, false, o)),
            "2024-01-01 12:00:00"
        );
        assert_eq!(
            with(|o| sql_timestamp(&frac, true, o)),
            "2024-01-01 12:00:00.12Z"
        );
    }
}
