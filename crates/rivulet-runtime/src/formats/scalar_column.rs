//! The Arrow builders a source fills for scalar columns (BOOLEAN, TINYINT …
//! BIGINT, FLOAT, DOUBLE, DATE, TIMESTAMP): created from the column's type,
//! with NULLs and finishing in one place. How a value is read from text is
//! each format's own business ([`super::csv_columns`], [`super::json_columns`]).

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int8Builder, Int16Builder,
    Int32Builder, Int64Builder,
};
use arrow_schema::DataType;

use super::timestamp_column::TimestampColumn;

pub enum ScalarColumn {
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Date32(Date32Builder),
    Timestamp(TimestampColumn),
}

impl ScalarColumn {
    /// The builder for `data_type`, if it is one of these types.
    pub fn new(data_type: &DataType, capacity: usize) -> Option<Self> {
        Some(match data_type {
            DataType::Boolean => ScalarColumn::Boolean(BooleanBuilder::with_capacity(capacity)),
            DataType::Int8 => ScalarColumn::Int8(Int8Builder::with_capacity(capacity)),
            DataType::Int16 => ScalarColumn::Int16(Int16Builder::with_capacity(capacity)),
            DataType::Int32 => ScalarColumn::Int32(Int32Builder::with_capacity(capacity)),
            DataType::Int64 => ScalarColumn::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Float32 => ScalarColumn::Float32(Float32Builder::with_capacity(capacity)),
            DataType::Float64 => ScalarColumn::Float64(Float64Builder::with_capacity(capacity)),
            DataType::Date32 => ScalarColumn::Date32(Date32Builder::with_capacity(capacity)),
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
            ScalarColumn::Int8(b) => Arc::new(b.finish()),
            ScalarColumn::Int16(b) => Arc::new(b.finish()),
            ScalarColumn::Int32(b) => Arc::new(b.finish()),
            ScalarColumn::Int64(b) => Arc::new(b.finish()),
            ScalarColumn::Float32(b) => Arc::new(b.finish()),
            ScalarColumn::Float64(b) => Arc::new(b.finish()),
            ScalarColumn::Date32(b) => Arc::new(b.finish()),
            ScalarColumn::Timestamp(column) => column.finish(),
        }
    }
}
