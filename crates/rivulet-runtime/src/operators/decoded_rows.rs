//! Rows of a [`RowCodec`] decoded one at a time into the columns of a
//! batch, and rows of a batch being stored copied among them.
//!
//! A Top-N emits, for each row that ranks, the rows it moves down a rank:
//! stored rows, decoded, and the arriving row itself, in one order. Decoded
//! into columns of their own and then interleaved with the arriving
//! batch's, every value was copied twice and every moved row first copied
//! out of its key's state (Nexmark q19 emits 2.8 rows per bid). Here each
//! row goes straight to its place in the output columns: a stored row
//! decoded, an arriving one copied from its batch's buffers.

use arrow_array::{ArrayRef, make_array};
use arrow_buffer::{BooleanBufferBuilder, Buffer, MutableBuffer, NullBufferBuilder};
use arrow_data::ArrayDataBuilder;

use super::stored_rows::{
    CODED, ColumnCodec, ColumnsToStore, NUMBERED, RowCodec, WHOLE, arrow_error, corrupt,
    read_varint, take, unzigzag,
};
use crate::error::{Result, RuntimeError};

/// The columns being built, as the codec they decode for lays them out.
pub(super) enum DecodedRows {
    Compact {
        columns: Vec<(Decoding, NullBufferBuilder)>,
        count: usize,
    },
    /// Arrow's row format decodes rows together: kept until then.
    Arrow { bytes: Vec<u8>, ends: Vec<usize> },
}

/// Room for a batch of decoded rows: rows, and bytes of each string
/// column. A batch is likely about as large as the one before it: given
/// that room (and an eighth more) at once, its buffers are not grown, and
/// copied, as its rows come; a Top-N's batches of changes (Nexmark q19's
/// about 5,000 rows of 200 bytes) spent 4% of its time growing them.
#[derive(Debug, Default, Clone)]
pub(super) struct Room {
    rows: usize,
    /// Bytes of values of each column (zero for a column not of strings).
    bytes: Vec<usize>,
}

impl Room {
    /// Room for `rows` rows, and no bytes known.
    pub(super) fn for_rows(rows: usize) -> Room {
        Room {
            rows,
            bytes: Vec::new(),
        }
    }

    pub(super) fn rows(&self) -> usize {
        self.rows
    }
}

/// `size` and an eighth more.
fn with_headroom(size: usize) -> usize {
    size.saturating_add(size / 8)
}

/// A column being decoded.
pub(super) enum Decoding {
    /// Its width and values, in a buffer aligned for any native type.
    Fixed(usize, MutableBuffer),
    Boolean(BooleanBufferBuilder),
    Bytes {
        offsets: Vec<i32>,
        values: Vec<u8>,
    },
}

impl DecodedRows {
    /// No rows yet, of `codec`'s columns, with `room`.
    pub(super) fn new(codec: &RowCodec, room: &Room) -> DecodedRows {
        let capacity = room.rows;
        let codecs = match codec {
            RowCodec::Arrow(_) => {
                return DecodedRows::Arrow {
                    bytes: Vec::new(),
                    ends: Vec::with_capacity(capacity),
                };
            }
            RowCodec::Compact { columns, .. } => columns,
        };
        let columns = codecs
            .iter()
            .enumerate()
            .map(|(index, codec)| {
                let decoding = match codec {
                    ColumnCodec::Fixed(width) | ColumnCodec::Integer { width, .. } => {
                        Decoding::Fixed(*width, MutableBuffer::with_capacity(width * capacity))
                    }
                    ColumnCodec::Boolean => Decoding::Boolean(BooleanBufferBuilder::new(capacity)),
                    ColumnCodec::Bytes(_) => Decoding::Bytes {
                        offsets: {
                            let mut offsets = Vec::with_capacity(capacity + 1);
                            offsets.push(0);
                            offsets
                        },
                        values: Vec::with_capacity(room.bytes.get(index).copied().unwrap_or(0)),
                    },
                };
                (decoding, NullBufferBuilder::new(capacity))
            })
            .collect();
        DecodedRows::Compact { columns, count: 0 }
    }

    /// Appends `row`, stored by `codec` (the codec these rows are of).
    pub(super) fn push(&mut self, codec: &RowCodec, row: &[u8]) -> Result<()> {
        let (columns, count, codecs) = match (self, codec) {
            (DecodedRows::Arrow { bytes, ends }, _) => {
                bytes.extend_from_slice(row);
                ends.push(bytes.len());
                return Ok(());
            }
            (
                DecodedRows::Compact { columns, count },
                RowCodec::Compact {
                    columns: codecs, ..
                },
            ) => (columns, count, codecs),
            (DecodedRows::Compact { .. }, RowCodec::Arrow(_)) => {
                return Err(corrupt("decoded by another codec"));
            }
        };
        let bitmap = codecs.len().div_ceil(8);
        let nulls = row.get(..bitmap).ok_or_else(|| corrupt("no NULL bitmap"))?;
        let mut at = bitmap;
        for (index, ((decoding, valid), codec)) in columns.iter_mut().zip(codecs).enumerate() {
            let null = nulls[index / 8] & (1 << (index % 8)) != 0;
            valid.append(!null);
            match (decoding, codec) {
                (Decoding::Fixed(width, values), _) if null => values.extend_zeros(*width),
                (Decoding::Fixed(width, values), ColumnCodec::Fixed(_)) => {
                    values.extend_from_slice(take(row, &mut at, *width)?);
                }
                (Decoding::Fixed(width, values), ColumnCodec::Integer { base, .. }) => {
                    let base = base.ok_or_else(|| corrupt("an integer never stored"))?;
                    let value = unzigzag(read_varint(row, &mut at)?).wrapping_add(base);
                    values.extend_from_slice(&value.to_le_bytes()[..*width]);
                }
                (Decoding::Boolean(values), _) => {
                    values.append(!null && take(row, &mut at, 1)?[0] != 0);
                }
                (Decoding::Bytes { offsets, values }, ColumnCodec::Bytes(dictionary)) => {
                    if !null {
                        let varint = read_varint(row, &mut at)?;
                        let len = usize::try_from(varint >> 2)
                            .map_err(|_| corrupt("a length is too long"))?;
                        match (varint & 3, dictionary.code()) {
                            (NUMBERED, _) => {
                                let value = u32::try_from(len)
                                    .ok()
                                    .and_then(|number| dictionary.value(number))
                                    .ok_or_else(|| corrupt("a value the dictionary lacks"))?;
                                values.extend_from_slice(value);
                            }
                            (CODED, Some(code)) => {
                                at += code
                                    .read(&row[at..], len, values)
                                    .ok_or_else(|| corrupt("a value is cut short"))?;
                            }
                            (WHOLE, _) => values.extend_from_slice(take(row, &mut at, len)?),
                            _ => return Err(corrupt("a value stored in no known way")),
                        }
                    }
                    offsets.push(end_offset(values)?);
                }
                _ => return Err(corrupt("decoded by another codec")),
            }
        }
        if at != row.len() {
            return Err(corrupt("bytes after its last value"));
        }
        *count += 1;
        Ok(())
    }

    /// Appends row `row` of `columns` (of `codec`'s types, checked by it),
    /// its values copied as they are: a row being stored, not yet read back.
    pub(super) fn push_arrived(
        &mut self,
        codec: &RowCodec,
        columns: &ColumnsToStore,
        row: usize,
    ) -> Result<()> {
        let (decoded, count, to_store) = match (self, columns) {
            (decoded @ DecodedRows::Arrow { .. }, ColumnsToStore::Arrow(rows)) => {
                return decoded.push(codec, rows.row(row).data());
            }
            (
                DecodedRows::Compact { columns, count },
                ColumnsToStore::Compact {
                    columns: to_store, ..
                },
            ) => (columns, count, to_store),
            _ => return Err(corrupt("decoded by another codec")),
        };
        for ((decoding, valid), column) in decoded.iter_mut().zip(to_store) {
            let null = column.is_null(row);
            valid.append(!null);
            match decoding {
                Decoding::Fixed(width, decoded) => {
                    decoded.extend_from_slice(column.fixed(row, *width));
                }
                Decoding::Boolean(decoded) => {
                    decoded.append(!null && column.bit(row));
                }
                Decoding::Bytes {
                    offsets,
                    values: decoded,
                } => {
                    if !null {
                        decoded.extend_from_slice(column.bytes(row));
                    }
                    offsets.push(end_offset(decoded)?);
                }
            }
        }
        *count += 1;
        Ok(())
    }

    /// Room for a batch like this one: its rows and bytes so far, and an
    /// eighth more.
    pub(super) fn room_for_next(&self) -> Room {
        match self {
            DecodedRows::Compact { columns, count } => Room {
                rows: with_headroom(*count),
                bytes: columns
                    .iter()
                    .map(|(decoding, _)| match decoding {
                        Decoding::Bytes { values, .. } => with_headroom(values.len()),
                        _ => 0,
                    })
                    .collect(),
            },
            DecodedRows::Arrow { ends, .. } => Room::for_rows(with_headroom(ends.len())),
        }
    }

    /// The columns of the rows pushed, of `codec`'s types.
    pub(super) fn finish(self, codec: &RowCodec) -> Result<Vec<ArrayRef>> {
        let (columns, count, types) = match (self, codec) {
            (DecodedRows::Arrow { bytes, ends }, RowCodec::Arrow(converter)) => {
                let parser = converter.parser();
                let mut start = 0;
                let rows = ends.iter().map(|&end| {
                    let row = parser.parse(&bytes[start..end]);
                    start = end;
                    row
                });
                return converter.convert_rows(rows).map_err(arrow_error);
            }
            (DecodedRows::Compact { columns, count }, RowCodec::Compact { types, .. }) => {
                (columns, count, types)
            }
            _ => return Err(corrupt("decoded by another codec")),
        };
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

/// Where the string just appended to `values` ends.
fn end_offset(values: &[u8]) -> Result<i32> {
    i32::try_from(values.len()).map_err(|_| {
        RuntimeError::State("stored rows of over 2 GiB of strings in one batch".into())
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StructArray};
    use arrow_schema::{DataType, Field, Fields};

    use super::*;
    use crate::operators::stored_rows::Lookup;
    use crate::operators::stored_rows::tests::flat_columns;

    /// Rows of `columns` stored and read back, or copied as they arrive,
    /// by turns, come out as the columns were.
    fn decoded_by_turns(columns: &[ArrayRef]) -> Vec<ArrayRef> {
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let mut codec = RowCodec::new(&types, Lookup::Never).unwrap();
        let to_store = codec.columns_to_store(columns).unwrap();
        let mut decoded = DecodedRows::new(&codec, &Room::default());
        for row in 0..to_store.num_rows() {
            let mut bytes = Vec::new();
            codec.encode_row(&to_store, row, &mut bytes);
            if row % 2 == 0 {
                decoded.push_arrived(&codec, &to_store, row).unwrap();
            } else {
                decoded.push(&codec, &bytes).unwrap();
            }
        }
        decoded.finish(&codec).unwrap()
    }

    #[test]
    fn rows_decoded_and_rows_copied_make_one_batch_in_their_order() {
        let columns = flat_columns();
        assert_eq!(decoded_by_turns(&columns), columns);
        // Sliced arrays (a boolean's first bit, offsets) copy from their start.
        let sliced: Vec<ArrayRef> = columns.iter().map(|c| c.slice(1, 3)).collect();
        assert_eq!(decoded_by_turns(&sliced), sliced);
        // Columns arrow's row format keeps (a ROW) go through it.
        let fields = Fields::from(vec![Field::new("x", DataType::Int64, true)]);
        let inner: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let nested: Vec<ArrayRef> = vec![
            Arc::new(StructArray::new(fields, vec![inner], None)),
            Arc::new(Int64Array::from(vec![7, 8, 9])),
        ];
        assert_eq!(decoded_by_turns(&nested), nested);
    }

    #[test]
    fn the_next_batch_has_room_for_as_many_rows_and_bytes_and_an_eighth_more() {
        let columns = flat_columns();
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let codec = RowCodec::new(&types, Lookup::Never).unwrap();
        let to_store = codec.columns_to_store(&columns).unwrap();
        let mut decoded = DecodedRows::new(&codec, &Room::default());
        for _ in 0..100 {
            for row in 0..to_store.num_rows() {
                decoded.push_arrived(&codec, &to_store, row).unwrap();
            }
        }
        let room = decoded.room_for_next();
        assert_eq!(room.rows(), 450);
        let next = DecodedRows::new(&codec, &room);
        let DecodedRows::Compact { columns: built, .. } = &next else {
            panic!("flat columns decode compactly");
        };
        // The string column's 202 bytes a batch of four, a hundred times.
        match &built[1].0 {
            Decoding::Bytes { offsets, values } => {
                assert!(values.capacity() >= 20_200 + 20_200 / 8);
                assert!(offsets.capacity() > 450);
            }
            _ => panic!("the second column holds strings"),
        }
        match &built[0].0 {
            Decoding::Fixed(8, values) => assert!(values.capacity() >= 8 * 450),
            _ => panic!("the first column holds BIGINTs"),
        }
    }

    #[test]
    fn a_row_of_another_codec_is_an_error_not_a_panic() {
        let compact = RowCodec::new(&[DataType::Int64], Lookup::Never).unwrap();
        let mut decoded = DecodedRows::new(&compact, &Room::for_rows(1));
        assert!(decoded.push(&compact, &[]).is_err(), "no NULL bitmap");
        assert!(
            decoded.push(&compact, &[0, 0, 0]).is_err(),
            "a value never stored"
        );
        let nested = DataType::Struct(Fields::from(vec![Field::new("x", DataType::Int64, true)]));
        let arrow = RowCodec::new(&[nested], Lookup::Never).unwrap();
        assert!(decoded.push(&arrow, &[0]).is_err());
        assert!(
            DecodedRows::new(&arrow, &Room::default())
                .finish(&compact)
                .is_err()
        );
    }
}
