//! Column names as Flink's planner gives them: a selected nested field
//! `person.id` is the column `id`, where DataFusion would name it
//! `nexmark.person[id]`. Views rely on it (Nexmark's `person` view selects
//! `person.id, person.name, …` and is queried by `id`, `name`).

use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection};

/// Aliases each unaliased nested-field access in the plan's top projection
/// with the field's own name.
pub fn flink_column_names(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    let LogicalPlan::Projection(projection) = plan else {
        return Ok(plan);
    };
    let exprs = projection
        .expr
        .into_iter()
        .map(|expr| match field_name(&expr) {
            Some(name) => expr.alias(name),
            None => expr,
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(
        exprs,
        projection.input,
    )?))
}

/// The field name of `get_field(row, 'name')`.
fn field_name(expr: &Expr) -> Option<String> {
    let Expr::ScalarFunction(ScalarFunction { func, args }) = expr else {
        return None;
    };
    if func.name() != "get_field" {
        return None;
    }
    match args.last()? {
        Expr::Literal(ScalarValue::Utf8(Some(name)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(name)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(name)), _) => Some(name.clone()),
        _ => None,
    }
}
