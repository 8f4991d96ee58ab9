//! Flink's SQL functions that DataFusion lacks or names differently,
//! registered on every context that plans or evaluates expressions.
//!
//! - `IF(condition, a, b)`: `a` where the condition is true, else `b` (a NULL
//!   condition counts as false).
//! - `SPLIT_INDEX(text, separator, index)`: the 0-based `index`-th piece of
//!   `text` split by `separator`, NULL when out of range.
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

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, StringArray};
use arrow_schema::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

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
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (texts, separators, indices) = (
            arrays[0].as_string::<i32>(),
            arrays[1].as_string::<i32>(),
            arrays[2].as_primitive::<Int64Type>(),
        );
        if texts.len() != separators.len() || texts.len() != indices.len() {
            return exec_err!("SPLIT_INDEX arguments have different lengths");
        }
        let pieces: StringArray = (0..texts.len())
            .map(|row| {
                if texts.is_null(row) || separators.is_null(row) || indices.is_null(row) {
                    return None;
                }
                let index = usize::try_from(indices.value(row)).ok()?;
                let separator = separators.value(row);
                if separator.is_empty() {
                    return None;
                }
                texts
                    .value(row)
                    .split(separator)
                    .nth(index)
                    .map(str::to_string)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(pieces) as ArrayRef))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpExtract {
    signature: Signature,
}

impl RegexpExtract {
    fn new() -> Self {
        RegexpExtract {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
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
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts = arrays[0].as_string::<i32>();
        let patterns = arrays[1].as_string::<i32>();
        let groups = arrays.get(2).map(|a| a.as_primitive::<Int64Type>());
        let mut compiled: std::collections::HashMap<&str, Option<regex::Regex>> =
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
                    .or_insert_with(|| regex::Regex::new(pattern).ok())
                    .as_ref()?;
                let captures = regex.captures(texts.value(row))?;
                captures.get(group).map(|m| m.as_str().to_string())
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(extracted) as ArrayRef))
    }
}
