//! Flink's `LISTAGG(expr [, separator])` as DataFusion plans it: a marker
//! aggregate function of that name, so a query using it plans and type
//! checks (its result is a STRING). DataFusion never runs it: the planner
//! lowers the call to the runtime's own LISTAGG accumulator
//! ([`crate::aggregation`]), which lists values in the order they come.

use arrow_schema::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, TypeSignature, Volatility,
};
use datafusion::prelude::SessionContext;

/// The name the marker is registered under, as queries call it.
pub const LISTAGG: &str = "listagg";

/// Makes `LISTAGG` known to the planning context.
pub fn register_listagg(context: &SessionContext) {
    context.register_udaf(AggregateUDF::new_from_impl(ListAggMarker::new()));
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ListAggMarker {
    signature: Signature,
}

impl ListAggMarker {
    fn new() -> Self {
        ListAggMarker {
            // The values, and the separator; both read as strings.
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Utf8]),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl AggregateUDFImpl for ListAggMarker {
    fn name(&self) -> &str {
        LISTAGG
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Err(DataFusionError::NotImplemented(
            "LISTAGG runs in Rivulet's aggregation operators, not in DataFusion".into(),
        ))
    }
}
