//! Lowering a regular join (`a JOIN b ON a.x = b.y [AND …]`), as Flink
//! plans it: each side ends in a Calc that adds its join key column (one
//! equality's expression, or a ROW of several) and renames the columns the
//! other side also has (`id` becomes `id0`, as Flink's plans name them);
//! both go by hash edges on the key to a `Join` vertex, whose output is the
//! left columns then the right ones. Its columns keep the join's order, so
//! expressions above it find a column by its position in the join's schema.
//! The rest of an inner join's condition becomes a Calc after it; when it
//! bounds one side's time by the other's, the join is an interval join
//! ([`super::interval`]).

use std::collections::HashSet;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, NullEquality};
use datafusion::logical_expr::{Expr, Join, JoinType, LogicalPlan};
use rivulet_runtime::changelog::ROW_KIND_COLUMN;
use rivulet_runtime::job_graph::ShipStrategy;
use rivulet_runtime::operators::{JoinExpiry, JoinKind, JoinSpec, OperatorSpec, Projection};

use super::interval::time_bounds;
use super::{GraphBuilder, Stream, expression_sql, quote};
use crate::aggregation::key_sql;

/// The key column each side of a join gets.
pub(super) const JOIN_KEY: &str = "__join_key";

/// SQL text of `expr` (over the plan schema `plan`) over `stream`, whose
/// columns are the plan's by position.
pub(super) fn expression_by_position(
    expr: &Expr,
    plan: &DFSchema,
    stream: &Stream,
) -> Result<String, String> {
    let renamed = expr
        .clone()
        .transform(|e| {
            Ok(match e {
                Expr::Column(column) => match plan.index_of_column(&column) {
                    Ok(index) if index < stream.schema.fields().len() => {
                        let name = stream.schema.field(index).name();
                        Transformed::yes(Expr::Column(Column::new_unqualified(name)))
                    }
                    _ => Transformed::no(Expr::Column(column)),
                },
                other => Transformed::no(other),
            })
        })
        .map_err(|e| e.to_string())?
        .data;
    expression_sql(&renamed)
}

/// A name not yet `taken`: `name`, else `name0`, `name1`, … as Flink
/// renames a join's duplicate columns.
pub(super) fn unique_name(name: &str, taken: &mut HashSet<String>) -> String {
    let mut candidate = name.to_string();
    let mut suffix = 0;
    while taken.contains(&candidate) {
        candidate = format!("{name}{suffix}");
        suffix += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// A window join (Flink's: both sides joined on equal `window_start` and
/// `window_end` of their windows, and an inner join on anything else as
/// well, as Nexmark's q5 joins on `num >= maxn`): every row of a window is
/// final when the window ends, so rows leave state then, and an outer join
/// shows rows without a partner only then.
fn window_join(join: &Join, kind: JoinKind, left: &Stream, right: &Stream) -> Option<JoinExpiry> {
    let (Some(left_window), Some(right_window)) = (&left.window, &right.window) else {
        return None;
    };
    // Processing-time windows end by the clock, not by the watermark.
    if left.processing_time || right.processing_time {
        return None;
    }
    // The stream's name of a key's column, found by its position in the plan.
    let name_of = |expr: &Expr, plan: &LogicalPlan, stream: &Stream| {
        let Expr::Column(column) = expr else {
            return None;
        };
        let index = plan.schema().index_of_column(column).ok()?;
        Some(stream.schema.field(index).name().clone())
    };
    let pairs: Vec<(String, String)> = join
        .on
        .iter()
        .filter_map(|(l, r)| {
            Some((
                name_of(l, &join.left, left)?,
                name_of(r, &join.right, right)?,
            ))
        })
        .collect();
    let joined = |bound: usize| {
        pairs
            .iter()
            .any(|(l, r)| *l == left_window[bound] && *r == right_window[bound])
    };
    // An inner join's other conditions filter the pairs it makes; an outer
    // join's would decide which rows go without a partner.
    let other_conditions = join.filter.is_some() && kind != JoinKind::Inner;
    if !(joined(0) && joined(1)) || other_conditions {
        return None;
    }
    Some(JoinExpiry {
        left_time: left_window[1].clone(),
        right_time: right_window[1].clone(),
        // A window's rows are all there once the watermark is at its end
        // (less one millisecond, its last instant).
        left_reach_millis: -1,
        right_reach_millis: -1,
        padded_at_expiry: true,
    })
}

impl GraphBuilder<'_> {
    /// One side of a join: lowered, its columns renamed where the other
    /// side has them, and its join key added; and the column the key
    /// copies, when it is one plain column.
    pub(super) fn join_side(
        &mut self,
        plan: &LogicalPlan,
        keys: &[&Expr],
        taken: &mut HashSet<String>,
    ) -> Result<(Stream, Option<String>), String> {
        let mut stream = self.lower(plan)?;
        if stream.sessions {
            return Err(super::SESSION_ONLY_AGGREGATED.into());
        }
        let changelog = stream.schema.index_of(ROW_KIND_COLUMN).is_ok();
        if stream.schema.fields().len() != plan.schema().fields().len() + usize::from(changelog) {
            return Err("a JOIN input whose columns Rivulet cannot line up".into());
        }
        // A changelog's row kind keeps its name on both sides: the join
        // reads it from each and gives one of its own.
        let mut projections: Vec<Projection> = stream
            .schema
            .fields()
            .iter()
            .map(|field| Projection {
                name: if field.name() == ROW_KIND_COLUMN {
                    ROW_KIND_COLUMN.into()
                } else {
                    unique_name(field.name(), taken)
                },
                expression: quote(field.name()),
            })
            .collect();
        let key = key_sql(keys, |key| {
            expression_by_position(key, plan.schema(), &stream)
        })?
        .ok_or("a JOIN without keys")?;
        let copied = match keys {
            [Expr::Column(column)] => plan
                .schema()
                .index_of_column(column)
                .ok()
                .and_then(|index| projections.get(index))
                .map(|projection| projection.name.clone()),
            _ => None,
        };
        projections.push(Projection {
            name: JOIN_KEY.into(),
            expression: key,
        });
        // The window bounds the side carries, under their new names.
        let renamed = |bound: &String| {
            let index = stream.schema.index_of(bound).ok()?;
            projections.get(index).map(|p| p.name.clone())
        };
        let window = match stream.window.as_ref().filter(|_| !stream.by_position) {
            Some([start, end]) => renamed(start).zip(renamed(end)).map(|(s, e)| [s, e]),
            None => None,
        };
        self.push_calc(&mut stream, None, projections)?;
        stream.window = window;
        Ok((stream, copied))
    }

    pub(super) fn lower_join(&mut self, join: &Join) -> Result<Stream, String> {
        if let Some(scan) = self.lookup_scan(&join.right) {
            return self.lower_lookup_join(join, scan);
        }
        let kind = match join.join_type {
            JoinType::Inner => JoinKind::Inner,
            JoinType::Left => JoinKind::Left,
            JoinType::Right => JoinKind::Right,
            JoinType::Full => JoinKind::Full,
            JoinType::LeftSemi => JoinKind::LeftSemi,
            JoinType::RightSemi => JoinKind::RightSemi,
            other => return Err(format!("a {other} JOIN is not supported yet")),
        };
        if join.on.is_empty() {
            return Err(
                "a JOIN without an equality between its two sides is not supported yet".into(),
            );
        }
        if join.null_equality != NullEquality::NullEqualsNothing {
            return Err("a JOIN on keys where NULL equals NULL is not supported yet".into());
        }
        let (left_keys, right_keys): (Vec<&Expr>, Vec<&Expr>) =
            join.on.iter().map(|(l, r)| (l, r)).unzip();
        let mut taken = HashSet::new();
        let (left, left_copy) = self.join_side(&join.left, &left_keys, &mut taken)?;
        let (right, right_copy) = self.join_side(&join.right, &right_keys, &mut taken)?;
        let reads_changelog = [&left, &right]
            .iter()
            .any(|side| side.schema.index_of(ROW_KIND_COLUMN).is_ok());
        // DataFusion makes a semi join of an inner join whose other side
        // cannot multiply the kept side's rows (its keys are unique there).
        // With more than equalities, whether a row has a partner depends on
        // the partner, and over a changelog partners come and go, so it runs
        // as that inner join: the condition after it, then the kept side's
        // columns.
        let semi_as_inner = (join.filter.is_some() || reads_changelog)
            && matches!(kind, JoinKind::LeftSemi | JoinKind::RightSemi);
        let kept_side = kind;
        let kind = if semi_as_inner { JoinKind::Inner } else { kind };
        if join.filter.is_some() && kind != JoinKind::Inner {
            // A semi join's condition decides whether a row has a partner at all.
            return Err(
                "an outer JOIN whose condition holds more than equalities is not supported yet"
                    .into(),
            );
        }
        let vertex = self.new_vertex(vec![]);
        self.connect(
            left.vertex,
            vertex,
            ShipStrategy::Hash,
            Some(JOIN_KEY.into()),
        );
        self.connect(
            right.vertex,
            vertex,
            ShipStrategy::Hash,
            Some(JOIN_KEY.into()),
        );
        // Equal window bounds make it a window join; time bounds between
        // the sides an interval join. Neither reads a changelog: as in
        // Flink, whose time attributes do not outlive an unbounded
        // aggregation, such a join is a regular one.
        let expiry = match (window_join(join, kind, &left, &right), &join.filter, kind) {
            _ if reads_changelog => None,
            (Some(expiry), _, _) => Some(expiry),
            (None, Some(condition), JoinKind::Inner) => {
                time_bounds(condition, join.left.schema(), join.right.schema()).map(|bounds| {
                    JoinExpiry {
                        left_time: left.schema.field(bounds.left_time).name().clone(),
                        right_time: right.schema.field(bounds.right_time).name().clone(),
                        // A left row meets right rows up to `upper` after it;
                        // a right row left rows from `lower` before it.
                        left_reach_millis: bounds.upper_millis,
                        right_reach_millis: -bounds.lower_millis,
                        padded_at_expiry: false,
                    }
                })
            }
            _ => None,
        };
        let operator = OperatorSpec::Join(JoinSpec {
            name: Some(self.operator_name("Join")),
            kind,
            left: left.schema.as_ref().clone(),
            right: right.schema.as_ref().clone(),
            left_key: JOIN_KEY.into(),
            right_key: JOIN_KEY.into(),
            state_ttl_millis: self.state_ttl_millis,
            state_backend: self.state_backend.clone(),
            expiry,
            key_copies: [left_copy, right_copy],
            // Set by a Top-1 after it ([`super::rank`]).
            top_one: None,
        });
        let mut stream = Stream::positional(vertex, left.schema);
        self.push_operator(&mut stream, operator)?;
        if semi_as_inner {
            let both = join
                .left
                .schema()
                .join(join.right.schema())
                .map_err(|e| e.to_string())?;
            let predicate = match &join.filter {
                Some(condition) => Some(expression_by_position(condition, &both, &stream)?),
                None => None,
            };
            let left_columns = join.left.schema().fields().len();
            let kept: Vec<Projection> = stream
                .schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(index, _)| (*index < left_columns) == (kept_side == JoinKind::LeftSemi))
                .map(|(_, field)| Projection {
                    name: field.name().clone(),
                    expression: quote(field.name()),
                })
                .collect();
            self.push_calc(&mut stream, predicate, kept)?;
        } else if let Some(condition) = &join.filter {
            let predicate = expression_by_position(condition, &join.schema, &stream)?;
            let projections = super::identity_projections(&stream.schema);
            self.push_calc(&mut stream, Some(predicate), projections)?;
        }
        Ok(stream)
    }
}

#[cfg(test)]
mod tests {
    use rivulet_runtime::operators::OperatorSpec;

    use crate::planner::planned;

    /// Whether the job's join lets rows go when their window ends.
    async fn joins_by_window(select: &str, join: &str, condition: &str) -> bool {
        let script = format!(
            "CREATE TABLE bid (auction BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
  WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE out (auction BIGINT, num BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT {select} FROM (
  SELECT auction, COUNT(*) AS num, window_start AS s, window_end AS e
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND))
  GROUP BY auction, window_start, window_end) a
{join} (
  SELECT MAX(c.num) AS top, c.s, c.e FROM (
    SELECT COUNT(*) AS num, window_start AS s, window_end AS e
    FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND))
    GROUP BY auction, window_start, window_end) c
  GROUP BY c.s, c.e) m
ON a.s = m.s AND a.e = m.e{condition};"
        );
        let graph = planned::at(&script, 1).await.unwrap();
        let joins: Vec<_> = planned::operators(&graph)
            .filter_map(|op| match op {
                OperatorSpec::Join(join) => Some(join.expiry.is_some()),
                _ => None,
            })
            .collect();
        assert_eq!(joins.len(), 1, "{script}");
        joins[0]
    }

    #[tokio::test]
    async fn an_inner_join_on_equal_windows_is_a_window_join_whatever_else_it_joins_on() {
        let both = "a.auction, m.top";
        let left = "a.auction, a.num";
        assert!(joins_by_window(both, "JOIN", "").await);
        // Nexmark q5: more than the window bounds, and only one side's
        // columns (a semi join to DataFusion).
        assert!(joins_by_window(left, "JOIN", " AND a.num >= m.top").await);
        assert!(joins_by_window(both, "JOIN", " AND a.num >= m.top").await);
        let outer = "COALESCE(a.auction, 0), m.top";
        assert!(joins_by_window(outer, "LEFT JOIN", "").await);
    }

    /// The key copies of the one join of `condition` over two tables.
    async fn key_copies(condition: &str) -> [Option<String>; 2] {
        let script = format!(
            "CREATE TABLE a (x BIGINT, name STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
CREATE TABLE b (x BIGINT, price BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
CREATE TABLE out (x BIGINT, name STRING, y BIGINT, price BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT a.x, a.name, b.x, b.price FROM a JOIN b ON {condition};"
        );
        let graph = planned::at(&script, 1).await.unwrap();
        let mut joins = planned::operators(&graph).filter_map(OperatorSpec::as_join);
        let copies = joins.next().map(|join| join.key_copies.clone());
        assert!(joins.next().is_none(), "{script}");
        copies.unwrap_or_default()
    }

    #[tokio::test]
    async fn a_key_of_one_plain_column_is_known_as_its_copy() {
        // The right side's `x` is renamed, as the left has one.
        let both = [Some("x".to_string()), Some("x0".to_string())];
        assert_eq!(key_copies("a.x = b.x").await, both);
        let right_only = [None, Some("x0".to_string())];
        assert_eq!(key_copies("a.x + 1 = b.x").await, right_only);
        assert_eq!(key_copies("a.x = b.x AND a.name = 'n'").await, both);
        let composite = [None, None];
        assert_eq!(key_copies("a.x = b.x AND a.x = b.price").await, composite);
    }
}
