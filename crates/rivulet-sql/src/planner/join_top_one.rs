//! Telling a regular join that a Top-1 of its key ranks all its rows
//! (Nexmark q9: `ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price
//! DESC, B.dateTime) <= 1` over `auction A JOIN bid B ON A.id = B.auction`),
//! so that it keeps only the rows that Top-1 can still show (see the
//! runtime's `join_top_one`).
//!
//! That holds when nothing but a Calc's projections lies between them: the
//! join's vertex is the join and one Calc whose projections copy columns
//! (none that could fail on a row the Top-1 drops), the Calc's filter (the
//! rest of the join's condition) moves into the join, the Top-1 is partitioned by
//! a plain copy of the join's key and ordered by plain columns of one side,
//! ROW_NUMBER keeping the first of equal rows. Both inputs are insert-only
//! and no state expires (no TTL, no time bound): otherwise the Top-1's
//! first row could move down.

use datafusion::common::DFSchema;
use datafusion::logical_expr::Expr;
use rivulet_runtime::operators::{JoinTopOne, OperatorSpec, RankSpec, SortKey};

use super::{GraphBuilder, Stream};

impl GraphBuilder<'_> {
    /// Hands `rank`, about to rank the rows of `stream` in vertex
    /// `ranking`, to the join `stream` comes from, when it is such a Top-1
    /// of such a join.
    pub(super) fn rank_in_join(
        &mut self,
        stream: &Stream,
        rank: &RankSpec,
        ranking: usize,
    ) -> Result<(), String> {
        let top_one = rank.limit == 1 && !rank.newer_first_on_ties && rank.window_end.is_none();
        let vertex = &self.vertices[stream.vertex];
        let ranking = &self.vertices[ranking].id;
        let read_elsewhere =
            (self.edges.iter()).any(|edge| edge.from == vertex.id && edge.to != *ranking);
        if !top_one || read_elsewhere {
            return Ok(());
        }
        let [OperatorSpec::Join(join), OperatorSpec::Calc(calc)] = vertex.operators.as_slice()
        else {
            return Ok(());
        };
        let Some(joined) = stream.last_input.as_ref() else {
            return Ok(());
        };
        if !join.can_feed_a_top_one() || join.top_one.is_some() {
            return Ok(());
        }
        let joined = DFSchema::try_from(joined.as_ref().clone()).map_err(|e| e.to_string())?;
        // The join's output column a Calc output column copies, if it does.
        let copied = |name: &str| {
            let projection = calc.projections.iter().find(|p| p.name == name)?;
            match self.context.parse_sql_expr(&projection.expression, &joined) {
                Ok(Expr::Column(column)) => Some(column.name),
                _ => None,
            }
        };
        // Only rows the join shows are projected then: a projection that
        // can fail (a CAST) would no longer fail on the others.
        if !calc.projections.iter().all(|p| copied(&p.name).is_some()) {
            return Ok(());
        }
        let partition = copied(&rank.key);
        if !join
            .key_copies
            .iter()
            .flatten()
            .any(|k| Some(k) == partition.as_ref())
        {
            return Ok(());
        }
        let side_of = |column: &str| {
            let of = |schema: &arrow_schema::Schema| schema.index_of(column).is_ok();
            match (of(&join.left), of(&join.right)) {
                (true, false) => Some(0),
                (false, true) => Some(1),
                _ => None,
            }
        };
        let mut order = Vec::with_capacity(rank.order.len());
        let mut sides = Vec::with_capacity(rank.order.len());
        for sort in &rank.order {
            let Some(column) = copied(&sort.column) else {
                return Ok(());
            };
            let Some(side) = side_of(&column) else {
                return Ok(());
            };
            sides.push(side);
            order.push(SortKey {
                column,
                descending: sort.descending,
                nulls_first: sort.nulls_first,
            });
        }
        let side = match sides.as_slice() {
            [first, rest @ ..] if rest.iter().all(|s| s == first) => *first,
            _ => return Ok(()),
        };
        let vertex = &mut self.vertices[stream.vertex];
        let [OperatorSpec::Join(join), OperatorSpec::Calc(calc)] = vertex.operators.as_mut_slice()
        else {
            return Ok(());
        };
        join.top_one = Some(JoinTopOne {
            side,
            order,
            condition: calc.filter.take(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rivulet_runtime::operators::{JoinTopOne, OperatorSpec};

    use crate::planner::planned;

    /// The Top-1 the one join of `select` (over `a` and `b`) is told of.
    async fn top_one_of(select: &str) -> Option<JoinTopOne> {
        let script = format!(
            "CREATE TABLE a (id BIGINT, name STRING, t TIMESTAMP(3), e TIMESTAMP(3)) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
CREATE TABLE b (auction BIGINT, price BIGINT, t TIMESTAMP(3)) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
CREATE TABLE out (id BIGINT, name STRING, price BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out {select};"
        );
        let graph = planned::at(&script, 2).await.unwrap();
        let mut joins = planned::operators(&graph).filter_map(OperatorSpec::as_join);
        let top_one = joins.next().map(|join| join.top_one.clone());
        assert!(joins.next().is_none(), "{script}");
        // The condition went into the join: no Calc filters the join's rows.
        if top_one.as_ref().is_some_and(|t| t.is_some()) {
            let filters = planned::operators(&graph).filter(|op| match op {
                OperatorSpec::Calc(calc) => {
                    calc.filter.as_deref().is_some_and(|f| f.contains("t0"))
                }
                _ => false,
            });
            assert_eq!(filters.count(), 0, "{script}");
        }
        top_one.flatten()
    }

    fn ranked(partition: &str, order: &str, bound: &str) -> String {
        format!(
            "SELECT id, name, price FROM (
  SELECT a.id, a.name, b.price,
    ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {order}) AS rn
  FROM a JOIN b ON a.id = b.auction AND b.t BETWEEN a.t AND a.e
) WHERE rn {bound}"
        )
    }

    #[tokio::test]
    async fn a_top_one_of_the_join_key_by_one_sides_columns_is_the_joins() {
        let top_one = top_one_of(&ranked("a.id", "b.price DESC, b.t", "<= 1"))
            .await
            .expect("told");
        assert_eq!(top_one.side, 1);
        let order: Vec<_> = top_one
            .order
            .iter()
            .map(|s| (s.column.as_str(), s.descending))
            .collect();
        assert_eq!(order, [("price", true), ("t0", false)]);
        assert!(top_one.condition.is_some_and(|c| c.contains("t0")));
        // By the other side's copy of the key, and by the left side's columns.
        assert!(
            top_one_of(&ranked("b.auction", "b.price", "= 1"))
                .await
                .is_some()
        );
        let left = top_one_of(&ranked("a.id", "a.name", "= 1")).await;
        assert_eq!(left.map(|t| t.side), Some(0));
    }

    #[tokio::test]
    async fn other_ranks_after_a_join_leave_it_as_it_is() {
        // More than one row, another partition, both sides' columns.
        for (partition, order, bound) in [
            ("a.id", "b.price DESC", "<= 2"),
            ("a.name", "b.price DESC", "<= 1"),
            ("a.id", "b.price DESC, a.name", "<= 1"),
        ] {
            let select = ranked(partition, order, bound);
            assert_eq!(top_one_of(&select).await, None, "{select}");
        }
        // A projection that computes runs after the Top-1 (DataFusion moves
        // it up), so the join is still told.
        let computed = ranked("a.id", "b.price DESC", "<= 1")
            .replace("a.name, b.price,", "UPPER(a.name) AS name, b.price,");
        assert!(top_one_of(&computed).await.is_some(), "{computed}");
    }
}
