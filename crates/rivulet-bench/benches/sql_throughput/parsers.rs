//! The decoders alone: the runtime's csv and JSON-lines readers over the
//! benchmark's files, with no cluster, no operators and no sink, plus
//! plainly reading the file's bytes for the disk/page-cache ceiling.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema};
use rivulet_runtime::formats::csv_decode::{CsvDecoding, CsvFileReader};
use rivulet_runtime::formats::json_decode::{JsonDecoding, JsonLinesReader};
use rivulet_runtime::operators::nexmark_schema;

use rivulet_bench::measure::{Figures, Stopwatch};

/// The batch size the filesystem source reads with.
const BATCH_SIZE: usize = 8192;

/// The bid row of the Nexmark table: the same columns as the bids csv.
fn bid_fields() -> Fields {
    match nexmark_schema()
        .field_with_name("bid")
        .map(|f| f.data_type().clone())
    {
        Ok(DataType::Struct(fields)) => fields,
        other => panic!("the nexmark schema has a bid row: {other:?}"),
    }
}

/// Reads the file's bytes through a 1 MiB buffer and nothing else.
pub fn read_bytes(case: &str, path: &Path, rows: u64) -> Figures {
    let watch = Stopwatch::start();
    let mut file = std::fs::File::open(path).unwrap();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        bytes += n as u64;
    }
    watch.stop(case, rows, &format!("{:.2} GB read", bytes as f64 / 1e9))
}

/// The csv reader over the bids file, every column.
pub fn csv(path: &Path) -> Figures {
    let schema = Arc::new(Schema::new(bid_fields()));
    let decoding = CsvDecoding {
        field_delimiter: ',',
        ..Default::default()
    };
    let watch = Stopwatch::start();
    let reader = CsvFileReader::open(path, 7, (0..7).collect(), schema, decoding, BATCH_SIZE);
    let rows = reader
        .unwrap()
        .map(|batch| batch.unwrap().num_rows() as u64)
        .sum();
    watch.stop("csv-parse", rows, "CsvFileReader, 7 columns")
}

/// The JSON-lines reader over the Nexmark file, with the columns q0 reads
/// (`event_type` and the `bid` row), as the filesystem source asks for them.
pub fn json(path: &Path) -> Figures {
    let schema = Arc::new(Schema::new(vec![
        Field::new("event_type", DataType::Int32, true),
        Field::new("bid", DataType::Struct(bid_fields()), true),
    ]));
    let watch = Stopwatch::start();
    let reader = JsonLinesReader::open(path, schema, JsonDecoding::default(), BATCH_SIZE);
    let rows = reader
        .unwrap()
        .map(|batch| batch.unwrap().num_rows() as u64)
        .sum();
    watch.stop("json-parse", rows, "JsonLinesReader, event_type + bid")
}
