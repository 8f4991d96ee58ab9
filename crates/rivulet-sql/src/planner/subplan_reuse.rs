//! Sub-plan reuse, as Flink's `table.optimizer.reuse-sub-plan-enabled` (on
//! by default) does it for aggregations: an aggregation a query computes in
//! several places with the same input, grouping and calls (Nexmark q5 counts
//! the bids per auction and window twice, once to show and once to find each
//! window's maximum) is computed once. Its vertex ends there, and each place
//! reads it through a vertex of its own fed by a forward edge, so what one
//! place appends does not reach the other.

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;

use super::{GraphBuilder, Stream};

/// Flink's switch for sub-plan reuse.
pub(super) const REUSE_SUB_PLAN_KEY: &str = "table.optimizer.reuse-sub-plan-enabled";

/// DataFusion's optimizer names the expressions it extracts from nested
/// fields with a counter over the whole query (`__datafusion_extracted_7`),
/// so the same sub-plan in two places differs in those names only.
const EXTRACTED: &str = "__datafusion_extracted_";

/// What makes two sub-plans the same computation: every node with its
/// expressions and schema, extracted names numbered from the sub-plan's own
/// first, and the sub-plan's output columns exactly (the plan above reads
/// them by name).
pub(super) fn identity(plan: &LogicalPlan) -> String {
    let text = plan.display_indent_schema().to_string();
    let mut numbers: Vec<&str> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(EXTRACTED) {
        let after = &rest[at + EXTRACTED.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let number = &after[..digits];
        let index = match numbers.iter().position(|n| *n == number) {
            Some(index) => index,
            None => {
                numbers.push(number);
                numbers.len() - 1
            }
        };
        out.push_str(&rest[..at]);
        out.push_str(&format!("{EXTRACTED}#{index}"));
        rest = &after[digits..];
    }
    out.push_str(rest);
    out.push_str(&format!("\n=> {:?}", plan.schema()));
    out
}

/// The aggregations `plan` holds more than once, by [`identity`].
pub(super) fn shared_aggregates(plan: &LogicalPlan) -> Vec<String> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let visited = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Aggregate(_) = node {
            let identity = identity(node);
            match seen.iter_mut().find(|(known, _)| *known == identity) {
                Some((_, count)) => *count += 1,
                None => seen.push((identity, 1)),
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if visited.is_err() {
        // Without the whole picture, every place computes its own.
        return Vec::new();
    }
    seen.into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(node, _)| node)
        .collect()
}

/// A shared aggregation once lowered: its vertex and what its stream was.
pub(super) struct BuiltShared {
    identity: String,
    stream: Stream,
}

impl GraphBuilder<'_> {
    /// `plan` (an aggregation) lowered: computed here if it is not shared,
    /// else read from its one computation, built at its first place.
    pub(super) fn lower_shareable_aggregate(
        &mut self,
        plan: &LogicalPlan,
        aggregate: &datafusion::logical_expr::Aggregate,
    ) -> Result<Stream, String> {
        if self.shared_aggregates.is_empty() {
            return self.lower_aggregate(aggregate);
        }
        let identity = identity(plan);
        if !self.shared_aggregates.contains(&identity) {
            return self.lower_aggregate(aggregate);
        }
        let at = match self
            .built_shared
            .iter()
            .position(|b| b.identity == identity)
        {
            Some(at) => at,
            None => {
                let stream = self.lower_aggregate(aggregate)?;
                self.built_shared.push(BuiltShared { identity, stream });
                self.built_shared.len() - 1
            }
        };
        let vertex = self.forwarded_vertex(self.built_shared[at].stream.vertex);
        let shared = &self.built_shared[at].stream;
        Ok(Stream {
            vertex,
            schema: shared.schema.clone(),
            last_input: None,
            by_position: shared.by_position,
            sessions: shared.sessions,
            window: shared.window.clone(),
            processing_time: shared.processing_time,
            // Its aggregation is built; nothing of it is sliced anew.
            hop: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use rivulet_runtime::operators::OperatorSpec;

    use crate::planner::planned;

    /// Nexmark q5's shape: the bids per auction and window, shown where
    /// they reach their window's maximum, which is taken over the same counts.
    fn hot_items(setting: &str) -> String {
        format!(
            "{setting}
CREATE TABLE bid (auction BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
  WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE out (auction BIGINT, num BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT a.auction, a.num FROM (
  SELECT auction, COUNT(*) AS num, window_start AS s, window_end AS e
  FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
  GROUP BY auction, window_start, window_end) a
JOIN (
  SELECT MAX(c.num) AS top, c.s, c.e FROM (
    SELECT COUNT(*) AS num, window_start AS s, window_end AS e
    FROM TABLE(HOP(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
    GROUP BY auction, window_start, window_end) c
  GROUP BY c.s, c.e) m
ON a.s = m.s AND a.e = m.e AND a.num >= m.top;"
        )
    }

    async fn window_aggregates(script: &str) -> usize {
        let graph = planned::at(script, 2).await.unwrap();
        planned::operators(&graph)
            .filter(|op| matches!(op, OperatorSpec::WindowAggregate(_)))
            .count()
    }

    #[tokio::test]
    async fn an_aggregation_computed_in_two_places_is_computed_once() {
        // The per-auction counts once, and the maximum over them.
        assert_eq!(window_aggregates(&hot_items("")).await, 2);
        let off = "SET 'table.optimizer.reuse-sub-plan-enabled' = 'false';";
        assert_eq!(window_aggregates(&hot_items(off)).await, 3);
    }

    /// Whether the source's vertex also holds the Calc that reads it.
    async fn source_chained(script: &str) -> bool {
        let graph = planned::at(script, 1).await.unwrap();
        graph.vertices[0]
            .operators
            .iter()
            .any(|op| matches!(op, OperatorSpec::Calc(_)))
    }

    #[tokio::test]
    async fn a_source_read_only_by_a_reused_aggregation_chains_with_it() {
        assert!(source_chained(&hot_items("")).await);
        // Without reuse, two aggregations read the source: it is shared.
        let off = "SET 'table.optimizer.reuse-sub-plan-enabled' = 'false';";
        assert!(!source_chained(&hot_items(off)).await);
    }

    #[tokio::test]
    async fn a_bad_reuse_setting_is_named_at_its_set() {
        let bad = "SET 'table.optimizer.reuse-sub-plan-enabled' = 'sometimes';";
        let error = planned::at(&hot_items(bad), 1).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("Could not parse value 'sometimes'"),
            "{message}"
        );
    }
}
