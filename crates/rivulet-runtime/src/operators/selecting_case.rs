//! `CASE WHEN … THEN … END` whose branches are cheap to compute for every
//! row, evaluated by computing each branch over the whole batch and picking
//! per row, instead of DataFusion's way of filtering the batch down to each
//! branch's rows first.
//!
//! Nexmark's source table computes its event time as
//! `CASE WHEN event_type = 0 THEN person.dateTime WHEN … ELSE bid.dateTime
//! END`. DataFusion evaluates each THEN over a filtered copy of the columns
//! it reads, and those are the whole `person`, `auction` and `bid` ROW
//! columns: every string of every event was copied twice to compute one
//! timestamp (5% of Nexmark q9). Here a THEN that is a column or a field of
//! one costs nothing over the whole batch, and `zip` picks each row's value.
//!
//! Only where computing a branch for rows it does not choose can change no
//! result is the CASE replaced: conditions and results built from columns,
//! fields of ROW columns, literals, comparisons, AND / OR / NOT and
//! IS [NOT] NULL, with every result of the CASE's own type. Anything that
//! can fail (a division, a cast, a function) keeps DataFusion's CASE.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_schema::{DataType, Schema};
use datafusion::common::Result;
use datafusion::common::cast::as_boolean_array;
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::expressions::{
    BinaryExpr, CaseExpr, CastExpr, Column, IsNotNullExpr, IsNullExpr, Literal, NotExpr,
};
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};

/// A [`CaseExpr`] (without a base expression) whose conditions and results
/// are all [`cheap_and_infallible`].
#[derive(Debug)]
pub(super) struct SelectingCase {
    case: Arc<dyn PhysicalExpr>,
}

/// Whether `expr` can be computed for a whole batch at little cost and
/// without an error for any row.
pub(super) fn cheap_and_infallible(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> bool {
    let cheap = |expr: &Arc<dyn PhysicalExpr>| cheap_and_infallible(expr, schema);
    if expr.is::<Column>() || expr.is::<Literal>() {
        return true;
    }
    if let Some(cast) = expr.downcast_ref::<CastExpr>() {
        // `event_type = 0` compares an INT widened to BIGINT.
        return cast
            .expr()
            .data_type(schema)
            .is_ok_and(|from| widens(&from, cast.cast_type()))
            && cheap(cast.expr());
    }
    if let Some(binary) = expr.downcast_ref::<BinaryExpr>() {
        let simple = matches!(
            binary.op(),
            Operator::Eq
                | Operator::NotEq
                | Operator::Lt
                | Operator::LtEq
                | Operator::Gt
                | Operator::GtEq
                | Operator::And
                | Operator::Or
                | Operator::IsDistinctFrom
                | Operator::IsNotDistinctFrom
        );
        return simple && cheap(binary.left()) && cheap(binary.right());
    }
    if let Some(not) = expr.downcast_ref::<NotExpr>() {
        return cheap(not.arg());
    }
    if let Some(is_null) = expr.downcast_ref::<IsNullExpr>() {
        return cheap(is_null.arg());
    }
    if let Some(is_not_null) = expr.downcast_ref::<IsNotNullExpr>() {
        return cheap(is_not_null.arg());
    }
    if let Some(function) = expr.downcast_ref::<ScalarFunctionExpr>() {
        // A field of a ROW: the field's array, with the ROW's NULLs.
        return function.name() == "get_field" && function.args().iter().all(cheap);
    }
    false
}

/// Whether every value of `from` is a value of `to`: the same type, an
/// integer type widened, or NULL.
fn widens(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let width = |t: &DataType| match t {
        Int8 | UInt8 => Some(1),
        Int16 | UInt16 => Some(2),
        Int32 | UInt32 => Some(4),
        Int64 | UInt64 => Some(8),
        _ => None,
    };
    if from == to || *from == Null {
        return true;
    }
    let unsigned = |t: &DataType| matches!(t, UInt8 | UInt16 | UInt32 | UInt64);
    match (width(from), width(to)) {
        // A signed type never fits an unsigned one.
        (Some(from_width), Some(to_width)) => {
            from_width < to_width && (unsigned(from) || !unsigned(to))
        }
        _ => false,
    }
}

impl SelectingCase {
    /// `expr` as a selecting CASE, if it is a CASE that can be one.
    fn try_new(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Result<Option<SelectingCase>> {
        let Some(case) = expr.downcast_ref::<CaseExpr>() else {
            return Ok(None);
        };
        if case.expr().is_some() {
            return Ok(None);
        }
        let data_type = expr.data_type(schema)?;
        let of_its_type = |result: &Arc<dyn PhysicalExpr>| -> Result<bool> {
            Ok(cheap_and_infallible(result, schema) && result.data_type(schema)? == data_type)
        };
        for (when, then) in case.when_then_expr() {
            if !cheap_and_infallible(when, schema) || !of_its_type(then)? {
                return Ok(None);
            }
        }
        if let Some(otherwise) = case.else_expr()
            && !of_its_type(otherwise)?
        {
            return Ok(None);
        }
        Ok(Some(SelectingCase {
            case: Arc::clone(expr),
        }))
    }

    fn body(&self) -> Result<&CaseExpr> {
        self.case.downcast_ref::<CaseExpr>().ok_or_else(|| {
            datafusion::error::DataFusionError::Internal("a selecting CASE without its CASE".into())
        })
    }
}

/// `expr` with every CASE in it that can select its rows doing so.
pub(super) fn select_cheap_cases(
    expr: Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Result<Arc<dyn PhysicalExpr>> {
    super::stand_in::replace_up(expr, &mut |node| {
        Ok(SelectingCase::try_new(node, schema)?
            .map(|selecting| Arc::new(selecting) as Arc<dyn PhysicalExpr>))
    })
}

super::stand_in::compared_as_written!(SelectingCase, case);

impl PhysicalExpr for SelectingCase {
    super::stand_in::typed_as_written!(case);

    fn evaluate(&self, batch: &arrow_array::RecordBatch) -> Result<ColumnarValue> {
        let case = self.body()?;
        let rows = batch.num_rows();
        let mut chosen: ArrayRef = match case.else_expr() {
            Some(otherwise) => otherwise.evaluate(batch)?.into_array(rows)?,
            None => arrow_array::new_null_array(&self.data_type(&batch.schema())?, rows),
        };
        // The last branch first: a row ends with the value of the first
        // branch whose condition is true (NULL counts as false in `zip`).
        for (when, then) in case.when_then_expr().iter().rev() {
            let condition = when.evaluate(batch)?.into_array(rows)?;
            let condition = as_boolean_array(&condition)?;
            if !condition.has_true() {
                continue;
            }
            let value = then.evaluate(batch)?.into_array(rows)?;
            chosen = arrow_select::zip::zip(condition, &value, &chosen)?;
        }
        Ok(ColumnarValue::Array(chosen))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        self.case.children()
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        // New children may not be cheap: the plain CASE over them.
        Arc::clone(&self.case).with_new_children(children)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int32Array, Int64Array, RecordBatch, StructArray};
    use arrow_schema::{Field, Fields};
    use datafusion::common::tree_node::{Transformed, TreeNode};

    use super::*;
    use crate::operators::calc::compile_expression;

    fn batch() -> RecordBatch {
        let row = |values: Vec<Option<i64>>, valid: Vec<bool>| -> ArrayRef {
            Arc::new(StructArray::new(
                Fields::from(vec![Field::new("t", DataType::Int64, true)]),
                vec![Arc::new(Int64Array::from(values))],
                Some(valid.into()),
            ))
        };
        RecordBatch::try_from_iter([
            (
                "kind",
                Arc::new(Int32Array::from(vec![
                    Some(0),
                    Some(1),
                    Some(2),
                    None,
                    Some(0),
                ])) as ArrayRef,
            ),
            (
                "a",
                row(
                    vec![Some(10), Some(11), Some(12), Some(13), None],
                    vec![true, false, true, true, true],
                ),
            ),
            (
                "b",
                row(
                    vec![Some(20), Some(21), Some(22), Some(23), Some(24)],
                    vec![true; 5],
                ),
            ),
            (
                "n",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    /// The expression compiled (with the rewrite) and as DataFusion alone
    /// evaluates it; whether it was rewritten.
    fn both(sql: &str) -> (ArrayRef, ArrayRef, bool) {
        let batch = batch();
        let rows = batch.num_rows();
        let compiled = compile_expression("test", sql, &batch.schema()).unwrap();
        let selecting = compiled.is::<SelectingCase>();
        let ours = compiled.evaluate(&batch).unwrap().into_array(rows).unwrap();
        let plain = compiled
            .transform_up(|node| {
                Ok(match node.downcast_ref::<SelectingCase>() {
                    Some(s) => Transformed::yes(Arc::clone(&s.case)),
                    None => Transformed::no(node),
                })
            })
            .unwrap()
            .data;
        let theirs = plain.evaluate(&batch).unwrap().into_array(rows).unwrap();
        (ours, theirs, selecting)
    }

    #[test]
    fn cases_of_fields_select_as_datafusion_filters() {
        for sql in [
            "CASE WHEN kind = 0 THEN a.t WHEN kind = 1 THEN b.t ELSE n END",
            "CASE WHEN kind = 0 OR kind IS NULL THEN a.t END",
            "CASE WHEN NOT kind = 2 THEN b.t WHEN kind = 2 THEN a.t ELSE NULL END",
            "CASE WHEN kind > 5 THEN a.t ELSE b.t END",
            "CASE WHEN kind = 0 THEN kind ELSE n END",
        ] {
            let (ours, theirs, selecting) = both(sql);
            assert!(selecting, "{sql} is rewritten");
            assert_eq!(ours.to_data(), theirs.to_data(), "{sql}");
        }
    }

    #[test]
    fn cases_that_can_fail_or_need_casts_stay_datafusions() {
        let schema = batch().schema();
        for sql in [
            "CASE WHEN kind = 0 THEN n / (kind - kind) ELSE n END",
            "CASE WHEN kind = 0 THEN CAST(n AS INT) ELSE kind END",
            "CASE kind WHEN 0 THEN a.t ELSE b.t END",
            "CASE WHEN n / (kind - kind) = 1 THEN a.t ELSE b.t END",
        ] {
            let compiled = compile_expression("test", sql, &schema).unwrap();
            let rewritten = compiled
                .exists(|node| Ok(node.is::<SelectingCase>()))
                .unwrap();
            assert!(!rewritten, "{sql} is not rewritten");
        }
    }
}
