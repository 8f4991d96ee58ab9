//! The expressions a Calc's filter and projections make more than once,
//! each computed once per batch, as Calcite's `RexProgram` (Flink's Calc)
//! computes a common expression once for its condition and projections.
//!
//! The planner composes consecutive Calcs by writing the expressions of the
//! first into the second, so what a query names once can appear many times:
//! Nexmark q14 filters on `0.908 * price` twice and projects it, and its
//! `CASE` takes `HOUR(dateTime)` four times, `dateTime` being the source
//! table's own `CASE` over the event's kind. DataFusion computes each
//! occurrence anew.
//!
//! Each repeated expression is wrapped in a [`Memo`], which keeps its values
//! for the last few batches it was evaluated over, knowing a batch by its
//! very arrays. A memo never computes anything the expression as written
//! would not: it is evaluated where DataFusion evaluates the expression (a
//! `CASE` branch or the right of an `AND` over the rows that reach it, which
//! are other arrays), and a batch it knows gives the values evaluating over
//! those same arrays gives. Only deterministic expressions are shared (no
//! volatile or stable function in them), and only those that cost something
//! (not a column, a field of a ROW, a literal or a comparison of those).
//!
//! The filter's values reach the projections too: when the filter computed
//! a shared expression over the whole batch, its values for the rows kept
//! are given to the projections' memo of it. Nexmark q21 filters on
//! `REGEXP_EXTRACT(url, …) IS NOT NULL` and projects the same call.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::Schema;
use datafusion::common::Result;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{ColumnarValue, Volatility};
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};

use super::selecting_case::cheap_and_infallible;

/// Batches whose values a memo keeps at once: the whole batch and the rows
/// of a few branches.
const KEPT_BATCHES: usize = 4;

/// An expression that keeps its values for the batches it was last
/// evaluated over.
#[derive(Debug)]
pub(super) struct Memo {
    /// The shape of the expression as written, to find its occurrences by.
    shape: Arc<str>,
    /// The expression as evaluated: reading the memos of the shared
    /// expressions inside it.
    expr: Arc<dyn PhysicalExpr>,
    kept: Mutex<Vec<Kept>>,
}

#[derive(Debug)]
struct Kept {
    /// The batch's columns, held so that no other array takes their
    /// addresses while the values are kept.
    columns: Vec<ArrayRef>,
    rows: usize,
    values: ColumnarValue,
}

impl Kept {
    fn is_over(&self, batch: &RecordBatch) -> bool {
        self.rows == batch.num_rows()
            && self.columns.len() == batch.num_columns()
            && self
                .columns
                .iter()
                .zip(batch.columns())
                .all(|(kept, column)| std::ptr::addr_eq(Arc::as_ptr(kept), Arc::as_ptr(column)))
    }
}

impl Memo {
    fn new(shape: Arc<str>, expr: Arc<dyn PhysicalExpr>) -> Self {
        Memo {
            shape,
            expr,
            kept: Mutex::new(Vec::new()),
        }
    }

    fn kept(&self) -> MutexGuard<'_, Vec<Kept>> {
        // What a panicking holder left is whole values or none.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The values kept for `batch`, if they were computed over its arrays.
    pub fn values_over(&self, batch: &RecordBatch) -> Option<ColumnarValue> {
        let kept = self.kept();
        kept.iter()
            .find(|kept| kept.is_over(batch))
            .map(|kept| kept.values.clone())
    }

    /// Keeps `values` as the expression's over `batch`, letting go of the
    /// oldest kept values when there are too many.
    pub fn keep(&self, batch: &RecordBatch, values: ColumnarValue) {
        let mut kept = self.kept();
        if kept.len() == KEPT_BATCHES {
            kept.remove(0);
        }
        kept.push(Kept {
            columns: batch.columns().to_vec(),
            rows: batch.num_rows(),
            values,
        });
    }

    /// Lets go of every kept value.
    pub fn forget(&self) {
        self.kept().clear();
    }
}

super::stand_in::compared_as_written!(Memo, expr);

impl PhysicalExpr for Memo {
    super::stand_in::typed_as_written!(expr);

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        if let Some(values) = self.values_over(batch) {
            return Ok(values);
        }
        let values = self.expr.evaluate(batch)?;
        self.keep(batch, values.clone());
        Ok(values)
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.expr]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        // Another expression (DataFusion's CASE renumbers the columns of
        // its branches): no longer the one shared, so plainly itself.
        match children.pop() {
            Some(child) if children.is_empty() => Ok(child),
            _ => Err(datafusion::error::DataFusionError::Internal(
                "a shared expression has exactly one child".into(),
            )),
        }
    }
}

/// Whether `expr` gives the same values whenever it is computed over the
/// same rows: no function in it is volatile or stable.
fn deterministic(expr: &Arc<dyn PhysicalExpr>) -> bool {
    let mut deterministic = true;
    // The closure never fails.
    let _ = expr.apply(|node| {
        if let Some(call) = node.downcast_ref::<ScalarFunctionExpr>()
            && call.fun().signature().volatility != Volatility::Immutable
        {
            deterministic = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    deterministic
}

/// What expressions are compared by: an expression's text and the type of
/// each of its nodes. (DataFusion's own comparison of two function calls
/// compares every option of their sessions, written out as text: comparing
/// each node of a Calc's expressions with each other that way took a third
/// of a second.)
struct Shapes<'s> {
    schema: &'s Schema,
    /// The shape of each node met, by its address, and the node, held so
    /// that no other node takes its address.
    known: HashMap<*const (), (Arc<dyn PhysicalExpr>, Arc<str>)>,
}

impl<'s> Shapes<'s> {
    fn new(schema: &'s Schema) -> Self {
        Shapes {
            schema,
            known: HashMap::new(),
        }
    }

    fn of(&mut self, expr: &Arc<dyn PhysicalExpr>) -> Arc<str> {
        let address = Arc::as_ptr(expr).cast::<()>();
        if let Some((_, shape)) = self.known.get(&address) {
            return Arc::clone(shape);
        }
        let mut shape = expr.to_string();
        let _ = expr.apply(|node| {
            match node.data_type(self.schema) {
                Ok(data_type) => shape.push_str(&format!("\u{0}{data_type}")),
                // Unlike any other.
                Err(_) => shape.push_str(&format!("\u{0}{:p}", Arc::as_ptr(node))),
            }
            Ok(TreeNodeRecursion::Continue)
        });
        let shape: Arc<str> = shape.into();
        self.known
            .insert(address, (Arc::clone(expr), Arc::clone(&shape)));
        shape
    }

    /// How many times an expression of shape `part` occurs in `trees`, not
    /// counting those inside an expression of one of the `opaque` shapes.
    fn occurrences(
        &mut self,
        trees: &[&Arc<dyn PhysicalExpr>],
        part: &str,
        opaque: &HashSet<Arc<str>>,
    ) -> usize {
        let mut count = 0;
        for tree in trees {
            // The closure never fails.
            let _ = tree.apply(|node| {
                let shape = self.of(node);
                if *shape == *part {
                    count += 1;
                    return Ok(TreeNodeRecursion::Jump);
                }
                if opaque.contains(&shape) {
                    return Ok(TreeNodeRecursion::Jump);
                }
                Ok(TreeNodeRecursion::Continue)
            });
        }
        count
    }
}

fn size(expr: &Arc<dyn PhysicalExpr>) -> usize {
    let mut nodes = 0;
    let _ = expr.apply(|_| {
        nodes += 1;
        Ok(TreeNodeRecursion::Continue)
    });
    nodes
}

/// The expressions worth computing once that `trees` (over `schema`) make
/// more than once, largest first. Inside a larger shared expression, an
/// expression counts as often as it occurs in it once.
pub(super) fn repeated(
    trees: &[&Arc<dyn PhysicalExpr>],
    schema: &Schema,
) -> Vec<Arc<dyn PhysicalExpr>> {
    let mut shapes = Shapes::new(schema);
    let mut seen = HashSet::new();
    let mut candidates: Vec<(Arc<dyn PhysicalExpr>, Arc<str>)> = Vec::new();
    for tree in trees {
        let _ = tree.apply(|node| {
            if !cheap_and_infallible(node, schema) {
                let shape = shapes.of(node);
                if seen.insert(Arc::clone(&shape)) {
                    candidates.push((Arc::clone(node), shape));
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    candidates.retain(|(expr, _)| deterministic(expr));
    candidates.sort_by_key(|(expr, _)| std::cmp::Reverse(size(expr)));
    let mut shared: Vec<Arc<dyn PhysicalExpr>> = Vec::new();
    let mut opaque = HashSet::new();
    for (candidate, shape) in candidates {
        // Inside a shared expression it is computed as often as it occurs
        // there, whatever the occurrences of the outer one.
        let inside: Vec<&Arc<dyn PhysicalExpr>> =
            shared.iter().flat_map(|s| s.children()).collect();
        let count = shapes.occurrences(trees, &shape, &opaque)
            + shapes.occurrences(&inside, &shape, &opaque);
        if count >= 2 {
            shared.push(candidate);
            opaque.insert(shape);
        }
    }
    shared
}

/// Those of `exprs` that occur in one of `trees`, all over `schema`.
pub(super) fn occurring_in(
    exprs: &[Arc<dyn PhysicalExpr>],
    trees: &[Arc<dyn PhysicalExpr>],
    schema: &Schema,
) -> Vec<Arc<dyn PhysicalExpr>> {
    let mut shapes = Shapes::new(schema);
    let trees: Vec<&Arc<dyn PhysicalExpr>> = trees.iter().collect();
    let none = HashSet::new();
    exprs
        .iter()
        .filter(|expr| {
            let shape = shapes.of(expr);
            shapes.occurrences(&trees, &shape, &none) > 0
        })
        .cloned()
        .collect()
}

/// A memo of each of `shared` (over `schema`, largest first as [`repeated`]
/// gives them), in their order, each reading the memos of those inside it.
pub(super) fn memos(shared: &[Arc<dyn PhysicalExpr>], schema: &Schema) -> Result<Vec<Arc<Memo>>> {
    let mut shapes = Shapes::new(schema);
    let mut memos: Vec<Arc<Memo>> = Vec::with_capacity(shared.len());
    for plain in shared.iter().rev() {
        let expr = with_memos(Arc::clone(plain), &memos, &mut shapes)?;
        let shape = shapes.of(plain);
        memos.push(Arc::new(Memo::new(shape, expr)));
    }
    memos.reverse();
    Ok(memos)
}

/// Each of `trees` (over `schema`) with every occurrence of a memo's
/// expression reading the memo.
pub(super) fn read_memos(
    trees: Vec<Arc<dyn PhysicalExpr>>,
    memos: &[Arc<Memo>],
    schema: &Schema,
) -> Result<Vec<Arc<dyn PhysicalExpr>>> {
    let mut shapes = Shapes::new(schema);
    trees
        .into_iter()
        .map(|tree| with_memos(tree, memos, &mut shapes))
        .collect()
}

/// An expression and what reads its values instead.
pub(super) type Replacement = (Arc<dyn PhysicalExpr>, Arc<dyn PhysicalExpr>);

/// Each of `trees` (over `schema`) with every occurrence of an expression
/// of `replaced` (largest first) reading what it is paired with instead: a
/// column of values computed already.
pub(super) fn read_columns(
    trees: Vec<Arc<dyn PhysicalExpr>>,
    replaced: &[Replacement],
    schema: &Schema,
) -> Result<Vec<Arc<dyn PhysicalExpr>>> {
    let mut shapes = Shapes::new(schema);
    let wanted: Vec<(Arc<str>, Arc<dyn PhysicalExpr>)> = replaced
        .iter()
        .map(|(expr, column)| (shapes.of(expr), Arc::clone(column)))
        .collect();
    trees
        .into_iter()
        .map(|tree| with_shapes_read(tree, &wanted, &mut shapes))
        .collect()
}

fn with_memos(
    expr: Arc<dyn PhysicalExpr>,
    memos: &[Arc<Memo>],
    shapes: &mut Shapes,
) -> Result<Arc<dyn PhysicalExpr>> {
    if memos.is_empty() {
        return Ok(expr);
    }
    let wanted: Vec<(Arc<str>, Arc<dyn PhysicalExpr>)> = memos
        .iter()
        .map(|memo| {
            (
                Arc::clone(&memo.shape),
                Arc::clone(memo) as Arc<dyn PhysicalExpr>,
            )
        })
        .collect();
    with_shapes_read(expr, &wanted, shapes)
}

/// `expr` with every occurrence of a shape of `wanted` (largest first)
/// reading what it is paired with instead.
fn with_shapes_read(
    expr: Arc<dyn PhysicalExpr>,
    wanted: &[(Arc<str>, Arc<dyn PhysicalExpr>)],
    shapes: &mut Shapes,
) -> Result<Arc<dyn PhysicalExpr>> {
    super::stand_in::replace_down(expr, &mut |node| {
        let shape = shapes.of(node);
        Ok(wanted
            .iter()
            .find(|(wanted, _)| *wanted == shape)
            .map(|(_, reader)| Arc::clone(reader)))
    })
}

#[cfg(test)]
mod tests {
    use arrow_array::StringArray;
    use arrow_schema::{DataType, Field};

    use super::*;
    use crate::operators::calc::compile_expression;

    fn input() -> Arc<Schema> {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
        ]))
    }

    fn shared(sqls: &[&str]) -> Vec<String> {
        let input = input();
        let trees: Vec<_> = sqls
            .iter()
            .map(|sql| compile_expression("test", sql, &input).unwrap())
            .collect();
        let trees: Vec<_> = trees.iter().collect();
        repeated(&trees, &input)
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn expressions_made_more_than_once_are_shared_the_largest_first() {
        let found = shared(&["upper(a) = 'X'", "upper(a)", "lower(a)"]);
        assert_eq!(found, ["upper(a@0)"]);
        // Inside a larger shared expression an expression counts once
        // for each time it occurs there.
        let found = shared(&["length(upper(a)) > 1", "length(upper(a)) > 2"]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("character_length(upper"), "{found:?}");
        let once_outside = ["length(upper(a)) > 1", "length(upper(a))", "upper(a)"];
        assert_eq!(shared(&once_outside).len(), 2);
        let only_inside = ["length(upper(a)) > 1", "length(upper(a))", "lower(a)"];
        assert_eq!(shared(&only_inside).len(), 1);
        // Two evaluations of random() are two values.
        assert!(shared(&["random() > 0.5", "random()"]).is_empty());
        // Columns, fields and comparisons of them cost nothing to compute again.
        assert!(shared(&["b > 1", "b > 1", "a"]).is_empty());
    }

    #[test]
    fn a_memo_gives_its_values_again_only_for_the_very_arrays_it_computed_them_over() {
        let input = input();
        let expr = compile_expression("test", "upper(a)", &input).unwrap();
        let memo = Memo::new("upper".into(), expr);
        let batch = |values: Vec<&str>| {
            let rows = values.len() as i64;
            RecordBatch::try_new(
                input.clone(),
                vec![
                    Arc::new(StringArray::from(values)),
                    Arc::new(arrow_array::Int64Array::from_iter_values(0..rows)),
                ],
            )
            .unwrap()
        };
        let array = |value: ColumnarValue| value.into_array(2).unwrap();
        let first = batch(vec!["x", "y"]);
        let computed = array(memo.evaluate(&first).unwrap());
        let again = array(memo.evaluate(&first.clone()).unwrap());
        assert!(Arc::ptr_eq(&computed, &again), "the kept values");
        // Another batch of as many rows is computed anew.
        let other = array(memo.evaluate(&batch(vec!["p", "q"])).unwrap());
        assert_eq!(other.as_ref(), &StringArray::from(vec!["P", "Q"]));
        memo.forget();
        assert!(memo.values_over(&first).is_none());
    }
}
