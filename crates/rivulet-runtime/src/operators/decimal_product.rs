//! A DECIMAL literal times an integer, `0.908 * price` (Nexmark q1 and
//! q14), computed as one multiplication per row when it cannot overflow.
//!
//! DataFusion widens the integer to a DECIMAL (a checked cast), multiplies
//! the two DECIMALs (checked, and checked again against the product's
//! precision), and casts the product once more to the column's DECIMAL:
//! three passes of about fifty instructions a row each. But a literal of
//! `p` digits times an integer of at most `d` digits has at most `p + d`
//! digits, so whenever the product's type (and that of a cast of it to the
//! same scale) holds that many, none of those checks can fail, and the
//! value is the literal's unscaled integer times the integer.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type,
};
use arrow_array::{Array, ArrayRef, Decimal128Array};
use arrow_schema::{DataType, Schema};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, CastExpr, Literal};

/// The most digits an integer of `data_type` has.
fn integer_digits(data_type: &DataType) -> Option<u8> {
    Some(match data_type {
        DataType::Int8 | DataType::UInt8 => 3,
        DataType::Int16 | DataType::UInt16 => 5,
        DataType::Int32 | DataType::UInt32 => 10,
        DataType::Int64 => 19,
        _ => return None,
    })
}

#[derive(Debug)]
pub(super) struct DecimalProduct {
    /// The expression as written: its text, type and equality.
    written: Arc<dyn PhysicalExpr>,
    integer: Arc<dyn PhysicalExpr>,
    /// The literal's unscaled value.
    factor: i128,
    precision: u8,
    scale: i8,
}

/// `expr` as `(literal, its precision, its scale, integer expression)` if
/// it is `literal * CAST(integer AS DECIMAL(p, 0))` (either way round)
/// whose cast cannot fail.
fn literal_times_integer(
    expr: &Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Option<(i128, u8, i8, Arc<dyn PhysicalExpr>)> {
    let product = expr.downcast_ref::<BinaryExpr>()?;
    if *product.op() != Operator::Multiply {
        return None;
    }
    let (literal, cast) = match product.left().downcast_ref::<Literal>() {
        Some(literal) => (literal, product.right()),
        None => (product.right().downcast_ref::<Literal>()?, product.left()),
    };
    let ScalarValue::Decimal128(Some(factor), precision, scale) = literal.value() else {
        return None;
    };
    let cast = cast.downcast_ref::<CastExpr>()?;
    let DataType::Decimal128(cast_precision, 0) = cast.cast_type() else {
        return None;
    };
    let digits = integer_digits(&cast.expr().data_type(schema).ok()?)?;
    if *cast_precision < digits || factor.unsigned_abs() >= 10u128.pow(u32::from(*precision)) {
        return None;
    }
    Some((*factor, *precision, *scale, Arc::clone(cast.expr())))
}

impl DecimalProduct {
    /// `expr` fused, if it is a product (or a cast of one to its scale)
    /// that cannot overflow its type.
    fn try_new(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<DecimalProduct> {
        let product = match expr.downcast_ref::<CastExpr>() {
            Some(cast) => cast.expr(),
            None => expr,
        };
        let (factor, factor_precision, factor_scale, integer) =
            literal_times_integer(product, schema)?;
        let DataType::Decimal128(precision, scale) = expr.data_type(schema).ok()? else {
            return None;
        };
        let DataType::Decimal128(product_precision, product_scale) =
            product.data_type(schema).ok()?
        else {
            return None;
        };
        let digits = factor_precision + integer_digits(&integer.data_type(schema).ok()?)?;
        let fits = |p: u8| p >= digits && p <= 38;
        if scale != factor_scale || product_scale != factor_scale {
            return None;
        }
        if !fits(precision) || !fits(product_precision) {
            return None;
        }
        Some(DecimalProduct {
            written: Arc::clone(expr),
            integer,
            factor,
            precision,
            scale,
        })
    }

    fn multiply<T: ArrowPrimitiveType>(&self, integers: &dyn Array) -> Result<ArrayRef>
    where
        i128: From<T::Native>,
    {
        let products: Decimal128Array = integers
            .as_primitive::<T>()
            .unary(|x| self.factor * i128::from(x));
        Ok(Arc::new(
            products.with_precision_and_scale(self.precision, self.scale)?,
        ))
    }
}

/// `expr` with every product of a DECIMAL literal and an integer in it that
/// cannot overflow computed as one multiplication.
pub(super) fn fuse_decimal_products(
    expr: Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Result<Arc<dyn PhysicalExpr>> {
    // Down, so that a cast of a product is fused with it.
    super::stand_in::replace_down(expr, &mut |node| {
        Ok(DecimalProduct::try_new(node, schema)
            .map(|fused| Arc::new(fused) as Arc<dyn PhysicalExpr>))
    })
}

super::stand_in::compared_as_written!(DecimalProduct, written);

impl PhysicalExpr for DecimalProduct {
    super::stand_in::typed_as_written!(written);

    fn evaluate(&self, batch: &arrow_array::RecordBatch) -> Result<ColumnarValue> {
        let integers = match self.integer.evaluate(batch)? {
            ColumnarValue::Array(integers) => integers,
            // A constant: as written.
            ColumnarValue::Scalar(_) => return self.written.evaluate(batch),
        };
        let products = match integers.data_type() {
            DataType::Int8 => self.multiply::<Int8Type>(&integers)?,
            DataType::Int16 => self.multiply::<Int16Type>(&integers)?,
            DataType::Int32 => self.multiply::<Int32Type>(&integers)?,
            DataType::Int64 => self.multiply::<Int64Type>(&integers)?,
            DataType::UInt8 => self.multiply::<UInt8Type>(&integers)?,
            DataType::UInt16 => self.multiply::<UInt16Type>(&integers)?,
            DataType::UInt32 => self.multiply::<UInt32Type>(&integers)?,
            _ => return self.written.evaluate(batch),
        };
        Ok(ColumnarValue::Array(products))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.integer]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let [integer] = <[_; 1]>::try_from(children).map_err(|_| {
            datafusion::error::DataFusionError::Internal(
                "a DECIMAL product reads one integer".into(),
            )
        })?;
        // The product as written, over the new integer: where it reads the
        // integer, the integer is swapped.
        super::stand_in::replace_down(Arc::clone(&self.written), &mut |node| {
            Ok((node.as_ref() == self.integer.as_ref()).then(|| Arc::clone(&integer)))
        })
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Int32Array, Int64Array, RecordBatch};
    use arrow_schema::Field;
    use datafusion::common::tree_node::{Transformed, TreeNode};

    use super::*;
    use crate::operators::calc::compile_expression;

    fn batch() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "price",
                Arc::new(Int64Array::from(vec![
                    Some(0),
                    Some(1_101_322),
                    None,
                    Some(i64::MAX),
                    Some(i64::MIN),
                    Some(-7),
                ])) as ArrayRef,
            ),
            (
                "small",
                Arc::new(Int32Array::from(vec![
                    Some(1),
                    Some(i32::MAX),
                    Some(i32::MIN),
                    None,
                    Some(-3),
                    Some(12),
                ])) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    fn schema() -> Arc<Schema> {
        batch().schema()
    }

    #[test]
    fn products_that_cannot_overflow_are_the_products_datafusion_computes() {
        let batch = batch();
        let schema = schema();
        let cases = [
            "0.908 * price",
            "price * 0.908",
            "CAST(0.908 * price AS DECIMAL(23, 3))",
            "-12.5 * small",
            "0.5 * small > 1",
            "CAST(0.908 * price AS DECIMAL(38, 3)) + 1",
        ];
        for sql in cases {
            let expr = compile_expression("test", sql, &schema).unwrap();
            let mut fused = 0;
            let _ = expr.apply(|node| {
                fused += usize::from(node.is::<DecimalProduct>());
                Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
            });
            assert_eq!(fused, 1, "{sql}: {expr}");
            // The same expression without the fusion.
            let written = Arc::clone(&expr)
                .transform_up(|node| {
                    Ok(match node.downcast_ref::<DecimalProduct>() {
                        Some(product) => Transformed::yes(Arc::clone(&product.written)),
                        None => Transformed::no(node),
                    })
                })
                .unwrap()
                .data;
            let ours = expr.evaluate(&batch).unwrap().into_array(6).unwrap();
            let theirs = written.evaluate(&batch).unwrap().into_array(6).unwrap();
            assert_eq!(ours.as_ref(), theirs.as_ref(), "{sql}");
            assert_eq!(ours.data_type(), theirs.data_type(), "{sql}");
        }
    }

    #[test]
    fn products_that_could_overflow_are_left_as_written() {
        let schema = Arc::new(Schema::new(vec![Field::new("p", DataType::Int64, true)]));
        let fused = |sql: &str| {
            let expr = compile_expression("test", sql, &schema).unwrap();
            let mut fused = Vec::new();
            let _ = expr.apply(|node| {
                if let Some(product) = node.downcast_ref::<DecimalProduct>() {
                    fused.push(product.written.to_string());
                }
                Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
            });
            fused
        };
        // A product of 22 digits cast to 20, or to another scale: the
        // product alone is fused, its cast checks.
        for sql in [
            "CAST(0.908 * p AS DECIMAL(20, 3))",
            "CAST(0.908 * p AS DECIMAL(30, 2))",
        ] {
            let found = fused(sql);
            assert_eq!(found.len(), 1, "{sql}");
            assert!(!found[0].starts_with("CAST"), "{sql}: {found:?}");
        }
        assert!(fused("p * 2").is_empty());
    }
}
