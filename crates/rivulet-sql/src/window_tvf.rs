//! Flink's window table functions in a query's FROM clause, rewritten into
//! SQL DataFusion plans: `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL
//! '10' SECOND))` (positional or with `DATA =>`, `TIMECOL =>`, `SIZE =>`)
//! becomes a subquery over `t` with Flink's three window columns:
//! `window_start` (the time rounded down to a multiple of the size since
//! the epoch), `window_end` (start plus size) and `window_time` (end minus
//! one millisecond, the window's rowtime).
//!
//! The planner then recognises a GROUP BY on `window_start, window_end` as
//! a window aggregation. Windows other than TUMBLE are a plan error naming
//! them until they are built.

/// The query with every window table function rewritten; an error comes
/// with the byte offset of the call it is about.
pub fn rewrite_window_tvfs(query: &str) -> Result<String, (usize, String)> {
    let mut out = String::with_capacity(query.len() + 128);
    let mut rest = query;
    while let Some(at) = find_table_call(rest) {
        out.push_str(&rest[..at.start]);
        let (function, arguments) = (&rest[at.function.clone()], &rest[at.arguments.clone()]);
        let offset = query.len() - rest.len() + at.start;
        out.push_str(&window_subquery(function, arguments).map_err(|m| (offset, m))?);
        rest = &rest[at.end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Where one `TABLE(FN(args))` is: the whole call, the function name and
/// the text of its arguments.
struct TableCall {
    start: usize,
    function: std::ops::Range<usize>,
    arguments: std::ops::Range<usize>,
    end: usize,
}

const WINDOW_FUNCTIONS: &[&str] = &["TUMBLE", "HOP", "CUMULATE", "SESSION"];

fn find_table_call(text: &str) -> Option<TableCall> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut quoted = false;
    while at < bytes.len() {
        let b = bytes[at];
        if b == b'\'' {
            quoted = !quoted;
        }
        let word_start = !quoted && (at == 0 || !is_word(bytes[at - 1]));
        if word_start && starts_with_word(&text[at..], "TABLE") {
            let after = skip_space(text, at + 5);
            if bytes.get(after) == Some(&b'(') {
                let name_start = skip_space(text, after + 1);
                let name_end = name_start
                    + text[name_start..]
                        .bytes()
                        .take_while(|b| is_word(*b))
                        .count();
                let name = text[name_start..name_end].to_ascii_uppercase();
                let open = skip_space(text, name_end);
                if WINDOW_FUNCTIONS.contains(&name.as_str()) && bytes.get(open) == Some(&b'(') {
                    let close = matching_paren(text, open)?;
                    let outer_close = skip_space(text, close + 1);
                    if bytes.get(outer_close) == Some(&b')') {
                        return Some(TableCall {
                            start: at,
                            function: name_start..name_end,
                            arguments: open + 1..close,
                            end: outer_close + 1,
                        });
                    }
                }
            }
        }
        at += 1;
    }
    None
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn starts_with_word(text: &str, word: &str) -> bool {
    text.len() >= word.len()
        && text[..word.len()].eq_ignore_ascii_case(word)
        && !text.as_bytes().get(word.len()).is_some_and(|b| is_word(*b))
}

fn skip_space(text: &str, from: usize) -> usize {
    from + text[from..]
        .bytes()
        .take_while(u8::is_ascii_whitespace)
        .count()
}

/// The index of the `)` closing the `(` at `open`, quotes respected.
fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, b) in text.bytes().enumerate().skip(open) {
        match b {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits arguments on top-level commas.
fn split_arguments(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0);
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            b',' if !quoted && depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts
}

/// An argument without its `NAME =>`, and the name if it had one.
fn named(argument: &str) -> (Option<String>, &str) {
    match argument.split_once("=>") {
        Some((name, value)) if name.trim().bytes().all(is_word) => {
            (Some(name.trim().to_ascii_uppercase()), value.trim())
        }
        _ => (None, argument),
    }
}

fn window_subquery(function: &str, arguments: &str) -> Result<String, String> {
    let function = function.to_ascii_uppercase();
    if function != "TUMBLE" {
        return Err(format!(
            "The window table function {function} is not supported yet; Rivulet has TUMBLE."
        ));
    }
    let mut data = None;
    let mut time_column = None;
    let mut size = None;
    for (position, argument) in split_arguments(arguments).into_iter().enumerate() {
        let (name, value) = named(argument);
        match (name.as_deref(), position) {
            (Some("DATA"), _) | (None, 0) => data = Some(value),
            (Some("TIMECOL"), _) | (None, 1) => time_column = Some(value),
            (Some("SIZE"), _) | (None, 2) => size = Some(value),
            (Some("OFFSET"), _) | (None, 3) => {
                return Err("TUMBLE with an offset is not supported yet.".into());
            }
            (Some(other), _) => {
                return Err(format!("TUMBLE has no parameter named {other}."));
            }
            (None, _) => return Err("TUMBLE takes at most 4 arguments.".into()),
        }
    }
    let usage = "TUMBLE(TABLE data, DESCRIPTOR(timecol), size)";
    let data = data
        .and_then(|d| {
            starts_with_word(d, "TABLE")
                .then(|| d[5..].trim())
                .filter(|t| !t.is_empty())
        })
        .ok_or_else(|| format!("The first argument of {usage} must be TABLE <name>."))?;
    let time_column = time_column
        .and_then(|t| {
            starts_with_word(t, "DESCRIPTOR")
                .then(|| t[10..].trim())
                .and_then(|t| t.strip_prefix('('))
                .and_then(|t| t.strip_suffix(')'))
                .map(str::trim)
        })
        .ok_or_else(|| format!("The second argument of {usage} must be DESCRIPTOR(<column>)."))?;
    let size = size.ok_or_else(|| format!("{usage} needs a size, e.g. INTERVAL '10' SECOND."))?;
    let start = format!("date_bin({size}, {time_column}, TIMESTAMP '1970-01-01 00:00:00')");
    Ok(format!(
        "(SELECT *, {start} AS window_start, {start} + {size} AS window_end, \
         {start} + {size} - INTERVAL '0.001' SECOND AS window_time FROM {data})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumble_becomes_a_subquery_with_the_window_columns() {
        let query = "SELECT window_start, COUNT(*) FROM TABLE(\n  TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY window_start, window_end";
        let rewritten = rewrite_window_tvfs(query).unwrap();
        assert!(rewritten.starts_with("SELECT window_start, COUNT(*) FROM (SELECT *, date_bin(INTERVAL '10' SECOND, dateTime, "), "{rewritten}");
        assert!(
            rewritten.ends_with("FROM bid) GROUP BY window_start, window_end"),
            "{rewritten}"
        );
        let named = "SELECT * FROM TABLE(TUMBLE(DATA => TABLE bid, TIMECOL => DESCRIPTOR(ts), SIZE => INTERVAL '1' MINUTE))";
        let rewritten = rewrite_window_tvfs(named).unwrap();
        assert!(
            rewritten.contains("date_bin(INTERVAL '1' MINUTE, ts,"),
            "{rewritten}"
        );
        // Text in quotes and other TABLE uses are left alone.
        let plain = "SELECT 'TABLE(TUMBLE(x))' FROM t";
        assert_eq!(rewrite_window_tvfs(plain).unwrap(), plain);
    }

    #[test]
    fn other_windows_and_bad_arguments_are_named() {
        let hop = rewrite_window_tvfs(
            "SELECT * FROM TABLE(HOP(TABLE b, DESCRIPTOR(t), INTERVAL '2' SECOND, INTERVAL '10' SECOND))",
        );
        let (offset, message) = hop.unwrap_err();
        assert_eq!(offset, 14);
        assert!(message.contains("HOP is not supported yet"));
        let bad = rewrite_window_tvfs(
            "SELECT * FROM TABLE(TUMBLE(b, DESCRIPTOR(t), INTERVAL '2' SECOND))",
        );
        assert!(bad.unwrap_err().1.contains("must be TABLE <name>"));
    }
}
