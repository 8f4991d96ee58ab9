//! Lowering an OVER aggregation as Flink plans it:
//! `agg(x) OVER (PARTITION BY k ORDER BY ts ROWS|RANGE BETWEEN … PRECEDING
//! AND CURRENT ROW)`. A Calc adds the partition key and each aggregate's
//! argument; an `OverAggregate` behind a hash edge on the key (one subtask
//! without PARTITION BY) computes every row's aggregates when the watermark
//! passes its time; a Calc then gives the plan's columns, the input's and
//! one per aggregate. As in Flink, every aggregate of one query level shares
//! one window, ordered ascending by a TIMESTAMP (the time attribute), and
//! the frame ends at the current row.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{
    Expr, Window, WindowFrame, WindowFrameBound, WindowFrameUnits, WindowFunctionDefinition,
};
use rivulet_runtime::changelog::ROW_KIND_COLUMN;
use rivulet_runtime::operators::{OperatorSpec, OverAggregateSpec, OverFrame, Projection};

use super::interval::interval_millis;
use super::{GraphBuilder, Stream, cast_sql, identity_projections, quote};
use crate::aggregation::{CallText, aggregate_call, key_sql};

/// The partition key column the OverAggregate's input gets.
const OVER_KEY: &str = "__over_key";

const SAME_WINDOW: &str = "Over Agg: Unsupported use of OVER windows. All aggregates must be computed on the same window.";

/// A whole number of rows.
fn row_count(value: &ScalarValue) -> Option<u64> {
    match value {
        ScalarValue::UInt64(Some(v)) => Some(*v),
        ScalarValue::Int64(Some(v)) => u64::try_from(*v).ok(),
        ScalarValue::UInt32(Some(v)) => Some(u64::from(*v)),
        ScalarValue::Int32(Some(v)) => u64::try_from(*v).ok(),
        _ => None,
    }
}

/// The runtime's frame for a SQL frame that ends at the current row.
fn over_frame(frame: &WindowFrame) -> Result<OverFrame, String> {
    if !matches!(frame.end_bound, WindowFrameBound::CurrentRow) {
        return Err(
            "OVER RANGE FOLLOWING windows are not supported yet: an OVER window's frame ends at the CURRENT ROW"
                .into(),
        );
    }
    let bad_bound = || format!("the OVER window frame '{frame}' is not supported");
    match (&frame.units, &frame.start_bound) {
        (WindowFrameUnits::Rows, WindowFrameBound::CurrentRow) => {
            Ok(OverFrame::Rows { preceding: Some(0) })
        }
        (WindowFrameUnits::Rows, WindowFrameBound::Preceding(value)) => Ok(OverFrame::Rows {
            preceding: if value.is_null() {
                None
            } else {
                Some(row_count(value).ok_or_else(bad_bound)?)
            },
        }),
        (WindowFrameUnits::Range, WindowFrameBound::CurrentRow) => Ok(OverFrame::Range {
            preceding_millis: Some(0),
        }),
        (WindowFrameUnits::Range, WindowFrameBound::Preceding(value)) => Ok(OverFrame::Range {
            preceding_millis: if value.is_null() {
                None
            } else {
                Some(
                    interval_millis(value)
                        .and_then(|millis| u64::try_from(millis).ok())
                        .ok_or_else(bad_bound)?,
                )
            },
        }),
        _ => Err(bad_bound()),
    }
}

impl GraphBuilder<'_> {
    /// A window of aggregate functions: an OVER aggregation.
    pub(super) fn lower_over(&mut self, window: &Window) -> Result<Stream, String> {
        let mut functions = Vec::with_capacity(window.window_expr.len());
        for expr in &window.window_expr {
            let expr = match expr {
                Expr::Alias(alias) => alias.expr.as_ref(),
                other => other,
            };
            let Expr::WindowFunction(function) = expr else {
                return Err(format!("the OVER expression '{expr}' is not supported yet"));
            };
            let WindowFunctionDefinition::AggregateUDF(udaf) = &function.fun else {
                return Err(format!(
                    "the window function {} is not supported yet: Rivulet runs aggregate functions OVER a window, and ROW_NUMBER() for Top-N (a filter keeping its first N rows)",
                    function.fun.name().to_ascii_uppercase()
                ));
            };
            functions.push((expr.to_string(), udaf.name().to_string(), function));
        }
        let Some((_, _, first)) = functions.first() else {
            return Err("an OVER aggregation without aggregates".into());
        };
        let spec = &first.params;
        if functions.iter().any(|(_, _, f)| {
            f.params.partition_by != spec.partition_by
                || f.params.order_by != spec.order_by
                || f.params.window_frame != spec.window_frame
        }) {
            return Err(SAME_WINDOW.into());
        }
        let time_error = "OVER windows' ordering in stream mode must be defined on a time attribute, in ascending order";
        let [order] = spec.order_by.as_slice() else {
            return Err(time_error.into());
        };
        let Expr::Column(time) = &order.expr else {
            return Err(time_error.into());
        };
        if !order.asc {
            return Err(time_error.into());
        }
        let frame = over_frame(&spec.window_frame)?;

        let mut input = self.lower(&window.input)?;
        let plan_schema = window.input.schema();
        if input.schema.fields().len() != plan_schema.fields().len() {
            return Err("an OVER aggregation input whose columns Rivulet cannot line up".into());
        }
        if input.sessions {
            return Err(super::SESSION_ONLY_AGGREGATED.into());
        }
        if input.schema.index_of(ROW_KIND_COLUMN).is_ok() {
            return Err(
                "an OVER aggregation over an updating result (a changelog) is not supported yet"
                    .into(),
            );
        }
        let time_index = plan_schema
            .index_of_column(time)
            .map_err(|e| e.to_string())?;
        let time_column = input.schema.field(time_index).name().clone();
        if !matches!(
            input.schema.field(time_index).data_type(),
            arrow_schema::DataType::Timestamp(..)
        ) {
            return Err(time_error.into());
        }

        let partition: Vec<&Expr> = spec.partition_by.iter().collect();
        // Without PARTITION BY every row has the same key.
        let key = key_sql(&partition, |key| input.sql(key, plan_schema))?
            .unwrap_or_else(|| "0".to_string());
        let mut before = identity_projections(&input.schema);
        before.push(Projection {
            name: OVER_KEY.into(),
            expression: key,
        });
        let mut aggregates = Vec::with_capacity(functions.len());
        for (index, (text, name, function)) in functions.iter().enumerate() {
            let call = CallText {
                text: text.clone(),
                function: name,
                args: &function.params.args,
                distinct: function.params.distinct,
                filter: function.params.filter.as_deref(),
                ordered: false,
            };
            let sql = |e: &Expr| input.sql(e, plan_schema);
            aggregates.push(aggregate_call(index, &call, sql, &mut before)?);
        }
        self.push_calc(&mut input, None, before)?;
        let vertex = self.keyed_vertex(input.vertex, OVER_KEY, !spec.partition_by.is_empty());
        let results: Vec<String> = aggregates.iter().map(|a| a.output.clone()).collect();
        let operator = OperatorSpec::OverAggregate(OverAggregateSpec {
            name: Some(self.operator_name("OverAggregate")),
            key: OVER_KEY.into(),
            time: time_column,
            frame,
            aggregates,
            state_backend: self.state_backend.clone(),
        });
        let mut stream = Stream::positional(vertex, input.schema);
        self.push_operator(&mut stream, operator)?;
        // The plan's columns: the input's, then one per aggregate, cast
        // where the aggregate's type differs (MIN of an INT).
        let inputs = plan_schema.fields().len();
        let mut after: Vec<Projection> = stream.schema.fields()[..inputs]
            .iter()
            .map(|f| Projection {
                name: f.name().clone(),
                expression: quote(f.name()),
            })
            .collect();
        for (result, wanted) in results.iter().zip(&window.schema.fields()[inputs..]) {
            let have = stream
                .schema
                .field_with_name(result)
                .map_err(|e| e.to_string())?;
            let expression = if have.data_type() == wanted.data_type() {
                quote(result)
            } else {
                cast_sql(&quote(result), wanted.data_type())
            };
            after.push(Projection {
                name: result.clone(),
                expression,
            });
        }
        self.push_calc(&mut stream, None, after)?;
        Ok(stream)
    }
}
