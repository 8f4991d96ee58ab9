//! A `GROUP BY window_start, window_end[, key]` over a window table
//! function, planned as Flink plans a window aggregation: a Calc computing
//! the key, the window and each aggregate's argument; a `WindowAggregate`
//! fed by a hash edge on the key (one subtask without a key); then the
//! query's columns in the query's order.

use datafusion::logical_expr::expr::AggregateFunction as AggregateExpr;
use datafusion::logical_expr::{Aggregate, Expr};
use rivulet_runtime::operators::accumulators::AggregateFunction;
use rivulet_runtime::operators::{AggregateCall, Projection, WindowAggregateSpec};

/// The three steps of a window aggregation.
pub struct WindowAggregation {
    /// The Calc before: `__key`, `window_start`, `window_end`, `__agg<i>`.
    pub before: Vec<Projection>,
    pub spec: WindowAggregateSpec,
    /// For each column of the query's aggregate, the operator's column holding it.
    pub after: Vec<(String, String)>,
}

const KEY: &str = "__key";

fn column_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(column) => Some(column.name.as_str()),
        Expr::Alias(alias) => column_name(&alias.expr),
        _ => None,
    }
}

/// Plans `aggregate`, or says why it is not a window aggregation Rivulet runs.
pub fn window_aggregation(
    aggregate: &Aggregate,
    expression_sql: impl Fn(&Expr) -> Result<String, String>,
) -> Result<WindowAggregation, String> {
    let groups = &aggregate.group_expr;
    let is_window = |name: &str| groups.iter().any(|g| column_name(g) == Some(name));
    if !is_window("window_start") || !is_window("window_end") {
        return Err("GROUP BY aggregation is not supported yet outside a window: group by window_start and window_end of a window table function (TUMBLE)".into());
    }
    let keys: Vec<&Expr> = groups
        .iter()
        .filter(|g| !matches!(column_name(g), Some("window_start" | "window_end")))
        .collect();
    if keys.len() > 1 {
        return Err(
            "a window aggregation grouped by more than one column besides the window is not supported yet"
                .into(),
        );
    }
    let mut before = Vec::new();
    if let Some(key) = keys.first() {
        before.push(Projection {
            name: KEY.into(),
            expression: expression_sql(key)?,
        });
    }
    for window in ["window_start", "window_end"] {
        before.push(Projection {
            name: window.into(),
            expression: format!("\"{window}\""),
        });
    }
    let mut aggregates = Vec::new();
    for (i, expr) in aggregate.aggr_expr.iter().enumerate() {
        let expr = match expr {
            Expr::Alias(alias) => alias.expr.as_ref(),
            other => other,
        };
        let Expr::AggregateFunction(AggregateExpr { func, params }) = expr else {
            return Err(format!("the aggregate '{expr}' is not supported yet"));
        };
        if params.distinct || !params.order_by.is_empty() {
            return Err(format!(
                "the aggregate '{expr}' (DISTINCT or ORDER BY) is not supported yet"
            ));
        }
        let function = match (func.name(), params.args.as_slice()) {
            ("count", [Expr::Literal(value, _)]) if !value.is_null() => {
                AggregateFunction::CountStar
            }
            ("count", [_]) => AggregateFunction::Count,
            ("sum", [_]) => AggregateFunction::Sum,
            ("min", [_]) => AggregateFunction::Min,
            ("max", [_]) => AggregateFunction::Max,
            ("avg", [_]) => AggregateFunction::Avg,
            (name, _) => {
                return Err(format!(
                    "the aggregate function {} is not supported yet in a window aggregation; Rivulet has COUNT, SUM, MIN, MAX and AVG",
                    name.to_ascii_uppercase()
                ));
            }
        };
        // `agg(x) FILTER (WHERE c)` aggregates `CASE WHEN c THEN x END`: the
        // rows the filter drops are NULL, which every aggregate skips.
        let (function, argument) = match (&params.filter, function) {
            (None, AggregateFunction::CountStar) => (function, None),
            (Some(_), AggregateFunction::CountStar) => (AggregateFunction::Count, Some("1".into())),
            (_, _) => (function, Some(expression_sql(&params.args[0])?)),
        };
        let argument = match (&params.filter, argument) {
            (Some(condition), Some(argument)) => Some(format!(
                "CASE WHEN {} THEN {argument} END",
                expression_sql(condition)?
            )),
            (_, argument) => argument,
        };
        let input = match argument {
            None => None,
            Some(expression) => {
                let name = format!("__agg{i}");
                before.push(Projection {
                    name: name.clone(),
                    expression,
                });
                Some(name)
            }
        };
        aggregates.push(AggregateCall {
            function,
            input,
            output: format!("__result{i}"),
        });
    }
    let fields = aggregate.schema.fields();
    let mut after = Vec::with_capacity(fields.len());
    for (field, group) in fields.iter().zip(groups) {
        let source = match column_name(group) {
            Some(window @ ("window_start" | "window_end")) => window.to_string(),
            _ => KEY.to_string(),
        };
        after.push((field.name().clone(), source));
    }
    for (i, field) in fields.iter().skip(groups.len()).enumerate() {
        after.push((field.name().clone(), format!("__result{i}")));
    }
    Ok(WindowAggregation {
        before,
        spec: WindowAggregateSpec {
            name: None,
            key: (!keys.is_empty()).then(|| KEY.to_string()),
            window_start: "window_start".into(),
            window_end: "window_end".into(),
            aggregates,
            state_backend: None,
        },
        after,
    })
}
