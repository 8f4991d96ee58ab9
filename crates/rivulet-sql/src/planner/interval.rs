//! Recognising an interval join, as Flink does: an inner join whose
//! condition bounds one side's time by the other's, e.g.
//! `b.ts BETWEEN a.ts - INTERVAL '10' SECOND AND a.ts` (or the same with
//! `>=`/`<=`). The bounds let the join forget rows that no row still to
//! come can match; the condition itself still filters the joined rows.

use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};

/// Milliseconds of an interval literal that has no months (an interval of
/// months has no fixed length).
pub(super) fn interval_millis(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::IntervalDayTime(Some(v)) => {
            Some(i64::from(v.days) * 86_400_000 + i64::from(v.milliseconds))
        }
        ScalarValue::IntervalMonthDayNano(Some(v)) if v.months == 0 => {
            Some(i64::from(v.days) * 86_400_000 + v.nanoseconds / 1_000_000)
        }
        _ => None,
    }
}

/// An interval join's time columns (their indices in the left and the
/// right input) and the bounds of `right - left` in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TimeBounds {
    pub left_time: usize,
    pub right_time: usize,
    pub lower_millis: i64,
    pub upper_millis: i64,
}

/// A column plus a constant interval: `ts`, `ts - INTERVAL …`, `ts + …`.
fn time_term(expr: &Expr) -> Option<(&Column, i64)> {
    match expr {
        Expr::Column(column) => Some((column, 0)),
        Expr::Cast(cast) => time_term(&cast.expr),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (column, offset) = time_term(left)?;
            let Expr::Literal(value, _) = right.as_ref() else {
                return None;
            };
            let millis = interval_millis(value)?;
            match op {
                Operator::Plus => Some((column, offset + millis)),
                Operator::Minus => Some((column, offset - millis)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// One bound `(left time, right time, is_lower, millis)` from `x op y`.
fn bound(
    x: &Expr,
    op: Operator,
    y: &Expr,
    left: &DFSchema,
    right: &DFSchema,
) -> Option<(usize, usize, bool, i64)> {
    let ((cx, ox), (cy, oy)) = (time_term(x)?, time_term(y)?);
    let side = |column: &Column| match (left.index_of_column(column), right.index_of_column(column))
    {
        (Ok(index), Err(_)) => Some((0, index)),
        (Err(_), Ok(index)) => Some((1, index)),
        _ => None,
    };
    let is_time = |schema: &DFSchema, index: usize| {
        matches!(
            schema.field(index).data_type(),
            arrow_schema::DataType::Timestamp(..)
        )
    };
    // As `right - left op millis`.
    let (l, r, op, millis) = match (side(cx)?, side(cy)?) {
        ((1, r), (0, l)) => (l, r, op, oy - ox),
        ((0, l), (1, r)) => (l, r, op.swap()?, ox - oy),
        _ => return None,
    };
    if !is_time(left, l) || !is_time(right, r) {
        return None;
    }
    match op {
        Operator::Gt | Operator::GtEq => Some((l, r, true, millis)),
        Operator::Lt | Operator::LtEq => Some((l, r, false, millis)),
        _ => None,
    }
}

/// The time bounds `condition` sets between the two sides, if it sets both
/// a lower and an upper one on one pair of time columns.
pub(super) fn time_bounds(
    condition: &Expr,
    left: &DFSchema,
    right: &DFSchema,
) -> Option<TimeBounds> {
    let mut bounds: Vec<(usize, usize, bool, i64)> = Vec::new();
    for conjunct in split_conjunction(condition) {
        match conjunct {
            Expr::Between(Between {
                expr,
                negated: false,
                low,
                high,
            }) => {
                bounds.extend(bound(expr, Operator::GtEq, low, left, right));
                bounds.extend(bound(expr, Operator::LtEq, high, left, right));
            }
            Expr::BinaryExpr(BinaryExpr {
                left: x,
                op,
                right: y,
            }) => {
                bounds.extend(bound(x, *op, y, left, right));
            }
            _ => {}
        }
    }
    let &(left_time, right_time, ..) = bounds.first()?;
    let pair = bounds
        .iter()
        .filter(|(l, r, ..)| (*l, *r) == (left_time, right_time));
    let lower = pair.clone().filter(|b| b.2).map(|b| b.3).max()?;
    let upper = pair.filter(|b| !b.2).map(|b| b.3).min()?;
    (lower <= upper).then_some(TimeBounds {
        left_time,
        right_time,
        lower_millis: lower,
        upper_millis: upper,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::datasource::empty::EmptyTable;
    use datafusion::logical_expr::LogicalPlan;
    use datafusion::prelude::SessionContext;

    use super::*;

    /// The time bounds of the join in `query` over tables `a` and `b`.
    async fn bounds_of(query: &str) -> Option<TimeBounds> {
        let context = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                false,
            ),
            Field::new("n", DataType::Int64, false),
        ]));
        for table in ["a", "b"] {
            context
                .register_table(table, Arc::new(EmptyTable::new(schema.clone())))
                .unwrap();
        }
        let plan = context.state().create_logical_plan(query).await.unwrap();
        let plan = context.state().optimize(&plan).unwrap();
        let mut found = None;
        plan.apply(|node| {
            if let LogicalPlan::Join(join) = node {
                found = join
                    .filter
                    .as_ref()
                    .and_then(|f| time_bounds(f, join.left.schema(), join.right.schema()));
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        found
    }

    #[tokio::test]
    async fn bounds_are_read_from_between_and_from_comparisons_either_way_round() {
        let ten_seconds_before = Some(TimeBounds {
            left_time: 1,
            right_time: 1,
            lower_millis: -10_000,
            upper_millis: 0,
        });
        let between = "SELECT * FROM a JOIN b ON a.k = b.k \
            AND b.ts BETWEEN a.ts - INTERVAL '10' SECOND AND a.ts";
        assert_eq!(bounds_of(between).await, ten_seconds_before);
        let compared = "SELECT * FROM a JOIN b ON a.k = b.k \
            AND a.ts <= b.ts + INTERVAL '10' SECOND AND b.ts <= a.ts";
        assert_eq!(bounds_of(compared).await, ten_seconds_before);
        // One bound only, or bounds on other columns, make no interval join.
        let open = "SELECT * FROM a JOIN b ON a.k = b.k AND b.ts >= a.ts";
        assert_eq!(bounds_of(open).await, None);
        let numbers = "SELECT * FROM a JOIN b ON a.k = b.k AND b.n BETWEEN a.n AND a.n + 1";
        assert_eq!(bounds_of(numbers).await, None);
    }
}
