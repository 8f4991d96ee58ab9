//! Flink's `datagen` connector as a source: rows of any flat schema, each
//! field `random` (within `min`/`max`, strings of `length`, timestamps up to
//! `max-past` before now, a `null-rate`) or a `sequence` from `start` to `end`.
//! `number-of-rows` bounds the source, as does any sequence field; parallel
//! subtasks split the rows (subtask i of p makes rows i, i + p, …), so a
//! sequence is emitted exactly once over all subtasks.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder, Float64Builder, Int8Builder,
    Int16Builder, Int32Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef, TimeUnit};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::pacing::{Allowance, RowBudget};
use super::{SourceFunction, SourcePoll, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Random,
    Sequence,
}

/// How one field is generated (Flink's `fields.<name>.*` options).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldGenerator {
    pub kind: FieldKind,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub length: Option<usize>,
    #[serde(default)]
    pub start: Option<i64>,
    #[serde(default)]
    pub end: Option<i64>,
    #[serde(default)]
    pub null_rate: f64,
    #[serde(default)]
    pub max_past_millis: i64,
}

impl Default for FieldGenerator {
    fn default() -> Self {
        FieldGenerator {
            kind: FieldKind::Random,
            min: None,
            max: None,
            length: None,
            start: None,
            end: None,
            null_rate: 0.0,
            max_past_millis: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatagenSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub schema: Schema,
    /// Rows per second over all subtasks (Flink's default is 10000).
    #[serde(default)]
    pub rows_per_second: Option<f64>,
    #[serde(default)]
    pub number_of_rows: Option<u64>,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldGenerator>,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_batch_size() -> usize {
    1024
}

fn invalid(message: String) -> RuntimeError {
    RuntimeError::InvalidJobGraph(message)
}

impl DatagenSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "datagen")
    }

    fn generator(&self, field: &str) -> FieldGenerator {
        self.fields.get(field).cloned().unwrap_or_default()
    }

    /// Total rows: `number-of-rows`, capped by the shortest sequence.
    pub fn total_rows(&self) -> Option<u64> {
        let sequences = self
            .fields
            .values()
            .filter(|g| g.kind == FieldKind::Sequence)
            .filter_map(|g| Some((g.end? - g.start?).max(-1) as u64 + 1));
        sequences.chain(self.number_of_rows).min()
    }

    pub fn validate(&self) -> Result<()> {
        for name in self.fields.keys() {
            if self.schema.field_with_name(name).is_err() {
                return Err(invalid(format!(
                    "datagen option for unknown field '{name}'"
                )));
            }
        }
        for field in self.schema.fields() {
            let generator = self.generator(field.name());
            let supported = matches!(
                field.data_type(),
                DataType::Boolean
                    | DataType::Int8
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::Float32
                    | DataType::Float64
                    | DataType::Decimal128(_, _)
                    | DataType::Utf8
                    | DataType::Date32
                    | DataType::Timestamp(TimeUnit::Millisecond, _)
            );
            if !supported {
                return Err(invalid(format!(
                    "datagen cannot generate field '{}' of type {}",
                    field.name(),
                    field.data_type()
                )));
            }
            if generator.kind == FieldKind::Sequence {
                let (Some(start), Some(end)) = (generator.start, generator.end) else {
                    return Err(invalid(format!(
                        "datagen sequence field '{}' needs 'fields.{0}.start' and 'fields.{0}.end'",
                        field.name()
                    )));
                };
                if start > end {
                    return Err(invalid(format!(
                        "datagen sequence field '{}' has start {start} after end {end}",
                        field.name()
                    )));
                }
                if matches!(
                    field.data_type(),
                    DataType::Boolean | DataType::Timestamp(_, _) | DataType::Date32
                ) {
                    return Err(invalid(format!(
                        "datagen cannot make a sequence of type {} (field '{}')",
                        field.data_type(),
                        field.name()
                    )));
                }
            }
            if !(0.0..=1.0).contains(&generator.null_rate) {
                return Err(invalid(format!(
                    "datagen null-rate of '{}' must be within 0 and 1",
                    field.name()
                )));
            }
        }
        if let Some(rate) = self.rows_per_second
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(invalid(format!(
                "datagen rows-per-second must be positive, got {rate}"
            )));
        }
        Ok(())
    }

    pub(super) fn create(&self, context: &SubtaskContext) -> Datagen {
        let p = context.parallelism.max(1) as u64;
        let i = context.subtask_index as u64;
        let rows_for_subtask = self.total_rows().map(|total| {
            if total > i {
                (total - i).div_ceil(p)
            } else {
                0
            }
        });
        let schema: SchemaRef = Arc::new(self.schema.clone());
        Datagen {
            generators: schema
                .fields()
                .iter()
                .map(|f| self.generator(f.name()))
                .collect(),
            schema,
            first_row: i,
            stride: p,
            budget: RowBudget::new(rows_for_subtask, self.rows_per_second.map(|r| r / p as f64)),
            batch_size: self.batch_size.max(1),
            emitted: 0,
            rng: SmallRng::from_os_rng(),
            name: self.name(),
        }
    }
}

pub struct Datagen {
    schema: SchemaRef,
    generators: Vec<FieldGenerator>,
    first_row: u64,
    stride: u64,
    budget: RowBudget,
    batch_size: usize,
    emitted: u64,
    rng: SmallRng,
    name: String,
}

impl Datagen {
    fn column(&mut self, index: usize, rows: &[u64]) -> Result<ArrayRef> {
        let field = self.schema.field(index).clone();
        let generator = self.generators[index].clone();
        let rng = &mut self.rng;
        let is_null =
            |rng: &mut SmallRng| generator.null_rate > 0.0 && rng.random_bool(generator.null_rate);
        let sequence = |row: u64| generator.start.unwrap_or(0) + row as i64;
        let random = generator.kind == FieldKind::Random;
        // `$bound` is the type the min/max options are read in: i128 for
        // integers (every integer type fits), f64 for floating point.
        macro_rules! numbers {
            ($builder:ty, $t:ty, $bound:ty, $low:expr, $high:expr) => {{
                let mut builder = <$builder>::with_capacity(rows.len());
                let low = generator.min.map(|m| m as $bound).unwrap_or($low);
                let high = generator.max.map(|m| m as $bound).unwrap_or($high);
                for &row in rows {
                    if is_null(rng) {
                        builder.append_null();
                    } else if random {
                        builder.append_value(rng.random_range(low..=high.max(low)) as $t);
                    } else {
                        builder.append_value(sequence(row) as $t);
                    }
                }
                Arc::new(builder.finish()) as ArrayRef
            }};
        }
        macro_rules! integers {
            ($builder:ty, $t:ty) => {
                numbers!($builder, $t, i128, <$t>::MIN as i128, <$t>::MAX as i128)
            };
        }
        macro_rules! floats {
            ($builder:ty, $t:ty) => {
                numbers!(
                    $builder,
                    $t,
                    f64,
                    <$t>::MIN as f64 / 2.0,
                    <$t>::MAX as f64 / 2.0
                )
            };
        }
        Ok(match field.data_type() {
            DataType::Int8 => integers!(Int8Builder, i8),
            DataType::Int16 => integers!(Int16Builder, i16),
            DataType::Int32 => integers!(Int32Builder, i32),
            DataType::Int64 => integers!(Int64Builder, i64),
            DataType::Float32 => floats!(Float32Builder, f32),
            DataType::Float64 => floats!(Float64Builder, f64),
            DataType::Boolean => {
                let mut builder = BooleanBuilder::with_capacity(rows.len());
                for _ in rows {
                    if is_null(rng) {
                        builder.append_null();
                    } else {
                        builder.append_value(rng.random_bool(0.5));
                    }
                }
                Arc::new(builder.finish())
            }
            DataType::Decimal128(precision, scale) => {
                let factor = 10f64.powi(*scale as i32);
                let limit = 10f64.powi(*precision as i32 - *scale as i32) - 1.0;
                let low = generator.min.unwrap_or(-limit);
                let high = generator.max.unwrap_or(limit);
                let mut builder = Decimal128Builder::with_capacity(rows.len());
                for &row in rows {
                    if is_null(rng) {
                        builder.append_null();
                    } else if random {
                        let value: f64 = rng.random_range(low..=high.max(low));
                        builder.append_value((value * factor).round() as i128);
                    } else {
                        builder.append_value(sequence(row) as i128 * factor as i128);
                    }
                }
                Arc::new(
                    builder
                        .finish()
                        .with_precision_and_scale(*precision, *scale)
                        .map_err(|source| RuntimeError::Arrow {
                            operator: self.name.clone(),
                            source,
                        })?,
                )
            }
            DataType::Utf8 => {
                let length = generator.length.unwrap_or(100);
                let mut builder = StringBuilder::with_capacity(rows.len(), rows.len() * length);
                let mut text = String::with_capacity(length);
                for &row in rows {
                    if is_null(rng) {
                        builder.append_null();
                    } else if random {
                        text.clear();
                        for _ in 0..length {
                            text.push(char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'));
                        }
                        builder.append_value(&text);
                    } else {
                        builder.append_value(sequence(row).to_string());
                    }
                }
                Arc::new(builder.finish())
            }
            DataType::Date32 => {
                let today = (rivulet_common::clock::now_millis() / 86_400_000) as i32;
                let mut builder = Date32Builder::with_capacity(rows.len());
                for _ in rows {
                    if is_null(rng) {
                        builder.append_null();
                    } else {
                        builder.append_value(today);
                    }
                }
                Arc::new(builder.finish())
            }
            DataType::Timestamp(TimeUnit::Millisecond, zone) => {
                let now = rivulet_common::clock::now_millis();
                let mut builder = TimestampMillisecondBuilder::with_capacity(rows.len());
                for _ in rows {
                    if is_null(rng) {
                        builder.append_null();
                    } else {
                        let past = if generator.max_past_millis > 0 {
                            rng.random_range(0..=generator.max_past_millis)
                        } else {
                            0
                        };
                        builder.append_value(now - past);
                    }
                }
                Arc::new(builder.finish().with_timezone_opt(zone.clone()))
            }
            other => {
                return Err(RuntimeError::Operator {
                    operator: self.name.clone(),
                    message: format!("cannot generate {other}"),
                });
            }
        })
    }
}

impl SourceFunction for Datagen {
    fn poll_next(&mut self) -> Result<SourcePoll> {
        let rows = match self.budget.next(self.emitted, self.batch_size as u64) {
            Allowance::End => return Ok(SourcePoll::End),
            Allowance::Wait(wait) => return Ok(SourcePoll::Idle(wait)),
            Allowance::Rows(rows) => rows,
        };
        let row_ids: Vec<u64> = (self.emitted..self.emitted + rows)
            .map(|n| self.first_row + n * self.stride)
            .collect();
        let columns = (0..self.schema.fields().len())
            .map(|i| self.column(i, &row_ids))
            .collect::<Result<Vec<_>>>()?;
        self.emitted += rows;
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(|source| {
            RuntimeError::Arrow {
                operator: self.name.clone(),
                source,
            }
        })?;
        Ok(SourcePoll::Batch(batch))
    }
}
