//! A `GROUP BY`, planned as Flink plans it: a Calc computing the key (and
//! the window) and each aggregate's argument; the aggregate fed by a hash
//! edge on the key (one subtask without a key) — a `WindowAggregate` when
//! the query groups by `window_start, window_end` of a window table
//! function, else a `GroupAggregate` producing a changelog; then the
//! query's columns in the query's order.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::AggregateFunction as AggregateExpr;
use datafusion::logical_expr::{Aggregate, Expr};

use crate::listagg::LISTAGG;
use rivulet_runtime::operators::accumulators::AggregateFunction;
use rivulet_runtime::operators::{AggregateCall, Projection};

/// The three steps of an aggregation.
pub struct Aggregation {
    /// The Calc before: `__key`, [`window_start`, `window_end`,] `__agg<i>`.
    pub before: Vec<Projection>,
    /// `__key` when the query groups by a key besides the window.
    pub key: Option<String>,
    pub aggregates: Vec<AggregateCall>,
    /// Whether it groups by a window of a window table function.
    pub windowed: bool,
    /// For each column of the query's aggregate, where the operator's output holds it.
    pub after: Vec<Output>,
}

/// One column of the query's aggregate in the operator's output.
pub struct Output {
    /// The query's name for it.
    pub name: String,
    /// The operator's column holding it.
    pub column: String,
    /// For one of several grouping keys: its field of the composite key.
    pub key_field: Option<String>,
}

const KEY: &str = "__key";

/// The text of a string literal (through the casts coercion adds).
fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(text) | ScalarValue::LargeUtf8(text) | ScalarValue::Utf8View(text),
            _,
        ) => text.clone(),
        Expr::Cast(cast) => literal_text(&cast.expr),
        Expr::Alias(alias) => literal_text(&alias.expr),
        _ => None,
    }
}
/// The window bounds as the window operators name them.
const WINDOW_START: &str = "window_start";
const WINDOW_END: &str = "window_end";

fn column_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(column) => Some(column.name.as_str()),
        Expr::Alias(alias) => column_name(&alias.expr),
        _ => None,
    }
}

/// The name of field `index` of a composite key.
fn key_field(index: usize) -> String {
    format!("k{index}")
}

/// The SQL of a grouping, join or partition key over `keys`: one
/// expression as it is, several as one composite key (a ROW with fields
/// `k0`, `k1`, …); `None` without keys.
pub fn key_sql(
    keys: &[&Expr],
    sql: impl Fn(&Expr) -> Result<String, String>,
) -> Result<Option<String>, String> {
    Ok(match keys {
        [] => None,
        [key] => Some(sql(key)?),
        keys => {
            let mut fields = Vec::with_capacity(keys.len());
            for (index, key) in keys.iter().enumerate() {
                fields.push(format!("'{}', {}", key_field(index), sql(key)?));
            }
            Some(format!("named_struct({})", fields.join(", ")))
        }
    })
}

/// Plans `aggregate`, or says why it is not an aggregation Rivulet runs.
///
/// It aggregates per window when it groups by `window_start` and
/// `window_end` of a window table function, or by both columns of
/// `input_window`: the bounds of the windows an earlier window aggregation
/// gave its rows (Flink propagates them as window properties).
pub fn aggregation(
    aggregate: &Aggregate,
    input_window: Option<&[String; 2]>,
    expression_sql: impl Fn(&Expr) -> Result<String, String>,
) -> Result<Aggregation, String> {
    let groups = &aggregate.group_expr;
    let is_window = |name: &str| groups.iter().any(|g| column_name(g) == Some(name));
    let table_function = [WINDOW_START.to_string(), WINDOW_END.to_string()];
    let window = [Some(&table_function), input_window]
        .into_iter()
        .flatten()
        .find(|[start, end]| is_window(start) && is_window(end));
    let windowed = window.is_some();
    // Which window bound a grouping expression is, if it is one.
    let bound_of = |group: &Expr| {
        let name = column_name(group)?;
        let window = window?;
        [WINDOW_START, WINDOW_END]
            .into_iter()
            .zip(window)
            .find(|(_, column)| column.as_str() == name)
            .map(|(bound, _)| bound)
    };
    let keys: Vec<&Expr> = groups.iter().filter(|g| bound_of(g).is_none()).collect();
    let key_expression = key_sql(&keys, &expression_sql)?;
    let mut before = Vec::new();
    if let Some(expression) = key_expression {
        before.push(Projection {
            name: KEY.into(),
            expression,
        });
    }
    if let Some(columns) = window {
        for (bound, column) in [WINDOW_START, WINDOW_END].into_iter().zip(columns) {
            before.push(Projection {
                name: bound.to_string(),
                expression: format!("\"{}\"", column.replace('"', "\"\"")),
            });
        }
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
        let call = CallText {
            text: expr.to_string(),
            function: func.name(),
            args: &params.args,
            distinct: params.distinct,
            filter: params.filter.as_deref(),
            ordered: !params.order_by.is_empty(),
        };
        aggregates.push(aggregate_call(i, &call, &expression_sql, &mut before)?);
    }
    let fields = aggregate.schema.fields();
    let mut after = Vec::with_capacity(fields.len());
    for (field, group) in fields.iter().zip(groups) {
        let (column, key_field) = match bound_of(group) {
            Some(bound) => (bound.to_string(), None),
            None => {
                let position = keys.iter().position(|key| std::ptr::eq(*key, group));
                let key_field = position.filter(|_| keys.len() > 1).map(key_field);
                (KEY.to_string(), key_field)
            }
        };
        after.push(Output {
            name: field.name().clone(),
            column,
            key_field,
        });
    }
    for (i, field) in fields.iter().skip(groups.len()).enumerate() {
        after.push(Output {
            name: field.name().clone(),
            column: format!("__result{i}"),
            key_field: None,
        });
    }
    Ok(Aggregation {
        before,
        key: (!keys.is_empty()).then(|| KEY.to_string()),
        aggregates,
        windowed,
        after,
    })
}

/// One aggregate call as the query wrote it (in a GROUP BY or an OVER).
pub struct CallText<'e> {
    /// The whole call, for messages.
    pub text: String,
    pub function: &'e str,
    pub args: &'e [Expr],
    pub distinct: bool,
    /// `FILTER (WHERE …)`.
    pub filter: Option<&'e Expr>,
    /// Whether it has an `ORDER BY` of its own.
    pub ordered: bool,
}

/// The runtime's call for aggregate `index` of a query; the argument it
/// reads is added to `before` as the column `__agg<index>`, and its result
/// is named `__result<index>`.
pub fn aggregate_call(
    index: usize,
    call: &CallText,
    expression_sql: impl Fn(&Expr) -> Result<String, String>,
    before: &mut Vec<Projection>,
) -> Result<AggregateCall, String> {
    if call.ordered || (call.distinct && call.function != "count") {
        return Err(format!(
            "the aggregate '{}' (DISTINCT other than COUNT, or ORDER BY) is not supported yet",
            call.text
        ));
    }
    let function = match (call.function, call.args) {
        ("count", [_]) if call.distinct => AggregateFunction::CountDistinct,
        ("count", [Expr::Literal(value, _)]) if !value.is_null() => AggregateFunction::CountStar,
        ("count", [_]) => AggregateFunction::Count,
        ("sum", [_]) => AggregateFunction::Sum,
        ("min", [_]) => AggregateFunction::Min,
        ("max", [_]) => AggregateFunction::Max,
        ("avg", [_]) => AggregateFunction::Avg,
        ("first_value", [_]) => AggregateFunction::FirstValue,
        ("last_value", [_]) => AggregateFunction::LastValue,
        (LISTAGG, [_] | [_, _]) => AggregateFunction::ListAgg,
        (name, _) => {
            return Err(format!(
                "the aggregate function {} is not supported yet in an aggregation; Rivulet has COUNT, SUM, MIN, MAX, AVG, FIRST_VALUE, LAST_VALUE and LISTAGG",
                name.to_ascii_uppercase()
            ));
        }
    };
    let separator = match call.args.get(1) {
        None => None,
        Some(separator) => Some(literal_text(separator).ok_or_else(|| {
            format!("LISTAGG's separator must be a string literal, not '{separator}'")
        })?),
    };
    // `agg(x) FILTER (WHERE c)` aggregates `CASE WHEN c THEN x END`: the
    // rows the filter drops are NULL, which every aggregate skips.
    let (function, argument) = match (call.filter, function) {
        (None, AggregateFunction::CountStar) => (function, None),
        (Some(_), AggregateFunction::CountStar) => (AggregateFunction::Count, Some("1".into())),
        (_, _) => (function, Some(expression_sql(&call.args[0])?)),
    };
    let argument = match (call.filter, argument) {
        (Some(condition), Some(argument)) => Some(format!(
            "CASE WHEN {} THEN {argument} END",
            expression_sql(condition)?
        )),
        (_, argument) => argument,
    };
    let input = match argument {
        None => None,
        Some(expression) => {
            let name = format!("__agg{index}");
            before.push(Projection {
                name: name.clone(),
                expression,
            });
            Some(name)
        }
    };
    Ok(AggregateCall {
        function,
        input,
        output: format!("__result{index}"),
        separator,
    })
}
