//! The `filesystem` connector's sink options and the types its csv format
//! can hold, checked with Flink's wording.

use std::collections::BTreeMap;

use arrow_schema::{DataType, Schema};
use rivulet_runtime::operators::FileSinkSpec;

use crate::connectors::{check_options, required};
use crate::types::type_name;

/// The sink for a filesystem table written by an INSERT.
pub fn sink(
    options: &BTreeMap<String, String>,
    physical: &Schema,
    name: String,
) -> Result<FileSinkSpec, String> {
    check_options(
        "filesystem",
        options,
        |k| matches!(k, "path" | "format"),
        &["format", "path"],
    )?;
    let path = required(options, "filesystem", "path")?;
    let format = required(options, "filesystem", "format")?;
    if format != "csv" {
        return Err(format!(
            "filesystem format '{format}' is not supported yet; use 'csv'"
        ));
    }
    check_csv_types(physical)?;
    Ok(FileSinkSpec {
        name: Some(name),
        path: path.trim_start_matches("file://").to_string(),
        format: format.to_string(),
    })
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
