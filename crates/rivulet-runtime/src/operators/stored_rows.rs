//! The bytes a stateful operator keeps a row as, and the columns it reads
//! them back into: a compact layout for rows of flat columns, arrow's row
//! format for the rest.
//!
//! A regular join keeps every row of a side (Nexmark q9 and q20: every bid)
//! and a Top-N the rows it ranks; neither compares stored rows by order,
//! only reads them back, and equal rows must be equal bytes (a join counts
//! copies of a row under its bytes). Arrow's row format is made for sorting:
//! a string becomes blocks with a continuation byte each (a 67-byte string
//! takes 103) and every value carries a byte saying it is not NULL. The
//! compact layout is a bitmap of the NULL columns, then each value that is
//! not NULL as it lies in its array: fixed-width ones as their bytes,
//! strings and binaries as their length (LEB128) and bytes. Columns of other
//! types (ROW, lists, dictionaries) keep the whole row in arrow's format.

use arrow_array::{Array, ArrayRef, make_array};
use arrow_buffer::{BooleanBufferBuilder, Buffer, MutableBuffer, NullBufferBuilder, bit_util};
use arrow_data::{ArrayData, ArrayDataBuilder};
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::{DataType, Field};

use crate::error::{Result, RuntimeError};
use crate::leb128;

/// How a column's values are laid out in a compact row.
#[derive(Debug, Clone, Copy)]
pub(super) enum Layout {
    /// Little-endian, this many bytes, as in the array's values buffer.
    Fixed(usize),
    /// One byte, 0 or 1.
    Boolean,
    /// Length, then the bytes (a STRING or BYTES with 32-bit offsets).
    Bytes,
}

fn layout(data_type: &DataType) -> Option<Layout> {
    match data_type {
        DataType::Boolean => Some(Layout::Boolean),
        DataType::Utf8 | DataType::Binary => Some(Layout::Bytes),
        other if other.is_primitive() => other.primitive_width().map(Layout::Fixed),
        _ => None,
    }
}

/// Encodes and decodes the rows of one list of column types.
#[derive(Debug)]
pub(super) enum RowCodec {
    Compact {
        types: Vec<DataType>,
        layouts: Vec<Layout>,
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

fn corrupt(what: &str) -> RuntimeError {
    RuntimeError::State(format!("a stored row is corrupt: {what}"))
}

fn arrow_error(error: arrow_schema::ArrowError) -> RuntimeError {
    RuntimeError::State(format!("cannot convert stored rows: {error}"))
}

/// The LEB128 length at `row[*at..]`, moving `at` past it.
fn read_length(row: &[u8], at: &mut usize) -> Result<usize> {
    let value = leb128::read(row, at).map_err(|error| {
        corrupt(match error {
            leb128::ReadError::CutShort => "a length is cut short",
            leb128::ReadError::TooLong => "a length is too long",
        })
    })?;
    usize::try_from(value).map_err(|_| corrupt("a length is too long"))
}

fn take<'a>(row: &'a [u8], at: &mut usize, len: usize) -> Result<&'a [u8]> {
    let end = at
        .checked_add(len)
        .filter(|end| *end <= row.len())
        .ok_or_else(|| corrupt("a value is cut short"))?;
    let bytes = &row[*at..end];
    *at = end;
    Ok(bytes)
}

/// Writes each valid row's `width` bytes of `values` at its cursor.
fn write_fixed(
    bytes: &mut [u8],
    cursors: &mut [usize],
    values: &[u8],
    width: usize,
    valid: impl Fn(usize) -> bool,
) {
    // Inlined with the common widths as constants: one move per value,
    // not a call to memcpy.
    #[inline(always)]
    fn write(
        bytes: &mut [u8],
        cursors: &mut [usize],
        values: &[u8],
        width: usize,
        valid: impl Fn(usize) -> bool,
    ) {
        let rows = cursors.iter_mut().zip(values.chunks_exact(width));
        for (row, (cursor, value)) in rows.enumerate() {
            if valid(row) {
                bytes[*cursor..*cursor + width].copy_from_slice(value);
                *cursor += width;
            }
        }
    }
    match width {
        1 => write(bytes, cursors, values, 1, valid),
        2 => write(bytes, cursors, values, 2, valid),
        4 => write(bytes, cursors, values, 4, valid),
        8 => write(bytes, cursors, values, 8, valid),
        16 => write(bytes, cursors, values, 16, valid),
        _ => write(bytes, cursors, values, width, valid),
    }
}

/// A column being decoded.
enum Decoding {
    /// Its width and values, in a buffer aligned for any native type.
    Fixed(usize, MutableBuffer),
    Boolean(BooleanBufferBuilder),
    Bytes {
        offsets: Vec<i32>,
        values: Vec<u8>,
    },
}

impl RowCodec {
    /// The codec of rows with these fields' types.
    pub(super) fn of_fields(fields: &[Field]) -> Result<RowCodec> {
        let types: Vec<DataType> = fields.iter().map(|f| f.data_type().clone()).collect();
        RowCodec::new(&types)
    }

    pub(super) fn new(types: &[DataType]) -> Result<RowCodec> {
        if let Some(layouts) = types.iter().map(layout).collect::<Option<Vec<_>>>() {
            return Ok(RowCodec::Compact {
                types: types.to_vec(),
                layouts,
            });
        }
        let fields = types.iter().map(|t| SortField::new(t.clone())).collect();
        RowConverter::new(fields)
            .map(RowCodec::Arrow)
            .map_err(arrow_error)
    }

    /// Every row of `columns` (of this codec's types), encoded.
    pub(super) fn encode(&self, columns: &[ArrayRef]) -> Result<EncodedRows> {
        let layouts = match self {
            RowCodec::Arrow(converter) => {
                return converter
                    .convert_columns(columns)
                    .map(EncodedRows::Arrow)
                    .map_err(arrow_error);
            }
            RowCodec::Compact { types, layouts } => {
                // The layouts read buffers as their types lay them out.
                let matches = columns.len() == types.len()
                    && columns.iter().zip(types).all(|(c, t)| c.data_type() == t);
                if !matches {
                    return Err(RuntimeError::State(format!(
                        "rows to store are not of the stored types {types:?}"
                    )));
                }
                layouts
            }
        };
        let rows = columns.first().map_or(0, |c| c.len());
        let bitmap = layouts.len().div_ceil(8);
        let data: Vec<ArrayData> = columns.iter().map(|c| c.to_data()).collect();
        // What every row takes: the bitmap and the fixed-width values of
        // columns without NULLs; the rest is counted row by row.
        let mut every_row = bitmap;
        for (data, layout) in data.iter().zip(layouts) {
            match (*layout, data.nulls()) {
                (Layout::Fixed(width), None) => every_row += width,
                (Layout::Boolean, None) => every_row += 1,
                _ => {}
            }
        }
        let mut lengths = vec![every_row; rows];
        for (data, layout) in data.iter().zip(layouts) {
            let offsets: &[i32] = match layout {
                Layout::Bytes => data.buffer(0),
                _ => &[],
            };
            let value_len = |row: usize| match *layout {
                Layout::Fixed(width) => width,
                Layout::Boolean => 1,
                Layout::Bytes => {
                    let len = (offsets[row + 1] - offsets[row]) as usize;
                    leb128::len(len as u64) + len
                }
            };
            match (*layout, data.nulls()) {
                (Layout::Fixed(_) | Layout::Boolean, None) => {}
                (_, nulls) => {
                    for (row, length) in lengths.iter_mut().enumerate() {
                        if nulls.is_none_or(|nulls| nulls.is_valid(row)) {
                            *length += value_len(row);
                        }
                    }
                }
            }
        }
        let mut offsets = Vec::with_capacity(rows + 1);
        let mut total = 0;
        offsets.push(0);
        for length in &lengths {
            total += length;
            offsets.push(total);
        }
        let mut bytes = vec![0u8; total];
        // Where each row's next value goes.
        let mut cursors: Vec<usize> = offsets[..rows].iter().map(|at| at + bitmap).collect();
        for (index, (data, layout)) in data.iter().zip(layouts).enumerate() {
            if let Some(nulls) = data.nulls() {
                for row in nulls
                    .iter()
                    .enumerate()
                    .filter_map(|(row, v)| (!v).then_some(row))
                {
                    bytes[offsets[row] + index / 8] |= 1 << (index % 8);
                }
            }
            let valid = |row: usize| data.nulls().is_none_or(|nulls| nulls.is_valid(row));
            match *layout {
                Layout::Fixed(width) => {
                    let values = &data.buffers()[0][data.offset() * width..][..rows * width];
                    write_fixed(&mut bytes, &mut cursors, values, width, valid);
                }
                Layout::Boolean => {
                    let values = data.buffers()[0].as_slice();
                    for (row, cursor) in cursors.iter_mut().enumerate() {
                        if valid(row) {
                            let value = bit_util::get_bit(values, data.offset() + row);
                            bytes[*cursor] = u8::from(value);
                            *cursor += 1;
                        }
                    }
                }
                Layout::Bytes => {
                    let offsets = data.buffer::<i32>(0);
                    let values = data.buffers()[1].as_slice();
                    for (row, cursor) in cursors.iter_mut().enumerate() {
                        if valid(row) {
                            let value = &values[offsets[row] as usize..offsets[row + 1] as usize];
                            let out = &mut bytes[*cursor..];
                            let written = leb128::write(out, value.len() as u64);
                            out[written..written + value.len()].copy_from_slice(value);
                            *cursor += written + value.len();
                        }
                    }
                }
            }
        }
        Ok(EncodedRows::Compact { bytes, offsets })
    }

    /// The columns of `rows`, each encoded by this codec.
    pub(super) fn decode<'a>(
        &self,
        rows: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Result<Vec<ArrayRef>> {
        let (types, layouts) = match self {
            RowCodec::Arrow(converter) => {
                let parser = converter.parser();
                return converter
                    .convert_rows(rows.map(|row| parser.parse(row)))
                    .map_err(arrow_error);
            }
            RowCodec::Compact { types, layouts } => (types, layouts),
        };
        let count = rows.len();
        let mut columns: Vec<(Decoding, NullBufferBuilder)> = layouts
            .iter()
            .map(|layout| {
                let decoding = match *layout {
                    Layout::Fixed(width) => {
                        Decoding::Fixed(width, MutableBuffer::with_capacity(width * count))
                    }
                    Layout::Boolean => Decoding::Boolean(BooleanBufferBuilder::new(count)),
                    Layout::Bytes => Decoding::Bytes {
                        offsets: {
                            let mut offsets = Vec::with_capacity(count + 1);
                            offsets.push(0);
                            offsets
                        },
                        values: Vec::new(),
                    },
                };
                (decoding, NullBufferBuilder::new(count))
            })
            .collect();
        let bitmap = layouts.len().div_ceil(8);
        for row in rows {
            let nulls = row.get(..bitmap).ok_or_else(|| corrupt("no NULL bitmap"))?;
            let mut at = bitmap;
            for (index, (decoding, valid)) in columns.iter_mut().enumerate() {
                let null = nulls[index / 8] & (1 << (index % 8)) != 0;
                valid.append(!null);
                match decoding {
                    Decoding::Fixed(width, values) => {
                        if null {
                            values.extend_zeros(*width);
                        } else {
                            values.extend_from_slice(take(row, &mut at, *width)?);
                        }
                    }
                    Decoding::Boolean(values) => {
                        values.append(!null && take(row, &mut at, 1)?[0] != 0);
                    }
                    Decoding::Bytes { offsets, values } => {
                        if !null {
                            let len = read_length(row, &mut at)?;
                            values.extend_from_slice(take(row, &mut at, len)?);
                        }
                        let end = i32::try_from(values.len()).map_err(|_| {
                            RuntimeError::State(
                                "stored rows of over 2 GiB of strings in one batch".into(),
                            )
                        })?;
                        offsets.push(end);
                    }
                }
            }
            if at != row.len() {
                return Err(corrupt("bytes after its last value"));
            }
        }
        columns
            .into_iter()
            .zip(types)
            .map(|((decoding, mut valid), data_type)| {
                let buffers = match decoding {
                    Decoding::Fixed(_, values) => vec![values.into()],
                    Decoding::Boolean(mut values) => vec![values.finish().into_inner()],
                    Decoding::Bytes { offsets, values } => {
                        vec![Buffer::from_vec(offsets), Buffer::from_vec(values)]
                    }
                };
                // Building validates the buffers, and a string's UTF-8:
                // stored bytes may come from a snapshot.
                let data = ArrayDataBuilder::new(data_type.clone())
                    .len(count)
                    .buffers(buffers)
                    .nulls(valid.finish())
                    .build()
                    .map_err(arrow_error)?;
                Ok(make_array(data))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{
        BinaryArray, BooleanArray, Decimal128Array, Float64Array, Int32Array, Int64Array,
        StringArray, StructArray, TimestampMillisecondArray,
    };
    use arrow_schema::{Field, Fields};

    use std::sync::Arc;

    use super::*;

    fn round_trip(columns: Vec<ArrayRef>) -> Vec<ArrayRef> {
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let codec = RowCodec::new(&types).unwrap();
        let encoded = codec.encode(&columns).unwrap();
        let rows: Vec<&[u8]> = (0..columns[0].len()).map(|i| encoded.row(i)).collect();
        codec.decode(rows.into_iter()).unwrap()
    }

    fn flat_columns() -> Vec<ArrayRef> {
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
        let codec = RowCodec::new(&[DataType::Int64, DataType::Utf8]).unwrap();
        let encoded = codec
            .encode(&[
                Arc::new(Int64Array::from(vec![1])),
                Arc::new(StringArray::from(vec!["x".repeat(67)])),
            ])
            .unwrap();
        // Bitmap, eight bytes, one byte of length, the string.
        assert_eq!(encoded.row(0).len(), 1 + 8 + 1 + 67);
    }

    #[test]
    fn equal_rows_are_equal_bytes() {
        let columns = flat_columns();
        let doubled: Vec<ArrayRef> = columns
            .iter()
            .map(|c| arrow_select::concat::concat(&[c.as_ref(), c.as_ref()]).unwrap())
            .collect();
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let encoded = RowCodec::new(&types).unwrap().encode(&doubled).unwrap();
        for row in 0..4 {
            assert_eq!(encoded.row(row), encoded.row(row + 4));
            for other in (0..4).filter(|o| *o != row) {
                assert_ne!(encoded.row(row), encoded.row(other));
            }
        }
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
        assert!(matches!(RowCodec::new(&types).unwrap(), RowCodec::Arrow(_)));
        assert_eq!(round_trip(columns.clone()), columns);
    }

    #[test]
    fn cut_or_padded_rows_are_errors_not_panics() {
        let columns = flat_columns();
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let codec = RowCodec::new(&types).unwrap();
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
            RowCodec::new(&[DataType::Int64])
                .unwrap()
                .encode(&[strings])
                .is_err()
        );
        assert!(codec.encode(&columns[..2]).is_err());
        // A string that is not UTF-8.
        let bad = RowCodec::new(&[DataType::Utf8]).unwrap();
        assert!(bad.decode([&[0u8, 1, 0xff][..]].into_iter()).is_err());
    }
}
