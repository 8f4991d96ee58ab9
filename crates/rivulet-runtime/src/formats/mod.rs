//! Flink's file formats (`csv`, `json`, `parquet`): how rows are read from
//! and written to files, value by value the way Flink writes them, plus the
//! `print` connector's row text.
//!
//! Readers turn one file into Arrow batches of the table's schema; encoders
//! turn batches into text. [`cell`] reads one Arrow value as a Flink value,
//! [`text`] holds Java's and Flink's ways of writing scalars.

pub mod cell;
pub mod csv_columns;
pub mod csv_decode;
pub mod csv_encode;
pub mod csv_records;
pub mod json_columns;
pub mod json_decode;
pub mod json_encode;
pub mod json_scan;
pub mod parquet;
pub mod parquet_pages;
mod parquet_statistics;
pub mod part_file;
pub mod row_string;
pub mod scalar_column;
mod snappy_blocks;
mod string_stops;
mod swar;
pub mod text;
pub mod timestamp_column;
