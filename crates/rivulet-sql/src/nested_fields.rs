//! Nested projection push-down: which fields of its ROW columns a query
//! reads, so that a source able to skip fields (JSON lines) builds only
//! those. Nexmark's q0 reads five of the seven fields of `bid`; the JSON
//! source then copies neither `url` nor `channel`.
//!
//! A column counts as wholly read unless every use of it, anywhere in the
//! plan, is a field access `col.field`. A use is traced down the plan to the
//! table column it passes through unchanged: `bid.auction` above a
//! projection `get_field(datagen.bid, 'auction') AS auction` is the value
//! computed there, not the ROW column `auction` of the table. A reference
//! the trace cannot follow counts by its name, and uses are kept by column
//! name whatever table they belong to, so two columns of one name share
//! their fields: that can only keep more than needed, never less.

use std::collections::{BTreeSet, HashMap};

use arrow_schema::{DataType, Field, Fields, Schema};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::expr::{Exists, InSubquery, ScalarFunction};
use datafusion::logical_expr::{Expr, LogicalPlan};

#[derive(Debug, Clone, PartialEq, Eq)]
enum ColumnUse {
    Whole,
    Fields(BTreeSet<String>),
}

/// How a plan uses its columns, by column name.
#[derive(Debug, Default, Clone)]
pub struct NestedFieldUses {
    columns: HashMap<String, ColumnUse>,
}

impl NestedFieldUses {
    /// Gathers the uses of every column in `plan`.
    pub fn of_plan(plan: &LogicalPlan) -> Self {
        let mut uses = NestedFieldUses::default();
        // What the plan gives its sink is read whole, though no expression
        // may name it (`SELECT * FROM t WHERE r.a > 1` is a filter on a scan).
        uses.read_outputs(plan);
        // Visiting cannot fail: the closures only record.
        let _ = plan.apply_with_subqueries(|node| {
            node.apply_expressions(|expr| {
                uses.visit(expr, Some(node));
                Ok(TreeNodeRecursion::Continue)
            })
        });
        uses
    }

    /// Records every output column of `plan` as read whole.
    fn read_outputs(&mut self, plan: &LogicalPlan) {
        for (index, field) in plan.schema().fields().iter().enumerate() {
            for origin in traced(plan, index, field.name()) {
                self.columns.insert(origin, ColumnUse::Whole);
            }
        }
    }

    /// Adds the uses of one more expression (a source's watermark), whose
    /// columns are the table's own.
    pub fn include(&mut self, expr: &Expr) {
        self.visit(expr, None);
    }

    /// Records the uses in `expr`, an expression of `node` (of the table
    /// itself when `None`).
    fn visit(&mut self, expr: &Expr, node: Option<&LogicalPlan>) {
        let _ = expr.apply(|e| {
            if let Some((column, field)) = field_of_column(e) {
                for origin in origins(node, column) {
                    self.read_field(origin, field);
                }
                // The column under the access is not a whole use.
                return Ok(TreeNodeRecursion::Jump);
            }
            match e {
                Expr::Column(column) => {
                    for origin in origins(node, column) {
                        self.columns.insert(origin, ColumnUse::Whole);
                    }
                }
                Expr::OuterReferenceColumn(_, column) => {
                    self.columns.insert(column.name.clone(), ColumnUse::Whole);
                }
                // A subquery's result is read whole by the expression.
                Expr::ScalarSubquery(subquery)
                | Expr::InSubquery(InSubquery { subquery, .. })
                | Expr::Exists(Exists { subquery, .. }) => {
                    self.read_outputs(&subquery.subquery);
                }
                _ => {}
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }

    fn read_field(&mut self, column: String, field: &str) {
        let entry = self
            .columns
            .entry(column)
            .or_insert_with(|| ColumnUse::Fields(BTreeSet::new()));
        if let ColumnUse::Fields(fields) = entry {
            fields.insert(field.to_string());
        }
    }

    /// `schema` with each ROW column cut down to the fields the plan reads,
    /// in their order; columns read whole (or not at all) are kept as they are.
    pub fn narrow(&self, schema: &Schema) -> Schema {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|field| {
                let (DataType::Struct(children), Some(ColumnUse::Fields(read))) =
                    (field.data_type(), self.columns.get(field.name()))
                else {
                    return field.as_ref().clone();
                };
                let kept: Fields = children
                    .iter()
                    .filter(|child| read.contains(child.name()))
                    .cloned()
                    .collect();
                if kept.is_empty() {
                    return field.as_ref().clone();
                }
                field
                    .as_ref()
                    .clone()
                    .with_data_type(DataType::Struct(kept))
            })
            .collect();
        Schema::new_with_metadata(fields, schema.metadata().clone())
    }
}

/// The columns of `schema`, each ROW with its fields: `bid<auction,price>`.
pub fn describe(schema: &Schema) -> String {
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Struct(children) => {
                let names: Vec<&str> = children.iter().map(|c| c.name().as_str()).collect();
                format!("{}<{}>", f.name(), names.join(","))
            }
            _ => f.name().clone(),
        })
        .collect();
    columns.join(" ")
}

/// `(column, field)` of `get_field(column, 'field')`.
fn field_of_column(expr: &Expr) -> Option<(&Column, &str)> {
    let Expr::ScalarFunction(ScalarFunction { func, args }) = expr else {
        return None;
    };
    if func.name() != "get_field" || args.len() != 2 {
        return None;
    }
    let Expr::Column(column) = &args[0] else {
        return None;
    };
    match &args[1] {
        Expr::Literal(ScalarValue::Utf8(Some(name)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(name)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(name)), _) => Some((column, name.as_str())),
        _ => None,
    }
}

/// The names of the table columns that `column`, referenced in an
/// expression of `node`, passes on unchanged: none when it is a value
/// computed in the plan (whose own uses are recorded where it is
/// computed), its own name when the trace cannot follow it.
fn origins(node: Option<&LogicalPlan>, column: &Column) -> Vec<String> {
    let Some(node) = node else {
        return vec![column.name.clone()];
    };
    for input in node.inputs() {
        if let Some(index) = input.schema().maybe_index_of_column(column) {
            return traced(input, index, &column.name);
        }
    }
    // A table scan's pushed-down filters name the scan's own columns.
    vec![column.name.clone()]
}

/// The table columns output `index` (named `name`) of `plan` passes on
/// unchanged, or `name` itself when the trace cannot follow it.
fn traced(plan: &LogicalPlan, index: usize, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    if trace(plan, index, &mut found) {
        found
    } else {
        vec![name.to_string()]
    }
}

/// Adds to `found` the table columns that output `index` of `plan` passes
/// on unchanged. False when the plan is of a kind the trace cannot follow.
fn trace(plan: &LogicalPlan, index: usize, found: &mut Vec<String>) -> bool {
    let through = |input: &LogicalPlan, mut expr: &Expr, found: &mut Vec<String>| {
        while let Expr::Alias(alias) = expr {
            expr = &alias.expr;
        }
        match expr {
            Expr::Column(column) => match input.schema().maybe_index_of_column(column) {
                Some(at) => trace(input, at, found),
                None => false,
            },
            // A computed value: its uses are recorded where it is computed.
            _ => true,
        }
    };
    match plan {
        LogicalPlan::TableScan(scan) => {
            found.push(scan.projected_schema.field(index).name().clone());
            true
        }
        LogicalPlan::Projection(projection) => match projection.expr.get(index) {
            Some(expr) => through(&projection.input, expr, found),
            None => false,
        },
        LogicalPlan::Aggregate(aggregate) => {
            if aggregate
                .group_expr
                .iter()
                .any(|e| matches!(e, Expr::GroupingSet(_)))
            {
                return false;
            }
            match aggregate.group_expr.get(index) {
                Some(expr) => through(&aggregate.input, expr, found),
                // An aggregate's result.
                None => true,
            }
        }
        LogicalPlan::Window(window) => {
            if index < window.input.schema().fields().len() {
                trace(&window.input, index, found)
            } else {
                true
            }
        }
        LogicalPlan::Join(join) => {
            use datafusion::common::JoinType;
            let left = join.left.schema().fields().len();
            match join.join_type {
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
                    if index < left {
                        trace(&join.left, index, found)
                    } else {
                        trace(&join.right, index - left, found)
                    }
                }
                JoinType::LeftSemi | JoinType::LeftAnti => trace(&join.left, index, found),
                JoinType::RightSemi | JoinType::RightAnti => trace(&join.right, index, found),
                JoinType::LeftMark | JoinType::RightMark => false,
            }
        }
        LogicalPlan::Union(union) => union.inputs.iter().all(|input| trace(input, index, found)),
        LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::Repartition(_)
        | LogicalPlan::Distinct(datafusion::logical_expr::Distinct::All(_)) => {
            match plan.inputs().first() {
                Some(input) if input.schema().fields().len() == plan.schema().fields().len() => {
                    trace(input, index, found)
                }
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::*;

    fn table_schema() -> Schema {
        let row = Fields::from(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
            Field::new("c", DataType::Utf8, true),
        ]);
        Schema::new(vec![
            Field::new("kind", DataType::Int32, true),
            Field::new("r", DataType::Struct(row.clone()), true),
            Field::new("s", DataType::Struct(row), true),
        ])
    }

    async fn uses_of(query: &str) -> NestedFieldUses {
        let context = SessionContext::new();
        let schema = Arc::new(table_schema());
        let table = MemTable::try_new(schema, vec![vec![]]).unwrap();
        context.register_table("t", Arc::new(table)).unwrap();
        let plan = context.state().create_logical_plan(query).await.unwrap();
        let plan = context.state().optimize(&plan).unwrap();
        NestedFieldUses::of_plan(&plan)
    }

    fn row_fields(schema: &Schema, column: &str) -> Vec<String> {
        match schema.field_with_name(column).unwrap().data_type() {
            DataType::Struct(fields) => fields.iter().map(|f| f.name().clone()).collect(),
            other => panic!("{other}"),
        }
    }

    #[tokio::test]
    async fn rows_read_by_field_keep_only_those_fields() {
        let uses = uses_of("SELECT r.c, s.b FROM t WHERE kind = 2 AND r.a > 1").await;
        let narrowed = uses.narrow(&table_schema());
        assert_eq!(row_fields(&narrowed, "r"), ["a", "c"]);
        assert_eq!(row_fields(&narrowed, "s"), ["b"]);
    }

    #[tokio::test]
    async fn a_row_read_whole_anywhere_keeps_every_field() {
        let uses = uses_of("SELECT r.a, r FROM t").await;
        let narrowed = uses.narrow(&table_schema());
        assert_eq!(row_fields(&narrowed, "r"), ["a", "b", "c"]);
        // A row the query does not read at all is left as it is.
        assert_eq!(row_fields(&narrowed, "s"), ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn a_computed_column_named_like_a_row_is_not_a_use_of_the_row() {
        // As Nexmark's `bid` view: its `r` is a field of `s`, and the
        // query above it reads that `r`, not the table's ROW column `r`.
        let uses = uses_of(
            "SELECT v.r, UPPER(v.b) AS ub FROM (SELECT s.a AS r, s.b AS b FROM t WHERE kind = 2) AS v",
        )
        .await;
        let narrowed = uses.narrow(&table_schema());
        assert_eq!(row_fields(&narrowed, "s"), ["a", "b"]);
        assert_eq!(uses.columns.get("r"), None);
    }

    #[tokio::test]
    async fn a_row_passed_on_under_another_name_and_read_whole_keeps_every_field() {
        let uses =
            uses_of("SELECT x, x.a FROM (SELECT r AS x FROM t) UNION ALL SELECT s, s.a FROM t")
                .await;
        let narrowed = uses.narrow(&table_schema());
        assert_eq!(row_fields(&narrowed, "r"), ["a", "b", "c"]);
        assert_eq!(row_fields(&narrowed, "s"), ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn rows_a_query_gives_its_sink_unchanged_keep_every_field() {
        // The optimiser drops `SELECT *`: a filter on the scan is the plan.
        let uses = uses_of("SELECT * FROM t WHERE r.a > 1").await;
        let narrowed = uses.narrow(&table_schema());
        assert_eq!(row_fields(&narrowed, "r"), ["a", "b", "c"]);
        let uses =
            uses_of("SELECT kind FROM t WHERE kind IN (SELECT r.a FROM t) AND s.b = 'x'").await;
        let narrowed = uses.narrow(&table_schema());
        assert_eq!(row_fields(&narrowed, "r"), ["a"]);
        assert_eq!(row_fields(&narrowed, "s"), ["b"]);
    }
}
