//! Which update rows a sink reads, told to the operator that makes them:
//! the one case of Flink's changelog mode inference that changes an
//! operator here.
//!
//! A `blackhole` sink's changelog mode leaves UPDATE_BEFORE out. Without a
//! primary key (whose columns Flink would first match against the input's
//! upsert key) Flink then plans the Top-N or deduplication feeding it, over
//! row-wise Calcs only, with `generateUpdateBefore` off: no `-U` rows, and
//! a deduplication that has no old row to show keeps no rows ([`Rank`]).
//!
//! [`Rank`]: rivulet_runtime::operators::RankSpec

use rivulet_runtime::job_graph::{EdgeSpec, VertexSpec};
use rivulet_runtime::operators::OperatorSpec;

/// Turns `-U` rows off in the Top-N that feeds the sink ending each of
/// `sink_vertices` (sinks that read none, see
/// [`crate::connectors::reads_no_update_before`]), through Calcs in the same
/// vertex, when nothing else reads the vertex.
pub(super) fn drop_unread_update_before(
    vertices: &mut [VertexSpec],
    edges: &[EdgeSpec],
    sink_vertices: &[usize],
) {
    for &index in sink_vertices {
        let Some(vertex) = vertices.get_mut(index) else {
            continue;
        };
        if edges.iter().any(|edge| edge.from == vertex.id) {
            continue;
        }
        let mut upstream = vertex.operators.iter_mut().rev();
        if !matches!(upstream.next(), Some(OperatorSpec::DiscardSink(_))) {
            continue;
        }
        for operator in upstream {
            match operator {
                OperatorSpec::Calc(_) => continue,
                OperatorSpec::Rank(rank) => rank.update_before = false,
                _ => {}
            }
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use rivulet_runtime::operators::OperatorSpec;

    use crate::planner::planned;

    const DEDUPLICATED: &str = "(SELECT auction, bidder, price FROM (
          SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn
          FROM bid)
        WHERE rn <= 1)";

    /// Whether the Top-N of a deduplication shows `-U` rows when `select`
    /// (of it) goes into a sink of `sink_options` (and `primary_key`).
    async fn shows_update_before(sink_options: &str, primary_key: &str, select: &str) -> bool {
        let script = format!(
            "CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, ts TIMESTAMP(3))
             WITH ('connector' = 'datagen');
             CREATE TABLE out (auction BIGINT, bidder BIGINT, price BIGINT {primary_key})
             WITH ({sink_options});
             INSERT INTO out {select};"
        );
        let graph = planned::at(&script, 1).await.unwrap();
        let ranks: Vec<bool> = planned::operators(&graph)
            .filter_map(|op| match op {
                OperatorSpec::Rank(rank) => Some(rank.update_before),
                _ => None,
            })
            .collect();
        assert_eq!(ranks.len(), 1);
        ranks[0]
    }

    #[tokio::test]
    async fn only_a_sink_that_reads_no_update_before_turns_it_off() {
        let blackhole = "'connector' = 'blackhole'";
        let all = format!("SELECT * FROM {DEDUPLICATED}");
        let doubled = format!("SELECT auction, bidder, price * 2 FROM {DEDUPLICATED}");
        assert!(!shows_update_before(blackhole, "", &all).await);
        assert!(!shows_update_before(blackhole, "", &doubled).await);
        let keyed = ", PRIMARY KEY (bidder) NOT ENFORCED";
        assert!(shows_update_before(blackhole, keyed, &all).await);
        assert!(shows_update_before("'connector' = 'print'", "", &all).await);
        // An aggregation of the deduplicated rows takes back the old ones.
        let counted =
            format!("SELECT MAX(auction), bidder, COUNT(*) FROM {DEDUPLICATED} GROUP BY bidder");
        assert!(shows_update_before(blackhole, "", &counted).await);
    }
}
