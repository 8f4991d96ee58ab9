//! `LookupJoin`: Flink's lookup join, `JOIN t FOR SYSTEM_TIME AS OF
//! x.proc_time AS s ON … = s.key`, where `t` is a bounded table read whole
//! when the operator opens (as Flink's filesystem lookup source caches its
//! file). Each input row is joined with the table's rows of its key as it
//! passes; nothing of the input is kept, so it chains behind its input with
//! no shuffle. A LEFT lookup join keeps rows without a match, padded with
//! NULLs. The output is the input's columns but the key, then the table's,
//! and insert-only.

use hashbrown::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::{Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::aggregate_calls::column_of;
use super::file_source::FileSourceSpec;
use super::grouping::{KeyValue, can_group_by, key_values};
use super::{Operator, SourceFunction, SourcePoll, SubtaskContext, name_or};
use crate::changelog::ROW_KIND_COLUMN;
use crate::error::{Result, RuntimeError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LookupJoinSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The lookup table: a filesystem source, read whole at open.
    pub table: FileSourceSpec,
    /// The input's key column; left out of the output.
    pub key: String,
    /// The table's key column.
    pub table_key: String,
    /// The names the table's columns get in the output, in order.
    pub table_columns: Vec<String>,
    /// Whether input rows without a match are kept, padded (LEFT JOIN).
    #[serde(default)]
    pub keep_unmatched: bool,
}

impl LookupJoinSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "LookupJoin")
    }

    /// The input's and the table's key column indices, checked.
    fn keys(&self, input: &SchemaRef, table: &SchemaRef) -> Result<(usize, usize)> {
        let name = self.name();
        if input.index_of(ROW_KIND_COLUMN).is_ok() {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: a lookup join of an update stream is not supported yet"
            )));
        }
        let key = column_of(input, &self.key, &name)?;
        let table_key = column_of(table, &self.table_key, &name)?;
        for (schema, index) in [(input, key), (table, table_key)] {
            let field = schema.field(index);
            if !can_group_by(field.data_type()) {
                return Err(RuntimeError::InvalidJobGraph(format!(
                    "{name}: cannot look up by '{}' of type {}",
                    field.name(),
                    field.data_type()
                )));
            }
        }
        if self.table_columns.len() != table.fields().len() {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: {} names for the table's {} columns",
                self.table_columns.len(),
                table.fields().len()
            )));
        }
        Ok((key, table_key))
    }

    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        let table = self.table.output_schema()?;
        let (key, _) = self.keys(input, &table)?;
        let mut fields: Vec<Field> = input
            .fields()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != key)
            .map(|(_, f)| f.as_ref().clone())
            .collect();
        for (field, name) in table.fields().iter().zip(&self.table_columns) {
            let nullable = field.is_nullable() || self.keep_unmatched;
            fields.push(
                field
                    .as_ref()
                    .clone()
                    .with_name(name)
                    .with_nullable(nullable),
            );
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    pub(super) fn create(&self, input: &SchemaRef) -> Result<LookupJoin> {
        let table_schema = self.table.output_schema()?;
        let (key, table_key) = self.keys(input, &table_schema)?;
        Ok(LookupJoin {
            spec: self.clone(),
            key,
            table_key,
            table_schema,
            output: self.output_schema(input)?,
            table: None,
            index: HashMap::new(),
            name: self.name(),
        })
    }
}

pub struct LookupJoin {
    name: String,
    spec: LookupJoinSpec,
    key: usize,
    table_key: usize,
    table_schema: SchemaRef,
    output: SchemaRef,
    /// The whole table, once read.
    table: Option<RecordBatch>,
    /// The table's rows of each key.
    index: HashMap<KeyValue, Vec<u32>>,
}

impl LookupJoin {
    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// Reads the whole table (every file, as one subtask would) and
    /// indexes its rows by key.
    fn load(&mut self) -> Result<()> {
        let whole = SubtaskContext {
            task_name: self.name.clone(),
            subtask_index: 0,
            parallelism: 1,
            max_parallelism: 1,
        };
        let mut source = self.spec.table.create(&whole)?;
        let mut batches = Vec::new();
        loop {
            match source.poll_next()? {
                SourcePoll::Batch(batch) => batches.push(batch),
                SourcePoll::Idle(wait) => std::thread::sleep(wait),
                SourcePoll::End => break,
            }
        }
        let table = arrow_select::concat::concat_batches(&self.table_schema, &batches)
            .map_err(|e| self.failed(e))?;
        let keys = key_values(table.column(self.table_key), &self.name)?;
        for (row, key) in keys.into_iter().enumerate() {
            if !key.has_null() {
                let row = u32::try_from(row).map_err(|e| self.failed(e))?;
                self.index.entry(key).or_default().push(row);
            }
        }
        self.table = Some(table);
        Ok(())
    }
}

impl Operator for LookupJoin {
    fn open(&mut self) -> Result<()> {
        self.load()
    }

    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        // `open` read it.
        let Some(table) = &self.table else {
            return Err(self.failed("the lookup table is not read"));
        };
        let keys = key_values(batch.column(self.key), &self.name)?;
        let mut input_rows: Vec<u32> = Vec::with_capacity(keys.len());
        let mut table_rows: Vec<Option<u32>> = Vec::with_capacity(keys.len());
        for (row, key) in keys.iter().enumerate() {
            let row = u32::try_from(row).map_err(|e| self.failed(e))?;
            match self.index.get(key).filter(|_| !key.has_null()) {
                Some(matches) => {
                    for &matched in matches {
                        input_rows.push(row);
                        table_rows.push(Some(matched));
                    }
                }
                None if self.spec.keep_unmatched => {
                    input_rows.push(row);
                    table_rows.push(None);
                }
                None => {}
            }
        }
        if input_rows.is_empty() {
            return Ok(());
        }
        let (input_rows, table_rows) =
            (UInt32Array::from(input_rows), UInt32Array::from(table_rows));
        let take = |column: &ArrayRef, rows: &UInt32Array| {
            arrow_select::take::take(column.as_ref(), rows, None).map_err(|e| self.failed(e))
        };
        let mut columns = Vec::with_capacity(self.output.fields().len());
        for (index, column) in batch.columns().iter().enumerate() {
            if index != self.key {
                columns.push(take(column, &input_rows)?);
            }
        }
        for column in table.columns() {
            columns.push(take(column, &table_rows)?);
        }
        out.push(RecordBatch::try_new(self.output.clone(), columns).map_err(|e| self.failed(e))?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{Array, Int64Array};
    use arrow_schema::DataType;

    use super::*;

    fn spec(path: &std::path::Path, keep_unmatched: bool) -> LookupJoinSpec {
        let table: FileSourceSpec = serde_json::from_value(serde_json::json!({
            "path": path.display().to_string(),
            "format": "csv",
            "schema": Schema::new(vec![
                Field::new("key", DataType::Int64, true),
                Field::new("value", DataType::Utf8, true),
            ]),
        }))
        .unwrap();
        LookupJoinSpec {
            name: None,
            table,
            key: "__key".into(),
            table_key: "key".into(),
            table_columns: vec!["key".into(), "value".into()],
            keep_unmatched,
        }
    }

    #[test]
    fn each_row_meets_the_tables_rows_of_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("side.csv");
        std::fs::write(&path, "1,one\n2,two\n2,deux\n").unwrap();
        let input = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("__key", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            input.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values([10, 20, 30, 40])),
                Arc::new(Int64Array::from(vec![Some(2), Some(1), Some(3), None])),
            ],
        )
        .unwrap();
        for (keep_unmatched, expected) in [
            (false, vec!["10 two", "10 deux", "20 one"]),
            (true, vec!["10 two", "10 deux", "20 one", "30 -", "40 -"]),
        ] {
            let mut join = spec(&path, keep_unmatched).create(&input).unwrap();
            join.open().unwrap();
            let mut out = Vec::new();
            join.process_batch(batch.clone(), &mut out).unwrap();
            let mut rows = Vec::new();
            for batch in &out {
                assert_eq!(batch.num_columns(), 3, "id, key, value");
                let ids = batch.column(0).as_primitive::<Int64Type>();
                let values = batch.column(2).as_string::<i32>();
                for row in 0..batch.num_rows() {
                    let value = if values.is_valid(row) {
                        values.value(row)
                    } else {
                        "-"
                    };
                    rows.push(format!("{} {value}", ids.value(row)));
                }
            }
            assert_eq!(rows, expected, "keep unmatched: {keep_unmatched}");
        }
    }
}
