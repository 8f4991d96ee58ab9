//! Flink's table connectors: which options each takes, with Flink's names and
//! defaults, and the source or sink operator a table becomes.

use std::collections::{BTreeMap, BTreeSet};

use arrow_schema::Schema;
use rivulet_common::config::parse_duration_millis;
use rivulet_runtime::operators::{
    DatagenSpec, DiscardSinkSpec, FieldGenerator, FieldKind, OperatorSpec, PrintSinkSpec,
};

use crate::{filesystem, nexmark};

/// The connectors Rivulet has, as Flink lists its factory identifiers.
pub const CONNECTORS: &[&str] = &["blackhole", "datagen", "filesystem", "nexmark", "print"];

fn connector_of(options: &BTreeMap<String, String>) -> Result<&str, String> {
    let connector = options.get("connector").ok_or_else(|| {
        "Table options do not contain an option key 'connector' for discovering a connector."
            .to_string()
    })?;
    if !CONNECTORS.contains(&connector.as_str()) {
        return Err(format!(
            "Could not find any factory for identifier '{connector}' that implements 'DynamicTableFactory'.\n\nAvailable factory identifiers are:\n\n{}",
            CONNECTORS.join("\n")
        ));
    }
    Ok(connector)
}

/// Fails on options the connector does not know, listing the ones it does.
pub(crate) fn check_options(
    connector: &str,
    options: &BTreeMap<String, String>,
    allowed: impl Fn(&str) -> bool,
    supported: &[&str],
) -> Result<(), String> {
    let unknown: BTreeSet<&str> = options
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "connector" && !allowed(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(format!(
        "Unsupported options found for '{connector}'.\n\nUnsupported options:\n\n{}\n\nSupported options:\n\n{}",
        unknown.into_iter().collect::<Vec<_>>().join("\n"),
        supported.join("\n")
    ))
}

pub(crate) fn number<T: std::str::FromStr>(
    options: &BTreeMap<String, String>,
    key: &str,
) -> Result<Option<T>, String> {
    options
        .get(key)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| format!("Could not parse value '{v}' for key '{key}'."))
        })
        .transpose()
}

pub(crate) fn required<'a>(
    options: &'a BTreeMap<String, String>,
    connector: &str,
    key: &str,
) -> Result<&'a str, String> {
    options.get(key).map(String::as_str).ok_or_else(|| {
        format!("One or more required options are missing.\n\nMissing required options are:\n\n{key}\n\n(connector '{connector}')")
    })
}

/// The source operator for a table read by a query. `name` is the operator's
/// display name (Flink's `orders[1]`).
/// `physical` is the table's physical schema (options are checked against
/// it); `projected` the columns the query reads, which the source produces.
pub fn source_operator(
    options: &BTreeMap<String, String>,
    physical: &Schema,
    projected: &Schema,
    name: String,
) -> Result<OperatorSpec, String> {
    match connector_of(options)? {
        "datagen" => datagen(options, physical, name).map(|mut spec| {
            // Dropping a sequence column must not change how many rows there are.
            spec.number_of_rows = spec.total_rows();
            spec.fields
                .retain(|field, _| projected.field_with_name(field).is_ok());
            spec.schema = projected.clone();
            OperatorSpec::Datagen(spec)
        }),
        "filesystem" => {
            filesystem::source(options, physical, projected, name).map(OperatorSpec::FileSource)
        }
        "nexmark" => nexmark::source(options, projected, name).map(OperatorSpec::Nexmark),
        other => Err(format!(
            "Connector '{other}' can only be used as a sink. It cannot be used as a source."
        )),
    }
}

/// Whether the table's source reads fields by name and skips the others
/// (JSON lines), so ROW columns may be cut to the fields a query reads.
pub fn skips_unread_fields(options: &BTreeMap<String, String>) -> bool {
    connector_of(options) == Ok("filesystem")
        && options.get("format").map(String::as_str) == Some("json")
}

/// Whether the table's sink takes an updating result (a changelog):
/// `print` shows the row kinds, `blackhole` drops everything; the others
/// only append.
pub fn takes_updates(options: &BTreeMap<String, String>) -> bool {
    matches!(connector_of(options), Ok("print" | "blackhole"))
}

/// Whether the table's sink takes updates without the rows they replace
/// (`-U`): `blackhole`, whose changelog mode leaves UPDATE_BEFORE out, when
/// no primary key asks for more (Flink would first match it against the
/// input's upsert key).
pub fn reads_no_update_before(options: &BTreeMap<String, String>, primary_key: &[String]) -> bool {
    connector_of(options) == Ok("blackhole") && primary_key.is_empty()
}

/// The sink operator for a table written by an INSERT.
pub fn sink_operator(
    options: &BTreeMap<String, String>,
    physical: &Schema,
    name: String,
) -> Result<OperatorSpec, String> {
    match connector_of(options)? {
        "print" => {
            check_options(
                "print",
                options,
                |k| {
                    matches!(
                        k,
                        "print-identifier" | "standard-error" | "sink.parallelism"
                    )
                },
                &["print-identifier", "sink.parallelism", "standard-error"],
            )?;
            if options
                .get("standard-error")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                return Err("print option 'standard-error' = 'true' is not supported yet".into());
            }
            Ok(OperatorSpec::PrintSink(PrintSinkSpec {
                name: Some(name),
                identifier: options.get("print-identifier").cloned(),
            }))
        }
        "blackhole" => {
            check_options("blackhole", options, |_| false, &[])?;
            Ok(OperatorSpec::DiscardSink(DiscardSinkSpec {
                name: Some(name),
            }))
        }
        "filesystem" => filesystem::sink(options, physical, name).map(OperatorSpec::FileSink),
        other => Err(format!(
            "Connector '{other}' can only be used as a source. It cannot be used as a sink."
        )),
    }
}

const DATAGEN_OPTIONS: &[&str] = &[
    "fields.#.end",
    "fields.#.kind",
    "fields.#.length",
    "fields.#.max",
    "fields.#.max-past",
    "fields.#.min",
    "fields.#.null-rate",
    "fields.#.start",
    "number-of-rows",
    "rows-per-second",
];

fn datagen(
    options: &BTreeMap<String, String>,
    physical: &Schema,
    name: String,
) -> Result<DatagenSpec, String> {
    let field_option = |key: &str| -> bool {
        key.strip_prefix("fields.")
            .and_then(|rest| rest.rsplit_once('.'))
            .is_some_and(|(field, option)| {
                physical.field_with_name(field).is_ok()
                    && matches!(
                        option,
                        "kind"
                            | "min"
                            | "max"
                            | "length"
                            | "start"
                            | "end"
                            | "null-rate"
                            | "max-past"
                    )
            })
    };
    check_options(
        "datagen",
        options,
        |k| matches!(k, "rows-per-second" | "number-of-rows") || field_option(k),
        DATAGEN_OPTIONS,
    )?;
    let mut fields = BTreeMap::new();
    for field in physical.fields() {
        let key = |option: &str| format!("fields.{}.{option}", field.name());
        let kind = match options.get(&key("kind")).map(|k| k.to_ascii_lowercase()) {
            None => FieldKind::Random,
            Some(k) if k == "random" => FieldKind::Random,
            Some(k) if k == "sequence" => FieldKind::Sequence,
            Some(other) => {
                return Err(format!(
                    "Could not parse value '{other}' for key '{}': expected random or sequence.",
                    key("kind")
                ));
            }
        };
        let max_past = options
            .get(&key("max-past"))
            .map(|v| {
                parse_duration_millis(v).map_err(|e| {
                    format!(
                        "Could not parse value '{v}' for key '{}': {e}",
                        key("max-past")
                    )
                })
            })
            .transpose()?;
        fields.insert(
            field.name().clone(),
            FieldGenerator {
                kind,
                min: number(options, &key("min"))?,
                max: number(options, &key("max"))?,
                length: number(options, &key("length"))?,
                start: number(options, &key("start"))?,
                end: number(options, &key("end"))?,
                null_rate: number(options, &key("null-rate"))?.unwrap_or(0.0),
                max_past_millis: max_past.unwrap_or(0) as i64,
            },
        );
    }
    Ok(DatagenSpec {
        name: Some(name),
        schema: physical.clone(),
        rows_per_second: Some(number(options, "rows-per-second")?.unwrap_or(10_000.0)),
        number_of_rows: number(options, "number-of-rows")?,
        fields,
        batch_size: 1024,
    })
}
