//! Source reuse, as Flink's `table.optimizer.reuse-source-enabled` (on by
//! default) does it: a query that reads one table in several places (the
//! Nexmark views `person`, `auction` and `bid` over one source table, or
//! both sides of a self-join) reads it once. The source, with its watermark
//! assigner, is a vertex of its own that reads every column any of the
//! places needs; each place gets a vertex of its own fed by a forward edge,
//! starting with a Calc that keeps its own columns.

use std::collections::{BTreeSet, HashMap};

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;

use super::physical_table_name;
use super::subplan_reuse::identity;

/// The table a scan reads (a table with computed columns is scanned as its
/// physical table).
pub(super) fn scanned_table(table: &str) -> &str {
    table
        .strip_prefix(&physical_table_name(""))
        .unwrap_or(table)
}

/// The tables `plan` reads in more than one place, each with the columns
/// all those places read together. An aggregation computed once for several
/// places (`shared_aggregates`, by [`identity`]) reads its input once: a
/// source read only there is not shared, and chains with what reads it.
pub(super) fn shared_scans(
    plan: &LogicalPlan,
    shared_aggregates: &[String],
) -> HashMap<String, BTreeSet<String>> {
    let mut scans: HashMap<String, (usize, BTreeSet<String>)> = HashMap::new();
    let mut aggregates_seen: Vec<String> = Vec::new();
    let visited = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Aggregate(_) = node
            && !shared_aggregates.is_empty()
        {
            let identity = identity(node);
            if shared_aggregates.contains(&identity) {
                if aggregates_seen.contains(&identity) {
                    return Ok(TreeNodeRecursion::Jump);
                }
                aggregates_seen.push(identity);
            }
        }
        if let LogicalPlan::TableScan(scan) = node {
            let table = scanned_table(scan.table_name.table()).to_string();
            let (count, columns) = scans.entry(table).or_default();
            *count += 1;
            columns.extend(
                scan.projected_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone()),
            );
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if visited.is_err() {
        // Without the whole picture, every place reads on its own.
        return HashMap::new();
    }
    scans
        .into_iter()
        .filter(|(_, (count, _))| *count > 1)
        .map(|(table, (_, columns))| (table, columns))
        .collect()
}
