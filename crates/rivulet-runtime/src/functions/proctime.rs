//! Flink's `PROCTIME()`: the processing time, the wall clock's time when a
//! row is evaluated, as a `TIMESTAMP_LTZ(3)`. Volatile, so DataFusion neither
//! folds it into a constant at planning nor moves it: each batch reads the
//! clock as it passes.

use std::time::{SystemTime, UNIX_EPOCH};

use arrow_schema::{DataType, TimeUnit};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The name queries call it by.
pub const PROCTIME: &str = "proctime";

/// The wall clock in epoch milliseconds.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct Proctime {
    signature: Signature,
}

impl Proctime {
    pub(super) fn new() -> Self {
        Proctime {
            signature: Signature::nullary(Volatility::Volatile),
        }
    }
}

impl ScalarUDFImpl for Proctime {
    fn name(&self) -> &str {
        PROCTIME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(
            TimeUnit::Millisecond,
            Some("UTC".into()),
        ))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::TimestampMillisecond(
            Some(now_millis()),
            Some("UTC".into()),
        )))
    }
}
