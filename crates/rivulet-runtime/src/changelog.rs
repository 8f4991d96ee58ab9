//! Changelog streams: the rows of an updating result (an unbounded GROUP BY)
//! carry Flink's row kind in a hidden column, [`ROW_KIND_COLUMN`], so that
//! batches stay plain Arrow. Sinks that take updates (`print`, `blackhole`)
//! read it; append-only sinks are refused at planning.

/// The hidden column of a changelog stream: [`RowKind`] as its byte value.
pub const ROW_KIND_COLUMN: &str = "$row_kind";

/// Flink's `RowKind`, with its byte values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum RowKind {
    Insert = 0,
    UpdateBefore = 1,
    UpdateAfter = 2,
    Delete = 3,
}

impl RowKind {
    pub fn from_byte(value: i8) -> Option<RowKind> {
        match value {
            0 => Some(RowKind::Insert),
            1 => Some(RowKind::UpdateBefore),
            2 => Some(RowKind::UpdateAfter),
            3 => Some(RowKind::Delete),
            _ => None,
        }
    }

    /// Whether a row of this kind takes back (`-U`, `-D`) what a row of
    /// the same values added (`+I`, `+U`).
    pub fn retracts(self) -> bool {
        matches!(self, RowKind::UpdateBefore | RowKind::Delete)
    }

    /// `+I`, `-U`, `+U` or `-D`, as Flink prints it.
    pub fn short_string(self) -> &'static str {
        match self {
            RowKind::Insert => "+I",
            RowKind::UpdateBefore => "-U",
            RowKind::UpdateAfter => "+U",
            RowKind::Delete => "-D",
        }
    }
}

/// The kind of each row of `batch`, read from its row kind column at
/// `column`; every row is an insert when it has none.
pub fn row_kinds(
    batch: &arrow_array::RecordBatch,
    column: Option<usize>,
) -> Result<Vec<RowKind>, String> {
    let Some(column) = column else {
        return Ok(vec![RowKind::Insert; batch.num_rows()]);
    };
    let kinds = batch
        .column(column)
        .as_any()
        .downcast_ref::<arrow_array::Int8Array>()
        .ok_or("the row kind column is not TINYINT")?;
    kinds
        .values()
        .iter()
        .map(|&byte| RowKind::from_byte(byte).ok_or_else(|| format!("unknown row kind {byte}")))
        .collect()
}
