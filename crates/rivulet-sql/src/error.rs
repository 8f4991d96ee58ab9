//! The error type of the SQL crate: every error names the statement and the
//! line and column in the script where the problem is.

/// A problem with a SQL script; nothing was submitted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SqlError {
    #[error(
        "SQL parse error at line {line}, column {column}: {message}\nin statement: {statement}"
    )]
    Parse {
        message: String,
        statement: String,
        line: usize,
        column: usize,
    },
    #[error(
        "SQL validation error at line {line}, column {column}: {message}\nin statement: {statement}"
    )]
    Plan {
        message: String,
        statement: String,
        line: usize,
        column: usize,
    },
    /// A job package that cannot be read, or an entry it does not hold.
    #[error("{0}")]
    Package(String),
    #[error("The script has no INSERT statement, so there is no job to run.")]
    NoJob,
}
