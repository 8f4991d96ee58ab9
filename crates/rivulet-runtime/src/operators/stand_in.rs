//! What an expression that stands in for another shares with it: a fused
//! or selecting form of an expression, or a memo of one, compares, hashes,
//! prints and types as the expression it computes, so DataFusion and the
//! common-expression search see the expression as written; and putting
//! stand-ins in an expression's place.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::physical_expr::PhysicalExpr;

/// Implements `PartialEq`, `Eq`, `Hash` and `Display` for `$type` as those
/// of its field `$written`, the expression it stands in for.
macro_rules! compared_as_written {
    ($type:ty, $written:ident) => {
        impl PartialEq for $type {
            fn eq(&self, other: &Self) -> bool {
                self.$written.eq(&other.$written)
            }
        }

        impl Eq for $type {}

        impl ::std::hash::Hash for $type {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                ::std::hash::Hash::hash(&self.$written, state);
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.$written.fmt(f)
            }
        }
    };
}

/// Inside an `impl PhysicalExpr`: the field, type, nullability and SQL of
/// the expression in the field `$written`.
macro_rules! typed_as_written {
    ($written:ident) => {
        fn return_field(
            &self,
            input_schema: &::arrow_schema::Schema,
        ) -> ::datafusion::common::Result<::arrow_schema::FieldRef> {
            self.$written.return_field(input_schema)
        }

        fn data_type(
            &self,
            input_schema: &::arrow_schema::Schema,
        ) -> ::datafusion::common::Result<::arrow_schema::DataType> {
            self.$written.data_type(input_schema)
        }

        fn nullable(
            &self,
            input_schema: &::arrow_schema::Schema,
        ) -> ::datafusion::common::Result<bool> {
            self.$written.nullable(input_schema)
        }

        fn fmt_sql(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
            self.$written.fmt_sql(f)
        }
    };
}

pub(super) use compared_as_written;
pub(super) use typed_as_written;

/// What takes a node's place: `Some` of its stand-in, or `None` to keep it.
type Standing<'a> = dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<Option<Arc<dyn PhysicalExpr>>> + 'a;

/// `expr` with each node `stand_in` gives a stand-in for replaced by it,
/// looked for from the root down: what a stand-in replaced is not visited.
pub(super) fn replace_down(
    expr: Arc<dyn PhysicalExpr>,
    stand_in: &mut Standing,
) -> Result<Arc<dyn PhysicalExpr>> {
    expr.transform_down(|node| {
        Ok(match stand_in(&node)? {
            Some(replacement) => Transformed::new(replacement, true, TreeNodeRecursion::Jump),
            None => Transformed::no(node),
        })
    })
    .map(|transformed| transformed.data)
}

/// `expr` with each node `stand_in` gives a stand-in for replaced by it,
/// looked for from the leaves up (a node sees its children replaced).
pub(super) fn replace_up(
    expr: Arc<dyn PhysicalExpr>,
    stand_in: &mut Standing,
) -> Result<Arc<dyn PhysicalExpr>> {
    expr.transform_up(|node| {
        Ok(match stand_in(&node)? {
            Some(replacement) => Transformed::yes(replacement),
            None => Transformed::no(node),
        })
    })
    .map(|transformed| transformed.data)
}
