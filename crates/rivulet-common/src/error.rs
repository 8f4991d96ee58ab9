//! The error type of the common crate.

/// Errors raised while reading configuration or parsing ids.
#[derive(Debug, thiserror::Error)]
pub enum CommonError {
    #[error("Cannot parse id from value \"{0}\": expected 32 lower-case hex characters")]
    InvalidId(String),
    #[error("Could not read configuration file {path}: {source}")]
    ConfigRead {
        path: String,
        source: std::io::Error,
    },
    #[error("Could not parse configuration file {path}: {message}")]
    ConfigParse { path: String, message: String },
    #[error("Invalid dynamic property '{0}': expected key=value")]
    DynamicProperty(String),
    #[error("Could not parse value '{value}' of configuration key '{key}': {reason}")]
    ConfigValue {
        key: String,
        value: String,
        reason: String,
    },
}
