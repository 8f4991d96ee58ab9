//! The function calls a Calc's filter and its projections share: the
//! filter keeps the values it computed, and the projections read them
//! instead of computing them again, as Calcite's `RexProgram` (Flink's
//! Calc) computes a common expression once for its condition and its
//! projections.
//!
//! Nexmark's q21 filters on `REGEXP_EXTRACT(url, …) IS NOT NULL` and
//! projects the same call in a `CASE`'s `ELSE`: evaluated apart, the
//! expression ran twice for every row that reached the `ELSE`.
//!
//! Nothing is computed that the filter does not compute anyway: a call is
//! wrapped in the filter by a [`RememberedCall`] that keeps the values of
//! its last evaluation. DataFusion may evaluate part of a filter over some
//! rows only (the right of an `AND` or `OR`, a `CASE`'s branches): then the
//! values do not line up with the batch, and the Calc projects with the
//! call as written. Only immutable calls are shared, so the one value is
//! the value each evaluation would give.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{ColumnarValue, Volatility};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};

/// A call in a filter that keeps what its last evaluation gave.
#[derive(Debug)]
pub struct RememberedCall {
    call: Arc<dyn PhysicalExpr>,
    /// The values of the last evaluation and the rows it was over.
    last: Mutex<Option<(ColumnarValue, usize)>>,
}

impl RememberedCall {
    fn new(call: Arc<dyn PhysicalExpr>) -> Self {
        RememberedCall {
            call,
            last: Mutex::new(None),
        }
    }

    fn last(&self) -> MutexGuard<'_, Option<(ColumnarValue, usize)>> {
        // What a panicking holder left is replaced or taken whole.
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The values of the last evaluation, if it was over all `rows` rows
    /// of the batch the filter was given, and forgets them.
    pub fn take_over(&self, rows: usize) -> Result<Option<ArrayRef>> {
        let last = self.last().take();
        match last {
            Some((values, over)) if over == rows => values.into_array(rows).map(Some),
            _ => Ok(None),
        }
    }
}

impl PartialEq for RememberedCall {
    fn eq(&self, other: &Self) -> bool {
        self.call.eq(&other.call)
    }
}

impl Eq for RememberedCall {}

impl Hash for RememberedCall {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.call.hash(state);
    }
}

impl fmt::Display for RememberedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.call.fmt(f)
    }
}

impl PhysicalExpr for RememberedCall {
    fn return_field(&self, input_schema: &Schema) -> Result<FieldRef> {
        self.call.return_field(input_schema)
    }

    fn data_type(&self, input_schema: &Schema) -> Result<DataType> {
        self.call.data_type(input_schema)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.call.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let values = self.call.evaluate(batch)?;
        *self.last() = Some((values.clone(), batch.num_rows()));
        Ok(values)
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        self.call.children()
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        // Another call: no longer the one the projections read.
        Arc::clone(&self.call).with_new_children(children)
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.call.fmt_sql(f)
    }
}

/// The calls a filter shares with projections.
pub struct SharedCalls {
    /// Each call as the filter evaluates it.
    calls: Vec<Arc<RememberedCall>>,
    /// The filter, its shared calls remembered.
    pub filter: Arc<dyn PhysicalExpr>,
    /// The input's columns, then one column per shared call: what the
    /// projections [`find`] gives read.
    pub extended: SchemaRef,
}

impl SharedCalls {
    /// `batch`, over which [`Self::filter`] was just evaluated, with the
    /// values of every shared call appended; `None` when the filter
    /// computed some of them over part of its rows only. Either way the
    /// values are forgotten.
    pub fn extend(&self, batch: &RecordBatch) -> Result<Option<RecordBatch>> {
        let rows = batch.num_rows();
        let mut values = Vec::with_capacity(self.calls.len());
        for call in &self.calls {
            values.push(call.take_over(rows)?);
        }
        let Some(values) = values.into_iter().collect::<Option<Vec<_>>>() else {
            return Ok(None);
        };
        let mut columns = batch.columns().to_vec();
        columns.extend(values);
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(Arc::clone(&self.extended), columns, &options)
            .map(Some)
            .map_err(Into::into)
    }
}

/// The immutable calls of `expr`, outermost first.
fn immutable_calls(expr: &Arc<dyn PhysicalExpr>, found: &mut Vec<Arc<dyn PhysicalExpr>>) {
    if let Some(call) = expr.downcast_ref::<ScalarFunctionExpr>()
        && call.fun().signature().volatility == Volatility::Immutable
    {
        found.push(Arc::clone(expr));
    }
    for child in expr.children() {
        immutable_calls(child, found);
    }
}

fn contains(expr: &Arc<dyn PhysicalExpr>, part: &Arc<dyn PhysicalExpr>) -> bool {
    let mut found = false;
    // The closure never fails.
    let _ = expr.apply(|node| {
        found = node.as_ref() == part.as_ref();
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// Replaces each of `calls` in `expr` (outermost first) by what `replace`
/// gives for its index.
fn replace_calls(
    expr: Arc<dyn PhysicalExpr>,
    calls: &[Arc<dyn PhysicalExpr>],
    replace: impl Fn(usize) -> Arc<dyn PhysicalExpr>,
) -> Result<Arc<dyn PhysicalExpr>> {
    expr.transform_down(
        |node| match calls.iter().position(|c| c.as_ref() == node.as_ref()) {
            Some(i) => Ok(Transformed::new(replace(i), true, TreeNodeRecursion::Jump)),
            None => Ok(Transformed::no(node)),
        },
    )
    .map(|t| t.data)
}

/// A Calc's projections.
pub type Projections = Vec<Arc<dyn PhysicalExpr>>;

/// The calls of `filter` that some projection also makes (the outermost of
/// nested ones), and the projections reading each from its column of
/// [`SharedCalls::extended`]; `None` when there are none.
pub fn find(
    filter: &Arc<dyn PhysicalExpr>,
    projections: &[Arc<dyn PhysicalExpr>],
    input: &SchemaRef,
) -> Result<Option<(SharedCalls, Projections)>> {
    let mut candidates = Vec::new();
    immutable_calls(filter, &mut candidates);
    let mut calls: Vec<Arc<dyn PhysicalExpr>> = Vec::new();
    for candidate in candidates {
        let known = calls
            .iter()
            .any(|call| contains(call, &candidate) || contains(&candidate, call));
        if !known && projections.iter().any(|p| contains(p, &candidate)) {
            calls.push(candidate);
        }
    }
    if calls.is_empty() {
        return Ok(None);
    }
    let remembered: Vec<Arc<RememberedCall>> = calls
        .iter()
        .map(|call| Arc::new(RememberedCall::new(Arc::clone(call))))
        .collect();
    let filter = replace_calls(Arc::clone(filter), &calls, |i| {
        Arc::clone(&remembered[i]) as Arc<dyn PhysicalExpr>
    })?;
    let mut fields: Vec<FieldRef> = input.fields().iter().cloned().collect();
    let first = fields.len();
    for (i, call) in calls.iter().enumerate() {
        let field = Field::new(
            format!("__shared_call_{i}"),
            call.data_type(input)?,
            call.nullable(input)?,
        );
        fields.push(Arc::new(field));
    }
    let extended = Arc::new(Schema::new(fields));
    let column = |i: usize| -> Arc<dyn PhysicalExpr> {
        Arc::new(Column::new(extended.field(first + i).name(), first + i))
    };
    let projections = projections
        .iter()
        .map(|p| replace_calls(Arc::clone(p), &calls, column))
        .collect::<Result<_>>()?;
    let shared = SharedCalls {
        calls: remembered,
        filter,
        extended,
    };
    Ok(Some((shared, projections)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::calc::compile_expression;

    fn shared(filter: &str, projections: &[&str]) -> Vec<String> {
        let input = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let compile = |sql: &str| compile_expression("test", sql, &input).unwrap();
        let projections: Vec<_> = projections.iter().map(|p| compile(p)).collect();
        match find(&compile(filter), &projections, &input).unwrap() {
            Some((shared, _)) => shared.calls.iter().map(|c| c.to_string()).collect(),
            None => Vec::new(),
        }
    }

    #[test]
    fn immutable_calls_of_the_filter_a_projection_makes_are_shared() {
        let found = shared(
            "lower(b) = 'x' OR upper(a) = 'Y'",
            &["upper(a)", "lower(b)"],
        );
        assert_eq!(found.len(), 2, "{found:?}");
        // Two evaluations of random() are two values.
        assert!(shared("random() > 0.5", &["random()"]).is_empty());
        // A call no projection makes is not computed apart.
        assert!(shared("upper(a) = 'X'", &["lower(a)"]).is_empty());
        // Of nested shared calls, the outer one.
        let nested = shared(
            "length(upper(a)) > 1",
            &["length(upper(a)) + 1", "upper(a)"],
        );
        assert_eq!(nested.len(), 1);
        assert!(
            nested[0].starts_with("character_length(upper"),
            "{nested:?}"
        );
    }

    #[test]
    fn a_call_is_read_from_the_filter_only_when_it_was_computed_for_every_row() {
        use arrow_array::StringArray;
        let input = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let compile = |sql: &str| compile_expression("test", sql, &input).unwrap();
        let batch = RecordBatch::try_new(
            input.clone(),
            vec![
                Arc::new(StringArray::from(vec!["x", "y", "z"])),
                Arc::new(StringArray::from(vec!["p", "q", "r"])),
            ],
        )
        .unwrap();
        let evaluated = |filter: &str| {
            let (found, _) = find(&compile(filter), &[compile("upper(b)")], &input)
                .unwrap()
                .unwrap();
            found.filter.evaluate(&batch).unwrap();
            found.calls[0].take_over(batch.num_rows()).unwrap()
        };
        let every_row = evaluated("upper(b) <> 'Q'").unwrap();
        assert_eq!(every_row.as_ref(), &StringArray::from(vec!["P", "Q", "R"]));
        // A CASE computes a branch over the rows that take it.
        assert!(evaluated("CASE WHEN a = 'y' THEN upper(b) ELSE 'none' END = 'Q'").is_none());
    }
}
