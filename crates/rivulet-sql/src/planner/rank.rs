//! Lowering Top-N and deduplication as Flink recognises them: a
//! `ROW_NUMBER() OVER (PARTITION BY … ORDER BY …)` whose number a filter
//! bounds (`rn <= N`, `rn < N`, `rn = 1`). The filter is seen first, on the
//! way down the plan; the window under it then becomes a `Rank` operator
//! keeping the first N rows of each partition, behind a hash edge on the
//! partition key (one subtask without one). The filter itself stays, as a
//! Calc that every row the Rank emits passes. Partitioned by a window's
//! bounds, it is a window Top-N (or window deduplication): insert-only, its
//! rows emitted when the window ends.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Filter, LogicalPlan, Operator, Window};
use rivulet_runtime::changelog::ROW_KIND_COLUMN;
use rivulet_runtime::operators::{OperatorSpec, Projection, RankSpec, SortKey};

use super::{GraphBuilder, Stream, identity_projections};
use crate::aggregation::key_sql;

/// The partition key column a Rank's input gets.
const RANK_KEY: &str = "__rank_key";
/// The rank number column a Rank adds. (DataFusion names the window's
/// column after the whole `ROW_NUMBER() OVER (…)` text; steps above find it
/// by position.)
const RANK_NUMBER: &str = "__rank_number";

/// The number `expr` is, if it is an integer literal (maybe cast).
fn integer(expr: &Expr) -> Option<i128> {
    match expr {
        Expr::Literal(value, _) => match value {
            ScalarValue::Int8(Some(v)) => Some(i128::from(*v)),
            ScalarValue::Int16(Some(v)) => Some(i128::from(*v)),
            ScalarValue::Int32(Some(v)) => Some(i128::from(*v)),
            ScalarValue::Int64(Some(v)) => Some(i128::from(*v)),
            ScalarValue::UInt8(Some(v)) => Some(i128::from(*v)),
            ScalarValue::UInt16(Some(v)) => Some(i128::from(*v)),
            ScalarValue::UInt32(Some(v)) => Some(i128::from(*v)),
            ScalarValue::UInt64(Some(v)) => Some(i128::from(*v)),
            _ => None,
        },
        Expr::Cast(cast) => integer(&cast.expr),
        _ => None,
    }
}

/// The column `expr` reads, if it is one (maybe cast).
fn column_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(column) => Some(&column.name),
        Expr::Cast(cast) => column_name(&cast.expr),
        _ => None,
    }
}

/// The window column a plan's column `name` is, through the projections,
/// aliases and filters between them.
fn window_column(plan: &LogicalPlan, name: &str) -> Option<String> {
    let index = plan
        .schema()
        .fields()
        .iter()
        .position(|f| f.name() == name)?;
    match plan {
        LogicalPlan::Window(window) => {
            let inputs = window.input.schema().fields().len();
            (index >= inputs).then(|| name.to_string())
        }
        LogicalPlan::Projection(projection) => {
            let expr = match &projection.expr[index] {
                Expr::Alias(alias) => alias.expr.as_ref(),
                other => other,
            };
            window_column(&projection.input, column_name(expr)?)
        }
        LogicalPlan::SubqueryAlias(alias) => {
            let inner = alias.input.schema().field(index).name().clone();
            window_column(&alias.input, &inner)
        }
        LogicalPlan::Filter(filter) => window_column(&filter.input, name),
        _ => None,
    }
}

/// The window column a filter bounds and the number of rows it keeps.
pub(super) fn rank_limit(filter: &Filter) -> Option<(String, u64)> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &filter.predicate else {
        return None;
    };
    let (column, op, bound) = match (column_name(left), column_name(right)) {
        (Some(column), None) => (column, *op, integer(right)?),
        (None, Some(column)) => (column, op.swap()?, integer(left)?),
        _ => return None,
    };
    let limit = match op {
        Operator::LtEq => bound,
        Operator::Lt => bound - 1,
        Operator::Eq if bound == 1 => 1,
        _ => return None,
    };
    let limit = u64::try_from(limit).ok().filter(|n| *n > 0)?;
    Some((window_column(&filter.input, column)?, limit))
}

impl GraphBuilder<'_> {
    /// A window under a filter that bounds its `ROW_NUMBER()`: a Rank.
    pub(super) fn lower_window(&mut self, window: &Window) -> Result<Stream, String> {
        let unsupported = || {
            "ROW_NUMBER() is supported for Top-N and deduplication only (a filter keeping its first N rows)".to_string()
        };
        let pending = self.pending_rank.take();
        let ranked = |expr: &Expr| {
            let expr = match expr {
                Expr::Alias(alias) => alias.expr.as_ref(),
                other => other,
            };
            match expr {
                Expr::WindowFunction(function) if function.fun.name() == "row_number" => {
                    Some(function.clone())
                }
                _ => None,
            }
        };
        let row_number = match window.window_expr.as_slice() {
            [expr] => ranked(expr),
            _ => None,
        };
        let Some(function) = row_number else {
            // Aggregates over a window: an OVER aggregation.
            if window.window_expr.iter().any(|e| ranked(e).is_some()) {
                return Err(unsupported());
            }
            return self.lower_over(window);
        };
        let rank_column = window
            .schema
            .field(window.input.schema().fields().len())
            .name()
            .clone();
        let Some((_, limit)) = pending.filter(|(wanted, _)| *wanted == rank_column) else {
            return Err(unsupported());
        };
        self.rank_took_filter = true;
        let params = &function.params;
        let mut input = self.lower(&window.input)?;
        let changelog = input.schema.index_of(ROW_KIND_COLUMN).is_ok();
        if input.schema.fields().len()
            != window.input.schema().fields().len() + usize::from(changelog)
        {
            return Err("a Top-N input whose columns Rivulet cannot line up".into());
        }
        if input.sessions {
            return Err(super::SESSION_ONLY_AGGREGATED.into());
        }
        let plan_schema = window.input.schema();
        let mut order = Vec::with_capacity(params.order_by.len());
        for sort in &params.order_by {
            let Expr::Column(column) = &sort.expr else {
                return Err(format!(
                    "ORDER BY {} in a Top-N: only columns are supported yet",
                    sort.expr
                ));
            };
            let index = plan_schema
                .index_of_column(column)
                .map_err(|e| e.to_string())?;
            order.push(SortKey {
                column: input.schema.field(index).name().clone(),
                descending: !sort.asc,
                nulls_first: sort.nulls_first,
            });
        }
        // PARTITION BY a window's bounds (a window table function's, or
        // those a window aggregation carried on): a window Top-N, whose rows
        // are final when the window ends.
        let window_end = input.window.clone().filter(|_| !input.processing_time);
        let window_end = window_end.and_then(|[start, end]| {
            let partitions_by = |bound: &str| {
                params
                    .partition_by
                    .iter()
                    .any(|p| matches!(p, Expr::Column(c) if c.name == bound))
            };
            (partitions_by(&start) && partitions_by(&end)).then_some(end)
        });
        let partition: Vec<&Expr> = params.partition_by.iter().collect();
        // Without PARTITION BY every row has the same key.
        let key = key_sql(&partition, |key| input.sql(key, plan_schema))?
            .unwrap_or_else(|| "0".to_string());
        let mut projections = identity_projections(&input.schema);
        projections.push(Projection {
            name: RANK_KEY.into(),
            expression: key,
        });
        self.push_calc(&mut input, None, projections)?;
        let vertex = self.keyed_vertex(input.vertex, RANK_KEY, !params.partition_by.is_empty());
        // Deduplication keeping the last row by time replaces on ties, as Flink's does.
        let newer_first_on_ties = limit == 1
            && matches!(order.as_slice(), [sort] if sort.descending && matches!(
                input.schema.field_with_name(&sort.column).map(|f| f.data_type()),
                Ok(arrow_schema::DataType::Timestamp(..))
            ));
        let rank = RankSpec {
            name: Some(self.operator_name("Rank")),
            key: RANK_KEY.into(),
            order,
            limit,
            rank_column: RANK_NUMBER.into(),
            newer_first_on_ties,
            state_backend: self.state_backend.clone(),
            window_end,
            // Until the sink says it reads none ([`super::changelog_mode`]).
            update_before: true,
        };
        self.rank_in_join(&input, &rank, vertex)?;
        let operator = OperatorSpec::Rank(rank);
        let mut stream = Stream::positional(vertex, input.schema);
        self.push_operator(&mut stream, operator)?;
        Ok(stream)
    }
}
