//! Flink's SQL functions that DataFusion lacks or names differently,
//! registered on every context that plans or evaluates expressions.
//!
//! - `IF(condition, a, b)`: `a` where the condition is true, else `b` (a NULL
//!   condition counts as false).
//! - `SPLIT_INDEX(text, separator, index)`: the 0-based `index`-th piece of
//!   `text` split by `separator`, NULL when out of range ([`split_piece`]).
//! - `REGEXP_EXTRACT(text, regex[, group])`: the `group`-th capture group of the
//!   first match (0, the default, is the whole match); NULL when nothing matches.
//! - `CONCAT` with Flink's NULL handling ([`concat`]).
//! - `MOD(a, b)` for whole numbers, with Java's remainder ([`modulo`]).
//! - `DATE_FORMAT` and `TO_TIMESTAMP` with Java patterns ([`temporal`],
//!   [`java_datetime`]).
//! - `YEAR`, `MONTH`, `HOUR`, … : one field of a date-time ([`time_fields`]).
//! - `PROCTIME()`: the processing time ([`proctime`]).

mod concat;
pub mod java_datetime;
mod modulo;
pub mod proctime;
mod temporal;
mod time_fields;

use std::sync::{Arc, Mutex, PoisonError};

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, StringArray, new_null_array};
use arrow_schema::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use regex::Regex;

/// Registers Rivulet's Flink-compatible functions on `context`.
pub fn register(context: &SessionContext) {
    context.register_udf(ScalarUDF::new_from_impl(If::new()));
    context.register_udf(ScalarUDF::new_from_impl(SplitIndex::new()));
    context.register_udf(ScalarUDF::new_from_impl(RegexpExtract::new()));
    context.register_udf(ScalarUDF::new_from_impl(concat::Concat::new()));
    context.register_udf(ScalarUDF::new_from_impl(modulo::Mod::new()));
    context.register_udf(ScalarUDF::new_from_impl(temporal::DateFormat::new()));
    context.register_udf(ScalarUDF::new_from_impl(temporal::ToTimestamp::new()));
    context.register_udf(ScalarUDF::new_from_impl(proctime::Proctime::new()));
    for field in time_fields::TimeField::ALL {
        context.register_udf(ScalarUDF::new_from_impl(
            time_fields::TimeFieldFunction::new(field),
        ));
    }
}

/// A result computed from `args` as arrays, as a scalar when every argument
/// was one (so a constant call stays a constant rather than a 1-row column).
fn shaped_like(args: &[ColumnarValue], result: ArrayRef) -> Result<ColumnarValue> {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        return datafusion::common::ScalarValue::try_from_array(&result, 0)
            .map(ColumnarValue::Scalar);
    }
    Ok(ColumnarValue::Array(result))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct If {
    signature: Signature,
}

impl If {
    fn new() -> Self {
        If {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for If {
    fn name(&self) -> &str {
        "if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [_, a, b] = arg_types else {
            return plan_err!("IF takes 3 arguments: IF(condition, value_if_true, value_if_false)");
        };
        let Some(common) = comparison_coercion(a, b) else {
            return plan_err!("IF branches have incompatible types {a} and {b}");
        };
        Ok(vec![DataType::Boolean, common.clone(), common])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[1].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let condition = arrays[0].as_boolean();
        let chosen = arrow_select::zip::zip(condition, &arrays[1], &arrays[2])?;
        Ok(ColumnarValue::Array(chosen))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SplitIndex {
    signature: Signature,
}

impl SplitIndex {
    fn new() -> Self {
        SplitIndex {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SplitIndex {
    fn name(&self) -> &str {
        "split_index"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 3 {
            return plan_err!("SPLIT_INDEX takes 3 arguments: SPLIT_INDEX(text, separator, index)");
        }
        Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int64])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let mut pieces = StringBuilder::with_capacity(rows, 0);
        // The usual call, `SPLIT_INDEX(url, '/', 3)`: one separator and index.
        if let (
            ColumnarValue::Array(texts),
            ColumnarValue::Scalar(separator),
            ColumnarValue::Scalar(index),
        ) = (&args.args[0], &args.args[1], &args.args[2])
        {
            let texts = texts.as_string::<i32>();
            let separator = separator.try_as_str().flatten();
            let index = match index {
                ScalarValue::Int64(Some(index)) => usize::try_from(*index).ok(),
                _ => None,
            };
            let (Some(separator), Some(index)) = (separator, index) else {
                return Ok(ColumnarValue::Array(new_null_array(&DataType::Utf8, rows)));
            };
            for text in texts {
                pieces.append_option(text.and_then(|text| split_piece(text, separator, index)));
            }
            return Ok(ColumnarValue::Array(Arc::new(pieces.finish()) as ArrayRef));
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (texts, separators, indices) = (
            arrays[0].as_string::<i32>(),
            arrays[1].as_string::<i32>(),
            arrays[2].as_primitive::<Int64Type>(),
        );
        if texts.len() != separators.len() || texts.len() != indices.len() {
            return exec_err!("SPLIT_INDEX arguments have different lengths");
        }
        for row in 0..texts.len() {
            let piece = if texts.is_null(row) || separators.is_null(row) || indices.is_null(row) {
                None
            } else {
                usize::try_from(indices.value(row))
                    .ok()
                    .and_then(|index| split_piece(texts.value(row), separators.value(row), index))
            };
            pieces.append_option(piece);
        }
        shaped_like(&args.args, Arc::new(pieces.finish()) as ArrayRef)
    }
}

/// The group argument of `REGEXP_EXTRACT` when it is the same for every row
/// (or absent: 0): `Some(None)` for a NULL or negative one.
fn constant_group(group: &[ColumnarValue]) -> Option<Option<usize>> {
    match group {
        [] => Some(Some(0)),
        [ColumnarValue::Scalar(ScalarValue::Int64(group))] => {
            Some(group.and_then(|g| usize::try_from(g).ok()))
        }
        _ => None,
    }
}

/// `REGEXP_EXTRACT` of a column with one pattern and group for every row:
/// the pattern compiled once (`None` for an invalid one, which yields NULL,
/// as Flink's evaluation failures do) and its capture slots reused.
fn extract_with_constant_pattern(
    texts: &StringArray,
    regex: Option<&Regex>,
    group: Option<usize>,
) -> ArrayRef {
    let (Some(regex), Some(group)) = (regex, group) else {
        return new_null_array(&DataType::Utf8, texts.len());
    };
    let mut slots = regex.capture_locations();
    let mut extracted = StringBuilder::with_capacity(texts.len(), 0);
    for text in texts {
        let piece = text.and_then(|text| {
            regex.captures_read(&mut slots, text)?;
            let (start, end) = slots.get(group)?;
            text.get(start..end)
        });
        extracted.append_option(piece);
    }
    Arc::new(extracted.finish()) as ArrayRef
}

/// The `index`-th piece of `text` split at each `separator`, empty pieces
/// kept, as Flink's `SPLIT_INDEX` (commons-lang's
/// `splitByWholeSeparatorPreserveAllTokens`) cuts it: an empty text has no
/// pieces, and an empty separator splits at each Java whitespace character.
fn split_piece<'a>(text: &'a str, separator: &str, index: usize) -> Option<&'a str> {
    if text.is_empty() {
        return None;
    }
    if separator.is_empty() {
        return text.split(is_java_whitespace).nth(index);
    }
    let bytes = text.as_bytes();
    if let [byte] = separator.as_bytes() {
        return nth_piece_at_byte(text, *byte, index);
    }
    let mut start = 0;
    let next = |from: usize| -> Option<usize> {
        let rest = bytes.get(from..)?;
        match separator.as_bytes() {
            [byte] => memchr::memchr(*byte, rest),
            whole => memchr::memmem::find(rest, whole),
        }
        .map(|at| from + at)
    };
    for _ in 0..index {
        start = next(start)? + separator.len();
    }
    let end = next(start).unwrap_or(bytes.len());
    // Both ends are at a separator or the text's ends: char boundaries.
    text.get(start..end)
}

/// [`split_piece`] at a one-byte (ASCII) separator, in one pass over the
/// text: the pieces of a URL or a path are a few bytes each, and a search
/// started anew at each separator (memchr's) cost more to set up than the
/// bytes it passed over (a quarter of Nexmark q22, three pieces of each
/// URL).
fn nth_piece_at_byte(text: &str, separator: u8, index: usize) -> Option<&str> {
    let mut start = 0;
    let mut piece = 0;
    for (at, byte) in text.bytes().enumerate() {
        if byte == separator {
            if piece == index {
                // Both ends are at an ASCII byte or the text's ends.
                return text.get(start..at);
            }
            piece += 1;
            start = at + 1;
        }
    }
    (piece == index).then(|| text.get(start..)).flatten()
}

/// Java's `Character.isWhitespace`: Unicode spaces but the no-break ones,
/// and the ASCII separators U+001C to U+001F.
fn is_java_whitespace(c: char) -> bool {
    match c {
        '\u{1C}'..='\u{1F}' => true,
        '\u{85}' | '\u{A0}' | '\u{2007}' | '\u{202F}' => false,
        _ => c.is_whitespace(),
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpExtract {
    signature: Signature,
    last_pattern: LastPattern,
}

impl RegexpExtract {
    fn new() -> Self {
        RegexpExtract {
            signature: Signature::user_defined(Volatility::Immutable),
            last_pattern: LastPattern::default(),
        }
    }
}

/// The constant pattern compiled last, kept from batch to batch: compiled
/// for each batch, Nexmark q21's pattern took 7% of its time with batches
/// of 2048 rows. A cache, not part of what the function is: any two are
/// equal.
#[derive(Debug, Default)]
struct LastPattern(Mutex<Option<(String, Option<Regex>)>>);

impl LastPattern {
    /// `pattern` compiled; `None` when it is not a valid regex.
    fn compiled(&self, pattern: &str) -> Option<Regex> {
        let mut last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match last.as_ref() {
            Some((compiled, regex)) if compiled == pattern => regex.clone(),
            _ => {
                let regex = Regex::new(pattern).ok();
                *last = Some((pattern.to_string(), regex.clone()));
                regex
            }
        }
    }
}

impl PartialEq for LastPattern {
    fn eq(&self, _: &LastPattern) -> bool {
        true
    }
}

impl Eq for LastPattern {}

impl std::hash::Hash for LastPattern {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl ScalarUDFImpl for RegexpExtract {
    fn name(&self) -> &str {
        "regexp_extract"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.len() {
            2 => Ok(vec![DataType::Utf8, DataType::Utf8]),
            3 => Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int64]),
            _ => plan_err!(
                "REGEXP_EXTRACT takes 2 or 3 arguments: REGEXP_EXTRACT(text, regex[, group])"
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let [
            ColumnarValue::Array(texts),
            ColumnarValue::Scalar(pattern),
            group @ ..,
        ] = args.args.as_slice()
            && let Some(group) = constant_group(group)
        {
            let regex = pattern
                .try_as_str()
                .flatten()
                .and_then(|pattern| self.last_pattern.compiled(pattern));
            return Ok(ColumnarValue::Array(extract_with_constant_pattern(
                texts.as_string::<i32>(),
                regex.as_ref(),
                group,
            )));
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts = arrays[0].as_string::<i32>();
        let patterns = arrays[1].as_string::<i32>();
        let groups = arrays.get(2).map(|a| a.as_primitive::<Int64Type>());
        let mut compiled: std::collections::HashMap<&str, Option<Regex>> =
            std::collections::HashMap::new();
        let extracted: StringArray = (0..texts.len())
            .map(|row| {
                if texts.is_null(row) || patterns.is_null(row) {
                    return None;
                }
                let group = match groups {
                    Some(g) if g.is_null(row) => return None,
                    Some(g) => usize::try_from(g.value(row)).ok()?,
                    None => 0,
                };
                let pattern = patterns.value(row);
                // An invalid pattern yields NULL, as Flink's evaluation failures do.
                let regex = compiled
                    .entry(pattern)
                    .or_insert_with(|| Regex::new(pattern).ok())
                    .as_ref()?;
                let captures = regex.captures(texts.value(row))?;
                captures.get(group).map(|m| m.as_str().to_string())
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(extracted) as ArrayRef))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexp_extract_with_one_pattern_takes_the_group_or_null() {
        let urls = StringArray::from(vec![
            Some("https://x.com/a?channel_id=42&b=1"),
            Some("channel_id=7"),
            Some("https://x.com/a?xchannel_id=9"),
            None,
        ]);
        let last = LastPattern::default();
        let extract = |pattern: &str, group| {
            extract_with_constant_pattern(&urls, last.compiled(pattern).as_ref(), group)
        };
        let extracted = extract("(&|^)channel_id=([^&]*)", Some(2));
        let extracted = extracted.as_string::<i32>();
        let values: Vec<_> = extracted.iter().collect();
        assert_eq!(values, [None, Some("7"), None, None]);
        let whole = extract("id=[0-9]+", Some(0));
        assert_eq!(whole.as_string::<i32>().value(0), "id=42");
        // The pattern before, compiled anew: not the last one's.
        let again = extract("(&|^)channel_id=([^&]*)", Some(2));
        assert_eq!(again.as_string::<i32>().value(1), "7");
        for nulls in [
            extract("id=([0-9]+)", Some(2)),
            extract("(unclosed", Some(0)),
            extract_with_constant_pattern(&urls, None, Some(0)),
            extract("id", None),
        ] {
            assert_eq!(nulls.null_count(), urls.len());
        }
    }

    #[test]
    fn split_piece_cuts_as_flinks_split_index() {
        let url = "https://www.nexmark.com/abc/def/item.htm?query=1";
        let pieces: Vec<_> = (0..8).map(|i| split_piece(url, "/", i)).collect();
        assert_eq!(
            pieces,
            [
                Some("https:"),
                Some(""),
                Some("www.nexmark.com"),
                Some("abc"),
                Some("def"),
                Some("item.htm?query=1"),
                None,
                None
            ]
        );
        assert_eq!(split_piece("a::b::::c", "::", 2), Some(""));
        assert_eq!(split_piece("a::b::::c", "::", 3), Some("c"));
        assert_eq!(split_piece("é,ü", ",", 1), Some("ü"));
        assert_eq!(split_piece("a,", ",", 1), Some(""));
        assert_eq!(split_piece("", ",", 0), None);
        assert_eq!(split_piece("a b\tc", "", 2), Some("c"));
        assert_eq!(split_piece("a\u{A0}b c", "", 1), Some("c"));
    }

    #[test]
    fn pieces_at_a_one_byte_separator_are_the_pieces_of_every_separator_kept() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let alphabet = ['a', 'é', ',', '/', ' '];
        for _ in 0..2000 {
            let length = rng.random_range(0..12);
            let text: String = (0..length)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            for separator in [",", "/"] {
                for index in 0..8 {
                    // Every piece kept, an empty text none (commons-lang's
                    // `splitByWholeSeparatorPreserveAllTokens`).
                    let expected = match text.is_empty() {
                        true => None,
                        false => text.split(separator).nth(index),
                    };
                    let piece = split_piece(&text, separator, index);
                    assert_eq!(piece, expected, "{text:?} {separator} {index}");
                }
            }
        }
    }
}
