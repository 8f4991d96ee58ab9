//! Flink's `parquet` format on arrow-rs: columns are matched by name, a
//! column the file lacks reads as NULL, and a file column of another type is
//! cast to the table's type.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, new_null_array};
use arrow_schema::SchemaRef;
use parquet::arrow::ProjectionMask;

use super::parquet_pages::{self, Limits, PageWriter};
use super::part_file::LendingWrite;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

/// Where each output column comes from in a file's projected batches.
enum Source {
    Column(usize),
    Missing,
}

/// Reads one parquet file as batches of `schema`.
pub struct ParquetFileReader {
    path: String,
    reader: ParquetRecordBatchReader,
    schema: SchemaRef,
    sources: Vec<Source>,
}

impl ParquetFileReader {
    pub fn open(path: &Path, schema: SchemaRef, batch_size: usize) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| e.to_string())?;
        let file_schema = builder.schema().clone();
        // Read only the file's columns the table has, in file order.
        let mut wanted: Vec<usize> = schema
            .fields()
            .iter()
            .filter_map(|f| file_schema.index_of(f.name()).ok())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut sources = Vec::new();
        for field in schema.fields() {
            match file_schema.index_of(field.name()) {
                Ok(index) => sources.push(Source::Column(
                    wanted.iter().position(|w| *w == index).unwrap_or_default(),
                )),
                Err(_) if field.is_nullable() => sources.push(Source::Missing),
                Err(_) => {
                    return Err(format!(
                        "the file has no column '{}', which is NOT NULL",
                        field.name()
                    ));
                }
            }
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(batch_size)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ParquetFileReader {
            path: path.display().to_string(),
            reader,
            schema,
            sources,
        })
    }

    fn conform(&self, batch: RecordBatch) -> Result<RecordBatch, String> {
        let columns = self
            .schema
            .fields()
            .iter()
            .zip(&self.sources)
            .map(|(field, source)| match source {
                Source::Missing => Ok(new_null_array(field.data_type(), batch.num_rows())),
                Source::Column(at) => {
                    let column: &ArrayRef = batch.columns().get(*at).ok_or_else(|| {
                        format!("column '{}' is missing from a batch", field.name())
                    })?;
                    if column.data_type() == field.data_type() {
                        Ok(column.clone())
                    } else {
                        arrow_cast::cast(column, field.data_type()).map_err(|e| {
                            format!(
                                "column '{}' cannot be read as {}: {e}",
                                field.name(),
                                field.data_type()
                            )
                        })
                    }
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| e.to_string())
    }
}

impl Iterator for ParquetFileReader {
    type Item = Result<RecordBatch, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.reader.next()?;
        Some(
            batch
                .map_err(|e| e.to_string())
                .and_then(|b| self.conform(b))
                .map_err(|e| format!("{}: {e}", self.path)),
        )
    }
}

/// Every row of a parquet file, as its own schema has them.
pub fn read_file(path: &Path) -> Result<Vec<RecordBatch>, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| format!("{}: {e}", path.display()))?
        .map(|b| b.map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

/// The codecs a parquet sink writes with, by Flink's (parquet-mr's) names.
const CODECS: &[&str] = &["UNCOMPRESSED", "SNAPPY", "ZSTD"];

/// The codec Flink's `parquet.compression` names (any case), SNAPPY when
/// unset as in Flink.
pub fn compression(name: Option<&str>) -> Result<parquet::basic::Compression, String> {
    use parquet::basic::{Compression, ZstdLevel};
    let Some(name) = name else {
        return Ok(Compression::SNAPPY);
    };
    match name.trim().to_ascii_uppercase().as_str() {
        "UNCOMPRESSED" => Ok(Compression::UNCOMPRESSED),
        "SNAPPY" => Ok(Compression::SNAPPY),
        "ZSTD" => Ok(Compression::ZSTD(ZstdLevel::default())),
        _ => Err(format!(
            "Unsupported value '{name}' for option 'parquet.compression': Rivulet writes {}.",
            CODECS.join(", ")
        )),
    }
}

/// A parquet file being written: page by page when every column is of a
/// type [`super::parquet_pages`] writes (the flat types of most Flink SQL
/// sinks), else by arrow-rs's `ArrowWriter`.
pub enum ParquetFileWriter<W: LendingWrite + Send> {
    Pages(Box<PageWriter<W>>),
    Arrow(Box<parquet::arrow::ArrowWriter<W>>),
}

impl<W: LendingWrite + Send> ParquetFileWriter<W> {
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        match self {
            ParquetFileWriter::Pages(writer) => writer.write(batch),
            ParquetFileWriter::Arrow(writer) => writer.write(batch).map_err(|e| e.to_string()),
        }
    }

    /// Writes what is buffered and the footer; the file, to be finished by
    /// the caller.
    pub fn into_inner(self) -> Result<W, String> {
        match self {
            ParquetFileWriter::Pages(writer) => writer.into_inner(),
            ParquetFileWriter::Arrow(writer) => writer.into_inner().map_err(|e| e.to_string()),
        }
    }
}

/// A new file writer for batches of `schema`, compressed with
/// `compression` (snappy by default, as Flink's `parquet.compression`).
pub fn writer<W: LendingWrite + Send>(
    file: W,
    schema: &SchemaRef,
    compression: parquet::basic::Compression,
) -> Result<ParquetFileWriter<W>, String> {
    writer_with_limits(file, schema, compression, Limits::default())
}

/// [`writer`] with pages and row groups ending at `limits`.
pub fn writer_with_limits<W: LendingWrite + Send>(
    file: W,
    schema: &SchemaRef,
    compression: parquet::basic::Compression,
    limits: Limits,
) -> Result<ParquetFileWriter<W>, String> {
    if parquet_pages::writes(schema, compression) {
        let pages = PageWriter::try_new(file, schema, compression, limits)?;
        return Ok(ParquetFileWriter::Pages(Box::new(pages)));
    }
    arrow_writer(file, schema, compression, limits)
        .map(|writer| ParquetFileWriter::Arrow(Box::new(writer)))
}

/// `ArrowWriter` for the types the page writer does not write.
///
/// Values are written plainly, without dictionaries, and min/max statistics
/// are kept per column chunk, not per page: measured on Nexmark's bid
/// columns, dictionary attempts on high-cardinality BIGINT columns and page
/// statistics on long strings made writing about 2.5 times slower, for
/// files only 5% smaller. The values in the file are the same.
pub fn arrow_writer<W: std::io::Write + Send>(
    file: W,
    schema: &SchemaRef,
    compression: parquet::basic::Compression,
    limits: Limits,
) -> Result<parquet::arrow::ArrowWriter<W>, String> {
    use parquet::file::properties::{EnabledStatistics, WriterProperties};
    let properties = WriterProperties::builder()
        .set_compression(compression)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_data_page_row_count_limit(limits.page_rows)
        .set_data_page_size_limit(limits.page_bytes)
        .set_max_row_group_row_count(Some(limits.group_rows))
        .set_max_row_group_bytes(Some(limits.group_bytes))
        .build();
    parquet::arrow::ArrowWriter::try_new(file, Arc::clone(schema), Some(properties))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{Int32Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    #[test]
    fn columns_are_read_by_name_cast_and_missing_ones_are_null() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.parquet");
        let written = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            written.clone(),
            vec![
                Arc::new(Int32Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
            ],
        )
        .unwrap();
        let mut w = writer(
            File::create(&path).unwrap(),
            &written,
            compression(None).unwrap(),
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.into_inner().unwrap();

        let wanted = Arc::new(Schema::new(vec![
            Field::new("note", DataType::Utf8, true),
            Field::new("id", DataType::Int64, false),
        ]));
        let batches: Vec<RecordBatch> = ParquetFileReader::open(&path, wanted.clone(), 10)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].schema(), wanted);
        assert_eq!(batches[0].column(0).null_count(), 2);
        let ids = batches[0].column(1).as_primitive::<Int64Type>();
        assert_eq!(ids.values().to_vec(), vec![1, 2]);

        let required = Arc::new(Schema::new(vec![Field::new("gone", DataType::Utf8, false)]));
        assert!(ParquetFileReader::open(&path, required, 10).is_err());
        assert_eq!(read_file(&path).unwrap()[0], batch);
    }

    #[test]
    fn files_are_written_with_the_codec_parquet_compression_names() {
        use parquet::basic::Compression;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int32, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int32Array::from_iter_values(0..100))],
        )
        .unwrap();
        for (name, expected) in [
            (None, "SNAPPY"),
            (Some("zstd"), "ZSTD"),
            (Some("Uncompressed"), "UNCOMPRESSED"),
        ] {
            let path = dir.path().join(format!("{expected}.parquet"));
            let codec = compression(name).unwrap();
            let mut w = writer(File::create(&path).unwrap(), &schema, codec).unwrap();
            w.write(&batch).unwrap();
            w.into_inner().unwrap();
            let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
            let written: Compression = reader.metadata().row_group(0).column(0).compression();
            assert!(
                format!("{written:?}").starts_with(expected),
                "{name:?}: {written:?}"
            );
            assert_eq!(read_file(&path).unwrap()[0], batch);
        }
        assert!(
            compression(Some("lzo"))
                .unwrap_err()
                .contains("'parquet.compression'")
        );
    }
}
