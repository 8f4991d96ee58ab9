//! Nested projection push-down: which fields of its ROW columns a query
//! reads, so that a source able to skip fields (JSON lines) builds only
//! those. Nexmark's q0 reads five of the seven fields of `bid`; the JSON
//! source then copies neither `url` nor `channel`.
//!
//! A column counts as wholly read unless every use of it, anywhere in the
//! plan, is a field access `col.field`. Uses are gathered by column name,
//! whatever relation the column belongs to, so two columns of one name
//! share their fields: that can only keep more than needed, never less.

use std::collections::{BTreeSet, HashMap};

use arrow_schema::{DataType, Field, Fields, Schema};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::expr::ScalarFunction;
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
        // Visiting cannot fail: the closures only record.
        let _ = plan.apply_with_subqueries(|node| {
            node.apply_expressions(|expr| {
                uses.visit(expr);
                Ok(TreeNodeRecursion::Continue)
            })
        });
        uses
    }

    /// Adds the uses of one more expression (a source's watermark).
    pub fn include(&mut self, expr: &Expr) {
        self.visit(expr);
    }

    fn visit(&mut self, expr: &Expr) {
        let _ = expr.apply(|e| {
            if let Some((column, field)) = field_of_column(e) {
                self.read_field(column, field);
                // The column under the access is not a whole use.
                return Ok(TreeNodeRecursion::Jump);
            }
            if let Expr::Column(column) = e {
                self.columns.insert(column.name.clone(), ColumnUse::Whole);
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }

    fn read_field(&mut self, column: &str, field: &str) {
        let entry = self
            .columns
            .entry(column.to_string())
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

/// `(column, field)` of `get_field(column, 'field')`.
fn field_of_column(expr: &Expr) -> Option<(&str, &str)> {
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
        | Expr::Literal(ScalarValue::LargeUtf8(Some(name)), _) => {
            Some((column.name.as_str(), name.as_str()))
        }
        _ => None,
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
}
