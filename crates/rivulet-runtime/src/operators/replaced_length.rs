//! `CHAR_LENGTH(REPLACE(s, 'from', 'to'))` with literal texts, computed
//! without building the replaced strings: each replacement changes the
//! length by the same number of characters, so the length is `s`'s plus
//! that change times the number of places `from` is found (left to right,
//! not overlapping, as REPLACE finds them).
//!
//! Counting a character this way is an SQL idiom: Nexmark q14 counts the
//! `c`s of a bid's `extra` as `CHAR_LENGTH(extra) - CHAR_LENGTH(REPLACE(extra,
//! 'c', ''))` (the benchmark's UDF `count_char`). Built whole, the replaced
//! strings were a fifth of q14's Calc.
//!
//! Only a non-empty, non-NULL `from` and a non-NULL `to` are fused; an empty
//! `from` keeps DataFusion's REPLACE, which returns the string unchanged.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Int32Array, Int64Array};
use arrow_schema::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};
use memchr::memmem::Finder;

#[derive(Debug)]
pub(super) struct ReplacedLength {
    /// `CHAR_LENGTH(REPLACE(…))` as written: its type, text and equality.
    written: Arc<dyn PhysicalExpr>,
    /// The `REPLACE(…)` inside it, to build `written` over new children.
    replace: Arc<dyn PhysicalExpr>,
    string: Arc<dyn PhysicalExpr>,
    from: Finder<'static>,
    /// Characters each replacement adds (or, negative, takes away).
    change: i64,
}

/// A literal's text, if it is a non-NULL string.
fn text_of(expr: &Arc<dyn PhysicalExpr>) -> Option<&str> {
    match expr.downcast_ref::<Literal>()?.value() {
        ScalarValue::Utf8(Some(text))
        | ScalarValue::LargeUtf8(Some(text))
        | ScalarValue::Utf8View(Some(text)) => Some(text),
        _ => None,
    }
}

/// How many bytes of `text` `counted` picks, sixteen at a time into a byte
/// counter so that it is vectorised.
fn count_bytes(text: &[u8], counted: impl Fn(u8) -> bool) -> i64 {
    let mut chunks = text.chunks_exact(16);
    let mut count = 0;
    for chunk in &mut chunks {
        let picked = chunk.iter().fold(0u8, |n, &b| n + u8::from(counted(b)));
        count += i64::from(picked);
    }
    let rest = chunks.remainder().iter().filter(|&&b| counted(b)).count();
    count + rest as i64
}

/// The characters of `text`: its bytes that do not continue a character.
fn characters(text: &[u8]) -> i64 {
    if text.is_ascii() {
        return text.len() as i64;
    }
    count_bytes(text, |b| (b & 0xC0) != 0x80)
}

impl ReplacedLength {
    /// `expr` fused, if it is `CHAR_LENGTH(REPLACE(s, 'from', 'to'))` with a
    /// non-empty `from`.
    fn try_new(expr: &Arc<dyn PhysicalExpr>) -> Option<ReplacedLength> {
        let length = expr.downcast_ref::<ScalarFunctionExpr>()?;
        let [replace] = length.args() else {
            return None;
        };
        let call = replace.downcast_ref::<ScalarFunctionExpr>()?;
        let [string, from, to] = call.args() else {
            return None;
        };
        if length.name() != "character_length" || call.name() != "replace" {
            return None;
        }
        let (from, to) = (text_of(from)?, text_of(to)?);
        if from.is_empty() {
            return None;
        }
        Some(ReplacedLength {
            written: Arc::clone(expr),
            replace: Arc::clone(replace),
            string: Arc::clone(string),
            change: characters(to.as_bytes()) - characters(from.as_bytes()),
            from: Finder::new(from.as_bytes()).into_owned(),
        })
    }

    /// The length of `text` replaced.
    fn length_of(&self, text: &[u8]) -> i64 {
        let found = match self.from.needle() {
            // One byte (an ASCII character: a whole UTF-8 string never
            // starts with a continuing byte) is counted vectorised.
            &[byte] => count_bytes(text, |b| b == byte),
            _ => self.from.find_iter(text).count() as i64,
        };
        characters(text) + found * self.change
    }

    fn lengths<'a>(&self, texts: impl Iterator<Item = Option<&'a str>>) -> Vec<Option<i64>> {
        texts
            .map(|text| text.map(|t| self.length_of(t.as_bytes())))
            .collect()
    }
}

/// `expr` with every `CHAR_LENGTH(REPLACE(…))` in it that can be fused
/// computing lengths only.
pub(super) fn fuse_replaced_lengths(expr: Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
    super::stand_in::replace_up(expr, &mut |node| {
        Ok(ReplacedLength::try_new(node).map(|fused| Arc::new(fused) as Arc<dyn PhysicalExpr>))
    })
}

super::stand_in::compared_as_written!(ReplacedLength, written);

impl PhysicalExpr for ReplacedLength {
    super::stand_in::typed_as_written!(written);

    fn evaluate(&self, batch: &arrow_array::RecordBatch) -> Result<ColumnarValue> {
        let strings = match self.string.evaluate(batch)? {
            ColumnarValue::Array(strings) => strings,
            // A constant string: as written.
            ColumnarValue::Scalar(_) => return self.written.evaluate(batch),
        };
        let lengths = match strings.data_type() {
            DataType::Utf8 => self.lengths(strings.as_string::<i32>().iter()),
            DataType::LargeUtf8 => self.lengths(strings.as_string::<i64>().iter()),
            DataType::Utf8View => self.lengths(strings.as_string_view().iter()),
            _ => return self.written.evaluate(batch),
        };
        let array: ArrayRef = match self.data_type(&batch.schema())? {
            DataType::Int64 => Arc::new(Int64Array::from(lengths)),
            DataType::Int32 => {
                let lengths = lengths
                    .into_iter()
                    .map(|length| length.map(i32::try_from).transpose())
                    .collect::<std::result::Result<Int32Array, _>>();
                match lengths {
                    Ok(lengths) => Arc::new(lengths),
                    Err(_) => return exec_err!("{self}: a length beyond INT"),
                }
            }
            _ => return self.written.evaluate(batch),
        };
        Ok(ColumnarValue::Array(array))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.string]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let [string] = <[_; 1]>::try_from(children).map_err(|_| {
            datafusion::error::DataFusionError::Internal(
                "CHAR_LENGTH(REPLACE(…)) reads one string".into(),
            )
        })?;
        let mut arguments: Vec<_> = self.replace.children().into_iter().cloned().collect();
        arguments[0] = string;
        let replace = Arc::clone(&self.replace).with_new_children(arguments)?;
        let written = Arc::clone(&self.written).with_new_children(vec![replace])?;
        Ok(match ReplacedLength::try_new(&written) {
            Some(fused) => Arc::new(fused),
            None => written,
        })
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{LargeStringArray, RecordBatch, StringArray, StringViewArray};
    use arrow_schema::{Field, Schema};

    use super::*;
    use crate::operators::calc::compile_expression;

    #[test]
    fn lengths_of_replaced_strings_are_the_lengths_of_the_strings_replaced() {
        let texts = [
            Some("accbc"),
            None,
            Some(""),
            Some("ccc"),
            Some("no match"),
            Some("çaçbç€c"),
            Some("ababab"),
        ];
        let columns: [ArrayRef; 3] = [
            Arc::new(StringArray::from(texts.to_vec())),
            Arc::new(LargeStringArray::from(texts.to_vec())),
            Arc::new(StringViewArray::from(texts.to_vec())),
        ];
        for column in columns {
            let schema = Arc::new(Schema::new(vec![Field::new(
                "s",
                column.data_type().clone(),
                true,
            )]));
            let batch = RecordBatch::try_new(schema.clone(), vec![column]).unwrap();
            for (from, to) in [
                ("c", ""),
                ("ç", "x"),
                ("ab", "é"),
                ("aba", ""),
                ("c", "long"),
                ("", "x"),
            ] {
                let sql = format!("CHAR_LENGTH(REPLACE(s, '{from}', '{to}'))");
                let expr = compile_expression("test", &sql, &schema).unwrap();
                let fused = expr.is::<ReplacedLength>();
                assert_eq!(fused, !from.is_empty(), "{sql}");
                let written = expr
                    .downcast_ref::<ReplacedLength>()
                    .map_or(Arc::clone(&expr), |fused| Arc::clone(&fused.written));
                let ours = expr.evaluate(&batch).unwrap().into_array(7).unwrap();
                let theirs = written.evaluate(&batch).unwrap().into_array(7).unwrap();
                assert_eq!(ours.as_ref(), theirs.as_ref(), "{sql} over {schema:?}");
            }
        }
    }

    #[test]
    fn the_idiom_counting_a_character_counts_it() {
        let schema = Arc::new(Schema::new(vec![Field::new("extra", DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec![
                Some("ccxc"),
                None,
                Some("x"),
            ]))],
        )
        .unwrap();
        let sql = "CHAR_LENGTH(extra) - CHAR_LENGTH(REPLACE(extra, 'c', ''))";
        let expr = compile_expression("test", sql, &schema).unwrap();
        let counts = expr.evaluate(&batch).unwrap().into_array(3).unwrap();
        assert_eq!(
            counts.as_primitive::<arrow_array::types::Int32Type>(),
            &Int32Array::from(vec![Some(3), None, Some(0)])
        );
    }
}
