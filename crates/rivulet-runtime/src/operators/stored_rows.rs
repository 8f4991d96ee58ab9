//! The bytes a stateful operator keeps a row as, and the columns it reads
//! them back into: a compact layout for rows of flat columns, arrow's row
//! format for the rest.
//!
//! A regular join keeps every row of a side (Nexmark q9 and q20: every bid)
//! and a Top-N the rows it ranks; neither compares stored rows by order,
//! only reads them back, and equal rows must be equal bytes (a join counts
//! copies of a row under its bytes). Arrow's row format is made for sorting:
//! a string becomes blocks with a continuation byte each (a 67-byte string
//! takes 103) and every value carries a byte saying it is not NULL.
//!
//! The compact layout is a bitmap of the NULL columns, then each value that
//! is not NULL:
//! - a 4- or 8-byte integer (also a date, time, timestamp or duration) as
//!   its difference from the first value its column stored, ZigZag and
//!   LEB128: a bidder id takes 3 bytes, a timestamp 3 to 5, not 8;
//! - a string or binary as LEB128 `number << 2 | 1` when its column's
//!   [`StringDictionary`] numbers it; else as `length << 2 | 2` and its
//!   bytes in the dictionary's alphabet code when they all are in its
//!   alphabet and that is shorter; else as `length << 2` and its bytes;
//! - any other fixed-width value as its bytes in its array.
//!
//! Columns of other types (ROW, lists, dictionaries) keep the whole row in
//! arrow's format.
//!
//! The first values and the dictionaries belong to the codec: its stored
//! rows mean nothing without them. A snapshot of such rows has to be
//! written together with them, or decoded and written another way.

use arrow_array::{Array, ArrayRef};
use arrow_buffer::{Buffer, NullBuffer, ScalarBuffer, bit_util};
use arrow_data::ArrayData;
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::{DataType, Field};

use super::decoded_rows::{DecodedRows, Room};
use super::string_dictionary::StringDictionary;
use crate::error::{Result, RuntimeError};
use crate::leb128;

/// How one column's values are laid out in a compact row.
#[derive(Debug)]
pub(super) enum ColumnCodec {
    /// Little-endian, this many bytes, as in the array's values buffer.
    Fixed(usize),
    /// One byte, 0 or 1.
    Boolean,
    /// A signed difference from `base`, ZigZag and LEB128; the values are
    /// `width` (4 or 8) bytes wide in their array.
    Integer { width: usize, base: Option<i64> },
    /// A STRING or BYTES with 32-bit offsets: a number of the dictionary or
    /// the length and the bytes (coded or not).
    Bytes(Box<StringDictionary>),
}

/// Whether an operator finds stored rows by their bytes: a join's map
/// entries (row → count) and a Top-N taking rows back do, and need equal
/// rows to be equal bytes always; a listed join and an append-only Top-N
/// only read their rows back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lookup {
    ByBytes,
    Never,
}

fn column_codec(data_type: &DataType, lookup: Lookup) -> Option<ColumnCodec> {
    use DataType::*;
    match data_type {
        Boolean => Some(ColumnCodec::Boolean),
        Utf8 | Binary => Some(ColumnCodec::Bytes(Box::new(match lookup {
            Lookup::ByBytes => StringDictionary::default(),
            Lookup::Never => StringDictionary::skipping_rare(),
        }))),
        Int32 | Int64 | UInt32 | UInt64 | Date32 | Date64 | Time32(_) | Time64(_)
        | Timestamp(..) | Duration(_) => Some(ColumnCodec::Integer {
            width: data_type.primitive_width()?,
            base: None,
        }),
        other if other.is_primitive() => other.primitive_width().map(ColumnCodec::Fixed),
        _ => None,
    }
}

/// Encodes and decodes the rows of one list of column types.
#[derive(Debug)]
pub(super) enum RowCodec {
    Compact {
        types: Vec<DataType>,
        columns: Vec<ColumnCodec>,
    },
    Arrow(RowConverter),
}

/// The rows of one batch, encoded.
pub(super) enum EncodedRows {
    Compact {
        bytes: Vec<u8>,
        /// Row `i` is `bytes[offsets[i]..offsets[i + 1]]`.
        offsets: Vec<usize>,
    },
    Arrow(Rows),
}

impl EncodedRows {
    pub(super) fn row(&self, index: usize) -> &[u8] {
        match self {
            EncodedRows::Compact { bytes, offsets } => &bytes[offsets[index]..offsets[index + 1]],
            EncodedRows::Arrow(rows) => rows.row(index).data(),
        }
    }
}

pub(super) fn corrupt(what: &str) -> RuntimeError {
    RuntimeError::State(format!("a stored row is corrupt: {what}"))
}

pub(super) fn arrow_error(error: arrow_schema::ArrowError) -> RuntimeError {
    RuntimeError::State(format!("cannot convert stored rows: {error}"))
}

/// The LEB128 varint at `row[*at..]`, moving `at` past it.
pub(super) fn read_varint(row: &[u8], at: &mut usize) -> Result<u64> {
    leb128::read(row, at).map_err(|error| {
        corrupt(match error {
            leb128::ReadError::CutShort => "a value is cut short",
            leb128::ReadError::TooLong => "a varint is too long",
        })
    })
}

pub(super) fn take<'a>(row: &'a [u8], at: &mut usize, len: usize) -> Result<&'a [u8]> {
    let end = at
        .checked_add(len)
        .filter(|end| *end <= row.len())
        .ok_or_else(|| corrupt("a value is cut short"))?;
    let bytes = &row[*at..end];
    *at = end;
    Ok(bytes)
}

/// Small magnitudes of either sign as small unsigned numbers.
fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub(super) fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// An integer's 4 or 8 little-endian `bytes`, widened.
fn widened(bytes: &[u8]) -> i64 {
    match bytes.try_into() {
        Ok(four) => i64::from(i32::from_le_bytes(four)),
        Err(_) => bytes.try_into().map_or(0, i64::from_le_bytes),
    }
}

/// The low two bits of a string's varint: how its value is stored.
pub(super) const WHOLE: u64 = 0;
pub(super) const NUMBERED: u64 = 1;
pub(super) const CODED: u64 = 2;

/// A batch's columns checked against a codec's types, to encode its rows
/// one by one (an operator that keeps few of the rows that come encodes
/// only those).
pub(super) enum ColumnsToStore {
    Compact {
        columns: Vec<ColumnToStore>,
        rows: usize,
    },
    /// Arrow's row format converts a whole batch at once.
    Arrow(Rows),
}

/// One column's buffers, from its first row on.
pub(super) struct ColumnToStore {
    nulls: Option<NullBuffer>,
    /// The values of a fixed-width column, or the bits of a boolean one;
    /// the bytes of a string column.
    values: Buffer,
    /// A boolean column's first bit in `values`.
    first_bit: usize,
    /// A string column's offsets.
    offsets: Option<ScalarBuffer<i32>>,
    /// A string column's values looked up in its dictionary ahead of its
    /// rows' encoding ([`RowCodec::number_strings`]): each row's number,
    /// or [`NOT_NUMBERED`].
    numbers: Vec<u32>,
}

/// A looked-up value the dictionary gave no number (or a NULL).
const NOT_NUMBERED: u32 = u32::MAX;

impl ColumnToStore {
    /// Whether row `row` is NULL.
    pub(super) fn is_null(&self, row: usize) -> bool {
        self.nulls.as_ref().is_some_and(|nulls| nulls.is_null(row))
    }

    /// Row `row`'s value of a fixed-width column `width` bytes wide.
    pub(super) fn fixed(&self, row: usize, width: usize) -> &[u8] {
        &self.values[row * width..][..width]
    }

    /// Row `row`'s value of a boolean column.
    pub(super) fn bit(&self, row: usize) -> bool {
        bit_util::get_bit(&self.values, self.first_bit + row)
    }

    /// Row `row`'s value of a string or binary column.
    pub(super) fn bytes(&self, row: usize) -> &[u8] {
        let offsets = self.offsets.as_deref().unwrap_or_default();
        let range = offsets.get(row..row + 2).unwrap_or(&[0, 0]);
        &self.values[range[0] as usize..range[1] as usize]
    }

    fn of(data: &ArrayData, codec: &ColumnCodec) -> ColumnToStore {
        let (offset, len) = (data.offset(), data.len());
        let (values, first_bit, offsets) = match codec {
            ColumnCodec::Fixed(width) | ColumnCodec::Integer { width, .. } => {
                (data.buffers()[0].slice(offset * width), 0, None)
            }
            ColumnCodec::Boolean => (data.buffers()[0].clone(), offset, None),
            ColumnCodec::Bytes(_) => {
                let offsets = ScalarBuffer::new(data.buffers()[0].clone(), offset, len + 1);
                (data.buffers()[1].clone(), 0, Some(offsets))
            }
        };
        ColumnToStore {
            nulls: data.nulls().cloned(),
            values,
            first_bit,
            numbers: Vec::new(),
            offsets,
        }
    }
}

impl ColumnsToStore {
    pub(super) fn num_rows(&self) -> usize {
        match self {
            ColumnsToStore::Compact { rows, .. } => *rows,
            ColumnsToStore::Arrow(rows) => rows.num_rows(),
        }
    }
}

/// The varint a string is stored as, with its tag in the low two bits.
fn tagged(value: u64, tag: u64) -> u64 {
    value << 2 | tag
}

/// Appends `value`, a string or binary of a column with `dictionary`,
/// which gave it `number` when it was looked up.
fn push_bytes(
    dictionary: &StringDictionary,
    (value, number): (&[u8], Option<u32>),
    out: &mut Vec<u8>,
) {
    if let Some(number) = number {
        return leb128::push(out, tagged(u64::from(number), NUMBERED));
    }
    let len = value.len() as u64;
    if let Some(code) = dictionary
        .code_for(value)
        .filter(|c| c.coded_len(value.len()) < value.len())
    {
        let start = out.len();
        leb128::push(out, tagged(len, CODED));
        if code.write(value, out) {
            return;
        }
        out.truncate(start);
    }
    leb128::push(out, tagged(len, WHOLE));
    out.extend_from_slice(value);
}

impl RowCodec {
    /// The codec of rows with these fields' types.
    pub(super) fn of_fields(fields: &[Field], lookup: Lookup) -> Result<RowCodec> {
        let types: Vec<DataType> = fields.iter().map(|f| f.data_type().clone()).collect();
        RowCodec::new(&types, lookup)
    }

    pub(super) fn new(types: &[DataType], lookup: Lookup) -> Result<RowCodec> {
        let columns = types.iter().map(|t| column_codec(t, lookup));
        if let Some(columns) = columns.collect::<Option<Vec<_>>>() {
            return Ok(RowCodec::Compact {
                types: types.to_vec(),
                columns,
            });
        }
        let fields = types.iter().map(|t| SortField::new(t.clone())).collect();
        RowConverter::new(fields)
            .map(RowCodec::Arrow)
            .map_err(arrow_error)
    }

    /// This codec, storing string values its dictionaries do not number as
    /// they are rather than in an alphabet code: for rows read back far
    /// more often than stored, where decoding the code costs more than the
    /// bytes it saves are worth.
    pub(super) fn leaving_values_uncoded(self) -> RowCodec {
        match self {
            RowCodec::Compact { types, columns } => RowCodec::Compact {
                types,
                columns: columns
                    .into_iter()
                    .map(|column| match column {
                        ColumnCodec::Bytes(dictionary) => {
                            ColumnCodec::Bytes(Box::new(dictionary.leaving_uncoded()))
                        }
                        other => other,
                    })
                    .collect(),
            },
            arrow @ RowCodec::Arrow(_) => arrow,
        }
    }

    /// `columns` (of this codec's types), to encode rows of.
    pub(super) fn columns_to_store(&self, columns: &[ArrayRef]) -> Result<ColumnsToStore> {
        let (types, codecs) = match self {
            RowCodec::Arrow(converter) => {
                return converter
                    .convert_columns(columns)
                    .map(ColumnsToStore::Arrow)
                    .map_err(arrow_error);
            }
            RowCodec::Compact { types, columns } => (types, columns),
        };
        // The layouts read buffers as their types lay them out.
        let matches = columns.len() == types.len()
            && columns.iter().zip(types).all(|(c, t)| c.data_type() == t);
        if !matches {
            return Err(RuntimeError::State(format!(
                "rows to store are not of the stored types {types:?}"
            )));
        }
        Ok(ColumnsToStore::Compact {
            rows: columns.first().map_or(0, |c| c.len()),
            columns: columns
                .iter()
                .zip(codecs)
                .map(|(column, codec)| ColumnToStore::of(&column.to_data(), codec))
                .collect(),
        })
    }

    /// Appends row `row` of `columns` (which this codec checked), encoded.
    pub(super) fn encode_row(&mut self, columns: &ColumnsToStore, row: usize, out: &mut Vec<u8>) {
        let (codecs, columns) = match (self, columns) {
            (
                RowCodec::Compact {
                    columns: codecs, ..
                },
                ColumnsToStore::Compact { columns, .. },
            ) => (codecs, columns),
            (_, ColumnsToStore::Arrow(rows)) => {
                return out.extend_from_slice(rows.row(row).data());
            }
            // Columns checked by another kind of codec: not ours to read.
            (RowCodec::Arrow(_), ColumnsToStore::Compact { .. }) => return,
        };
        let start = out.len();
        out.resize(start + codecs.len().div_ceil(8), 0);
        for (index, (column, codec)) in columns.iter().zip(codecs.iter_mut()).enumerate() {
            if column.is_null(row) {
                out[start + index / 8] |= 1 << (index % 8);
                continue;
            }
            match codec {
                ColumnCodec::Fixed(width) => {
                    out.extend_from_slice(column.fixed(row, *width));
                }
                ColumnCodec::Boolean => {
                    out.push(u8::from(column.bit(row)));
                }
                ColumnCodec::Integer { width, base } => {
                    let value = widened(column.fixed(row, *width));
                    leb128::push(out, zigzag(value.wrapping_sub(*base.get_or_insert(value))));
                }
                ColumnCodec::Bytes(dictionary) => {
                    let value = column.bytes(row);
                    let number = match column.numbers.get(row) {
                        Some(&NOT_NUMBERED) => None,
                        Some(&number) => Some(number),
                        None => dictionary.number(value),
                    };
                    push_bytes(dictionary, (value, number), out);
                }
            }
        }
    }

    /// Looks up every value of each string column of `columns` in its
    /// dictionary, a column at a time, for [`Self::encode_row`] to use.
    ///
    /// Numbering a row's values as it is encoded interleaves the lookups
    /// of several dictionaries with the row's other work, and each waits
    /// on its table and its stored value (cache misses: Nexmark's ten
    /// thousand URLs are 630 KB). In a loop of lookups alone the processor
    /// runs several at once: q20's joins stored every bid, and comparing
    /// each URL with its numbered one was a tenth of their time.
    pub(super) fn number_strings(&mut self, columns: &mut ColumnsToStore) {
        let (
            RowCodec::Compact {
                columns: codecs, ..
            },
            ColumnsToStore::Compact { columns, rows },
        ) = (self, columns)
        else {
            return;
        };
        for (column, codec) in columns.iter_mut().zip(codecs.iter_mut()) {
            let ColumnCodec::Bytes(dictionary) = codec else {
                continue;
            };
            let numbers = (0..*rows)
                .map(|row| match column.is_null(row) {
                    true => NOT_NUMBERED,
                    false => dictionary.number(column.bytes(row)).unwrap_or(NOT_NUMBERED),
                })
                .collect();
            column.numbers = numbers;
        }
    }

    /// Every row of `columns` (of this codec's types), encoded.
    pub(super) fn encode(&mut self, columns: &[ArrayRef]) -> Result<EncodedRows> {
        let mut to_store = self.columns_to_store(columns)?;
        self.number_strings(&mut to_store);
        if let ColumnsToStore::Arrow(rows) = to_store {
            return Ok(EncodedRows::Arrow(rows));
        }
        let rows = to_store.num_rows();
        let mut bytes = Vec::new();
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        for row in 0..rows {
            self.encode_row(&to_store, row, &mut bytes);
            offsets.push(bytes.len());
        }
        Ok(EncodedRows::Compact { bytes, offsets })
    }

    /// The columns of `rows`, each encoded by this codec.
    pub(super) fn decode<'a>(
        &self,
        rows: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Result<Vec<ArrayRef>> {
        let mut decoded = DecodedRows::new(self, &Room::for_rows(rows.len()));
        for row in rows {
            decoded.push(self, row)?;
        }
        decoded.finish(self)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use arrow_array::{
        BinaryArray, BooleanArray, Decimal128Array, Float64Array, Int32Array, Int64Array,
        StringArray, StructArray, TimestampMillisecondArray, UInt64Array,
    };
    use arrow_schema::{Field, Fields};

    use std::sync::Arc;

    use super::*;
    use crate::operators::string_dictionary::PROBATION;

    fn round_trip(columns: Vec<ArrayRef>) -> Vec<ArrayRef> {
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let mut codec = RowCodec::new(&types, Lookup::ByBytes).unwrap();
        let encoded = codec.encode(&columns).unwrap();
        let rows: Vec<&[u8]> = (0..columns[0].len()).map(|i| encoded.row(i)).collect();
        codec.decode(rows.into_iter()).unwrap()
    }

    #[test]
    fn strings_numbered_ahead_encode_as_strings_numbered_row_by_row() {
        // Repeats (numbered), NULLs, a value too long to number, and more
        // values than a probation, so the dictionary closes part way.
        let values: Vec<Option<String>> = (0..PROBATION + 40)
            .map(|i| match i % 5 {
                0 => None,
                1 => Some(format!("https://repeat/{}", i % 7)),
                2 => Some("x".repeat(2000)),
                _ => Some(format!("rare {i}")),
            })
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(values.clone())),
            Arc::new(Int64Array::from_iter_values(0..values.len() as i64)),
            Arc::new(StringArray::from(
                values.into_iter().rev().collect::<Vec<_>>(),
            )),
        ];
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        for lookup in [Lookup::ByBytes, Lookup::Never] {
            let mut ahead = RowCodec::new(&types, lookup).unwrap();
            let encoded = ahead.encode(&columns).unwrap();
            let mut by_row = RowCodec::new(&types, lookup).unwrap();
            let to_store = by_row.columns_to_store(&columns).unwrap();
            for row in 0..columns[0].len() {
                let mut bytes = Vec::new();
                by_row.encode_row(&to_store, row, &mut bytes);
                assert_eq!(encoded.row(row), bytes, "row {row}, {lookup:?}");
            }
        }
    }

    /// Columns of every flat type, with NULLs, empty and long values.
    pub(in crate::operators) fn flat_columns() -> Vec<ArrayRef> {
        vec![
            Arc::new(Int64Array::from(vec![
                Some(1),
                None,
                Some(-3),
                Some(i64::MAX),
            ])),
            Arc::new(StringArray::from(vec![
                Some("a".repeat(200)),
                Some(String::new()),
                None,
                Some("é".into()),
            ])),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
            ])),
            Arc::new(
                TimestampMillisecondArray::from(vec![Some(5), Some(-5), None, Some(0)])
                    .with_timezone("UTC"),
            ),
            Arc::new(
                Decimal128Array::from(vec![Some(12345), None, Some(-1), Some(0)])
                    .with_precision_and_scale(23, 3)
                    .unwrap(),
            ),
            Arc::new(Float64Array::from(vec![
                Some(-0.0),
                Some(1.5),
                None,
                Some(f64::NAN),
            ])),
            Arc::new(BinaryArray::from(vec![
                Some(&b"\x00\xff"[..]),
                None,
                Some(b""),
                Some(b"x"),
            ])),
            Arc::new(Int32Array::from(vec![None, None, None, Some(7)])),
            Arc::new(Int32Array::from(vec![Some(1), Some(2), Some(3), Some(4)])),
        ]
    }

    #[test]
    fn flat_rows_read_back_as_written_and_are_compact() {
        let columns = flat_columns();
        assert_eq!(round_trip(columns.clone()), columns);
        // Sliced arrays (offsets into their buffers) read back too.
        let sliced: Vec<ArrayRef> = columns.iter().map(|c| c.slice(1, 3)).collect();
        assert_eq!(round_trip(sliced.clone()), sliced);
    }

    #[test]
    fn integers_are_stored_as_differences_from_the_first() {
        let times = vec![
            Some(1_700_000_000_000),
            Some(1_700_000_000_500),
            None,
            Some(1_699_999_999_000),
            Some(i64::MIN),
            Some(i64::MAX),
        ];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(times.clone()).with_timezone("UTC")),
            Arc::new(Int32Array::from(vec![7, -7, i32::MIN, i32::MAX, 0, 1])),
            Arc::new(UInt64Array::from(vec![0, u64::MAX, 5, 1, 2, 3])),
        ];
        assert_eq!(round_trip(columns.clone()), columns);
        let mut codec = RowCodec::new(&[DataType::Int64], Lookup::ByBytes).unwrap();
        let encoded = codec.encode(&[Arc::new(Int64Array::from(times))]).unwrap();
        // The bitmap, then a byte for the first value's 0, two for +500
        // and for -1000, nothing for NULL.
        let lengths: Vec<usize> = (0..4).map(|row| encoded.row(row).len()).collect();
        assert_eq!(lengths, [2, 3, 1, 3]);
    }

    #[test]
    fn repeated_strings_are_stored_as_numbers() {
        let url = "https://www.nexmark.com/xyz/item.htm?query=1";
        let strings: ArrayRef = Arc::new(StringArray::from(vec![
            Some(url),
            Some("other"),
            None,
            Some(url),
        ]));
        assert_eq!(round_trip(vec![strings.clone()]), vec![strings.clone()]);
        let mut codec = RowCodec::new(&[DataType::Utf8], Lookup::ByBytes).unwrap();
        let encoded = codec.encode(&[strings]).unwrap();
        // The bitmap and the number.
        assert_eq!(encoded.row(0), [0, 1]);
        assert_eq!(encoded.row(3), [0, 1]);
        assert_eq!(encoded.row(1), [0, 1 << 2 | 1]);
    }

    /// A codec whose one string column's dictionary has judged its first
    /// values and stopped taking new ones.
    fn codec_of_rare_strings() -> (RowCodec, Vec<ArrayRef>) {
        let mut codec = RowCodec::new(&[DataType::Utf8], Lookup::ByBytes).unwrap();
        let rare: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..4096).map(|n| format!("value {n}")),
        ));
        codec.encode(std::slice::from_ref(&rare)).unwrap();
        (codec, vec![rare])
    }

    #[test]
    fn rows_never_found_by_their_bytes_stop_looking_rare_strings_up() {
        let mut codec = RowCodec::new(&[DataType::Utf8], Lookup::Never).unwrap();
        let rare: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..4096).map(|n| format!("value {n}")),
        ));
        let numbered = codec.encode(std::slice::from_ref(&rare)).unwrap();
        let again = codec.encode(std::slice::from_ref(&rare)).unwrap();
        // Numbered first, then coded: both read back.
        assert_eq!(numbered.row(9), [0, 9 << 2 | 1]);
        assert_eq!(again.row(9)[1], 7 << 2 | 2);
        let rows = (0..4096).map(|row| again.row(row));
        assert_eq!(codec.decode(rows).unwrap(), [rare]);
    }

    #[test]
    fn a_codec_leaving_values_uncoded_stores_rare_strings_as_they_are() {
        let mut codec = RowCodec::new(&[DataType::Utf8], Lookup::Never)
            .unwrap()
            .leaving_values_uncoded();
        let rare: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..4096).map(|n| format!("value {n}")),
        ));
        codec.encode(std::slice::from_ref(&rare)).unwrap();
        let again = codec.encode(std::slice::from_ref(&rare)).unwrap();
        // The bitmap, the length and the bytes: no code, though every
        // byte is of the first values' alphabet.
        assert_eq!(again.row(9), [&[0, 7 << 2][..], b"value 9"].concat());
        let rows = (0..4096).map(|row| again.row(row));
        assert_eq!(codec.decode(rows).unwrap(), [rare]);
    }

    #[test]
    fn strings_that_rarely_repeat_are_stored_whole() {
        let (mut codec, rare) = codec_of_rare_strings();
        let new: ArrayRef = Arc::new(StringArray::from(vec!["x".repeat(67)]));
        let encoded = codec.encode(std::slice::from_ref(&new)).unwrap();
        // The bitmap, the length (67 << 2 takes two bytes), the string:
        // 'x' is not in the alphabet of the first values' bytes.
        assert_eq!(encoded.row(0).len(), 1 + 2 + 67);
        assert_eq!(codec.decode([encoded.row(0)].into_iter()).unwrap(), [new]);
        // A value of their bytes is coded shorter.
        let like: ArrayRef = Arc::new(StringArray::from(vec!["value 9876 value 5432 value 10"]));
        let encoded = codec.encode(std::slice::from_ref(&like)).unwrap();
        assert!(encoded.row(0).len() < 1 + 1 + 29, "{:?}", encoded.row(0));
        assert_eq!(
            codec.decode([encoded.row(0)].into_iter()).unwrap(),
            std::slice::from_ref(&like)
        );
        // The values numbered before still read back.
        let encoded = codec.encode(&rare).unwrap();
        let rows = (0..4096).map(|row| encoded.row(row));
        assert_eq!(codec.decode(rows).unwrap(), rare);
    }

    #[test]
    fn equal_rows_are_equal_bytes() {
        let columns = flat_columns();
        let doubled: Vec<ArrayRef> = columns
            .iter()
            .map(|c| arrow_select::concat::concat(&[c.as_ref(), c.as_ref()]).unwrap())
            .collect();
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let mut codec = RowCodec::new(&types, Lookup::ByBytes).unwrap();
        let encoded = codec.encode(&doubled).unwrap();
        let again = codec.encode(&columns).unwrap();
        for row in 0..4 {
            assert_eq!(encoded.row(row), encoded.row(row + 4));
            assert_eq!(encoded.row(row), again.row(row));
            for other in (0..4).filter(|o| *o != row) {
                assert_ne!(encoded.row(row), encoded.row(other));
            }
        }
        // A value too long to number is stored whole before and after the
        // dictionary has a code.
        let mut codec = RowCodec::new(&[DataType::Utf8], Lookup::ByBytes).unwrap();
        let long: ArrayRef = Arc::new(StringArray::from(vec!["value ".repeat(200)]));
        let before = codec.encode(std::slice::from_ref(&long)).unwrap();
        let rare: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..4096).map(|n| format!("value {n}")),
        ));
        codec.encode(&[rare]).unwrap();
        let after = codec.encode(std::slice::from_ref(&long)).unwrap();
        assert_eq!(before.row(0), after.row(0));
        // Also once a dictionary takes no new values.
        let (mut codec, _) = codec_of_rare_strings();
        let strings: ArrayRef = Arc::new(StringArray::from(vec!["value 9", "new", "new"]));
        let first = codec.encode(std::slice::from_ref(&strings)).unwrap();
        let second = codec.encode(&[strings]).unwrap();
        assert_eq!(first.row(1), first.row(2));
        assert_eq!((first.row(0), first.row(1)), (second.row(0), second.row(1)));
    }

    #[test]
    fn nested_columns_keep_arrows_row_format() {
        let inner = Fields::from(vec![Field::new("a", DataType::Int64, true)]);
        let row: ArrayRef = Arc::new(StructArray::new(
            inner,
            vec![Arc::new(Int64Array::from(vec![Some(1), None]))],
            None,
        ));
        let columns = vec![row, Arc::new(StringArray::from(vec!["p", "q"])) as ArrayRef];
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        assert!(matches!(
            RowCodec::new(&types, Lookup::ByBytes).unwrap(),
            RowCodec::Arrow(_)
        ));
        assert_eq!(round_trip(columns.clone()), columns);
    }

    #[test]
    fn cut_or_padded_rows_are_errors_not_panics() {
        let columns = flat_columns();
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let mut codec = RowCodec::new(&types, Lookup::ByBytes).unwrap();
        let encoded = codec.encode(&columns).unwrap();
        let row = encoded.row(0);
        for end in 0..row.len() {
            assert!(
                codec.decode([&row[..end]].into_iter()).is_err(),
                "cut at {end}"
            );
        }
        let padded = [row, &[0]].concat();
        assert!(codec.decode([padded.as_slice()].into_iter()).is_err());
        // Columns not of the codec's types are refused, not misread.
        let strings: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        assert!(
            RowCodec::new(&[DataType::Int64], Lookup::ByBytes)
                .unwrap()
                .encode(&[strings])
                .is_err()
        );
        assert!(codec.encode(&columns[..2]).is_err());
        // A string that is not UTF-8.
        let bad = RowCodec::new(&[DataType::Utf8], Lookup::ByBytes).unwrap();
        assert!(bad.decode([&[0u8, 1 << 2, 0xff][..]].into_iter()).is_err());
        // A number the dictionary never gave, a value coded before there
        // is a code, an integer of a column that stored none.
        assert!(bad.decode([&[0u8, 5 << 2 | 1][..]].into_iter()).is_err());
        assert!(bad.decode([&[0u8, 1 << 2 | 2, 0][..]].into_iter()).is_err());
        let integers = RowCodec::new(&[DataType::Int64], Lookup::ByBytes).unwrap();
        assert!(integers.decode([&[0u8, 2][..]].into_iter()).is_err());
    }
}
