//! Timestamps as the event-time operators use them: epoch milliseconds.

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array};
use arrow_schema::{ArrowError, DataType, TimeUnit};

/// TIMESTAMP(3): the type of window bounds.
pub fn millis_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

/// A TIMESTAMP column of any unit as epoch milliseconds.
pub fn epoch_millis(values: &ArrayRef) -> Result<Int64Array, ArrowError> {
    let millis = arrow_cast::cast(values, &millis_type())?;
    let millis = arrow_cast::cast(&millis, &DataType::Int64)?;
    Ok(millis.as_primitive::<Int64Type>().clone())
}
