//! `Calc`: a projection and an optional filter, as Flink's SQL planner names
//! the stateless part of a query. Expressions travel in the job graph as SQL
//! text and are compiled with DataFusion against the input schema when the
//! task starts, then evaluated vectorised on every batch.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::logical_expr::ColumnarValue;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::utils::{collect_columns, reassign_expr_columns};
use datafusion::prelude::{SessionConfig, SessionContext};
use serde::{Deserialize, Serialize};

use super::calc_common::{self, Memo};
use super::{Operator, name_or};
use crate::error::{Result, RuntimeError};

/// One output column: its name and the SQL expression computing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Projection {
    pub name: String,
    pub expression: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CalcSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// Rows for which this is not true are dropped (before projecting).
    #[serde(default)]
    pub filter: Option<String>,
    pub projections: Vec<Projection>,
}

/// A DataFusion context for compiling expressions the way Flink reads them:
/// identifiers keep their case, and Flink's function names are registered.
pub fn expression_context() -> SessionContext {
    let config = SessionConfig::new()
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        // Flink types `0.908` as DECIMAL(3, 3), not DOUBLE.
        .set_bool("datafusion.sql_parser.parse_float_as_decimal", true);
    let context = SessionContext::new_with_config(config);
    crate::functions::register(&context);
    context
}

fn compile(
    context: &SessionContext,
    operator: &str,
    sql: &str,
    schema: &SchemaRef,
) -> Result<Arc<dyn PhysicalExpr>> {
    let failed = |e: datafusion::error::DataFusionError| RuntimeError::Operator {
        operator: operator.to_string(),
        message: format!("cannot compile '{sql}': {e}"),
    };
    let df_schema = Arc::new(DFSchema::try_from(schema.as_ref().clone()).map_err(failed)?);
    let expr = context.parse_sql_expr(sql, &df_schema).map_err(failed)?;
    // Simplifying rewrites functions such as arrow_cast into their physical form.
    let simplify = SimplifyContext::builder()
        .with_schema(df_schema.clone())
        .build();
    let expr = ExprSimplifier::new(simplify)
        .simplify(expr)
        .map_err(failed)?;
    let expr = context
        .create_physical_expr(expr, &df_schema)
        .map_err(failed)?;
    let expr = super::selecting_case::select_cheap_cases(expr, schema).map_err(failed)?;
    let expr = super::replaced_length::fuse_replaced_lengths(expr).map_err(failed)?;
    super::decimal_product::fuse_decimal_products(expr, schema).map_err(failed)
}

/// Compiles the filter `sql` over `input`, checked to be BOOLEAN.
fn compile_filter(
    context: &SessionContext,
    operator: &str,
    sql: &str,
    input: &SchemaRef,
) -> Result<Arc<dyn PhysicalExpr>> {
    let failed = |message: String| RuntimeError::Operator {
        operator: operator.to_string(),
        message,
    };
    let filter = compile(context, operator, sql, input)?;
    let data_type = filter.data_type(input).map_err(|e| failed(e.to_string()))?;
    if data_type != DataType::Boolean {
        return Err(failed(format!(
            "the filter '{sql}' is {data_type}, not BOOLEAN"
        )));
    }
    Ok(filter)
}

/// Compiles a filter over `input` for operators other than Calc (see
/// [`compile_expression`]).
pub(super) fn compile_filter_expression(
    operator: &str,
    sql: &str,
    input: &SchemaRef,
) -> Result<Arc<dyn PhysicalExpr>> {
    compile_filter(&expression_context(), operator, sql, input)
}

/// Compiles one SQL expression over `schema`, for operators other than Calc.
pub(super) fn compile_expression(
    operator: &str,
    sql: &str,
    schema: &SchemaRef,
) -> Result<Arc<dyn PhysicalExpr>> {
    compile(&expression_context(), operator, sql, schema)
}

impl CalcSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "Calc")
    }

    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        Ok(self.compile(input)?.output_schema)
    }

    /// The filter and projections compiled over `input`, each as written.
    fn compile(&self, input: &SchemaRef) -> Result<Compiled> {
        let context = expression_context();
        let name = self.name();
        let filter = match &self.filter {
            Some(sql) => Some(compile_filter(&context, &name, sql, input)?),
            None => None,
        };
        let mut projections = Vec::new();
        let mut fields = Vec::new();
        let failed = |e: datafusion::error::DataFusionError| RuntimeError::Operator {
            operator: name.clone(),
            message: e.to_string(),
        };
        for projection in &self.projections {
            let expr = compile(&context, &name, &projection.expression, input)?;
            let data_type = expr.data_type(input).map_err(failed)?;
            let nullable = expr.nullable(input).map_err(failed)?;
            fields.push(Field::new(&projection.name, data_type, nullable));
            projections.push(expr);
        }
        Ok(Compiled {
            filter,
            projections,
            output_schema: Arc::new(Schema::new(fields)),
        })
    }

    pub(super) fn create(&self, input: &SchemaRef) -> Result<Calc> {
        let name = self.name();
        let failed = |e: &dyn std::fmt::Display| RuntimeError::Operator {
            operator: name.clone(),
            message: e.to_string(),
        };
        let Compiled {
            filter,
            projections,
            output_schema,
        } = self.compile(input)?;
        let trees: Vec<_> = filter.iter().chain(&projections).collect();
        let common = calc_common::repeated(&trees, input);
        let (filter, filter_memos) = match filter {
            Some(filter) => {
                let filter = [filter];
                let shared = calc_common::occurring_in(&common, &filter, input);
                let memos = calc_common::memos(&shared, input).map_err(|e| failed(&e))?;
                let [filter] = calc_common::read_memos(filter.into(), &memos, input)
                    .map_err(|e| failed(&e))?
                    .try_into()
                    .map_err(|_| failed(&"one filter"))?;
                (Some(filter), shared.into_iter().zip(memos).collect())
            }
            None => (None, Vec::new()),
        };
        let filtered = filter.as_ref().map(|_| &filter_memos);
        let (projecting, projection_memos, reading_memos) =
            Projecting::new(projections, input, filtered, &common).map_err(|e| failed(&e))?;
        // The filter's values of what the projections compute too.
        let handed = filter_memos
            .iter()
            .filter_map(|(expr, memo)| {
                let (_, theirs) = projection_memos
                    .iter()
                    .find(|(common, _)| Arc::ptr_eq(common, expr))?;
                Some((Arc::clone(memo), Arc::clone(theirs)))
            })
            .collect();
        let memos = filter_memos
            .into_iter()
            .chain(projection_memos)
            .map(|(_, memo)| memo)
            .chain(reading_memos)
            .collect();
        Ok(Calc {
            name,
            filter,
            projecting,
            memos,
            handed,
            output_schema,
        })
    }
}

/// A Calc's expressions, compiled.
struct Compiled {
    filter: Option<Arc<dyn PhysicalExpr>>,
    projections: Vec<Arc<dyn PhysicalExpr>>,
    output_schema: SchemaRef,
}

/// Projections over the rows a filter keeps, or over every row.
struct Projecting {
    /// The input columns the projections read, when a filter has fewer to
    /// copy than the input has.
    kept: Option<Vec<usize>>,
    projections: Vec<Arc<dyn PhysicalExpr>>,
    /// The projections again, reading what the filter computed of theirs.
    reading: Option<ReadingFilterValues>,
}

/// Projections that read the values of the expressions they share with
/// the filter from columns after the kept ones, filtered with the rows.
///
/// A memo alone cannot give them everywhere: DataFusion's `CASE` computes
/// each branch over the rows that reach it, which are other arrays.
/// Nexmark q21 filters on `REGEXP_EXTRACT(url, …)` and `lower(channel)`
/// and projects both inside a `CASE`, which reading columns also makes
/// cheap enough to pick from whole columns (see [`super::selecting_case`]).
struct ReadingFilterValues {
    /// The filter's memo of each added column's values.
    filter_memos: Vec<Arc<Memo>>,
    /// The kept columns, then one column per memo.
    schema: SchemaRef,
    projections: Vec<Arc<dyn PhysicalExpr>>,
}

impl ReadingFilterValues {
    /// `projections` over `over` reading the values of `filter_memos`
    /// (each with its expression over `over`) instead of computing them;
    /// also the memos of what the projections then repeat.
    fn new(
        projections: &[Arc<dyn PhysicalExpr>],
        over: &Schema,
        filter_memos: Vec<(Arc<dyn PhysicalExpr>, Arc<Memo>)>,
    ) -> datafusion::error::Result<(Self, Vec<Arc<Memo>>)> {
        let mut fields: Vec<_> = over.fields().iter().cloned().collect();
        let mut replaced = Vec::with_capacity(filter_memos.len());
        for (expr, _) in &filter_memos {
            let name = format!("__filter_value_{}", replaced.len());
            let field = Field::new(&name, expr.data_type(over)?, expr.nullable(over)?);
            let column: Arc<dyn PhysicalExpr> = Arc::new(Column::new(&name, fields.len()));
            fields.push(Arc::new(field));
            replaced.push((Arc::clone(expr), column));
        }
        let schema = Arc::new(Schema::new(fields));
        let trees = calc_common::read_columns(projections.to_vec(), &replaced, over)?
            .into_iter()
            .map(|tree| super::selecting_case::select_cheap_cases(tree, &schema))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let common = calc_common::repeated(&trees.iter().collect::<Vec<_>>(), &schema);
        let memos = calc_common::memos(&common, &schema)?;
        let projections = calc_common::read_memos(trees, &memos, &schema)?;
        let reading = ReadingFilterValues {
            filter_memos: filter_memos.into_iter().map(|(_, memo)| memo).collect(),
            schema,
            projections,
        };
        Ok((reading, memos))
    }

    /// `read` (columns of `batch`) with the filter's values over `batch`
    /// added; `None` when the filter did not compute one of them over all
    /// of its rows.
    fn extend(
        &self,
        batch: &RecordBatch,
        read: &RecordBatch,
    ) -> datafusion::error::Result<Option<RecordBatch>> {
        let rows = batch.num_rows();
        let mut columns = read.columns().to_vec();
        for memo in &self.filter_memos {
            let Some(values) = memo.values_over(batch) else {
                return Ok(None);
            };
            columns.push(values.into_array(rows)?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(Arc::clone(&self.schema), columns, &options)
            .map(Some)
            .map_err(Into::into)
    }
}

/// Memos of common expressions, each with the expression it is of (over the
/// Calc's input, as [`calc_common::repeated`] gave it).
type Memos = Vec<(Arc<dyn PhysicalExpr>, Arc<Memo>)>;

impl Projecting {
    /// `projections` over `input`, after a filter with `filtered` memos if
    /// there is one, each of `common` they make computed once. Also the
    /// memos of the projections reading the filter's values.
    fn new(
        mut projections: Vec<Arc<dyn PhysicalExpr>>,
        input: &SchemaRef,
        filtered: Option<&Memos>,
        common: &[Arc<dyn PhysicalExpr>],
    ) -> datafusion::error::Result<(Self, Memos, Vec<Arc<Memo>>)> {
        let common = calc_common::occurring_in(common, &projections, input);
        // A filter copies the rows it keeps: only of the columns the
        // projections read (not, say, a ROW column only the filter or an
        // earlier watermark needed), the projections pointed at those.
        let mut kept = None;
        let mut over_kept = common.clone();
        if filtered.is_some() {
            let read: BTreeSet<usize> = projections
                .iter()
                .flat_map(|expr| collect_columns(expr).into_iter().map(|c| c.index()))
                .collect();
            if read.len() < input.fields().len() {
                let read: Vec<usize> = read.into_iter().collect();
                let over = input.project(&read)?;
                let reassign = |expr| reassign_expr_columns(expr, &over);
                projections = projections
                    .into_iter()
                    .map(reassign)
                    .collect::<datafusion::error::Result<_>>()?;
                over_kept = common
                    .iter()
                    .cloned()
                    .map(reassign)
                    .collect::<datafusion::error::Result<_>>()?;
                kept = Some(read);
            }
        }
        let over: Schema = match &kept {
            Some(kept) => input.project(kept)?,
            None => input.as_ref().clone(),
        };
        let memos = calc_common::memos(&over_kept, &over)?;
        // The filter's memos of expressions the projections make, each
        // with the expression over the kept columns.
        let of_filter: Vec<_> = common
            .iter()
            .zip(&over_kept)
            .filter_map(|(expr, over_kept)| {
                let (_, memo) = filtered?
                    .iter()
                    .find(|(filters, _)| Arc::ptr_eq(filters, expr))?;
                Some((Arc::clone(over_kept), Arc::clone(memo)))
            })
            .collect();
        let (reading, reading_memos) = if of_filter.is_empty() {
            (None, Vec::new())
        } else {
            let (reading, memos) = ReadingFilterValues::new(&projections, &over, of_filter)?;
            (Some(reading), memos)
        };
        let projections = calc_common::read_memos(projections, &memos, &over)?;
        let memos = common.into_iter().zip(memos).collect();
        let projecting = Projecting {
            kept,
            projections,
            reading,
        };
        Ok((projecting, memos, reading_memos))
    }

    /// The projected columns of the rows of `batch` that `mask` keeps (of
    /// every row without one); `None` when no row is kept. `handed`: memos
    /// of the filter (over `batch`) and the projections' memos of the same
    /// expressions, which are given the filter's values for the rows kept.
    fn project(
        &self,
        batch: RecordBatch,
        mask: Option<&BooleanArray>,
        handed: &[(Arc<Memo>, Arc<Memo>)],
    ) -> datafusion::error::Result<Option<Vec<ArrayRef>>> {
        let batch = match mask {
            None => batch,
            Some(mask) => {
                let read = match &self.kept {
                    Some(kept) => batch.project(kept)?,
                    None => batch.clone(),
                };
                if let Some(reading) = &self.reading
                    && let Some(extended) = reading.extend(&batch, &read)?
                {
                    let kept = arrow_select::filter::filter_record_batch(&extended, mask)?;
                    return evaluate(&reading.projections, &kept);
                }
                let kept = arrow_select::filter::filter_record_batch(&read, mask)?;
                if kept.num_rows() > 0 {
                    for (filter_memo, memo) in handed {
                        if let Some(values) = filter_memo.values_over(&batch) {
                            let values = values.into_array(batch.num_rows())?;
                            let values = arrow_select::filter::filter(&values, mask)?;
                            memo.keep(&kept, ColumnarValue::Array(values));
                        }
                    }
                }
                kept
            }
        };
        evaluate(&self.projections, &batch)
    }
}

/// The columns `projections` compute over `batch`; `None` when it has no
/// rows.
fn evaluate(
    projections: &[Arc<dyn PhysicalExpr>],
    batch: &RecordBatch,
) -> datafusion::error::Result<Option<Vec<ArrayRef>>> {
    let rows = batch.num_rows();
    if rows == 0 {
        return Ok(None);
    }
    projections
        .iter()
        .map(|p| p.evaluate(batch).and_then(|v| v.into_array(rows)))
        .collect::<datafusion::error::Result<_>>()
        .map(Some)
}

pub struct Calc {
    name: String,
    filter: Option<Arc<dyn PhysicalExpr>>,
    projecting: Projecting,
    /// Every memo of a common expression (see [`calc_common`]), emptied
    /// after each batch.
    memos: Vec<Arc<Memo>>,
    /// A memo of the filter and the projections' memo of the same
    /// expression.
    handed: Vec<(Arc<Memo>, Arc<Memo>)>,
    output_schema: SchemaRef,
}

impl Calc {
    fn failed(&self, e: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: e.to_string(),
        }
    }

    /// The projected columns of the rows the filter keeps.
    fn calculate(&self, batch: RecordBatch) -> datafusion::error::Result<Option<Vec<ArrayRef>>> {
        let Some(filter) = &self.filter else {
            return self.projecting.project(batch, None, &[]);
        };
        let mask = filter.evaluate(&batch)?.into_array(batch.num_rows())?;
        self.projecting
            .project(batch, Some(mask.as_boolean()), &self.handed)
    }
}

impl Operator for Calc {
    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        let columns = self.calculate(batch);
        for memo in &self.memos {
            memo.forget();
        }
        let Some(columns) = columns.map_err(|e| self.failed(e))? else {
            return Ok(());
        };
        let output = RecordBatch::try_new(self.output_schema.clone(), columns)
            .map_err(|e| self.failed(e))?;
        out.push(output);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Int64Array, StringArray};

    use super::*;

    fn spec(filter: &str, projections: &[(&str, &str)]) -> CalcSpec {
        CalcSpec {
            name: None,
            filter: Some(filter.into()),
            projections: projections
                .iter()
                .map(|(name, expression)| Projection {
                    name: (*name).into(),
                    expression: (*expression).into(),
                })
                .collect(),
        }
    }

    fn run(spec: &CalcSpec, batch: &RecordBatch) -> RecordBatch {
        let mut calc = spec.create(&batch.schema()).unwrap();
        let mut out = Vec::new();
        calc.process_batch(batch.clone(), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        out.remove(0)
    }

    #[test]
    fn a_filter_keeps_rows_of_only_the_columns_the_projections_read() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("kind", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("price", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![2, 0, 2, 2])),
                Arc::new(StringArray::from(vec![Some("a"), None, Some("c"), None])),
                Arc::new(Int64Array::from(vec![10, 20, 30, 40])),
            ],
        )
        .unwrap();
        let doubled = run(
            &spec("kind = 2", &[("p2", "price * 2"), ("n", "name")]),
            &batch,
        );
        assert_eq!(doubled.schema().field(0).name(), "p2");
        assert_eq!(
            doubled
                .column(0)
                .as_primitive::<arrow_array::types::Int64Type>()
                .values(),
            &[20, 60, 80]
        );
        let names: Vec<_> = doubled.column(1).as_string::<i32>().iter().collect();
        assert_eq!(names, [Some("a"), Some("c"), None]);
        // Projections that read no column still give one row per kept row.
        let constant = run(&spec("price > 15", &[("one", "1")]), &batch);
        assert_eq!(constant.num_rows(), 3);
    }

    #[test]
    fn expressions_made_again_are_computed_once_and_only_where_they_were_written() {
        let schema = Arc::new(Schema::new(vec![Field::new("b", DataType::Int64, true)]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from(vec![
                Some(0),
                Some(2),
                None,
                Some(5),
                Some(20),
                Some(0),
            ]))],
        )
        .unwrap();
        // `b * 3` twice in the filter and once projected; `100 / b` in two
        // branches that only rows with `b <> 0` reach.
        let spec = spec(
            "b * 3 >= 0 AND b * 3 < 40",
            &[
                ("t", "b * 3"),
                ("q", "CASE WHEN b <> 0 THEN 100 / b ELSE -1 END"),
                ("r", "CASE WHEN b <> 0 THEN 100 / b END + 1"),
            ],
        );
        let calc = spec.create(&batch.schema()).unwrap();
        assert_eq!(
            calc.memos.len(),
            4,
            "b * 3 in both, 100 / b projected, and with b * 3 read"
        );
        assert_eq!(calc.handed.len(), 1);
        let reading = calc.projecting.reading.as_ref().unwrap();
        let t = reading.projections[0].downcast_ref::<Column>();
        assert!(t.is_some(), "b * 3 as the filter computed it");
        let out = run(&spec, &batch);
        let column = |i: usize| -> Vec<Option<i64>> {
            out.column(i)
                .as_primitive::<arrow_array::types::Int64Type>()
                .iter()
                .collect()
        };
        assert_eq!(column(0), [Some(0), Some(6), Some(15), Some(0)]);
        assert_eq!(column(1), [Some(-1), Some(50), Some(20), Some(-1)]);
        assert_eq!(column(2), [None, Some(51), Some(21), None]);
    }

    #[test]
    fn a_call_the_filter_and_a_projection_share_is_computed_once_with_the_same_result() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("channel", DataType::Utf8, false),
            Field::new("url", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["Apple", "c1", "c2", "c3", "c4"])),
                Arc::new(StringArray::from(vec![
                    Some("x"),
                    Some("a?x=1&channel_id=7&b"),
                    Some("nothing"),
                    Some("channel_id=9"),
                    None,
                ])),
            ],
        )
        .unwrap();
        let extract = "REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)";
        let spec = spec(
            &format!("{extract} IS NOT NULL OR lower(channel) IN ('apple')"),
            &[
                ("channel", "channel"),
                (
                    "id",
                    &format!("CASE WHEN lower(channel) = 'apple' THEN '0' ELSE {extract} END"),
                ),
            ],
        );
        let calc = spec.create(&batch.schema()).unwrap();
        assert_eq!(
            calc.memos.len(),
            4,
            "two calls in the filter and the projections"
        );
        assert_eq!(calc.handed.len(), 2, "both handed from the filter");
        // Read from columns of the filter's values, the CASE picks from
        // whole columns and calls nothing.
        let reading = calc.projecting.reading.as_ref().unwrap();
        assert_eq!(reading.filter_memos.len(), 2);
        let id = reading.projections[1].to_string();
        assert!(!id.to_lowercase().contains("regexp"), "{id}");
        assert!(!id.to_lowercase().contains("lower"), "{id}");
        let selecting =
            reading.projections[1].downcast_ref::<super::super::selecting_case::SelectingCase>();
        assert!(selecting.is_some(), "{id}");
        let out = run(&spec, &batch);
        assert_eq!(out.schema().fields().len(), 2);
        let column = |i: usize| -> Vec<_> {
            out.column(i)
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        assert_eq!(
            column(0),
            [Some("Apple"), Some("c1"), Some("c3")].map(|v| v.map(String::from))
        );
        assert_eq!(
            column(1),
            [Some("0"), Some("7"), Some("9")].map(|v| v.map(String::from))
        );
    }

    #[test]
    fn projections_compute_what_the_filter_computed_over_only_some_rows() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, false),
            Field::new("b", DataType::Int64, false),
        ]));
        let names: Vec<String> = (0..10).map(|i| format!("n{i}")).collect();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(&names)),
                Arc::new(Int64Array::from_iter_values(0..10)),
            ],
        )
        .unwrap();
        // One row in ten passes `b = 7`: DataFusion computes the right of
        // the AND over that row alone, so its values are not the batch's.
        let spec = spec(
            "b = 7 AND upper(a) <> 'X'",
            &[("u", "upper(a)"), ("b", "b")],
        );
        let calc = spec.create(&batch.schema()).unwrap();
        assert!(calc.projecting.reading.is_some());
        let out = run(&spec, &batch);
        assert_eq!(
            out.column(0).as_string::<i32>().iter().collect::<Vec<_>>(),
            [Some("N7")]
        );
    }
}
