//! Flink's file formats: how rows are written to files, value by value the
//! way Flink writes them, plus the `print` connector's row text.
//!
//! Encoders turn batches into text. [`cell`] reads one Arrow value as a
//! Flink value, [`text`] holds Java's and Flink's ways of writing scalars.

pub mod cell;
pub mod csv_encode;
pub mod row_string;
pub mod text;
