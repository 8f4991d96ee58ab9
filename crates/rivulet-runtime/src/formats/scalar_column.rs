//! The Arrow builders a source fills for scalar columns (BOOLEAN, TINYINT …
//! BIGINT, FLOAT, DOUBLE, DATE, TIMESTAMP): created from the column's type,
//! with NULLs and finishing in one place. How a value is read from text is
//! each format's own business ([`super::csv_columns`], [`super::json_columns`]).

use std::sync::Arc;

use arrow_array::builder::BooleanBuilder;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type,
};
use arrow_array::{ArrayRef, PrimitiveArray};
use arrow_buffer::{NullBufferBuilder, ScalarBuffer};
use arrow_schema::DataType;

use super::timestamp_column::TimestampColumn;

pub enum ScalarColumn {
    Boolean(BooleanBuilder),
    Int8(PrimitiveColumn<Int8Type>),
    Int16(PrimitiveColumn<Int16Type>),
    Int32(PrimitiveColumn<Int32Type>),
    Int64(PrimitiveColumn<Int64Type>),
    Float32(PrimitiveColumn<Float32Type>),
    Float64(PrimitiveColumn<Float64Type>),
    Date32(PrimitiveColumn<Date32Type>),
    Timestamp(TimestampColumn),
}

/// A column of numbers being read: its values and which are NULL. What
/// arrow's `PrimitiveBuilder` keeps, but a value is appended in place: the
/// builder's `append_value` stayed a call of its own, about thirty
/// instructions, for each of a Nexmark bid's four integers (and a plain
/// `#[inline]` of its own stays one too: the JSON decoder's loop is large).
pub struct PrimitiveColumn<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    /// Keeps no bitmap until a NULL comes: most columns never have one.
    valid: NullBufferBuilder,
}

impl<T: ArrowPrimitiveType> PrimitiveColumn<T> {
    pub fn with_capacity(capacity: usize) -> Self {
        PrimitiveColumn {
            values: Vec::with_capacity(capacity),
            valid: NullBufferBuilder::new(capacity),
        }
    }

    #[inline(always)]
    pub fn append_value(&mut self, value: T::Native) {
        self.values.push(value);
        self.valid.append_non_null();
    }

    pub fn append_null(&mut self) {
        self.values.push(T::Native::default());
        self.valid.append_null();
    }

    pub fn append_nulls(&mut self, count: usize) {
        self.values
            .resize(self.values.len() + count, T::Native::default());
        self.valid.append_n_nulls(count);
    }

    /// The values appended so far, as an array; the column is left empty.
    pub fn finish(&mut self) -> ArrayRef {
        let values = ScalarBuffer::from(std::mem::take(&mut self.values));
        Arc::new(PrimitiveArray::<T>::new(values, self.valid.finish()))
    }
}

impl ScalarColumn {
    /// The builder for `data_type`, if it is one of these types.
    pub fn new(data_type: &DataType, capacity: usize) -> Option<Self> {
        Some(match data_type {
            DataType::Boolean => ScalarColumn::Boolean(BooleanBuilder::with_capacity(capacity)),
            DataType::Int8 => ScalarColumn::Int8(PrimitiveColumn::with_capacity(capacity)),
            DataType::Int16 => ScalarColumn::Int16(PrimitiveColumn::with_capacity(capacity)),
            DataType::Int32 => ScalarColumn::Int32(PrimitiveColumn::with_capacity(capacity)),
            DataType::Int64 => ScalarColumn::Int64(PrimitiveColumn::with_capacity(capacity)),
            DataType::Float32 => ScalarColumn::Float32(PrimitiveColumn::with_capacity(capacity)),
            DataType::Float64 => ScalarColumn::Float64(PrimitiveColumn::with_capacity(capacity)),
            DataType::Date32 => ScalarColumn::Date32(PrimitiveColumn::with_capacity(capacity)),
            DataType::Timestamp(unit, zone) => {
                ScalarColumn::Timestamp(TimestampColumn::new(*unit, zone, capacity)?)
            }
            _ => return None,
        })
    }

    pub fn append_null(&mut self) {
        match self {
            ScalarColumn::Boolean(b) => b.append_null(),
            ScalarColumn::Int8(b) => b.append_null(),
            ScalarColumn::Int16(b) => b.append_null(),
            ScalarColumn::Int32(b) => b.append_null(),
            ScalarColumn::Int64(b) => b.append_null(),
            ScalarColumn::Float32(b) => b.append_null(),
            ScalarColumn::Float64(b) => b.append_null(),
            ScalarColumn::Date32(b) => b.append_null(),
            ScalarColumn::Timestamp(column) => column.append_null(),
        }
    }

    /// Appends `count` NULLs at once.
    pub fn append_nulls(&mut self, count: usize) {
        match self {
            ScalarColumn::Boolean(b) => b.append_nulls(count),
            ScalarColumn::Int8(b) => b.append_nulls(count),
            ScalarColumn::Int16(b) => b.append_nulls(count),
            ScalarColumn::Int32(b) => b.append_nulls(count),
            ScalarColumn::Int64(b) => b.append_nulls(count),
            ScalarColumn::Float32(b) => b.append_nulls(count),
            ScalarColumn::Float64(b) => b.append_nulls(count),
            ScalarColumn::Date32(b) => b.append_nulls(count),
            ScalarColumn::Timestamp(column) => column.append_nulls(count),
        }
    }

    /// The values appended since the last finish, leaving room for
    /// `capacity` more (finishing a builder otherwise gives its buffers away
    /// and the next batch grows new ones step by step).
    pub fn finish_with_capacity(&mut self, capacity: usize) -> ArrayRef {
        let array = self.finish();
        if let Some(fresh) = ScalarColumn::new(array.data_type(), capacity) {
            *self = fresh;
        }
        array
    }

    /// The values appended since the last finish.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ScalarColumn::Boolean(b) => Arc::new(b.finish()),
            ScalarColumn::Int8(b) => b.finish(),
            ScalarColumn::Int16(b) => b.finish(),
            ScalarColumn::Int32(b) => b.finish(),
            ScalarColumn::Int64(b) => b.finish(),
            ScalarColumn::Float32(b) => b.finish(),
            ScalarColumn::Float64(b) => b.finish(),
            ScalarColumn::Date32(b) => b.finish(),
            ScalarColumn::Timestamp(column) => column.finish(),
        }
    }
}
