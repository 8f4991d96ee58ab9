//! The benchmarked SQL jobs, run with [`rivulet_bench::cluster::Bench`].

use std::path::Path;

/// (a) datagen → projection and filter → blackhole.
pub fn datagen_script(rows: u64) -> String {
    format!(
        "CREATE TABLE src (id BIGINT, price BIGINT, bidder BIGINT) WITH (
  'connector' = 'datagen', 'number-of-rows' = '{rows}', 'rows-per-second' = '1000000000000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '{rows}',
  'fields.price.min' = '1', 'fields.price.max' = '1000',
  'fields.bidder.min' = '1', 'fields.bidder.max' = '100000');
CREATE TABLE out (id BIGINT, bidder BIGINT, cents BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id, bidder, price * 100 FROM src WHERE price > 500;"
    )
}

const BIDS_COLUMNS: &str = "auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, \
    url STRING, dateTime TIMESTAMP(3), extra STRING";

/// (b) csv → filter (about 10% pass) → csv.
pub fn csv_script(input: &Path, output: &Path) -> String {
    format!(
        "CREATE TABLE bids ({BIDS_COLUMNS}) WITH (
  'connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');
CREATE TABLE out ({BIDS_COLUMNS}) WITH (
  'connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');
INSERT INTO out SELECT * FROM bids WHERE price > 90000;",
        input.display(),
        output.display()
    )
}

/// Flink Nexmark's source table over JSON lines (without the computed
/// `dateTime` and its watermark, which Nexmark's q0 does not read).
fn nexmark_table(input: &Path) -> String {
    format!(
        "CREATE TABLE nexmark (
  event_type INT,
  person ROW<id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING,
    state STRING, dateTime TIMESTAMP(3), extra STRING>,
  auction ROW<id BIGINT, itemName STRING, description STRING, initialBid BIGINT,
    reserve BIGINT, dateTime TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT,
    category BIGINT, extra STRING>,
  bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING,
    dateTime TIMESTAMP(3), extra STRING>
) WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'json');",
        input.display()
    )
}

/// Nexmark q0: the bids' columns, as its `bid` view projects them.
const Q0_COLUMNS: &str =
    "auction BIGINT, bidder BIGINT, price BIGINT, dateTime TIMESTAMP(3), extra STRING";
const Q0: &str = "INSERT INTO q0 SELECT bid.auction, bid.bidder, bid.price, bid.dateTime, \
    bid.extra FROM nexmark WHERE event_type = 2;";

/// (c) JSON lines → Nexmark q0's projection → parquet.
pub fn json_script(input: &Path, output: &Path) -> String {
    format!(
        "{}\nCREATE TABLE q0 ({Q0_COLUMNS}) WITH (
  'connector' = 'filesystem', 'path' = '{}', 'format' = 'parquet');\n{Q0}",
        nexmark_table(input),
        output.display()
    )
}

/// Nexmark q0 exactly as Flink's figure runs it: into a blackhole.
pub fn json_blackhole_script(input: &Path) -> String {
    format!(
        "{}\nCREATE TABLE q0 ({Q0_COLUMNS}) WITH ('connector' = 'blackhole');\n{Q0}",
        nexmark_table(input)
    )
}
