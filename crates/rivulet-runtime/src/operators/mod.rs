//! The built-in operators and how a job graph names them.
//!
//! An [`OperatorSpec`] is the serializable description in a job graph; it knows
//! its output schema and its display name, and [`OperatorSpec::instantiate`]
//! builds the running operator for one subtask. Sources implement
//! [`SourceFunction`]; every other operator implements [`Operator`].

pub mod accumulators;
mod aggregate_calls;
mod alphabet_code;
pub mod calc;
mod calc_common;
mod datagen;
mod decimal_product;
mod decoded_rows;
mod discard_sink;
mod event_time;
mod expiring_buckets;
mod file_sink;
mod file_source;
mod generator;
mod group_aggregate;
mod grouping;
mod join;
mod join_partners;
mod join_top_one;
mod kept_rows;
mod key_tables;
pub(crate) mod keyed_count;
mod listed_rows;
mod lookup_join;
mod nexmark;
mod over_aggregate;
mod pacing;
mod print_sink;
mod rank;
mod replaced_length;
mod retraction;
mod row_keys;
mod selecting_case;
mod slice_list;
mod slice_tables;
mod stand_in;
mod stored_accumulators;
mod stored_rows;
mod string_dictionary;
mod watermark_assigner;
mod window_aggregate;
mod window_slices;
mod window_table_function;

use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use serde::{Deserialize, Serialize};

use crate::error::{Result, RuntimeError};

pub use aggregate_calls::AggregateCall;
pub use calc::{CalcSpec, Projection};
pub use datagen::{DatagenSpec, FieldGenerator, FieldKind};
pub use discard_sink::DiscardSinkSpec;
pub use file_sink::{FileSinkSpec, SINK_FORMATS};
pub use file_source::{FileSourceSpec, SOURCE_FORMATS};
pub use generator::GeneratorSpec;
pub use group_aggregate::GroupAggregateSpec;
pub use join::{JoinExpiry, JoinKind, JoinSpec};
pub use join_top_one::JoinTopOne;
pub use keyed_count::KeyedCountSpec;
pub use lookup_join::LookupJoinSpec;
pub use nexmark::{DEFAULT_BASE_TIME, NexmarkSpec, nexmark_schema};
pub use over_aggregate::{OverAggregateSpec, OverFrame};
pub use print_sink::PrintSinkSpec;
pub use rank::{RankSpec, SortKey};
pub use watermark_assigner::{DEFAULT_WATERMARK_INTERVAL_MILLIS, WatermarkAssignerSpec};
pub use window_aggregate::WindowAggregateSpec;
pub use window_slices::HopSlices;
pub use window_table_function::{WindowKind, WindowTableFunctionSpec};

/// Where a subtask runs: what an operator may need to know about its place.
#[derive(Debug, Clone)]
pub struct SubtaskContext {
    pub task_name: String,
    pub subtask_index: u32,
    pub parallelism: u32,
    pub max_parallelism: u32,
}

#[cfg(test)]
impl SubtaskContext {
    /// The only subtask of its vertex, with the default max parallelism:
    /// where operator tests run.
    pub fn alone() -> SubtaskContext {
        SubtaskContext {
            task_name: "test".into(),
            subtask_index: 0,
            parallelism: 1,
            max_parallelism: 128,
        }
    }
}

/// What a source produces when polled.
#[derive(Debug)]
pub enum SourcePoll {
    Batch(RecordBatch),
    /// Nothing to emit yet; poll again after this long.
    Idle(Duration),
    End,
}

/// A source of batches.
pub trait SourceFunction: Send {
    fn poll_next(&mut self) -> Result<SourcePoll>;
}

/// What an operator that generates event time tells the operators after it
/// and the subtasks downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTimeSignal {
    /// Event time has advanced to this many epoch milliseconds.
    Watermark(i64),
    /// No rows for a while: leave this subtask out of the watermark until it sends again.
    Idle,
}

/// A non-source operator in a chain.
pub trait Operator: Send {
    /// Called once before the first element.
    fn open(&mut self) -> Result<()> {
        Ok(())
    }

    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()>;

    /// A batch from input `input` (its input edge, in order) of an
    /// operator first in its chain; only operators with several inputs of
    /// different meaning (a join's two sides) tell them apart.
    fn process_input(
        &mut self,
        _input: usize,
        batch: RecordBatch,
        out: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        self.process_batch(batch, out)
    }

    /// Event time advanced; operators with timers fire them here.
    fn process_watermark(&mut self, _watermark: i64, _out: &mut Vec<RecordBatch>) -> Result<()> {
        Ok(())
    }

    /// Asked after every batch and while the task waits: a watermark or an
    /// idle status this operator generates (only watermark assigners do).
    fn poll_event_time(&mut self, _now: Instant) -> Option<EventTimeSignal> {
        None
    }

    /// The input ended; flush and commit what is pending.
    fn finish(&mut self, _out: &mut Vec<RecordBatch>) -> Result<()> {
        Ok(())
    }

    /// When (epoch millis of the wall clock) this operator's next
    /// processing-time timer is due, if it has one.
    fn next_processing_timer(&self) -> Option<i64> {
        None
    }

    /// The wall clock reached `now` (epoch millis): fire the
    /// processing-time timers due.
    fn process_time(&mut self, _now: i64, _out: &mut Vec<RecordBatch>) -> Result<()> {
        Ok(())
    }
}

/// An operator as a job graph describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OperatorSpec {
    Generator(GeneratorSpec),
    Datagen(DatagenSpec),
    Nexmark(NexmarkSpec),
    FileSource(FileSourceSpec),
    Calc(CalcSpec),
    WatermarkAssigner(WatermarkAssignerSpec),
    WindowAggregate(WindowAggregateSpec),
    GroupAggregate(GroupAggregateSpec),
    Join(JoinSpec),
    LookupJoin(LookupJoinSpec),
    Rank(RankSpec),
    OverAggregate(OverAggregateSpec),
    WindowTableFunction(WindowTableFunctionSpec),
    KeyedCount(KeyedCountSpec),
    FileSink(FileSinkSpec),
    PrintSink(PrintSinkSpec),
    DiscardSink(DiscardSinkSpec),
}

/// A chain's running operators: an optional source first, then the rest.
pub enum RunningOperator {
    Source(Box<dyn SourceFunction>),
    Operator(Box<dyn Operator>),
}

impl OperatorSpec {
    pub fn is_source(&self) -> bool {
        matches!(
            self,
            OperatorSpec::Generator(_)
                | OperatorSpec::Datagen(_)
                | OperatorSpec::Nexmark(_)
                | OperatorSpec::FileSource(_)
        )
    }

    /// Whether this operator keeps per-key state and so needs hash-partitioned input.
    pub fn key_column(&self) -> Option<&str> {
        match self {
            OperatorSpec::KeyedCount(spec) => Some(&spec.key),
            OperatorSpec::WindowAggregate(spec) => spec.key.as_deref(),
            OperatorSpec::GroupAggregate(spec) => spec.key.as_deref(),
            OperatorSpec::Rank(spec) => Some(&spec.key),
            OperatorSpec::OverAggregate(spec) => Some(&spec.key),
            _ => None,
        }
    }

    /// The join this operator is, if it is one: an operator with two inputs,
    /// each hash partitioned on its own key column.
    pub fn as_join(&self) -> Option<&JoinSpec> {
        match self {
            OperatorSpec::Join(spec) => Some(spec),
            _ => None,
        }
    }

    /// The name shown in plans and vertex names, as Flink shows it.
    pub fn display_name(&self) -> String {
        match self {
            OperatorSpec::Generator(s) => format!("Source: {}", s.name()),
            OperatorSpec::Datagen(s) => format!("Source: {}", s.name()),
            OperatorSpec::Nexmark(s) => format!("Source: {}", s.name()),
            OperatorSpec::FileSource(s) => format!("Source: {}", s.name()),
            OperatorSpec::KeyedCount(s) => s.name(),
            OperatorSpec::Calc(s) => s.name(),
            OperatorSpec::WatermarkAssigner(s) => s.name(),
            OperatorSpec::WindowAggregate(s) => s.name(),
            OperatorSpec::GroupAggregate(s) => s.name(),
            OperatorSpec::Join(s) => s.name(),
            OperatorSpec::LookupJoin(s) => s.name(),
            OperatorSpec::Rank(s) => s.name(),
            OperatorSpec::OverAggregate(s) => s.name(),
            OperatorSpec::WindowTableFunction(s) => s.name(),
            OperatorSpec::FileSink(s) => format!("Sink: {}", s.name()),
            OperatorSpec::PrintSink(s) => format!("Sink: {}", s.name()),
            OperatorSpec::DiscardSink(s) => format!("Sink: {}", s.name()),
        }
    }

    /// The schema this operator emits given its input schema (`None` for a
    /// source). Sinks emit nothing and return `None`.
    pub fn output_schema(&self, input: Option<&SchemaRef>) -> Result<Option<SchemaRef>> {
        let require_input = || {
            input.cloned().ok_or_else(|| {
                RuntimeError::InvalidJobGraph(format!(
                    "operator '{}' has no input",
                    self.display_name()
                ))
            })
        };
        match self {
            OperatorSpec::Generator(_) => Ok(Some(GeneratorSpec::schema())),
            OperatorSpec::Datagen(spec) => Ok(Some(std::sync::Arc::new(spec.schema.clone()))),
            OperatorSpec::Nexmark(spec) => Ok(Some(spec.output_schema())),
            OperatorSpec::FileSource(spec) => spec.output_schema().map(Some),
            OperatorSpec::KeyedCount(spec) => spec.output_schema(&require_input()?).map(Some),
            OperatorSpec::Calc(spec) => spec.output_schema(&require_input()?).map(Some),
            OperatorSpec::WindowAggregate(spec) => spec.output_schema(&require_input()?).map(Some),
            OperatorSpec::GroupAggregate(spec) => spec.output_schema(&require_input()?).map(Some),
            // A join's two inputs are in its spec; the vertex checks its edges carry them.
            OperatorSpec::Join(spec) => spec.output_schema().map(Some),
            OperatorSpec::LookupJoin(spec) => spec.output_schema(&require_input()?).map(Some),
            OperatorSpec::Rank(spec) => spec.output_schema(&require_input()?).map(Some),
            OperatorSpec::OverAggregate(spec) => spec.output_schema(&require_input()?).map(Some),
            OperatorSpec::WindowTableFunction(spec) => {
                spec.output_schema(&require_input()?).map(Some)
            }
            OperatorSpec::WatermarkAssigner(spec) => {
                let input = require_input()?;
                spec.validate_input(&input)?;
                Ok(Some(input))
            }
            OperatorSpec::FileSink(_)
            | OperatorSpec::PrintSink(_)
            | OperatorSpec::DiscardSink(_) => {
                require_input()?;
                Ok(None)
            }
        }
    }

    /// Checks options that do not depend on the schema.
    pub fn validate(&self) -> Result<()> {
        match self {
            OperatorSpec::Generator(spec) => spec.validate(),
            OperatorSpec::Datagen(spec) => spec.validate(),
            OperatorSpec::Nexmark(spec) => spec.validate(),
            OperatorSpec::FileSource(spec) => spec.validate(),
            OperatorSpec::FileSink(spec) => spec.validate(),
            _ => Ok(()),
        }
    }

    /// Builds the running operator for one subtask.
    pub fn instantiate(
        &self,
        input: Option<&SchemaRef>,
        context: &SubtaskContext,
    ) -> Result<RunningOperator> {
        let input_schema = || {
            input.cloned().ok_or_else(|| {
                RuntimeError::InvalidJobGraph(format!("{} has no input", self.display_name()))
            })
        };
        Ok(match self {
            OperatorSpec::Generator(spec) => {
                RunningOperator::Source(Box::new(spec.create(context)))
            }
            OperatorSpec::Datagen(spec) => RunningOperator::Source(Box::new(spec.create(context))),
            OperatorSpec::Nexmark(spec) => RunningOperator::Source(Box::new(spec.create(context))),
            OperatorSpec::FileSource(spec) => {
                RunningOperator::Source(Box::new(spec.create(context)?))
            }
            OperatorSpec::KeyedCount(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?)?))
            }
            OperatorSpec::Calc(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?)?))
            }
            OperatorSpec::WatermarkAssigner(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?)?))
            }
            OperatorSpec::WindowAggregate(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?, context)?))
            }
            OperatorSpec::GroupAggregate(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?, context)?))
            }
            OperatorSpec::Join(spec) => RunningOperator::Operator(Box::new(spec.create(context)?)),
            OperatorSpec::LookupJoin(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?)?))
            }
            OperatorSpec::Rank(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?, context)?))
            }
            OperatorSpec::OverAggregate(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?, context)?))
            }
            OperatorSpec::WindowTableFunction(spec) => {
                RunningOperator::Operator(Box::new(spec.create(&input_schema()?)?))
            }
            OperatorSpec::FileSink(spec) => {
                RunningOperator::Operator(Box::new(spec.create(context, &input_schema()?)))
            }
            OperatorSpec::PrintSink(spec) => {
                RunningOperator::Operator(Box::new(spec.create(context)))
            }
            OperatorSpec::DiscardSink(_) => {
                RunningOperator::Operator(Box::new(discard_sink::DiscardSink))
            }
        })
    }
}

/// Returns a display name: the given one, or the fallback.
fn name_or(name: &Option<String>, fallback: &str) -> String {
    name.clone().unwrap_or_else(|| fallback.to_string())
}
