//! The `filesystem` connector's options: `path`, `format`, and the options
//! of the chosen format with Flink's names and defaults (`csv.*`, `json.*`),
//! checked with Flink's wording, and the types each format can hold.

use std::collections::BTreeMap;

use arrow_schema::{DataType, Schema};
use rivulet_runtime::operators::{FileSinkSpec, FileSourceSpec};

use crate::connectors::{check_options, required};
use crate::types::type_name;

const CSV_SOURCE_OPTIONS: &[&str] = &[
    "csv.allow-comments",
    "csv.field-delimiter",
    "csv.ignore-parse-errors",
    "csv.null-literal",
];
const CSV_SINK_OPTIONS: &[&str] = &["csv.field-delimiter", "csv.null-literal"];
const JSON_SOURCE_OPTIONS: &[&str] = &["json.fail-on-missing-field", "json.ignore-parse-errors"];
const PARQUET_SINK_OPTIONS: &[&str] = &["parquet.compression"];

/// The formats Rivulet has, and the format options each takes.
fn format_options(format: &str, source: bool) -> Result<&'static [&'static str], String> {
    match (format, source) {
        ("csv", true) => Ok(CSV_SOURCE_OPTIONS),
        ("csv", false) => Ok(CSV_SINK_OPTIONS),
        ("json", true) => Ok(JSON_SOURCE_OPTIONS),
        ("json", false) | ("parquet", true) => Ok(&[]),
        ("parquet", false) => Ok(PARQUET_SINK_OPTIONS),
        (other, _) => Err(format!(
            "Could not find any format factory for identifier '{other}' in the classpath."
        )),
    }
}

/// Checks the options against the connector's and the format's, returning
/// the format.
fn checked_format(options: &BTreeMap<String, String>, source: bool) -> Result<&str, String> {
    let format = required(options, "filesystem", "format")?;
    let format_keys = format_options(format, source)?;
    let mut supported = vec!["format", "path"];
    supported.extend_from_slice(format_keys);
    supported.sort_unstable();
    check_options(
        "filesystem",
        options,
        |k| supported.contains(&k),
        &supported,
    )?;
    required(options, "filesystem", "path")?;
    Ok(format)
}

fn path(options: &BTreeMap<String, String>) -> Result<String, String> {
    Ok(required(options, "filesystem", "path")?
        .trim_start_matches("file://")
        .to_string())
}

/// A boolean option, `false` when absent.
fn flag(options: &BTreeMap<String, String>, key: &str) -> Result<bool, String> {
    match options.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(format!("Could not parse value '{v}' for key '{key}'.")),
    }
}

fn delimiter(options: &BTreeMap<String, String>) -> Result<char, String> {
    match options
        .get("csv.field-delimiter")
        .map(|d| unescape_delimiter(d))
    {
        None => Ok(','),
        Some(Some(d)) => Ok(d),
        Some(None) => Err("Option 'csv.field-delimiter' must be a single character.".into()),
    }
}

/// Flink accepts `\t` written out for a tab.
fn unescape_delimiter(text: &str) -> Option<char> {
    match text {
        "\\t" => Some('\t'),
        _ => {
            let mut chars = text.chars();
            let first = chars.next()?;
            chars.next().is_none().then_some(first)
        }
    }
}

/// How many rows a batch of the source holds. JSON lines come 2048 at a
/// time: with 8192, the Nexmark queries that keep much state peaked 30 –
/// 60 MB higher (q9 at 1022 against 972 – 988 MB, q19 668 against 600 –
/// 604, q20 797 against 734 – 741), the allocator holding more of the
/// larger batches' freed buffers. The cost is in the aggregations that
/// emit each batch's updates (q4, q17, q18: 5 – 10% fewer rows a second);
/// the other queries ran within their noise. The other formats keep 8192
/// rows, not measured otherwise.
fn batch_rows(format: &str) -> usize {
    match format {
        "json" => 2048,
        _ => 8192,
    }
}

/// The source for a filesystem table read by a query.
pub fn source(
    options: &BTreeMap<String, String>,
    physical: &Schema,
    projected: &Schema,
    name: String,
) -> Result<FileSourceSpec, String> {
    let format = checked_format(options, true)?;
    let ignore_parse_errors = flag(options, &format!("{format}.ignore-parse-errors"))?;
    let fail_on_missing_field = flag(options, "json.fail-on-missing-field")?;
    if fail_on_missing_field && ignore_parse_errors {
        return Err("fail-on-missing-field and ignore-parse-errors shouldn't both be true.".into());
    }
    if format == "csv" {
        check_csv_types(physical)?;
    }
    let projection = projected
        .fields()
        .iter()
        .map(|f| physical.index_of(f.name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let spec = FileSourceSpec {
        name: Some(name),
        path: path(options)?,
        format: format.to_string(),
        schema: physical.clone(),
        projection: Some(projection),
        field_delimiter: delimiter(options)?,
        allow_comments: flag(options, "csv.allow-comments")?,
        null_literal: options.get("csv.null-literal").cloned(),
        ignore_parse_errors,
        fail_on_missing_field,
        batch_size: batch_rows(format),
    };
    spec.validate().map_err(|e| e.to_string())?;
    Ok(spec)
}

/// The sink for a filesystem table written by an INSERT.
pub fn sink(
    options: &BTreeMap<String, String>,
    physical: &Schema,
    name: String,
) -> Result<FileSinkSpec, String> {
    let format = checked_format(options, false)?;
    match format {
        "csv" => check_csv_types(physical)?,
        "json" => check_json_types(physical)?,
        _ => {}
    }
    let spec = FileSinkSpec {
        name: Some(name),
        path: path(options)?,
        format: format.to_string(),
        field_delimiter: delimiter(options)?,
        null_literal: options.get("csv.null-literal").cloned(),
        compression: options.get("parquet.compression").cloned(),
    };
    // The codec's own message, not the job graph's wrapping of it.
    rivulet_runtime::formats::parquet::compression(spec.compression.as_deref())?;
    spec.validate().map_err(|e| e.to_string())?;
    Ok(spec)
}

fn is_simple(data_type: &DataType) -> bool {
    !data_type.is_nested()
}

/// Flink's csv format holds scalars, and ARRAYs and ROWs of scalars.
fn check_csv_types(schema: &Schema) -> Result<(), String> {
    for field in schema.fields() {
        let nested: Vec<&DataType> = match field.data_type() {
            DataType::List(element) | DataType::LargeList(element) => vec![element.data_type()],
            DataType::Struct(children) => children.iter().map(|c| c.data_type()).collect(),
            other if is_simple(other) => continue,
            other => {
                return Err(format!(
                    "Unsupported type '{}' for field '{}'.",
                    type_name(other, field.is_nullable()),
                    field.name()
                ));
            }
        };
        if let Some(inner) = nested.into_iter().find(|t| !is_simple(t)) {
            return Err(format!(
                "Only simple types are supported in the second level nesting of fields '{}' but was: {}",
                field.name(),
                type_name(inner, true)
            ));
        }
    }
    Ok(())
}

/// Flink's json format writes MAPs with STRING keys only.
fn check_json_types(schema: &Schema) -> Result<(), String> {
    fn check(data_type: &DataType, nullable: bool) -> Result<(), String> {
        match data_type {
            DataType::Map(entries, _) => {
                if let DataType::Struct(kv) = entries.data_type() {
                    let key_type = kv.first().map(|k| k.data_type());
                    if key_type.is_some_and(|t| !matches!(t, DataType::Utf8 | DataType::LargeUtf8))
                    {
                        return Err(format!(
                            "JSON format doesn't support non-string as key type of map. The type is: {}",
                            type_name(data_type, nullable)
                        ));
                    }
                    for child in kv {
                        check(child.data_type(), child.is_nullable())?;
                    }
                }
                Ok(())
            }
            DataType::List(element) | DataType::LargeList(element) => {
                check(element.data_type(), element.is_nullable())
            }
            DataType::Struct(children) => children
                .iter()
                .try_for_each(|c| check(c.data_type(), c.is_nullable())),
            _ => Ok(()),
        }
    }
    schema
        .fields()
        .iter()
        .try_for_each(|f| check(f.data_type(), f.is_nullable()))
}
