//! Flink's `CONCAT(a, b, ...)`: NULL as soon as one argument is NULL.
//!
//! DataFusion's `concat` skips NULL arguments instead (as Flink's `CONCAT_WS`
//! does), so this replaces it under the same name.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, StringArray};
use arrow_schema::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct Concat {
    signature: Signature,
}

impl Concat {
    pub(super) fn new() -> Self {
        Concat {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Concat {
    fn name(&self) -> &str {
        "concat"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() {
            return plan_err!("CONCAT takes at least 1 argument: CONCAT(text, ...)");
        }
        Ok(vec![DataType::Utf8; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns: Vec<&StringArray> = arrays.iter().map(|a| a.as_string::<i32>()).collect();
        let rows = arrays.first().map_or(0, |a| a.len());
        let mut text = String::new();
        let joined: StringArray = (0..rows)
            .map(|row| {
                text.clear();
                for column in &columns {
                    if column.is_null(row) {
                        return None;
                    }
                    text.push_str(column.value(row));
                }
                Some(text.clone())
            })
            .collect();
        super::shaped_like(&args.args, Arc::new(joined) as ArrayRef)
    }
}
