//! Planning a Flink SQL script into a Rivulet job graph.
//!
//! DDL builds a catalog (tables become DataFusion tables with their full
//! schema, views DataFusion views); each INSERT's query is planned and
//! optimised by DataFusion, and the logical plan is lowered to vertices of
//! chained operators: a table scan becomes the table's source connector,
//! filters and projections become `Calc` operators (merged as Flink merges
//! them), a UNION ALL becomes a vertex fed by its inputs, a GROUP BY an
//! aggregate behind a hash edge, a JOIN a join vertex fed by both sides
//! ([`join`]), and the INSERT's table becomes the sink. Operators are named as Flink names them
//! (`Source: orders[1] -> Calc[2] -> Sink: out[3]`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::datasource::empty::EmptyTable;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::prelude::SessionContext;
use rivulet_common::config::{parse_bool, parse_duration_millis};
use rivulet_runtime::changelog::ROW_KIND_COLUMN;
use rivulet_runtime::job_graph::{EdgeSpec, JobGraphSpec, JobType, ShipStrategy, VertexSpec};
use rivulet_runtime::operators::calc::expression_context;
use rivulet_runtime::operators::{
    CalcSpec, DEFAULT_WATERMARK_INTERVAL_MILLIS, GroupAggregateSpec, OperatorSpec, Projection,
    WatermarkAssignerSpec, WindowAggregateSpec, WindowKind, WindowTableFunctionSpec,
};
use rivulet_runtime::state::StateBackendKind;

use crate::aggregation::aggregation;
use crate::column_names::flink_column_names;
use crate::connectors;
use crate::error::SqlError;
use crate::listagg::register_listagg;
use crate::lookup::strip_system_time;
use crate::nested_fields::NestedFieldUses;
use crate::script::{ScriptStatement, split_statements};
use crate::select_names;
use crate::statements::{ColumnDefinition, Statement, TableDefinition, parse_statement};
use crate::types::{parse_type, type_name};
use crate::window_tvf::{register_window_markers, rewrite_window_tvfs, window_call};

mod changelog_mode;
mod hop_slicing;
mod interval;
mod join;
mod join_top_one;
mod lookup_join;
mod over;
mod rank;
mod source_reuse;
mod subplan_reuse;

/// What a script is planned with besides its text.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The cluster's `parallelism.default`, unless the script SETs one.
    pub default_parallelism: u32,
    /// A parallelism requested with the submission; wins over the script.
    pub parallelism: Option<u32>,
    /// Values for the script's `${name}` parameters.
    pub parameters: BTreeMap<String, String>,
    /// Configuration given with the submission (Flink's `flinkConfiguration`);
    /// the script's own `SET`s win over it.
    pub config: BTreeMap<String, String>,
}

struct CatalogTable {
    definition: TableDefinition,
    physical: Schema,
    statement: ScriptStatement,
    watermark: Option<SourceWatermark>,
}

/// A table's `WATERMARK` as its source's assigner computes it.
struct SourceWatermark {
    /// The watermark expression over the physical columns (computed columns
    /// written out), as SQL.
    expression: String,
    /// The physical columns it reads.
    columns: Vec<String>,
    /// The planned expression, so nested projection push-down keeps the
    /// fields it reads.
    planned: Expr,
}

/// `expr` over `input` rewritten over the table scan under it: the columns
/// of the projections in between (a table's computed columns) written out.
fn over_scan(expr: Expr, input: &LogicalPlan) -> Option<Expr> {
    match input {
        LogicalPlan::TableScan(_) => Some(expr),
        LogicalPlan::SubqueryAlias(alias) => over_scan(expr, &alias.input),
        LogicalPlan::Projection(projection) => {
            let rewritten = expr
                .transform(|e| {
                    let Expr::Column(column) = &e else {
                        return Ok(Transformed::no(e));
                    };
                    let defined = projection
                        .schema
                        .fields()
                        .iter()
                        .position(|f| f.name() == &column.name)
                        .and_then(|i| projection.expr.get(i));
                    Ok(match defined {
                        Some(definition) => Transformed::yes(definition.clone().unalias()),
                        None => Transformed::no(e),
                    })
                })
                .ok()?
                .data;
            over_scan(rewritten, &projection.input)
        }
        _ => None,
    }
}

/// Plans `expression` over the registered table `table` and returns it
/// over the physical columns.
async fn source_watermark(
    context: &SessionContext,
    table: &str,
    expression: &str,
) -> Result<SourceWatermark, String> {
    let query = format!(
        "SELECT {expression} AS \"__watermark\" FROM {}",
        quote(table)
    );
    let plan = context
        .state()
        .create_logical_plan(&query)
        .await
        .and_then(|plan| context.state().optimize(&plan))
        .map_err(|e| datafusion_message(&e))?;
    let cannot_place = || format!("cannot place the watermark '{expression}' on the source");
    let LogicalPlan::Projection(projection) = &plan else {
        return Err(cannot_place());
    };
    let planned = projection
        .expr
        .first()
        .ok_or_else(cannot_place)?
        .clone()
        .unalias();
    let planned = over_scan(planned, &projection.input).ok_or_else(cannot_place)?;
    let mut columns: Vec<String> = planned
        .column_refs()
        .into_iter()
        .map(|c| c.name.clone())
        .collect();
    columns.sort();
    Ok(SourceWatermark {
        expression: expression_sql(&planned)?,
        columns,
        planned,
    })
}

fn error_at(
    statement: &ScriptStatement,
    offset: usize,
    message: impl Into<String>,
    parse: bool,
) -> SqlError {
    let (line, column) = statement.position_of(offset);
    let message = message.into();
    let statement = statement.text.clone();
    if parse {
        SqlError::Parse {
            message,
            statement,
            line,
            column,
        }
    } else {
        SqlError::Plan {
            message,
            statement,
            line,
            column,
        }
    }
}

/// Replaces `${name}` with its value; an unknown name is an error.
pub fn substitute_parameters(
    script: &str,
    parameters: &BTreeMap<String, String>,
) -> Result<String, SqlError> {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match parameters.get(name) {
            Some(value) => out.push_str(value),
            None => {
                let consumed = &script[..script.len() - rest.len() + start];
                let line = consumed.matches('\n').count() + 1;
                let column = consumed
                    .rsplit('\n')
                    .next()
                    .map(|l| l.chars().count())
                    .unwrap_or(0)
                    + 1;
                return Err(SqlError::Parse {
                    message: format!(
                        "no value for parameter '${{{name}}}'; pass it as a program argument {name}=<value>"
                    ),
                    statement: script
                        .lines()
                        .nth(line - 1)
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                    line,
                    column,
                });
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Plans `script` into a job graph, or says precisely why it cannot run.
pub async fn plan_script(script: &str, options: &PlanOptions) -> Result<JobGraphSpec, SqlError> {
    let script = substitute_parameters(script, &options.parameters)?;
    let statements = split_statements(&script).map_err(|e| SqlError::Parse {
        message: e.message,
        statement: String::new(),
        line: e.line,
        column: e.column,
    })?;
    let context = expression_context();
    register_window_markers(&context);
    register_listagg(&context);
    let mut tables: HashMap<String, CatalogTable> = HashMap::new();
    let mut config: BTreeMap<String, String> = options.config.clone();
    let mut inserts = Vec::new();
    let mut lookup_tables = std::collections::HashSet::new();
    for statement in &statements {
        let parsed = parse_statement(statement)
            .map_err(|p| error_at(statement, p.offset, p.message, true))?;
        match parsed {
            Statement::Set { key, value } => {
                // A bad value is reported at its SET, where it can be fixed.
                let single = BTreeMap::from([(key.clone(), value.clone())]);
                runtime_mode(&single)
                    .and(script_parallelism(&single))
                    .and(event_time_settings(&single))
                    .and(state_backend(&single))
                    .and(state_ttl(&single))
                    .and(reuse_sub_plans(&single).map(drop))
                    .map_err(|e| error_at(statement, 0, e, false))?;
                config.insert(key, value);
            }
            Statement::CreateTable(definition) => {
                if tables.contains_key(&definition.name) {
                    return Err(error_at(
                        statement,
                        0,
                        format!("Table '{}' already exists", definition.name),
                        false,
                    ));
                }
                let table = catalog_table(&context, statement, definition).await?;
                tables.insert(table.definition.name.clone(), table);
            }
            Statement::CreateView(view) => {
                let (query, looked_up) = strip_system_time(&view.query);
                lookup_tables.extend(looked_up);
                let query = rewrite_window_tvfs(&query).map_err(|(offset, m)| {
                    error_at(statement, view.query_offset + offset, m, false)
                })?;
                let plan = logical_plan(&context, &query)
                    .await
                    .and_then(flink_column_names)
                    .map_err(|e| {
                        error_at(statement, view.query_offset, datafusion_message(&e), false)
                    })?;
                let view_table =
                    datafusion::catalog::view::ViewTable::new(plan, Some(view.query.clone()));
                context
                    .register_table(view.name.as_str(), Arc::new(view_table))
                    .map_err(|e| error_at(statement, 0, datafusion_message(&e), false))?;
            }
            Statement::Insert(insert) => inserts.push(insert),
            Statement::StatementSet(set) => inserts.extend(set),
        }
    }
    if inserts.is_empty() {
        return Err(SqlError::NoJob);
    }
    let parallelism = match options.parallelism {
        Some(p) => p,
        None => script_parallelism(&config)
            .map_err(configuration_error)?
            .unwrap_or(options.default_parallelism.max(1)),
    };
    let mut builder = GraphBuilder {
        context: &context,
        vertices: Vec::new(),
        edges: Vec::new(),
        next_operator: 1,
        parallelism,
        tables: &tables,
        nested_uses: NestedFieldUses::default(),
        event_time: event_time_settings(&config).map_err(configuration_error)?,
        state_backend: state_backend(&config).map_err(configuration_error)?,
        state_ttl_millis: state_ttl(&config).map_err(configuration_error)?,
        pending_rank: None,
        rank_took_filter: false,
        shared_scans: HashMap::new(),
        shared_sources: HashMap::new(),
        reuse_sub_plans: reuse_sub_plans(&config).map_err(configuration_error)?,
        shared_aggregates: Vec::new(),
        built_shared: Vec::new(),
        lookup_tables,
        sinks_without_update_before: Vec::new(),
    };
    let mut sinks = Vec::new();
    for insert in &inserts {
        let statement = &insert.statement;
        let at = |offset: usize, message: String| error_at(statement, offset, message, false);
        let sink = tables.get(&insert.table).ok_or_else(|| {
            at(
                0,
                format!(
                    "Object '{}' not found within 'default_catalog.default_database'",
                    insert.table
                ),
            )
        })?;
        let (query, looked_up) = strip_system_time(&insert.query);
        builder.lookup_tables.extend(looked_up);
        let query = rewrite_window_tvfs(&query)
            .map_err(|(offset, m)| at(insert.query_offset + offset, m))?;
        let plan = logical_plan(&context, &query)
            .await
            .and_then(|plan| context.state().optimize(&plan))
            .map_err(|e| at(insert.query_offset, datafusion_message(&e)))?;
        if std::env::var("RIVULET_DEBUG_PLAN").is_ok() {
            eprintln!("{}", plan.display_indent());
        }
        builder.nested_uses = NestedFieldUses::of_plan(&plan);
        builder.shared_aggregates = if builder.reuse_sub_plans {
            subplan_reuse::shared_aggregates(&plan)
        } else {
            Vec::new()
        };
        builder.shared_scans = source_reuse::shared_scans(&plan, &builder.shared_aggregates);
        builder.shared_sources.clear();
        builder.built_shared.clear();
        let stream = builder
            .lower(&plan)
            .map_err(|m| at(insert.query_offset, m))?;
        builder
            .sink(stream, sink)
            .map_err(|m| at(insert.query_offset, m))?;
        sinks.push(format!("default_catalog.default_database.{}", insert.table));
    }
    changelog_mode::drop_unread_update_before(
        &mut builder.vertices,
        &builder.edges,
        &builder.sinks_without_update_before,
    );
    let name = config
        .get("pipeline.name")
        .cloned()
        .unwrap_or_else(|| format!("insert-into_{}", sinks.join(",")));
    let job_type = runtime_mode(&config).map_err(configuration_error)?;
    Ok(JobGraphSpec {
        name: Some(name),
        job_id: None,
        parallelism: Some(parallelism),
        max_parallelism: None,
        job_type: Some(job_type),
        config,
        vertices: builder.vertices,
        edges: builder.edges,
    })
}

/// The logical plan of a query; when DataFusion rejects it only because
/// two unnamed expressions share a name, which Flink allows, the plan of
/// the query with them named as Flink names them.
async fn logical_plan(
    context: &SessionContext,
    query: &str,
) -> datafusion::error::Result<LogicalPlan> {
    match context.state().create_logical_plan(query).await {
        Err(error) if select_names::is_duplicate_name_error(&error.to_string()) => {
            match select_names::name_unnamed_expressions(query) {
                Some(named) => context.state().create_logical_plan(&named).await,
                None => Err(error),
            }
        }
        planned => planned,
    }
}

/// A bad value in the submission's own configuration (a script's `SET` is
/// checked where it stands, so there is no statement to point at).
fn configuration_error(message: String) -> SqlError {
    SqlError::Plan {
        message,
        statement: "(the submission's configuration)".into(),
        line: 0,
        column: 0,
    }
}

/// How sources generate event time: Flink's `pipeline.auto-watermark-interval`
/// (200 ms by default) and `table.exec.source.idle-timeout` (0: never idle).
#[derive(Debug, Clone, Copy)]
struct EventTimeSettings {
    interval_millis: u64,
    idle_timeout_millis: u64,
}

fn event_time_settings(config: &BTreeMap<String, String>) -> Result<EventTimeSettings, String> {
    let duration = |key: &str, default: u64| match config.get(key) {
        None => Ok(default),
        Some(value) => parse_duration_millis(value)
            .map_err(|e| format!("Could not parse value '{value}' for key '{key}': {e}")),
    };
    Ok(EventTimeSettings {
        interval_millis: duration(
            "pipeline.auto-watermark-interval",
            DEFAULT_WATERMARK_INTERVAL_MILLIS,
        )?,
        idle_timeout_millis: duration("table.exec.source.idle-timeout", 0)?,
    })
}

/// Flink's `state.backend.type`, checked: where keyed state lives.
fn state_backend(config: &BTreeMap<String, String>) -> Result<Option<String>, String> {
    let Some(value) = config.get("state.backend.type") else {
        return Ok(None);
    };
    StateBackendKind::from_config(value).map_err(|e| e.to_string())?;
    Ok(Some(value.trim().to_ascii_lowercase()))
}

/// Whether sub-plans computed in several places are computed once.
fn reuse_sub_plans(config: &BTreeMap<String, String>) -> Result<bool, String> {
    let key = subplan_reuse::REUSE_SUB_PLAN_KEY;
    match config.get(key) {
        None => Ok(true),
        Some(value) => parse_bool(value)
            .map_err(|_| format!("Could not parse value '{}' for key '{key}'.", value.trim())),
    }
}

/// Flink's `table.exec.state.ttl`: how long a join keeps a row it has not
/// seen again (0, the default, keeps rows forever).
fn state_ttl(config: &BTreeMap<String, String>) -> Result<Option<u64>, String> {
    const KEY: &str = "table.exec.state.ttl";
    let Some(value) = config.get(KEY) else {
        return Ok(None);
    };
    let millis = parse_duration_millis(value)
        .map_err(|e| format!("Could not parse value '{value}' for key '{KEY}': {e}"))?;
    Ok(Some(millis).filter(|m| *m > 0))
}

/// Flink's `execution.runtime-mode`; AUTOMATIC runs streaming, as every
/// source Rivulet has may be unbounded.
fn runtime_mode(config: &BTreeMap<String, String>) -> Result<JobType, String> {
    const KEY: &str = "execution.runtime-mode";
    let Some(value) = config.get(KEY) else {
        return Ok(JobType::Streaming);
    };
    match value.trim().to_ascii_uppercase().as_str() {
        "STREAMING" | "AUTOMATIC" => Ok(JobType::Streaming),
        "BATCH" => Ok(JobType::Batch),
        _ => Err(format!(
            "Could not parse value '{value}' for key '{KEY}'. Expected one of: [STREAMING, BATCH, AUTOMATIC]"
        )),
    }
}

/// The job's parallelism from the script: the table planner's
/// `table.exec.resource.default-parallelism` wins over `parallelism.default`.
fn script_parallelism(config: &BTreeMap<String, String>) -> Result<Option<u32>, String> {
    for key in [
        "table.exec.resource.default-parallelism",
        "parallelism.default",
    ] {
        if let Some(value) = config.get(key) {
            let parsed: i64 = value.trim().parse().map_err(|_| {
                format!("Could not parse value '{value}' for key '{key}': not a number")
            })?;
            if parsed > 0 {
                return Ok(Some(parsed as u32));
            }
        }
    }
    Ok(None)
}

/// DataFusion's message in Flink's words where they differ: an unknown
/// table is an object not found in Flink's default catalog and database.
fn datafusion_message(error: &datafusion::error::DataFusionError) -> String {
    let message = error
        .to_string()
        .replace("Error during planning: ", "")
        .replace("Schema error: ", "");
    let unknown_table = message
        .strip_prefix("table '")
        .and_then(|rest| rest.strip_suffix("' not found"));
    match unknown_table {
        Some(qualified) => format!(
            "Object '{}' not found within 'default_catalog.default_database'",
            qualified.rsplit('.').next().unwrap_or(qualified)
        ),
        None => message,
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn catalog_table(
    context: &SessionContext,
    statement: &ScriptStatement,
    definition: TableDefinition,
) -> Result<CatalogTable, SqlError> {
    let mut physical = Vec::new();
    for column in &definition.columns {
        if let ColumnDefinition::Physical {
            name,
            type_text,
            offset,
        } = column
        {
            let parsed =
                parse_type(type_text).map_err(|m| error_at(statement, *offset, m, true))?;
            physical.push(Field::new(name, parsed.data_type, parsed.nullable));
        }
    }
    let physical = Schema::new(physical);
    let physical_ref: SchemaRef = Arc::new(physical.clone());
    let mut full = Vec::new();
    let mut has_computed = false;
    for column in &definition.columns {
        match column {
            ColumnDefinition::Physical { name, .. } => {
                full.push(
                    physical
                        .field_with_name(name)
                        .cloned()
                        .map_err(|e| error_at(statement, 0, e.to_string(), false))?,
                );
            }
            ColumnDefinition::Computed {
                name,
                expression,
                offset,
            } => {
                let calc = CalcSpec {
                    name: None,
                    filter: None,
                    projections: vec![Projection {
                        name: name.clone(),
                        expression: expression.clone(),
                    }],
                };
                let schema = calc
                    .output_schema(&physical_ref)
                    .map_err(|e| error_at(statement, *offset, e.to_string(), false))?;
                full.push(schema.field(0).clone());
                has_computed = true;
            }
        }
    }
    if let Some(watermark) = &definition.watermark {
        if !full.iter().any(|f| f.name() == &watermark.column) {
            return Err(error_at(
                statement,
                watermark.offset,
                format!(
                    "The rowtime attribute field '{}' is not defined in the table schema",
                    watermark.column
                ),
                false,
            ));
        }
        let calc = CalcSpec {
            name: None,
            filter: None,
            projections: vec![Projection {
                name: "watermark".into(),
                expression: watermark.expression.clone(),
            }],
        };
        let full_schema: SchemaRef = Arc::new(Schema::new(full.clone()));
        let output = calc
            .output_schema(&full_schema)
            .map_err(|e| error_at(statement, watermark.offset, e.to_string(), false))?;
        let field = output.field(0);
        if !matches!(field.data_type(), arrow_schema::DataType::Timestamp(_, _)) {
            return Err(error_at(
                statement,
                watermark.offset,
                format!(
                    "Invalid data type of expression for watermark definition. The field must be of type TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the watermark expression type is {}",
                    type_name(field.data_type(), field.is_nullable())
                ),
                false,
            ));
        }
    }
    for key in &definition.primary_key {
        if !full.iter().any(|f| f.name() == key) {
            return Err(error_at(
                statement,
                0,
                format!("primary key column '{key}' is not a column of the table"),
                false,
            ));
        }
    }
    // Computed columns live in a view over the physical table, so DataFusion
    // merges them into the query's own projections and filters.
    let register = |name: &str, table: Arc<dyn datafusion::catalog::TableProvider>| {
        context
            .register_table(name, table)
            .map(drop)
            .map_err(|e| error_at(statement, 0, datafusion_message(&e), false))
    };
    if !has_computed {
        register(
            &definition.name,
            Arc::new(EmptyTable::new(physical_ref.clone())),
        )?;
    } else {
        let physical_name = physical_table_name(&definition.name);
        register(
            &physical_name,
            Arc::new(EmptyTable::new(physical_ref.clone())),
        )?;
        let columns: Vec<String> = definition
            .columns
            .iter()
            .map(|c| match c {
                ColumnDefinition::Physical { name, .. } => quote(name),
                ColumnDefinition::Computed {
                    name, expression, ..
                } => format!("{expression} AS {}", quote(name)),
            })
            .collect();
        let query = format!(
            "SELECT {} FROM {}",
            columns.join(", "),
            quote(&physical_name)
        );
        let plan = context
            .state()
            .create_logical_plan(&query)
            .await
            .map_err(|e| error_at(statement, 0, datafusion_message(&e), false))?;
        register(
            &definition.name,
            Arc::new(datafusion::catalog::view::ViewTable::new(plan, Some(query))),
        )?;
    }
    let watermark = match &definition.watermark {
        None => None,
        Some(watermark) => Some(
            source_watermark(context, &definition.name, &watermark.expression)
                .await
                .map_err(|m| error_at(statement, watermark.offset, m, false))?,
        ),
    };
    Ok(CatalogTable {
        definition,
        physical,
        statement: statement.clone(),
        watermark,
    })
}

/// The name under which a table with computed columns keeps its physical columns.
fn physical_table_name(table: &str) -> String {
    format!("__physical_{table}")
}

/// What a SESSION window's rows may go into.
const SESSION_ONLY_AGGREGATED: &str = "A SESSION window table function is supported in a window aggregation only (GROUP BY window_start, window_end)";

/// An open pipeline: the vertex being built and the columns it produces.
struct Stream {
    vertex: usize,
    schema: SchemaRef,
    /// The columns entering the vertex's last operator, kept so a following
    /// Calc can be composed with it.
    last_input: Option<SchemaRef>,
    /// Whether the plan's columns are found by position rather than by name
    /// (after a join, whose sides may share names).
    by_position: bool,
    /// Whether its rows carry the one-row sessions of a SESSION window
    /// table function, which only a window aggregation can merge.
    sessions: bool,
    /// The columns holding the window of a window aggregation's rows (its
    /// `window_start` and `window_end`, under the names the query gave
    /// them), by which a later GROUP BY aggregates per window again.
    window: Option<[String; 2]>,
    /// Whether those windows are of processing time (a window table
    /// function over `PROCTIME()`), fired by the wall clock.
    processing_time: bool,
    /// A HOP table function whose rows a window aggregation may still
    /// read as slices ([`hop_slicing`]).
    hop: Option<hop_slicing::PendingHop>,
}

impl Stream {
    /// A stream of `schema` out of `vertex`, found by name, no window.
    fn new(vertex: usize, schema: SchemaRef) -> Stream {
        Stream {
            vertex,
            schema,
            last_input: None,
            by_position: false,
            sessions: false,
            window: None,
            processing_time: false,
            hop: None,
        }
    }

    /// The same, found by position (after a join or a Top-N, whose
    /// columns may share names).
    fn positional(vertex: usize, schema: SchemaRef) -> Stream {
        Stream {
            by_position: true,
            ..Stream::new(vertex, schema)
        }
    }

    /// SQL text of `expr`, written over `plan`'s columns, over this
    /// stream's columns.
    fn sql(&self, expr: &Expr, plan: &DFSchema) -> Result<String, String> {
        if self.by_position {
            join::expression_by_position(expr, plan, self)
        } else {
            expression_sql(expr)
        }
    }
}

struct GraphBuilder<'a> {
    context: &'a SessionContext,
    vertices: Vec<VertexSpec>,
    edges: Vec<EdgeSpec>,
    next_operator: usize,
    parallelism: u32,
    tables: &'a HashMap<String, CatalogTable>,
    /// The fields of ROW columns the query being lowered reads.
    nested_uses: NestedFieldUses,
    event_time: EventTimeSettings,
    /// `state.backend.type` for the stateful operators.
    state_backend: Option<String>,
    /// `table.exec.state.ttl` for the joins.
    state_ttl_millis: Option<u64>,
    /// A Top-N's filter seen on the way down: the `ROW_NUMBER()` column it
    /// bounds and how many rows it keeps ([`rank`]).
    pending_rank: Option<(String, u64)>,
    /// Whether a Top-N took the pending filter's bound as its own: it then
    /// emits only the rows the filter keeps, and the filter is left out.
    rank_took_filter: bool,
    /// The tables the query being lowered reads in several places, with
    /// the columns they read together ([`source_reuse`]).
    shared_scans: HashMap<String, std::collections::BTreeSet<String>>,
    /// The source vertex of each such table once built, and its columns.
    shared_sources: HashMap<String, (usize, SchemaRef)>,
    /// `table.optimizer.reuse-sub-plan-enabled`.
    reuse_sub_plans: bool,
    /// The aggregations the query being lowered computes in several
    /// places ([`subplan_reuse`]), and those of them already built.
    shared_aggregates: Vec<String>,
    built_shared: Vec<subplan_reuse::BuiltShared>,
    /// The tables the script looks up (`FOR SYSTEM_TIME AS OF`).
    lookup_tables: std::collections::HashSet<String>,
    /// The vertices ending in a sink that reads no `-U` rows
    /// ([`changelog_mode`]).
    sinks_without_update_before: Vec<usize>,
}

/// SQL text of an expression over unqualified input columns.
fn expression_sql(expr: &Expr) -> Result<String, String> {
    let expr = match expr {
        Expr::Alias(alias) => alias.expr.as_ref().clone(),
        other => other.clone(),
    };
    let unqualified = expr
        .transform(|e| {
            Ok(match e {
                Expr::Column(column) => {
                    Transformed::yes(Expr::Column(Column::new_unqualified(column.name)))
                }
                other => Transformed::no(other),
            })
        })
        .map_err(|e| e.to_string())?
        .data;
    datafusion::sql::unparser::Unparser::new(&crate::unparse_dialect::RuntimeDialect)
        .expr_to_sql(&unqualified)
        .map(|sql| sql.to_string())
        .map_err(|e| format!("cannot express '{unqualified}' for the runtime: {e}"))
}

/// Whether `expr` reads the processing time (`PROCTIME()`).
fn reads_proctime(expr: &Expr) -> bool {
    expr.exists(|e| {
        Ok(matches!(e, Expr::ScalarFunction(function)
            if function.func.name() == rivulet_runtime::functions::proctime::PROCTIME))
    })
    .unwrap_or(false)
}

/// The window columns of `stream` after `projections` (computed from
/// `exprs`): a window column passed on as it is keeps being one, under its
/// new name; a window with a bound projected away is none.
fn projected_window(
    stream: &Stream,
    exprs: &[Expr],
    projections: &[Projection],
) -> Option<[String; 2]> {
    let window = stream.window.as_ref().filter(|_| !stream.by_position)?;
    let renamed = |bound: &String| {
        exprs
            .iter()
            .zip(projections)
            .find(|(expr, _)| {
                let expr = match expr {
                    Expr::Alias(alias) => alias.expr.as_ref(),
                    other => other,
                };
                matches!(expr, Expr::Column(c) if &c.name == bound)
            })
            .map(|(_, projection)| projection.name.clone())
    };
    Some([renamed(&window[0])?, renamed(&window[1])?])
}

/// `next` (filter and projections over `previous`'s output) rewritten over
/// `previous`'s input, as one Calc.
fn compose(
    context: &SessionContext,
    previous: &CalcSpec,
    input: &SchemaRef,
    output: &SchemaRef,
    filter: Option<String>,
    projections: Vec<Projection>,
) -> Result<CalcSpec, String> {
    let schema = |s: &SchemaRef| DFSchema::try_from(s.as_ref().clone()).map_err(|e| e.to_string());
    let (input_schema, output_schema) = (schema(input)?, schema(output)?);
    let definitions: HashMap<String, Expr> = previous
        .projections
        .iter()
        .map(|p| {
            context
                .parse_sql_expr(&p.expression, &input_schema)
                .map(|e| (p.name.clone(), e))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let substitute = |sql: &str| -> Result<String, String> {
        let expr = context
            .parse_sql_expr(sql, &output_schema)
            .map_err(|e| e.to_string())?;
        let rewritten = expr
            .transform(|e| {
                Ok(match e {
                    Expr::Column(column) => match definitions.get(&column.name) {
                        Some(definition) => Transformed::yes(definition.clone()),
                        None => Transformed::no(Expr::Column(column)),
                    },
                    other => Transformed::no(other),
                })
            })
            .map_err(|e| e.to_string())?
            .data;
        expression_sql(&rewritten)
    };
    let filter = match (
        previous.filter.clone(),
        filter.as_deref().map(substitute).transpose()?,
    ) {
        (Some(a), Some(b)) => Some(format!("({a}) AND ({b})")),
        (a, b) => a.or(b),
    };
    let projections = projections
        .iter()
        .map(|p| {
            Ok(Projection {
                name: p.name.clone(),
                expression: substitute(&p.expression)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(CalcSpec {
        name: previous.name.clone(),
        filter,
        projections,
    })
}

fn identity_projections(schema: &SchemaRef) -> Vec<Projection> {
    schema
        .fields()
        .iter()
        .map(|f| Projection {
            name: f.name().clone(),
            expression: quote(f.name()),
        })
        .collect()
}

impl GraphBuilder<'_> {
    fn operator_name(&mut self, base: &str) -> String {
        let name = format!("{base}[{}]", self.next_operator);
        self.next_operator += 1;
        name
    }

    fn new_vertex(&mut self, operators: Vec<OperatorSpec>) -> usize {
        let id = format!("v{}", self.vertices.len() + 1);
        self.vertices.push(VertexSpec {
            id,
            parallelism: Some(self.parallelism),
            max_parallelism: None,
            operators,
        });
        self.vertices.len() - 1
    }

    /// Connects `from` to `to` with an edge of `strategy` (hashed on `key`).
    fn connect(&mut self, from: usize, to: usize, strategy: ShipStrategy, key: Option<String>) {
        self.edges.push(EdgeSpec {
            from: self.vertices[from].id.clone(),
            to: self.vertices[to].id.clone(),
            strategy,
            key,
        });
    }

    /// A new vertex fed by `from` through a forward edge, which joins
    /// subtasks one to one: so of the same parallelism. A vertex reused in
    /// several places is read through one of these per place.
    fn forwarded_vertex(&mut self, from: usize) -> usize {
        let vertex = self.new_vertex(vec![]);
        self.vertices[vertex].parallelism = self.vertices[from].parallelism;
        self.connect(from, vertex, ShipStrategy::Forward, None);
        vertex
    }

    /// A new vertex fed by `from` hashed on its `key` column; one subtask
    /// when the key is no real key (`partitioned` false: every row has the
    /// same one), as Flink runs an unpartitioned Top-N or OVER aggregation.
    fn keyed_vertex(&mut self, from: usize, key: &str, partitioned: bool) -> usize {
        let vertex = self.new_vertex(vec![]);
        if !partitioned {
            self.vertices[vertex].parallelism = Some(1);
        }
        self.connect(from, vertex, ShipStrategy::Hash, Some(key.into()));
        vertex
    }

    /// The input schema of the next operator appended to `vertex`.
    fn push_operator(&mut self, stream: &mut Stream, operator: OperatorSpec) -> Result<(), String> {
        let schema = operator
            .output_schema(Some(&stream.schema))
            .map_err(|e| e.to_string())?
            .ok_or("an operator follows a sink")?;
        self.vertices[stream.vertex].operators.push(operator);
        stream.last_input = Some(std::mem::replace(&mut stream.schema, schema));
        Ok(())
    }

    /// Appends a Calc, or composes it with the Calc the vertex already ends
    /// with, as Flink merges adjacent Calcs: the new filter and projections are
    /// rewritten over the previous Calc's input.
    fn push_calc(
        &mut self,
        stream: &mut Stream,
        filter: Option<String>,
        mut projections: Vec<Projection>,
    ) -> Result<(), String> {
        // A changelog's row kind travels with every row through every Calc.
        let carries_kind = stream.schema.index_of(ROW_KIND_COLUMN).is_ok();
        if carries_kind && projections.iter().all(|p| p.name != ROW_KIND_COLUMN) {
            projections.push(Projection {
                name: ROW_KIND_COLUMN.into(),
                expression: quote(ROW_KIND_COLUMN),
            });
        }
        if let (Some(OperatorSpec::Calc(previous)), Some(input)) = (
            self.vertices[stream.vertex].operators.last(),
            stream.last_input.clone(),
        ) {
            let previous = previous.clone();
            let composed = compose(
                self.context,
                &previous,
                &input,
                &stream.schema,
                filter,
                projections,
            )?;
            self.vertices[stream.vertex].operators.pop();
            stream.schema = input;
            return self.push_operator(stream, OperatorSpec::Calc(composed));
        }
        let name = self.operator_name("Calc");
        self.push_operator(
            stream,
            OperatorSpec::Calc(CalcSpec {
                name: Some(name),
                filter,
                projections,
            }),
        )
    }

    fn lower(&mut self, plan: &LogicalPlan) -> Result<Stream, String> {
        match plan {
            LogicalPlan::TableScan(scan) => {
                let table_name = source_reuse::scanned_table(scan.table_name.table()).to_string();
                let own: Vec<String> = scan
                    .projected_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let mut stream = match self.shared_scans.get(&table_name).cloned() {
                    None => self.lower_source(&table_name, &own)?,
                    Some(columns) => self.reused_source(&table_name, &columns, &own)?,
                };
                if !scan.filters.is_empty() {
                    let filter = scan
                        .filters
                        .iter()
                        .map(expression_sql)
                        .collect::<Result<Vec<_>, _>>()?;
                    let projections = identity_projections(&stream.schema);
                    self.push_calc(&mut stream, Some(filter.join(" AND ")), projections)?;
                }
                Ok(stream)
            }
            LogicalPlan::Projection(projection) => {
                let mut stream = self.lower(&projection.input)?;
                let exprs = self.window_table_function(&mut stream, &projection.expr)?;
                // A projection that passes every column through unchanged needs no Calc.
                let passes_through = exprs.len() == stream.schema.fields().len()
                    && exprs.iter().zip(stream.schema.fields()).all(
                        |(expr, field)| matches!(expr, Expr::Column(c) if &c.name == field.name()),
                    );
                if passes_through {
                    return Ok(stream);
                }
                // Columns of the same name from both sides of a join get
                // distinct names (`id`, `id0`); later steps find them by position.
                let mut taken = std::collections::HashSet::new();
                let projections = exprs
                    .iter()
                    .zip(projection.schema.fields())
                    .map(|(expr, field)| {
                        Ok(Projection {
                            name: join::unique_name(field.name(), &mut taken),
                            expression: stream.sql(expr, projection.input.schema())?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                let renamed = projections
                    .iter()
                    .zip(projection.schema.fields())
                    .any(|(p, field)| &p.name != field.name());
                let window = projected_window(&stream, &exprs, &projections);
                let names: Vec<String> = projections.iter().map(|p| p.name.clone()).collect();
                stream.hop = hop_slicing::after_projection(&stream, &exprs, &names);
                self.push_calc(&mut stream, None, projections)?;
                stream.by_position = renamed;
                stream.window = window;
                Ok(stream)
            }
            LogicalPlan::Filter(filter) => {
                self.pending_rank = rank::rank_limit(filter);
                // Saved, as filters below this one (under the Top-N) use it too.
                let outer_took = std::mem::replace(&mut self.rank_took_filter, false);
                let lowered = self.lower(&filter.input);
                self.pending_rank = None;
                let rank_took = std::mem::replace(&mut self.rank_took_filter, outer_took);
                let mut stream = lowered?;
                stream.hop = hop_slicing::after_filter(&stream, &filter.predicate);
                if rank_took {
                    // The whole predicate is the bound (see `rank_limit`).
                    return Ok(stream);
                }
                let predicate = stream.sql(&filter.predicate, filter.input.schema())?;
                let projections = identity_projections(&stream.schema);
                self.push_calc(&mut stream, Some(predicate), projections)?;
                Ok(stream)
            }
            LogicalPlan::SubqueryAlias(alias) => self.lower(&alias.input),
            LogicalPlan::Union(union) => {
                let output: Vec<String> = union
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let mut inputs = Vec::new();
                for input in &union.inputs {
                    let mut stream = self.lower(input)?;
                    if stream.sessions {
                        return Err(SESSION_ONLY_AGGREGATED.into());
                    }
                    if stream.schema.index_of(ROW_KIND_COLUMN).is_ok() {
                        return Err(
                            "UNION ALL of an updating result (a changelog) is not supported yet"
                                .into(),
                        );
                    }
                    let names: Vec<String> = stream
                        .schema
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .collect();
                    if names != output {
                        let projections = names
                            .iter()
                            .zip(&output)
                            .map(|(from, to)| Projection {
                                name: to.clone(),
                                expression: quote(from),
                            })
                            .collect();
                        self.push_calc(&mut stream, None, projections)?;
                    }
                    inputs.push(stream);
                }
                let vertex = self.new_vertex(vec![]);
                for input in &inputs {
                    self.connect(input.vertex, vertex, ShipStrategy::Forward, None);
                }
                let schema = inputs
                    .first()
                    .map(|s| s.schema.clone())
                    .ok_or("UNION without inputs")?;
                Ok(Stream::new(vertex, schema))
            }
            LogicalPlan::Aggregate(aggregate) => self.lower_shareable_aggregate(plan, aggregate),
            LogicalPlan::Join(join) => self.lower_join(join),
            LogicalPlan::Window(window) => self.lower_window(window),
            other => Err(format!(
                "{} is not supported yet: Rivulet runs projections, filters, UNION ALL, window table functions, GROUP BY, JOINs on equal keys and Top-N for now",
                describe(other)
            )),
        }
    }

    /// A vertex reading `columns` of `table_name` (and the columns its
    /// watermark needs): the source connector, the table's watermark
    /// assigner, and a Calc dropping what only the watermark read.
    fn lower_source(&mut self, table_name: &str, columns: &[String]) -> Result<Stream, String> {
        let table = self
            .tables
            .get(table_name)
            .ok_or_else(|| format!("Object '{table_name}' not found"))?;
        let name = self.operator_name(table_name);
        // Projection push-down: the source makes only the columns read.
        let projected = Schema::new(
            columns
                .iter()
                .map(|c| table.physical.field_with_name(c).cloned())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?,
        );
        // The source also reads what its watermark needs; a Calc
        // after the assigner drops it again.
        let query_columns = projected.fields().len();
        let mut read = projected.fields().iter().cloned().collect::<Vec<_>>();
        let mut uses = self.nested_uses.clone();
        if let Some(watermark) = &table.watermark {
            uses.include(&watermark.planned);
            for column in &watermark.columns {
                if read.iter().all(|f| f.name() != column) {
                    let field = table
                        .physical
                        .field_with_name(column)
                        .map_err(|e| e.to_string())?;
                    read.push(Arc::new(field.clone()));
                }
            }
        }
        let projected = Schema::new(read);
        // Nested projection push-down, for sources that skip fields.
        let (physical, projected) = if connectors::skips_unread_fields(&table.definition.options) {
            (uses.narrow(&table.physical), uses.narrow(&projected))
        } else {
            (table.physical.clone(), projected)
        };
        if std::env::var("RIVULET_DEBUG_PLAN").is_ok() {
            eprintln!(
                "source {table_name} reads {}",
                crate::nested_fields::describe(&projected)
            );
        }
        let source =
            connectors::source_operator(&table.definition.options, &physical, &projected, name)
                .map_err(|m| {
                    format!(
                        "{m}\n(table '{table_name}' defined at line {})",
                        table.statement.line
                    )
                })?;
        let vertex = self.new_vertex(vec![source]);
        let mut stream = Stream::new(vertex, Arc::new(projected));
        if let Some(watermark) = &table.watermark {
            let assigner = OperatorSpec::WatermarkAssigner(WatermarkAssignerSpec {
                name: Some(self.operator_name("WatermarkAssigner")),
                expression: watermark.expression.clone(),
                interval_millis: self.event_time.interval_millis,
                idle_timeout_millis: self.event_time.idle_timeout_millis,
            });
            self.push_operator(&mut stream, assigner)?;
            if stream.schema.fields().len() > query_columns {
                let kept = Arc::new(
                    stream
                        .schema
                        .project(&(0..query_columns).collect::<Vec<_>>())
                        .map_err(|e| e.to_string())?,
                );
                self.push_calc(&mut stream, None, identity_projections(&kept))?;
            }
        }
        Ok(stream)
    }

    /// A place that reads `own` of a table the query reads in several
    /// places ([`source_reuse`]): a vertex of its own, fed by the table's
    /// one source (built at its first place, reading every `shared` column).
    fn reused_source(
        &mut self,
        table_name: &str,
        shared: &std::collections::BTreeSet<String>,
        own: &[String],
    ) -> Result<Stream, String> {
        let (source, schema) = match self.shared_sources.get(table_name) {
            Some(built) => built.clone(),
            None => {
                let table = self
                    .tables
                    .get(table_name)
                    .ok_or_else(|| format!("Object '{table_name}' not found"))?;
                let columns: Vec<String> = table
                    .physical
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .filter(|name| shared.contains(name))
                    .collect();
                let stream = self.lower_source(table_name, &columns)?;
                let built = (stream.vertex, stream.schema);
                self.shared_sources
                    .insert(table_name.to_string(), built.clone());
                built
            }
        };
        let vertex = self.forwarded_vertex(source);
        let mut stream = Stream::new(vertex, schema);
        let projections = own
            .iter()
            .map(|column| Projection {
                name: column.clone(),
                expression: quote(column),
            })
            .collect();
        self.push_calc(&mut stream, None, projections)?;
        Ok(stream)
    }

    /// A projection holding the window columns of a window table function
    /// (see [`crate::window_tvf`]): the `WindowTableFunction` operator adds
    /// them to the stream, and the projection reads them as columns.
    fn window_table_function(
        &mut self,
        stream: &mut Stream,
        exprs: &[Expr],
    ) -> Result<Vec<Expr>, String> {
        let mut window: Option<(Expr, WindowKind)> = None;
        let mut problem = None;
        let rewritten = exprs
            .iter()
            .map(|expr| {
                expr.clone()
                    .transform(|e| {
                        Ok(match window_call(&e) {
                            None => Transformed::no(e),
                            Some(Err(message)) => {
                                problem = Some(message);
                                Transformed::no(e)
                            }
                            Some(Ok((column, time, kind))) => {
                                match &window {
                                    Some(seen) if seen != &(time.clone(), kind) => {
                                        problem = Some(
                                            "one query level can hold one window table function"
                                                .to_string(),
                                        );
                                    }
                                    _ => window = Some((time, kind)),
                                }
                                Transformed::yes(Expr::Column(Column::new_unqualified(column)))
                            }
                        })
                    })
                    .map(|t| t.data)
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()?;
        if let Some(problem) = problem {
            return Err(problem);
        }
        let Some((time, kind)) = window else {
            return Ok(exprs.to_vec());
        };
        stream.sessions = matches!(kind, WindowKind::Session { .. });
        // Its rows carry their window's bounds (sessions are merged later).
        stream.window = (!stream.sessions).then(|| ["window_start".into(), "window_end".into()]);
        stream.processing_time = reads_proctime(&time);
        let operator = OperatorSpec::WindowTableFunction(WindowTableFunctionSpec {
            name: Some(self.operator_name("WindowTableFunction")),
            time: expression_sql(&time)?,
            window: kind,
        });
        let at = self.vertices[stream.vertex].operators.len();
        self.push_operator(stream, operator)?;
        stream.hop = hop_slicing::PendingHop::new(stream.vertex, at, kind)
            .filter(|_| !stream.processing_time);
        Ok(rewritten)
    }

    /// A GROUP BY: a Calc for its inputs, the aggregate (a window
    /// aggregation, or a changelog-producing group aggregation) in a vertex
    /// of its own behind a hash edge on the key (one subtask when there is
    /// no key), then a Calc giving the query's columns.
    fn lower_aggregate(
        &mut self,
        aggregate: &datafusion::logical_expr::Aggregate,
    ) -> Result<Stream, String> {
        let mut input = self.lower(&aggregate.input)?;
        let window = input.window.clone();
        let plan = aggregation(aggregate, window.as_ref(), |e| {
            input.sql(e, aggregate.input.schema())
        })?;
        let sessions = input.sessions;
        let input_processing_time = input.processing_time;
        if sessions && !plan.windowed {
            return Err(SESSION_ONLY_AGGREGATED.into());
        }
        if plan.windowed && input.schema.index_of(ROW_KIND_COLUMN).is_ok() {
            return Err(
                "a window aggregation over an updating result (a changelog) is not supported yet"
                    .into(),
            );
        }
        self.push_calc(&mut input, None, plan.before)?;
        let hop_slices = if plan.windowed {
            self.slice_hop(&input, aggregate, &plan.aggregates)
        } else {
            None
        };
        let vertex = self.new_vertex(vec![]);
        let strategy = match &plan.key {
            Some(_) => ShipStrategy::Hash,
            None => {
                self.vertices[vertex].parallelism = Some(1);
                ShipStrategy::Rebalance
            }
        };
        self.connect(input.vertex, vertex, strategy, plan.key.clone());
        let mut stream = Stream::new(vertex, input.schema);
        let operator = if plan.windowed {
            OperatorSpec::WindowAggregate(WindowAggregateSpec {
                name: Some(self.operator_name("WindowAggregate")),
                key: plan.key,
                window_start: "window_start".into(),
                window_end: "window_end".into(),
                aggregates: plan.aggregates,
                merge_sessions: sessions,
                state_backend: self.state_backend.clone(),
                processing_time: input_processing_time,
                hop_slices,
            })
        } else {
            OperatorSpec::GroupAggregate(GroupAggregateSpec {
                name: Some(self.operator_name("GroupAggregate")),
                key: plan.key,
                aggregates: plan.aggregates,
                state_backend: self.state_backend.clone(),
            })
        };
        self.push_operator(&mut stream, operator)?;
        // The query's columns, cast where the aggregate's type differs (MIN of an INT).
        let mut projections = Vec::new();
        for (output, wanted) in plan.after.iter().zip(aggregate.schema.fields()) {
            let have = stream
                .schema
                .field_with_name(&output.column)
                .map_err(|e| e.to_string())?;
            let (column, have) = match (&output.key_field, have.data_type()) {
                (Some(key_field), arrow_schema::DataType::Struct(fields)) => {
                    let field = fields
                        .iter()
                        .find(|f| f.name() == key_field)
                        .ok_or_else(|| format!("the grouping key has no field {key_field}"))?;
                    let column = format!("get_field({}, '{key_field}')", quote(&output.column));
                    (column, field.data_type())
                }
                (_, have) => (quote(&output.column), have),
            };
            let expression = if have == wanted.data_type() {
                column
            } else {
                cast_sql(&column, wanted.data_type())
            };
            projections.push(Projection {
                name: output.name.clone(),
                expression,
            });
        }
        self.push_calc(&mut stream, None, projections)?;
        if plan.windowed {
            let named = |window: &str| {
                plan.after
                    .iter()
                    .find(|output| output.column == window)
                    .map(|output| output.name.clone())
            };
            stream.window = named("window_start")
                .zip(named("window_end"))
                .map(|(s, e)| [s, e]);
            stream.processing_time = input_processing_time;
        }
        Ok(stream)
    }

    fn sink(&mut self, mut stream: Stream, table: &CatalogTable) -> Result<(), String> {
        if stream.sessions {
            return Err(SESSION_ONLY_AGGREGATED.into());
        }
        let sink_name = &table.definition.name;
        let query: Vec<&Field> = stream
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref())
            .filter(|f| f.name() != ROW_KIND_COLUMN)
            .collect();
        let takes_updates = connectors::takes_updates(&table.definition.options);
        if query.len() < stream.schema.fields().len() && !takes_updates {
            let (producer, changes) = self.vertices[stream.vertex]
                .operators
                .iter()
                .rev()
                .find_map(|o| match o {
                    OperatorSpec::GroupAggregate(_) | OperatorSpec::Rank(_) => {
                        Some((o.display_name(), "update"))
                    }
                    OperatorSpec::Join(join) if join.updates() => {
                        Some((o.display_name(), "update and delete"))
                    }
                    _ => None,
                })
                .unwrap_or_else(|| ("GroupAggregate".into(), "update"));
            return Err(format!(
                "Table sink 'default_catalog.default_database.{sink_name}' doesn't support consuming {changes} changes which is produced by node {producer}"
            ));
        }
        let sink: Vec<&Field> = table.physical.fields().iter().map(|f| f.as_ref()).collect();
        let show = |fields: &[&Field]| {
            fields
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}",
                        f.name(),
                        type_name(f.data_type(), f.is_nullable())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if query.len() != sink.len() {
            return Err(format!(
                "Column types of query result and sink for 'default_catalog.default_database.{sink_name}' do not match.\nCause: Different number of columns.\n\nQuery schema: [{}]\nSink schema:  [{}]",
                show(&query),
                show(&sink)
            ));
        }
        let mut needs_cast = false;
        let mut projections = Vec::new();
        for (q, s) in query.iter().zip(&sink) {
            if q.data_type() != s.data_type() {
                if !arrow_cast_can(q.data_type(), s.data_type()) {
                    return Err(format!(
                        "Column types of query result and sink for 'default_catalog.default_database.{sink_name}' do not match.\nCause: Incompatible types for sink column '{}' at position {}.\n\nQuery schema: [{}]\nSink schema:  [{}]",
                        s.name(),
                        projections.len(),
                        show(&query),
                        show(&sink)
                    ));
                }
                needs_cast = true;
                projections.push(Projection {
                    name: s.name().clone(),
                    expression: cast_sql(&quote(q.name()), s.data_type()),
                });
            } else {
                needs_cast |= q.name() != s.name();
                projections.push(Projection {
                    name: s.name().clone(),
                    expression: quote(q.name()),
                });
            }
        }
        if needs_cast {
            self.push_calc(&mut stream, None, projections)?;
        }
        // `sink.parallelism` other than the query's: the sink is a vertex of
        // its own, fed round-robin, as Flink plans it.
        if let Some(value) = table.definition.options.get("sink.parallelism") {
            let parallelism = value.trim().parse::<u32>().ok().filter(|p| *p > 0);
            let parallelism = parallelism.ok_or_else(|| {
                format!(
                    "Invalid configured parallelism {value} for table 'default_catalog.default_database.{sink_name}'."
                )
            })?;
            if Some(parallelism) != self.vertices[stream.vertex].parallelism {
                let vertex = self.new_vertex(vec![]);
                self.vertices[vertex].parallelism = Some(parallelism);
                self.connect(stream.vertex, vertex, ShipStrategy::Rebalance, None);
                stream.vertex = vertex;
            }
        }
        let name = self.operator_name(sink_name);
        let operator = connectors::sink_operator(&table.definition.options, &table.physical, name)
            .map_err(|m| {
                format!(
                    "{m}\n(table '{sink_name}' defined at line {})",
                    table.statement.line
                )
            })?;
        self.vertices[stream.vertex].operators.push(operator);
        let definition = &table.definition;
        if connectors::reads_no_update_before(&definition.options, &definition.primary_key) {
            self.sinks_without_update_before.push(stream.vertex);
        }
        Ok(())
    }
}

/// `CAST(expr AS type)` in SQL DataFusion reads back as the Arrow type.
fn cast_sql(expr: &str, to: &arrow_schema::DataType) -> String {
    use arrow_schema::DataType::*;
    let sql_type = match to {
        Int8 => "TINYINT".to_string(),
        Int16 => "SMALLINT".to_string(),
        Int32 => "INT".to_string(),
        Int64 => "BIGINT".to_string(),
        Float32 => "FLOAT".to_string(),
        Float64 => "DOUBLE".to_string(),
        Utf8 => "VARCHAR".to_string(),
        Boolean => "BOOLEAN".to_string(),
        Date32 => "DATE".to_string(),
        Decimal128(p, s) => format!("DECIMAL({p}, {s})"),
        other => return format!("arrow_cast({expr}, '{other}')"),
    };
    format!("CAST({expr} AS {sql_type})")
}

fn arrow_cast_can(from: &arrow_schema::DataType, to: &arrow_schema::DataType) -> bool {
    datafusion::arrow::compute::can_cast_types(from, to)
}

fn describe(plan: &LogicalPlan) -> &'static str {
    match plan {
        LogicalPlan::Aggregate(_) => "GROUP BY aggregation",
        LogicalPlan::Join(_) => "JOIN",
        LogicalPlan::Sort(_) => "ORDER BY",
        LogicalPlan::Limit(_) => "LIMIT",
        LogicalPlan::Window(_) => "OVER aggregation",
        LogicalPlan::Distinct(_) => "SELECT DISTINCT",
        LogicalPlan::Values(_) => "VALUES",
        LogicalPlan::EmptyRelation(_) => "a query without FROM",
        _ => "this query shape",
    }
}

/// `script` planned at `parallelism`, and each of its operators in vertex
/// order: what the planner's tests look at.
#[cfg(test)]
mod planned {
    use rivulet_runtime::job_graph::JobGraphSpec;
    use rivulet_runtime::operators::OperatorSpec;

    use crate::error::SqlError;
    use crate::{PlanOptions, plan_script};

    pub(super) async fn at(script: &str, parallelism: u32) -> Result<JobGraphSpec, SqlError> {
        let options = PlanOptions {
            default_parallelism: parallelism,
            ..Default::default()
        };
        plan_script(script, &options).await
    }

    pub(super) fn operators(graph: &JobGraphSpec) -> impl Iterator<Item = &OperatorSpec> {
        graph.vertices.iter().flat_map(|v| &v.operators)
    }
}
