//! Parquet files of flat rows, written a page at a time straight into the
//! file: the filesystem sink's writer for the types Flink SQL jobs mostly
//! write (INT, BIGINT, FLOAT, DOUBLE, DATE, TIMESTAMP, STRING).
//!
//! arrow-rs's `ArrowWriter` encodes each batch into pages kept in memory for
//! the whole row group, in buffers grown as they fill, compresses each page
//! into another grown buffer, and copies the row group into the file at its
//! end. In the JSON → parquet benchmark (issue 3, case c) that was a quarter
//! of the CPU time, three times snappy's. Here the batches of a row group
//! are kept as they came; when the group is full each column is written in
//! turn: values PLAIN into one reused page buffer (NULLs as definition levels
//! in front of them, where arrow's validity bits are already the bit-packed
//! form parquet wants), compressed (see [`super::snappy_blocks`]) into one
//! reused buffer, and written to the file behind a page header. The file's footer (schema, Arrow schema, row
//! groups, column chunks and their min/max statistics) is built and written
//! by parquet's own metadata writer.
//!
//! The files hold the values and column chunk statistics `ArrowWriter`
//! (dictionaries off, statistics per chunk) writes for the same rows; the
//! tests read both back and compare them. They carry no page index (offset
//! and column indexes are optional in parquet, and Flink's reader does not
//! need them). A schema with any other type is written by `ArrowWriter`
//! (see [`super::parquet::writer`]).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType,
};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use arrow_buffer::{BooleanBufferBuilder, ToByteSlice};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use parquet::basic::{Compression, Encoding, EncodingMask, Type as PhysicalType};
use parquet::file::metadata::{
    ColumnChunkMetaData, FileMetaData, KeyValue, ParquetMetaData, ParquetMetaDataWriter,
    RowGroupMetaData,
};
use parquet::schema::types::{SchemaDescPtr, SchemaDescriptor};

use super::parquet_statistics::Bounds;
use super::part_file::LendingWrite;
use super::snappy_blocks;
use crate::leb128;

/// Where pages and row groups end: parquet-rs's defaults (a page at 20,000
/// rows or 1 MiB of values, a row group at 1 Mi rows), and a row group also
/// at 128 MiB of buffered batches (Arrow's memory, which bounds what a file
/// being written holds; Flink's `parquet.block.size` is 128 MB too). A row
/// group ends after the batch that reaches a limit: batches are not split.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub page_rows: usize,
    pub page_bytes: usize,
    pub group_rows: usize,
    pub group_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            page_rows: 20_000,
            page_bytes: 1 << 20,
            group_rows: 1 << 20,
            group_bytes: 128 << 20,
        }
    }
}

/// How a column's values are laid out in a page.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plain {
    Int32,
    Int64,
    Float,
    Double,
    Utf8,
}

impl Plain {
    /// The layout of an Arrow type written here, and parquet's physical type
    /// for it, as arrow-rs's schema conversion gives it.
    fn of(data_type: &DataType) -> Option<(Plain, PhysicalType)> {
        use DataType::*;
        Some(match data_type {
            Int32 | Date32 => (Plain::Int32, PhysicalType::INT32),
            Int64
            | Timestamp(TimeUnit::Millisecond | TimeUnit::Microsecond | TimeUnit::Nanosecond, _) => {
                (Plain::Int64, PhysicalType::INT64)
            }
            Float32 => (Plain::Float, PhysicalType::FLOAT),
            Float64 => (Plain::Double, PhysicalType::DOUBLE),
            Utf8 => (Plain::Utf8, PhysicalType::BYTE_ARRAY),
            _ => return None,
        })
    }
}

/// No bounds yet, of the kind a column of `plain` values has.
fn no_bounds(plain: Plain) -> Bounds {
    match plain {
        Plain::Int32 => Bounds::Int32(None),
        Plain::Int64 => Bounds::Int64(None),
        Plain::Float => Bounds::Float(None),
        Plain::Double => Bounds::Double(None),
        Plain::Utf8 => Bounds::Bytes(None),
    }
}

/// The page being filled for one column: its values, and for a nullable
/// column which rows are set (arrow's validity bits).
struct Page {
    /// Room for the definition levels, then the PLAIN values: the levels
    /// are written into the room right before the values once the page is
    /// full, so that page data is one slice without being moved.
    data: Vec<u8>,
    valid: BooleanBufferBuilder,
    rows: usize,
    nulls: usize,
}

/// The most bytes definition levels of `rows` rows take: a 4-byte length,
/// a run header and one bit per row.
fn levels_room(rows: usize) -> usize {
    4 + 10 + rows.div_ceil(8)
}

impl Page {
    fn new(levels_room: usize) -> Page {
        Page {
            data: vec![0; levels_room],
            valid: BooleanBufferBuilder::new(0),
            rows: 0,
            nulls: 0,
        }
    }

    fn values_len(&self, levels_room: usize) -> usize {
        self.data.len() - levels_room
    }

    fn clear(&mut self, levels_room: usize) {
        self.data.truncate(levels_room);
        self.valid.truncate(0);
        self.rows = 0;
        self.nulls = 0;
    }

    /// Writes the definition levels (a run of ones when no row is NULL,
    /// else the validity bits as one bit-packed run) right before the
    /// values; the page's data, levels and values.
    fn finish_levels(&mut self, levels_room: usize) -> &[u8] {
        let mut levels = Vec::with_capacity(levels_room);
        if self.nulls == 0 {
            leb128::push(&mut levels, (self.rows as u64) << 1);
            levels.push(1);
        } else {
            let groups = self.rows.div_ceil(8);
            leb128::push(&mut levels, ((groups as u64) << 1) | 1);
            levels.extend_from_slice(&self.valid.as_slice()[..groups]);
        }
        let start = levels_room - 4 - levels.len();
        self.data[start..start + 4].copy_from_slice(&(levels.len() as u32).to_le_bytes());
        self.data[start + 4..levels_room].copy_from_slice(&levels);
        &self.data[start..]
    }
}

/// A data page header (PageHeader with a DataPageHeader, thrift compact
/// protocol) for a PLAIN page of `rows` values with RLE levels.
fn page_header(out: &mut Vec<u8>, uncompressed: usize, compressed: usize, rows: usize) {
    // A field header is (field id delta << 4) | type; type 5 is i32, 12 a
    // struct; an i32 is a zigzag varint.
    fn i32_field(out: &mut Vec<u8>, value: i64) {
        out.push(0x15);
        leb128::push(out, ((value << 1) ^ (value >> 63)) as u64);
    }
    i32_field(out, 0); // 1: type = DATA_PAGE
    i32_field(out, uncompressed as i64); // 2: uncompressed_page_size
    i32_field(out, compressed as i64); // 3: compressed_page_size
    out.push(0x2C); // 5: data_page_header
    i32_field(out, rows as i64); // 1: num_values
    i32_field(out, 0); // 2: encoding = PLAIN
    i32_field(out, 3); // 3: definition_level_encoding = RLE
    i32_field(out, 3); // 4: repetition_level_encoding = RLE
    out.push(0); // end of DataPageHeader
    out.push(0); // end of PageHeader
}

/// The length of a page header for pages of these sizes.
fn page_header_len(
    scratch: &mut Vec<u8>,
    uncompressed: usize,
    compressed: usize,
    rows: usize,
) -> usize {
    scratch.clear();
    page_header(scratch, uncompressed, compressed, rows);
    scratch.len()
}

/// Writes `payload` (the page's `uncompressed` bytes, compressed or not)
/// behind its page header; the lengths of both.
fn put_page<W: LendingWrite>(
    file: &mut W,
    header: &mut Vec<u8>,
    uncompressed: usize,
    payload: &[u8],
    rows: usize,
) -> Result<(usize, usize), String> {
    header.clear();
    page_header(header, uncompressed, payload.len(), rows);
    file.write_all(header)
        .and_then(|()| file.write_all(payload))
        .map_err(|e| e.to_string())?;
    Ok((header.len(), payload.len()))
}

/// Snappy's encoder and the buffer a page is compressed into when the file
/// lends no room.
struct SnappyOut<'w> {
    encoder: &'w mut snap::raw::Encoder,
    scratch: &'w mut Vec<u8>,
}

impl SnappyOut<'_> {
    /// Compresses `data` and writes it behind its page header; the lengths
    /// of the header and of the compressed data. Where the file lends room,
    /// the page is compressed straight into it, behind room for a header
    /// whose length is guessed from the uncompressed size (the compressed
    /// size's varint is usually as long); a wrong guess moves the page.
    fn write_page<W: LendingWrite>(
        self,
        file: &mut W,
        header: &mut Vec<u8>,
        data: &[u8],
        rows: usize,
    ) -> Result<(usize, usize), String> {
        let most = snappy_blocks::max_len(data.len());
        let guess = page_header_len(header, data.len(), data.len(), rows);
        // A varint is no shorter for a larger number, so this much room
        // holds the page behind either header.
        let room_len = page_header_len(header, data.len(), most, rows) + most;
        if let Some(room) = file.room(room_len).map_err(|e| e.to_string())? {
            let length = snappy_blocks::compress(self.encoder, data, &mut room[guess..])?;
            header.clear();
            page_header(header, data.len(), length, rows);
            let header_len = header.len();
            if header_len != guess {
                room.copy_within(guess..guess + length, header_len);
            }
            room[..header_len].copy_from_slice(header);
            file.commit(header_len + length);
            return Ok((header_len, length));
        }
        if self.scratch.len() < most {
            self.scratch.resize(most, 0);
        }
        let length = snappy_blocks::compress(self.encoder, data, self.scratch)?;
        put_page(file, header, data.len(), &self.scratch[..length], rows)
    }
}

/// Whether batches of `schema` compressed with `compression` are written
/// here: every column of a type [`Plain`] lays out, not repeated, and
/// snappy or no compression.
pub fn writes(schema: &SchemaRef, compression: Compression) -> bool {
    codec_written(compression) && layout(schema).is_some()
}

fn codec_written(compression: Compression) -> bool {
    matches!(compression, Compression::SNAPPY | Compression::UNCOMPRESSED)
}

/// Parquet's schema for `schema` and each column's layout, when every
/// column is written here.
fn layout(schema: &SchemaRef) -> Option<(SchemaDescriptor, Vec<Plain>)> {
    let descr = parquet::arrow::ArrowSchemaConverter::new()
        .convert(schema)
        .ok()?;
    if descr.num_columns() != schema.fields().len() {
        return None;
    }
    let columns = schema
        .fields()
        .iter()
        .zip(descr.columns())
        .map(|(field, column)| match Plain::of(field.data_type()) {
            Some((plain, physical))
                if column.physical_type() == physical && column.max_rep_level() == 0 =>
            {
                Some(plain)
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((descr, columns))
}

/// What the pages of one column chunk add up to.
struct ChunkTotals {
    compressed: usize,
    uncompressed: usize,
    rows: usize,
    nulls: usize,
}

/// Writes parquet files of flat rows page by page (see the module docs).
pub struct PageWriter<W: LendingWrite> {
    file: W,
    /// Bytes written to `file` so far: where the next page starts.
    written: usize,
    schema: SchemaRef,
    descr: SchemaDescPtr,
    columns: Vec<Plain>,
    compression: Compression,
    limits: Limits,
    /// The batches of the row group being gathered.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    pending_bytes: usize,
    row_groups: Vec<RowGroupMetaData>,
    levels_room: usize,
    page: Page,
    compressed: Vec<u8>,
    header: Vec<u8>,
    snappy: snap::raw::Encoder,
}

impl<W: LendingWrite> PageWriter<W> {
    /// A writer of batches of `schema` into `file`; an error when
    /// [`writes`] says it does not write them.
    pub fn try_new(
        file: W,
        schema: &SchemaRef,
        compression: Compression,
        limits: Limits,
    ) -> Result<Self, String> {
        let (descr, columns) = match layout(schema) {
            Some(layout) if codec_written(compression) => layout,
            _ => return Err(format!("parquet pages are not written for {schema:?}")),
        };
        let levels_room = levels_room(limits.page_rows);
        let mut writer = PageWriter {
            file,
            written: 0,
            schema: Arc::clone(schema),
            descr: Arc::new(descr),
            columns,
            compression,
            limits,
            pending: Vec::new(),
            pending_rows: 0,
            pending_bytes: 0,
            row_groups: Vec::new(),
            levels_room,
            page: Page::new(levels_room),
            compressed: Vec::new(),
            header: Vec::new(),
            snappy: snap::raw::Encoder::new(),
        };
        writer.put(b"PAR1")?;
        Ok(writer)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.file.write_all(bytes).map_err(|e| e.to_string())?;
        self.written += bytes.len();
        Ok(())
    }

    /// Takes `batch` (of the writer's schema) into the row group being
    /// gathered, writing the group once it is full.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let types_match = batch.num_columns() == self.columns.len()
            && batch
                .columns()
                .iter()
                .zip(self.schema.fields())
                .all(|(column, field)| {
                    // A NULL in a NOT NULL column would have no level to
                    // say so.
                    column.data_type() == field.data_type()
                        && (field.is_nullable() || column.logical_null_count() == 0)
                });
        if !types_match {
            return Err(format!(
                "a batch of {:?} for a parquet file of {:?}",
                batch.schema().fields(),
                self.schema.fields()
            ));
        }
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.pending_rows += batch.num_rows();
        self.pending_bytes += batch.get_array_memory_size();
        self.pending.push(batch.clone());
        if self.pending_rows >= self.limits.group_rows
            || self.pending_bytes >= self.limits.group_bytes
        {
            self.write_row_group()?;
        }
        Ok(())
    }

    /// Writes the gathered batches as one row group, a column at a time.
    fn write_row_group(&mut self) -> Result<(), String> {
        if self.pending_rows == 0 {
            return Ok(());
        }
        let ordinal = i16::try_from(self.row_groups.len())
            .map_err(|_| "a parquet file holds at most 32767 row groups".to_string())?;
        let start = self.written;
        let mut chunks = Vec::with_capacity(self.columns.len());
        let mut uncompressed = 0;
        for column in 0..self.columns.len() {
            let chunk = self.write_column_chunk(column)?;
            uncompressed += chunk.uncompressed_size();
            chunks.push(chunk);
        }
        let group = RowGroupMetaData::builder(Arc::clone(&self.descr))
            .set_num_rows(self.pending_rows as i64)
            .set_total_byte_size(uncompressed)
            .set_column_metadata(chunks)
            .set_ordinal(ordinal)
            .set_file_offset(start as i64)
            .build()
            .map_err(|e| e.to_string())?;
        self.row_groups.push(group);
        self.pending.clear();
        self.pending_rows = 0;
        self.pending_bytes = 0;
        Ok(())
    }

    /// Writes column `column` of the gathered batches as one chunk of pages.
    fn write_column_chunk(&mut self, column: usize) -> Result<ColumnChunkMetaData, String> {
        let plain = self.columns[column];
        let start = self.written;
        let mut bounds = no_bounds(plain);
        let mut totals = ChunkTotals {
            compressed: 0,
            uncompressed: 0,
            rows: 0,
            nulls: 0,
        };
        self.page.clear(self.levels_room);
        for batch in 0..self.pending.len() {
            // The column's own handle, so the page can be filled meanwhile.
            let array = Arc::clone(self.pending[batch].column(column));
            let mut at = 0;
            while at < array.len() {
                let rows = self.rows_that_fit(plain, array.as_ref(), at);
                self.append(array.as_ref(), at, rows, &mut bounds);
                at += rows;
                if self.page.rows >= self.limits.page_rows
                    || self.page.values_len(self.levels_room) >= self.limits.page_bytes
                {
                    self.write_page(column, &mut totals)?;
                }
            }
        }
        if self.page.rows > 0 {
            self.write_page(column, &mut totals)?;
        }
        let descr = self.descr.column(column);
        let signed = descr.sort_order().is_signed();
        ColumnChunkMetaData::builder(descr)
            .set_compression(self.compression)
            .set_encodings_mask(EncodingMask::new_from_encodings(
                [Encoding::PLAIN, Encoding::RLE].iter(),
            ))
            .set_total_compressed_size(totals.compressed as i64)
            .set_total_uncompressed_size(totals.uncompressed as i64)
            .set_num_values(totals.rows as i64)
            .set_data_page_offset(start as i64)
            .set_statistics(bounds.statistics(totals.nulls as u64, signed))
            .build()
            .map_err(|e| e.to_string())
    }

    /// How many rows of `array` from `at` go into the current page: up to
    /// its row limit and, counting values, about its byte limit; at least one.
    fn rows_that_fit(&self, plain: Plain, array: &dyn Array, at: usize) -> usize {
        let rows = (array.len() - at).min(self.limits.page_rows - self.page.rows);
        let bytes = self
            .limits
            .page_bytes
            .saturating_sub(self.page.values_len(self.levels_room));
        let fitting = match plain {
            Plain::Int32 | Plain::Float => bytes / 4,
            Plain::Int64 | Plain::Double => bytes / 8,
            Plain::Utf8 => {
                let offsets = array.as_string::<i32>().value_offsets();
                let base = offsets[at] as usize;
                // Offsets past `at` whose value bytes (with their 4-byte
                // lengths) still fit.
                offsets[at + 1..=at + rows]
                    .iter()
                    .enumerate()
                    .take_while(|(i, end)| (**end as usize - base) + 4 * (i + 1) <= bytes)
                    .count()
            }
        };
        fitting.clamp(1, rows.max(1))
    }

    /// Appends rows `at..at + rows` of `array` to the page, and widens `bounds`.
    fn append(&mut self, array: &dyn Array, at: usize, rows: usize, bounds: &mut Bounds) {
        let page = &mut self.page;
        match array.logical_nulls() {
            Some(nulls) => {
                let slice = nulls.inner().slice(at, rows);
                page.nulls += rows - slice.count_set_bits();
                page.valid.append_buffer(&slice);
            }
            None => page.valid.append_n(rows, true),
        }
        page.rows += rows;
        let data = &mut page.data;
        use DataType as T;
        use TimeUnit::*;
        match (array.data_type(), bounds) {
            (T::Int32, Bounds::Int32(b)) => append_primitive::<Int32Type>(data, array, at, rows, b),
            (T::Date32, Bounds::Int32(b)) => {
                append_primitive::<Date32Type>(data, array, at, rows, b)
            }
            (T::Int64, Bounds::Int64(b)) => append_primitive::<Int64Type>(data, array, at, rows, b),
            (T::Timestamp(Millisecond, _), Bounds::Int64(b)) => {
                append_primitive::<TimestampMillisecondType>(data, array, at, rows, b)
            }
            (T::Timestamp(Microsecond, _), Bounds::Int64(b)) => {
                append_primitive::<TimestampMicrosecondType>(data, array, at, rows, b)
            }
            (T::Timestamp(Nanosecond, _), Bounds::Int64(b)) => {
                append_primitive::<TimestampNanosecondType>(data, array, at, rows, b)
            }
            (T::Float32, Bounds::Float(b)) => {
                append_primitive::<Float32Type>(data, array, at, rows, b)
            }
            (T::Float64, Bounds::Double(b)) => {
                append_primitive::<Float64Type>(data, array, at, rows, b)
            }
            (T::Utf8, Bounds::Bytes(b)) => append_strings(data, array, at, rows, b),
            // `Plain::of` takes only these types, and `no_bounds` follows it.
            _ => {}
        }
    }

    /// Compresses the page and writes it behind its header; the page is
    /// then empty again.
    fn write_page(&mut self, column: usize, totals: &mut ChunkTotals) -> Result<(), String> {
        let nullable = self.descr.column(column).max_def_level() > 0;
        let levels_room = self.levels_room;
        let rows = self.page.rows;
        let nulls = self.page.nulls;
        let data: &[u8] = if nullable {
            self.page.finish_levels(levels_room)
        } else {
            &self.page.data[levels_room..]
        };
        let most = snappy_blocks::max_len(data.len());
        if i32::try_from(most.max(data.len())).is_err() {
            return Err("a parquet page of 2 GiB or more cannot be written".into());
        }
        let header = &mut self.header;
        let (header_len, payload_len) = match self.compression {
            Compression::SNAPPY => {
                let out = SnappyOut {
                    encoder: &mut self.snappy,
                    scratch: &mut self.compressed,
                };
                out.write_page(&mut self.file, header, data, rows)?
            }
            _ => put_page(&mut self.file, header, data.len(), data, rows)?,
        };
        totals.uncompressed += header_len + data.len();
        totals.compressed += header_len + payload_len;
        self.written += header_len + payload_len;
        totals.rows += rows;
        totals.nulls += nulls;
        self.page.clear(levels_room);
        Ok(())
    }

    /// Writes what is gathered and the footer; the file, to be finished by
    /// the caller.
    pub fn into_inner(mut self) -> Result<W, String> {
        self.write_row_group()?;
        let rows = self.row_groups.iter().map(|g| g.num_rows()).sum();
        let arrow_schema = KeyValue::new(
            parquet::arrow::ARROW_SCHEMA_META_KEY.to_string(),
            parquet::arrow::encode_arrow_schema(&self.schema),
        );
        let file_metadata = FileMetaData::new(
            1,
            rows,
            Some(format!("rivulet version {}", env!("CARGO_PKG_VERSION"))),
            Some(vec![arrow_schema]),
            Arc::clone(&self.descr),
            None,
        );
        let metadata = ParquetMetaData::new(file_metadata, std::mem::take(&mut self.row_groups));
        // Into memory first: the metadata writer's own buffer would flush
        // into the file on drop, dropping any error.
        let mut footer = Vec::new();
        ParquetMetaDataWriter::new(&mut footer, &metadata)
            .finish()
            .map_err(|e| e.to_string())?;
        self.put(&footer)?;
        Ok(self.file)
    }
}

/// Widens `bounds` by `(lo, hi)`.
fn widen<T: PartialOrd + Copy>(bounds: &mut Option<(T, T)>, lo: T, hi: T) {
    *bounds = Some(match *bounds {
        Some((min, max)) => (
            if lo < min { lo } else { min },
            if hi > max { hi } else { max },
        ),
        None => (lo, hi),
    });
}

/// Appends the set values of rows `at..at + rows` of a primitive array as
/// PLAIN (little-endian, NULLs left out), widening `bounds` by them (NaN
/// left out).
fn append_primitive<T: ArrowPrimitiveType>(
    data: &mut Vec<u8>,
    array: &dyn Array,
    at: usize,
    rows: usize,
    bounds: &mut Option<(T::Native, T::Native)>,
) where
    T::Native: PartialOrd,
{
    let array: &PrimitiveArray<T> = array.as_primitive::<T>();
    let values = &array.values()[at..at + rows];
    let mut lo_hi: Option<(T::Native, T::Native)> = None;
    let mut take = |v: T::Native| {
        // Only NaN is not comparable with itself.
        if v.partial_cmp(&v).is_some() {
            widen(&mut lo_hi, v, v);
        }
    };
    match array.nulls().filter(|n| n.null_count() > 0) {
        None => {
            data.extend_from_slice(values.to_byte_slice());
            values.iter().for_each(|&v| take(v));
        }
        Some(nulls) => {
            for (i, &v) in values.iter().enumerate() {
                if nulls.is_valid(at + i) {
                    data.extend_from_slice(std::slice::from_ref(&v).to_byte_slice());
                    take(v);
                }
            }
        }
    }
    if let Some((lo, hi)) = lo_hi {
        widen(bounds, lo, hi);
    }
}

/// A string with its [`leading_bytes`], ordered as the string.
type Keyed<'a> = (u64, &'a [u8]);

/// The first eight bytes of `value` (zeros past its end) as a big-endian
/// number: of two values, the one with the smaller number sorts first, and
/// equal numbers leave the order to the bytes.
fn leading_bytes(value: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = value.len().min(8);
    word[..n].copy_from_slice(&value[..n]);
    u64::from_be_bytes(word)
}

/// Appends the set strings of rows `at..at + rows` as PLAIN (a 4-byte
/// length, then the bytes), widening `bounds` by them.
fn append_strings(
    data: &mut Vec<u8>,
    array: &dyn Array,
    at: usize,
    rows: usize,
    bounds: &mut Option<(Vec<u8>, Vec<u8>)>,
) {
    let strings = array.as_string::<i32>();
    let offsets = &strings.value_offsets()[at..=at + rows];
    let bytes = strings.values().as_slice();
    data.reserve((offsets[rows] - offsets[0]) as usize + 4 * rows);
    let nulls = strings.nulls().filter(|n| n.null_count() > 0);
    // The bounds with their first eight bytes as a number: most values are
    // placed by comparing those, without a call to compare the bytes.
    let mut lo_hi: Option<(Keyed, Keyed)> = None;
    for (i, ends) in offsets.windows(2).enumerate() {
        if nulls.is_some_and(|n| n.is_null(at + i)) {
            continue;
        }
        let value = &bytes[ends[0] as usize..ends[1] as usize];
        data.extend_from_slice(&(value.len() as u32).to_le_bytes());
        data.extend_from_slice(value);
        let keyed = (leading_bytes(value), value);
        match &mut lo_hi {
            Some((lo, hi)) => {
                if keyed < *lo {
                    *lo = keyed;
                }
                if keyed > *hi {
                    *hi = keyed;
                }
            }
            None => lo_hi = Some((keyed, keyed)),
        }
    }
    if let Some(((_, lo), (_, hi))) = lo_hi {
        match bounds {
            Some((min, max)) => {
                if lo < min.as_slice() {
                    *min = lo.to_vec();
                }
                if hi > max.as_slice() {
                    *max = hi.to_vec();
                }
            }
            None => *bounds = Some((lo.to_vec(), hi.to_vec())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use arrow_array::{
        ArrayRef, BooleanArray, Date32Array, Float32Array, Float64Array, Int32Array, Int64Array,
        StringArray, TimestampMicrosecondArray, TimestampMillisecondArray,
        TimestampNanosecondArray,
    };
    use arrow_schema::{Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use rand::{Rng, SeedableRng};

    use super::super::parquet::{ParquetFileWriter, arrow_writer, writer_with_limits};
    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("int", DataType::Int32, true),
            Field::new("date", DataType::Date32, true),
            Field::new("big", DataType::Int64, false),
            Field::new("ms", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new(
                "us",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("ns", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
            Field::new("float", DataType::Float32, true),
            Field::new("double", DataType::Float64, true),
            Field::new("text", DataType::Utf8, true),
        ]))
    }

    /// A batch of `rows` random rows from `seed`: NULLs in every nullable
    /// column, NaN, signed zeros, empty, long and multi-byte strings.
    fn random_batch(seed: u64, rows: usize) -> RecordBatch {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let maybe = |rng: &mut rand::rngs::StdRng| rng.random_bool(0.8);
        let ints: Vec<Option<i64>> = (0..rows)
            .map(|_| maybe(&mut rng).then(|| rng.random_range(-1_000_000..1_000_000)))
            .collect();
        let floats: Vec<Option<f64>> = (0..rows)
            .map(|_| {
                maybe(&mut rng).then(|| match rng.random_range(0..10) {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    _ => rng.random_range(-1e6..1e6),
                })
            })
            .collect();
        let texts: Vec<Option<String>> = (0..rows)
            .map(|_| {
                maybe(&mut rng).then(|| {
                    let length = rng.random_range(0..90);
                    (0..length)
                        .map(|_| ['a', 'z', 'é', '\u{7f}', '€', '😀'][rng.random_range(0..6)])
                        .collect()
                })
            })
            .collect();
        let int32 = |v: &Option<i64>| v.map(|v| v as i32);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ints.iter().map(int32).collect::<Int32Array>()),
            Arc::new(ints.iter().map(int32).collect::<Date32Array>()),
            Arc::new(Int64Array::from_iter_values(
                ints.iter().map(|v| v.unwrap_or(7) << 20),
            )),
            Arc::new(ints.iter().copied().collect::<TimestampMillisecondArray>()),
            Arc::new(
                ints.iter()
                    .copied()
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone("UTC"),
            ),
            Arc::new(ints.iter().copied().collect::<TimestampNanosecondArray>()),
            Arc::new(
                floats
                    .iter()
                    .map(|v| v.map(|v| v as f32))
                    .collect::<Float32Array>(),
            ),
            Arc::new(floats.iter().copied().collect::<Float64Array>()),
            Arc::new(texts.iter().map(Option::as_deref).collect::<StringArray>()),
        ];
        RecordBatch::try_new(schema(), columns).unwrap()
    }

    fn write(path: &std::path::Path, batches: &[RecordBatch], limits: Limits, pages: bool) {
        let file = File::create(path).unwrap();
        let compression = Compression::SNAPPY;
        let writer = if pages {
            writer_with_limits(file, &schema(), compression, limits).unwrap()
        } else {
            let arrow = arrow_writer(file, &schema(), compression, limits).unwrap();
            ParquetFileWriter::Arrow(Box::new(arrow))
        };
        assert_eq!(matches!(writer, ParquetFileWriter::Pages(_)), pages);
        let mut writer = writer;
        for batch in batches {
            writer.write(batch).unwrap();
        }
        writer.into_inner().unwrap();
    }

    fn read(path: &std::path::Path) -> (SchemaRef, RecordBatch) {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let schema = arrow_array::RecordBatchReader::schema(&reader);
        let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
        (
            schema.clone(),
            arrow_select::concat::concat_batches(&schema, &batches).unwrap(),
        )
    }

    /// Batches of random rows, some of them slices of larger batches.
    fn batches(seed: u64) -> Vec<RecordBatch> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..8)
            .map(|i| {
                let rows = rng.random_range(0..60);
                let batch = random_batch(seed * 100 + i, rows + 10);
                batch.slice(rng.random_range(0..10), rows)
            })
            .collect()
    }

    #[test]
    fn pages_read_back_as_written_with_the_statistics_arrow_writer_gives() {
        let dir = tempfile::tempdir().unwrap();
        for seed in 0..20 {
            let batches = batches(seed);
            let written = arrow_select::concat::concat_batches(&schema(), &batches).unwrap();
            let limits = Limits {
                page_rows: 1 + seed as usize * 3,
                page_bytes: 64 + seed as usize * 40,
                ..Limits::default()
            };
            let ours = dir.path().join(format!("pages-{seed}.parquet"));
            let theirs = dir.path().join(format!("arrow-{seed}.parquet"));
            write(&ours, &batches, limits, true);
            write(&theirs, &batches, limits, false);
            let (read_schema, read) = read(&ours);
            assert_eq!(read_schema, schema(), "seed {seed}");
            assert_eq!(read, written, "seed {seed}");

            let ours = SerializedFileReader::new(File::open(&ours).unwrap()).unwrap();
            let theirs = SerializedFileReader::new(File::open(&theirs).unwrap()).unwrap();
            let (ours, theirs) = (ours.metadata(), theirs.metadata());
            assert_eq!(ours.file_metadata().num_rows(), written.num_rows() as i64);
            for group in 0..ours.num_row_groups() {
                for column in 0..schema().fields().len() {
                    let ours = ours.row_group(group).column(column);
                    let theirs = theirs.row_group(group).column(column);
                    assert_eq!(
                        ours.statistics(),
                        theirs.statistics(),
                        "seed {seed} column {column}"
                    );
                    assert_eq!(ours.num_values(), theirs.num_values());
                    assert_eq!(ours.compression(), theirs.compression());
                }
            }
        }
    }

    /// Batches of a BIGINT and a STRING column whose pages compress well
    /// (their header shorter than the one guessed), barely, or not at all,
    /// with one value larger than a part file's buffer.
    fn text_batches() -> (SchemaRef, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("big", DataType::Int64, false),
            Field::new("text", DataType::Utf8, true),
        ]));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let batches = (0..24)
            .map(|i| {
                let rows = 5000;
                let big = Int64Array::from_iter_values((0..rows).map(|_| rng.random::<i64>()));
                let text: StringArray = (0..rows)
                    .map(|row| match (i % 4, row % 7) {
                        _ if (i, row) == (3, 1) => Some("b".repeat(5 << 20)),
                        (_, 0) => None,
                        (0, _) => Some("a".repeat(100)),
                        _ => Some(
                            (0..rng.random_range(20..200))
                                .map(|_| rng.random_range(b' '..=b'~') as char)
                                .collect(),
                        ),
                    })
                    .collect();
                RecordBatch::try_new(schema.clone(), vec![Arc::new(big), Arc::new(text)]).unwrap()
            })
            .collect();
        (schema, batches)
    }

    #[test]
    fn pages_compressed_into_a_part_files_buffer_are_the_bytes_written_through_a_copy() {
        use super::super::part_file::PartFile;
        let dir = tempfile::tempdir().unwrap();
        let (schema, batches) = text_batches();
        let small = Limits {
            page_rows: 777,
            page_bytes: 3000,
            ..Limits::default()
        };
        for (case, limits) in [Limits::default(), small].into_iter().enumerate() {
            let lent = dir.path().join(format!("lent-{case}.parquet"));
            let copied = dir.path().join(format!("copied-{case}.parquet"));
            fn pages<W: LendingWrite>(file: W, batches: &[RecordBatch], limits: Limits) -> W {
                let schema = batches[0].schema();
                let mut writer =
                    PageWriter::try_new(file, &schema, Compression::SNAPPY, limits).unwrap();
                batches
                    .iter()
                    .for_each(|batch| writer.write(batch).unwrap());
                writer.into_inner().unwrap()
            }
            let file = PartFile::create(&lent).unwrap();
            pages(file, &batches, limits).finish().unwrap();
            pages(File::create(&copied).unwrap(), &batches, limits);

            let lent_bytes = std::fs::read(&lent).unwrap();
            assert!(
                lent_bytes.len() > 2 * (4 << 20),
                "{} bytes",
                lent_bytes.len()
            );
            assert!(lent_bytes == std::fs::read(&copied).unwrap(), "case {case}");
            let (_, read) = read(&lent);
            let written = arrow_select::concat::concat_batches(&schema, &batches).unwrap();
            assert_eq!(read, written, "case {case}");
        }
    }

    #[test]
    fn row_groups_end_at_their_limits_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let batches = batches(99);
        let written = arrow_select::concat::concat_batches(&schema(), &batches).unwrap();
        let limits = Limits {
            page_rows: 5,
            page_bytes: 200,
            group_rows: 50,
            group_bytes: usize::MAX,
        };
        let path = dir.path().join("groups.parquet");
        write(&path, &batches, limits, true);
        assert_eq!(read(&path).1, written);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let groups = reader.metadata().num_row_groups();
        assert!(groups >= written.num_rows() / 110, "{groups} row groups");
        assert!(groups > 1);
    }

    #[test]
    fn a_batch_of_other_types_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("x.parquet")).unwrap();
        let mut writer =
            PageWriter::try_new(file, &schema(), Compression::SNAPPY, Limits::default()).unwrap();
        let other = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(other, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
        assert!(writer.write(&batch).is_err());
        assert!(writer.write(&random_batch(1, 3)).is_ok());
        // A NULL for the NOT NULL column.
        let mut columns = random_batch(2, 3).columns().to_vec();
        columns[2] = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let nullable: Vec<Field> = schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(nullable)), columns).unwrap();
        assert!(writer.write(&batch).is_err());
    }

    #[test]
    fn an_empty_file_reads_as_no_rows_of_its_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.parquet");
        write(&path, &[], Limits::default(), true);
        let (read_schema, read) = read(&path);
        assert_eq!(read_schema, schema());
        assert_eq!(read.num_rows(), 0);
    }

    #[test]
    fn other_types_and_codecs_are_left_to_arrow_writer() {
        let flags = Arc::new(Schema::new(vec![Field::new("b", DataType::Boolean, true)]));
        assert!(!writes(&flags, Compression::SNAPPY));
        let zstd = Compression::ZSTD(Default::default());
        assert!(!writes(&schema(), zstd));
        assert!(writes(&schema(), Compression::UNCOMPRESSED));
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("b.parquet")).unwrap();
        let mut writer =
            writer_with_limits(file, &flags, Compression::SNAPPY, Limits::default()).unwrap();
        assert!(matches!(writer, ParquetFileWriter::Arrow(_)));
        let batch = RecordBatch::try_new(
            flags.clone(),
            vec![Arc::new(BooleanArray::from(vec![Some(true), None]))],
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.into_inner().unwrap();
    }

    #[test]
    fn leading_bytes_order_values_as_their_bytes_do() {
        let values: [&[u8]; 9] = [
            b"",
            b"\0",
            b"a",
            b"a\0",
            b"a\0\x01",
            b"ab",
            b"abcdefgh",
            b"abcdefgh\0",
            b"b",
        ];
        for a in values {
            for b in values {
                let keyed = ((leading_bytes(a), a), (leading_bytes(b), b));
                assert_eq!(keyed.0.cmp(&keyed.1), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn page_headers_and_levels_are_what_parquet_reads() {
        // A header parquet's reader takes is checked by the round trips
        // above; here the varint and zigzag edges.
        let mut out = Vec::new();
        leb128::push(&mut out, 300);
        assert_eq!(out, [0xAC, 0x02]);
        let mut header = Vec::new();
        page_header(&mut header, 1 << 20, 5, 20_000);
        assert_eq!(&header[..3], &[0x15, 0x00, 0x15]);
        assert_eq!(*header.last().unwrap(), 0);
    }
}
