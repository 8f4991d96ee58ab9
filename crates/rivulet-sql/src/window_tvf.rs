//! Flink's window table functions in a query's FROM clause:
//! `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size))`,
//! `TABLE(HOP(TABLE t, DESCRIPTOR(ts), slide, size))` and
//! `TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), step, size))` (positional, or
//! named `DATA =>`, `TIMECOL =>`, `SIZE =>`, `SLIDE =>`, `STEP =>`).
//!
//! DataFusion has no table functions of that shape, so each call becomes a
//! subquery over `t` adding Flink's three window columns through marker
//! functions: `window_start`, `window_end` and `window_time` are
//! `__window_start(ts, 'HOP', slide, size)` and so on. The markers only let
//! DataFusion type the columns; the planner lowers a projection holding them
//! to the `WindowTableFunction` operator, which gives each row its windows
//! (several for HOP and CUMULATE), and the markers are never evaluated.
//!
//! `TABLE(SESSION(TABLE t [PARTITION BY k], DESCRIPTOR(ts), gap))` works the
//! same way, each row getting its own session `[ts, ts + gap)`; the window
//! aggregation after it merges the sessions of each of its keys (so the
//! GROUP BY keys, not the PARTITION BY columns, say whose sessions merge),
//! and a SESSION window is usable in a window aggregation only.

use arrow_schema::{DataType, TimeUnit};
use datafusion::common::{Result as DfResult, ScalarValue, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use rivulet_runtime::operators::WindowKind;

/// The window columns, in the order the operator appends them.
pub const WINDOW_COLUMNS: [&str; 3] = ["window_start", "window_end", "window_time"];

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
    // Each function's parameters after DATA and TIMECOL, in order.
    let (usage, parameters): (&str, &[&str]) = match function.as_str() {
        "TUMBLE" => ("TUMBLE(TABLE data, DESCRIPTOR(timecol), size)", &["SIZE"]),
        "HOP" => (
            "HOP(TABLE data, DESCRIPTOR(timecol), slide, size)",
            &["SLIDE", "SIZE"],
        ),
        "CUMULATE" => (
            "CUMULATE(TABLE data, DESCRIPTOR(timecol), step, size)",
            &["STEP", "SIZE"],
        ),
        "SESSION" => (
            "SESSION(TABLE data [PARTITION BY columns], DESCRIPTOR(timecol), gap)",
            &["GAP"],
        ),
        _ => {
            return Err(format!(
                "The window table function {function} is not supported yet; Rivulet has TUMBLE, HOP, CUMULATE and SESSION."
            ));
        }
    };
    let mut data = None;
    let mut time_column = None;
    let mut values: Vec<Option<&str>> = vec![None; parameters.len()];
    for (position, argument) in split_arguments(arguments).into_iter().enumerate() {
        let (name, value) = named(argument);
        let slot = match name.as_deref() {
            Some("DATA") => 0,
            Some("TIMECOL") => 1,
            Some("OFFSET") => usize::MAX,
            Some(other) => match parameters.iter().position(|p| *p == other) {
                Some(i) => i + 2,
                None => return Err(format!("{function} has no parameter named {other}.")),
            },
            None => position,
        };
        match slot {
            0 => data = Some(value),
            1 => time_column = Some(value),
            i if i - 2 < parameters.len() => values[i - 2] = Some(value),
            _ if slot == usize::MAX || slot == parameters.len() + 2 => {
                return Err(format!("{function} with an offset is not supported yet."));
            }
            _ => return Err(format!("{usage} takes {} arguments.", parameters.len() + 2)),
        }
    }
    let data = data
        .and_then(|d| {
            starts_with_word(d, "TABLE")
                .then(|| d[5..].trim())
                .filter(|t| !t.is_empty())
        })
        .ok_or_else(|| format!("The first argument of {usage} must be TABLE <name>."))?;
    // A session's PARTITION BY: the aggregation's keys decide whose sessions merge.
    let data = match data.to_ascii_uppercase().find(" PARTITION ") {
        Some(at) if function == "SESSION" => data[..at].trim(),
        _ => data,
    };
    let time_column = time_column
        .and_then(|t| {
            starts_with_word(t, "DESCRIPTOR")
                .then(|| t[10..].trim())
                .and_then(|t| t.strip_prefix('('))
                .and_then(|t| t.strip_suffix(')'))
                .map(str::trim)
        })
        .ok_or_else(|| format!("The second argument of {usage} must be DESCRIPTOR(<column>)."))?;
    let mut intervals = Vec::new();
    for (parameter, value) in parameters.iter().zip(&values) {
        let value = value
            .ok_or_else(|| format!("{usage} needs its {parameter}, e.g. INTERVAL '10' SECOND."))?;
        intervals.push(value);
    }
    // TUMBLE's one size stands for both of the markers' intervals.
    let (first, second) = match intervals.as_slice() {
        [size] => (*size, *size),
        [a, b] => (*a, *b),
        _ => return Err(format!("{usage} takes {} arguments.", parameters.len() + 2)),
    };
    let call = |column: &str| {
        format!("__{column}({time_column}, '{function}', {first}, {second}) AS {column}")
    };
    Ok(format!(
        "(SELECT *, {}, {}, {} FROM {data})",
        call("window_start"),
        call("window_end"),
        call("window_time")
    ))
}

/// The marker functions the rewritten subqueries call, registered on the
/// planning context so DataFusion can type them.
pub fn register_window_markers(context: &SessionContext) {
    for column in WINDOW_COLUMNS {
        context.register_udf(ScalarUDF::new_from_impl(WindowColumn::new(column)));
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct WindowColumn {
    name: String,
    signature: Signature,
}

impl WindowColumn {
    fn new(column: &str) -> Self {
        WindowColumn {
            name: format!("__{column}"),
            // Volatile, so the optimizer neither folds nor moves the calls.
            signature: Signature::user_defined(Volatility::Volatile),
        }
    }
}

impl ScalarUDFImpl for WindowColumn {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        Ok(arg_types.to_vec())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Millisecond, None))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        exec_err!(
            "{} is computed by the window table function operator",
            self.name
        )
    }
}

/// The window column a marker call stands for, with the call's time
/// expression and window, if `expr` is one.
pub fn window_call(expr: &Expr) -> Option<Result<(&'static str, Expr, WindowKind), String>> {
    let Expr::ScalarFunction(ScalarFunction { func, args }) = expr else {
        return None;
    };
    let column = WINDOW_COLUMNS
        .iter()
        .find(|c| func.name().strip_prefix("__") == Some(**c))?;
    Some(window_of(args).map(|(time, kind)| (*column, time, kind)))
}

fn window_of(args: &[Expr]) -> Result<(Expr, WindowKind), String> {
    let [
        time,
        Expr::Literal(ScalarValue::Utf8(Some(function)), _),
        first,
        second,
    ] = args
    else {
        return Err("a window table function call Rivulet did not write".into());
    };
    let (first, second) = (millis(first)?, millis(second)?);
    let kind = match function.as_str() {
        "TUMBLE" => WindowKind::Tumble {
            size_millis: second,
        },
        "HOP" => WindowKind::Hop {
            slide_millis: first,
            size_millis: second,
        },
        "SESSION" => WindowKind::Session { gap_millis: second },
        _ => WindowKind::Cumulate {
            step_millis: first,
            size_millis: second,
        },
    };
    Ok((time.clone(), kind))
}

/// An interval literal in milliseconds (months have no fixed length).
fn millis(expr: &Expr) -> Result<i64, String> {
    let expr = match expr {
        Expr::Cast(cast) => cast.expr.as_ref(),
        other => other,
    };
    match expr {
        Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(v)), _) if v.months == 0 => {
            Ok(i64::from(v.days) * 86_400_000 + v.nanoseconds / 1_000_000)
        }
        Expr::Literal(ScalarValue::IntervalDayTime(Some(v)), _) => {
            Ok(i64::from(v.days) * 86_400_000 + i64::from(v.milliseconds))
        }
        other => Err(format!(
            "a window's size, slide and step must be INTERVALs of days or less, not {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_window_function_becomes_a_subquery_with_the_window_columns() {
        let query = "SELECT window_start, COUNT(*) FROM TABLE(\n  TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY window_start, window_end";
        let rewritten = rewrite_window_tvfs(query).unwrap();
        let tumble = "__window_start(dateTime, 'TUMBLE', INTERVAL '10' SECOND, INTERVAL '10' SECOND) AS window_start";
        assert!(rewritten.contains(tumble), "{rewritten}");
        assert!(
            rewritten.ends_with("FROM bid) GROUP BY window_start, window_end"),
            "{rewritten}"
        );
        let hop = "SELECT * FROM TABLE(HOP(TABLE b, DESCRIPTOR(t), SIZE => INTERVAL '10' SECOND, SLIDE => INTERVAL '2' SECOND))";
        let rewritten = rewrite_window_tvfs(hop).unwrap();
        let call = "__window_time(t, 'HOP', INTERVAL '2' SECOND, INTERVAL '10' SECOND)";
        assert!(rewritten.contains(call), "{rewritten}");
        let cumulate = "SELECT * FROM TABLE(CUMULATE(TABLE b, DESCRIPTOR(t), INTERVAL '2' SECOND, INTERVAL '10' SECOND))";
        let rewritten = rewrite_window_tvfs(cumulate).unwrap();
        assert!(
            rewritten.contains("__window_end(t, 'CUMULATE',"),
            "{rewritten}"
        );
        // Text in quotes is left alone.
        let plain = "SELECT 'TABLE(TUMBLE(x))' FROM t";
        assert_eq!(rewrite_window_tvfs(plain).unwrap(), plain);
    }

    #[test]
    fn session_windows_and_bad_arguments_are_named() {
        let session = rewrite_window_tvfs(
            "SELECT * FROM TABLE(SESSION(TABLE b PARTITION BY k, DESCRIPTOR(t), INTERVAL '2' SECOND))",
        )
        .unwrap();
        let end =
            "__window_end(t, 'SESSION', INTERVAL '2' SECOND, INTERVAL '2' SECOND) AS window_end";
        assert!(session.contains(end), "{session}");
        assert!(
            session.ends_with("FROM b)"),
            "the PARTITION BY is read: {session}"
        );
        let (offset, message) =
            rewrite_window_tvfs("SELECT * FROM TABLE(SESSION(TABLE b, DESCRIPTOR(t)))")
                .unwrap_err();
        assert_eq!(offset, 14);
        assert!(message.contains("needs its GAP"), "{message}");
        let bad = rewrite_window_tvfs(
            "SELECT * FROM TABLE(TUMBLE(b, DESCRIPTOR(t), INTERVAL '2' SECOND))",
        );
        assert!(bad.unwrap_err().1.contains("must be TABLE <name>"));
        let offset = rewrite_window_tvfs(
            "SELECT * FROM TABLE(TUMBLE(TABLE b, DESCRIPTOR(t), INTERVAL '2' SECOND, INTERVAL '1' SECOND))",
        );
        assert!(
            offset
                .unwrap_err()
                .1
                .contains("offset is not supported yet")
        );
    }
}
