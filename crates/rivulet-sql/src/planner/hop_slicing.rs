//! Slicing HOP windows, as Flink's planner fuses a window table function
//! into the window aggregation after it: when a `GROUP BY window_start,
//! window_end` reads a HOP table function through nothing but Calcs that
//! pass its window columns on untouched, the table function gives each row
//! its one slice instead of copying it into every window, and the
//! aggregation assembles the windows from the slices
//! ([`rivulet_runtime::operators::HopSlices`]). Anything that reads the
//! window columns as values in between (a filter on `window_start`, an
//! expression of `window_time`), or an aggregate whose merge depends on the
//! order rows came in, keeps the copying plan, which is always right.

use datafusion::logical_expr::Expr;
use rivulet_runtime::operators::{AggregateCall, HopSlices, OperatorSpec, WindowKind};

use super::{GraphBuilder, Stream};

/// A HOP table function whose rows may still become slices.
#[derive(Debug, Clone)]
pub(super) struct PendingHop {
    /// Where its operator is: the aggregation must be fed from that vertex.
    vertex: usize,
    operator: usize,
    slices: HopSlices,
    /// Its `window_time` column's name now, while it is passed on.
    time_column: Option<String>,
}

impl PendingHop {
    pub(super) fn new(vertex: usize, operator: usize, window: WindowKind) -> Option<PendingHop> {
        let WindowKind::Hop {
            slide_millis,
            size_millis,
        } = window
        else {
            return None;
        };
        Some(PendingHop {
            vertex,
            operator,
            slices: HopSlices {
                slide_millis,
                size_millis,
            },
            time_column: Some("window_time".into()),
        })
    }
}

/// The window columns of `stream` whose values nothing may read before
/// the aggregation: its bounds and the table function's `window_time`.
fn window_columns(stream: &Stream, hop: &PendingHop) -> Vec<String> {
    let mut columns: Vec<String> = stream.window.iter().flatten().cloned().collect();
    columns.extend(hop.time_column.clone());
    columns
}

fn unaliased(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(alias) => unaliased(&alias.expr),
        other => other,
    }
}

fn reads_any(expr: &Expr, columns: &[String]) -> bool {
    expr.column_refs()
        .iter()
        .any(|column| columns.contains(&column.name))
}

/// The pending HOP of `stream` after a filter on `predicate`.
pub(super) fn after_filter(stream: &Stream, predicate: &Expr) -> Option<PendingHop> {
    let hop = stream.hop.clone()?;
    (!reads_any(predicate, &window_columns(stream, &hop))).then_some(hop)
}

/// The pending HOP of `stream` after a projection of `exprs` to columns
/// named `names` (`stream.window` not yet renamed): kept while the window
/// columns are only passed on.
pub(super) fn after_projection(
    stream: &Stream,
    exprs: &[Expr],
    names: &[String],
) -> Option<PendingHop> {
    let mut hop = stream.hop.clone()?;
    let columns = window_columns(stream, &hop);
    let mut time_column = None;
    for (expr, name) in exprs.iter().zip(names) {
        match unaliased(expr) {
            Expr::Column(column) if hop.time_column.as_ref() == Some(&column.name) => {
                time_column = Some(name.clone());
            }
            // Any other column passed on, window bounds too.
            Expr::Column(_) => {}
            other if reads_any(other, &columns) => return None,
            _ => {}
        }
    }
    hop.time_column = time_column;
    Some(hop)
}

impl GraphBuilder<'_> {
    /// The slices a window aggregation of `aggregate` over `input` may
    /// read instead of copied rows, the table function switched to giving
    /// them; `None` leaves the plan as it is. Called once the Calc before
    /// the aggregation is in place.
    pub(super) fn slice_hop(
        &mut self,
        input: &Stream,
        aggregate: &datafusion::logical_expr::Aggregate,
        calls: &[AggregateCall],
    ) -> Option<HopSlices> {
        let hop = input.hop.as_ref()?;
        let window = input.window.as_ref()?;
        if input.processing_time
            || input.sessions
            || !calls.iter().all(|call| call.function.merges_in_any_order())
        {
            return None;
        }
        // The window bounds only as the grouping's own columns.
        let columns = window_columns(input, hop);
        let groups_by_window = aggregate
            .group_expr
            .iter()
            .all(|group| match unaliased(group) {
                Expr::Column(column) => {
                    window.contains(&column.name) || !columns.contains(&column.name)
                }
                other => !reads_any(other, &columns),
            });
        let groups_by_both = window.iter().all(|bound| {
            aggregate
                .group_expr
                .iter()
                .any(|g| matches!(unaliased(g), Expr::Column(c) if &c.name == bound))
        });
        let calls_read_window = aggregate.aggr_expr.iter().any(|e| reads_any(e, &columns));
        if !groups_by_window || !groups_by_both || calls_read_window || hop.vertex != input.vertex {
            return None;
        }
        let operators = &mut self.vertices.get_mut(hop.vertex)?.operators;
        let (table_function, after) = operators.get_mut(hop.operator..)?.split_first_mut()?;
        if !after.iter().all(|o| matches!(o, OperatorSpec::Calc(_))) {
            return None;
        }
        let OperatorSpec::WindowTableFunction(spec) = table_function else {
            return None;
        };
        spec.window = WindowKind::Tumble {
            size_millis: hop.slices.slide_millis,
        };
        Some(hop.slices)
    }
}

#[cfg(test)]
mod tests {
    use rivulet_runtime::operators::{HopSlices, OperatorSpec, WindowKind};

    use crate::planner::planned;

    /// The windows the table function gives and the slices the window
    /// aggregation reads, for a HOP aggregation of `select` and `filter`.
    async fn planned(select: &str, filter: &str) -> (WindowKind, Option<HopSlices>) {
        let script = format!(
            "CREATE TABLE bid (auction BIGINT, price BIGINT, ts TIMESTAMP(3),
               WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
             WITH ('connector' = 'datagen');
             CREATE TABLE out (auction BIGINT, s TIMESTAMP(3), v BIGINT)
             WITH ('connector' = 'blackhole');
             INSERT INTO out
             SELECT auction, window_start, {select}
             FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
             {filter}
             GROUP BY auction, window_start, window_end;"
        );
        let graph = planned::at(&script, 1).await.unwrap();
        let operators = || planned::operators(&graph);
        let window = operators()
            .find_map(|op| match op {
                OperatorSpec::WindowTableFunction(spec) => Some(spec.window),
                _ => None,
            })
            .unwrap();
        let slices = operators()
            .find_map(|op| match op {
                OperatorSpec::WindowAggregate(spec) => Some(spec.hop_slices),
                _ => None,
            })
            .unwrap();
        (window, slices)
    }

    #[tokio::test]
    async fn a_hop_aggregation_reads_slices_unless_something_reads_the_windows() {
        let sliced = HopSlices {
            slide_millis: 2_000,
            size_millis: 10_000,
        };
        let sliced_rows = WindowKind::Tumble { size_millis: 2_000 };
        let copied = WindowKind::Hop {
            slide_millis: 2_000,
            size_millis: 10_000,
        };
        let cases = [
            ("COUNT(*)", "", Some(sliced)),
            (
                "MAX(price) + MIN(price) + SUM(price)",
                "WHERE price > 5",
                Some(sliced),
            ),
            ("CAST(AVG(price) AS BIGINT)", "", Some(sliced)),
            // The order rows came in matters: copied.
            ("FIRST_VALUE(price)", "", None),
            ("COUNT(DISTINCT price) + COUNT(DISTINCT ts)", "", None),
            // DataFusion plans a lone distinct count as a grouping by the
            // value first, with no calls; that grouping's windows are
            // assembled from slices like any other.
            ("COUNT(DISTINCT price)", "", Some(sliced)),
            // The windows are read as values: copied.
            (
                "COUNT(*)",
                "WHERE window_start > TIMESTAMP '2024-01-01 00:00:00'",
                None,
            ),
            ("MAX(price) FILTER (WHERE window_time > ts)", "", None),
        ];
        for (select, filter, expected) in cases {
            let (window, slices) = planned(select, filter).await;
            assert_eq!(slices, expected, "{select} {filter}");
            let table_function = if expected.is_some() {
                sliced_rows
            } else {
                copied
            };
            assert_eq!(window, table_function, "{select} {filter}");
        }
    }
}
