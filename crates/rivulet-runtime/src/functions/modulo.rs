//! Flink's `MOD(a, b)` for whole numbers: the remainder with the sign of `a`
//! (Java's `%`), NULL when either side is NULL; a zero divisor fails as Java
//! does ("/ by zero").

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array};
use arrow_schema::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::shaped_like;

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct Mod {
    signature: Signature,
}

impl Mod {
    pub(super) fn new() -> Self {
        Mod {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Mod {
    fn name(&self) -> &str {
        "mod"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a, b] if a.is_integer() && b.is_integer() => {
                Ok(vec![DataType::Int64, DataType::Int64])
            }
            [a, b] if a.is_null() || b.is_null() => Ok(vec![DataType::Int64, DataType::Int64]),
            [_, _] => plan_err!("MOD takes two whole numbers: MOD(BIGINT, BIGINT)"),
            _ => plan_err!("MOD takes 2 arguments: MOD(dividend, divisor)"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (dividends, divisors) = (
            arrays[0].as_primitive::<Int64Type>(),
            arrays[1].as_primitive::<Int64Type>(),
        );
        let mut remainders = Vec::with_capacity(dividends.len());
        for row in 0..dividends.len() {
            if dividends.is_null(row) || divisors.is_null(row) {
                remainders.push(None);
                continue;
            }
            let divisor = divisors.value(row);
            if divisor == 0 {
                return exec_err!("/ by zero");
            }
            remainders.push(Some(dividends.value(row).wrapping_rem(divisor)));
        }
        let result = Arc::new(Int64Array::from(remainders)) as ArrayRef;
        shaped_like(&args.args, result)
    }
}
