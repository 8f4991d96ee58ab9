//! Flink's SQL functions that DataFusion lacks or names differently,
//! registered on every context that plans or evaluates expressions.

use datafusion::prelude::SessionContext;

/// Registers Rivulet's Flink-compatible functions on `context`.
pub fn register(_context: &SessionContext) {}
