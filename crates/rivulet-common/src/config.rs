//! Configuration with Flink's option keys and defaults.
//!
//! A [`Configuration`] holds the values that were set explicitly (from a YAML file,
//! `-D key=value` flags or command-line options). Typed [`ConfigOption`]s carry
//! Flink's key and default, so code reads `config.get(&options::REST_PORT)` and gets
//! the set value or the default. [`Configuration::effective_entries`] lists what is
//! in effect, which is what `/jobmanager/config` shows.

use std::collections::BTreeMap;
use std::path::Path;

use crate::CommonError;

/// How a typed option is parsed from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Integer,
    Boolean,
    Text,
    /// A duration: plain milliseconds or `<n> <unit>` with ms, s, min, h, d.
    DurationMillis,
}

/// One configuration option: Flink's key, its default as text, and its kind.
#[derive(Debug, Clone, Copy)]
pub struct ConfigOption {
    pub key: &'static str,
    pub default: &'static str,
    pub kind: OptionKind,
}

/// The options Rivulet understands, with Flink's keys and defaults.
pub mod options {
    use super::{ConfigOption, OptionKind::*};

    macro_rules! option {
        ($name:ident, $key:expr, $default:expr, $kind:expr) => {
            pub const $name: ConfigOption = ConfigOption {
                key: $key,
                default: $default,
                kind: $kind,
            };
        };
    }

    option!(REST_PORT, "rest.port", "8081", Integer);
    option!(REST_ADDRESS, "rest.address", "127.0.0.1", Text);
    option!(REST_BIND_ADDRESS, "rest.bind-address", "", Text);
    option!(
        REST_MAX_CONTENT_LENGTH,
        "rest.server.max-content-length",
        "104857600",
        Integer
    );
    option!(TASK_SLOTS, "taskmanager.numberOfTaskSlots", "1", Integer);
    option!(
        NUMBER_OF_TASKMANAGERS,
        "minicluster.number-of-taskmanagers",
        "1",
        Integer
    );
    option!(PARALLELISM_DEFAULT, "parallelism.default", "1", Integer);
    option!(MAX_PARALLELISM, "pipeline.max-parallelism", "-1", Integer);
    option!(
        HEARTBEAT_INTERVAL,
        "heartbeat.interval",
        "10000",
        DurationMillis
    );
    option!(
        HEARTBEAT_TIMEOUT,
        "heartbeat.timeout",
        "50000",
        DurationMillis
    );
    option!(
        SLOT_REQUEST_TIMEOUT,
        "slot.request.timeout",
        "300000",
        DurationMillis
    );
    option!(
        JOBSTORE_MAX_CAPACITY,
        "jobstore.max-capacity",
        "2147483647",
        Integer
    );
    option!(
        WEB_REFRESH_INTERVAL,
        "web.refresh-interval",
        "3000",
        DurationMillis
    );
    option!(WEB_SUBMIT_ENABLE, "web.submit.enable", "true", Boolean);
    option!(WEB_CANCEL_ENABLE, "web.cancel.enable", "true", Boolean);
    option!(WEB_RESCALE_ENABLE, "web.rescale.enable", "false", Boolean);
    // Where uploaded job packages live. Both default to nothing set: the
    // packages then go to a fresh directory under the system's temp dir,
    // removed at shutdown, as Flink does under `java.io.tmpdir`. They are
    // not in [`ALL`] because they have no fixed default to show.
    option!(WEB_UPLOAD_DIR, "web.upload.dir", "", Text);
    option!(WEB_TMP_DIR, "web.tmpdir", "", Text);
    option!(
        CLIENT_HEARTBEAT_TIMEOUT,
        "client.heartbeat.timeout",
        "180000",
        DurationMillis
    );
    option!(
        NETWORK_BUFFERS_PER_CHANNEL,
        "taskmanager.network.memory.buffers-per-channel",
        "2",
        Integer
    );

    /// Every option above, for listing what is in effect.
    pub const ALL: &[ConfigOption] = &[
        REST_PORT,
        REST_ADDRESS,
        REST_MAX_CONTENT_LENGTH,
        TASK_SLOTS,
        NUMBER_OF_TASKMANAGERS,
        PARALLELISM_DEFAULT,
        MAX_PARALLELISM,
        HEARTBEAT_INTERVAL,
        HEARTBEAT_TIMEOUT,
        SLOT_REQUEST_TIMEOUT,
        JOBSTORE_MAX_CAPACITY,
        WEB_REFRESH_INTERVAL,
        WEB_SUBMIT_ENABLE,
        WEB_CANCEL_ENABLE,
        WEB_RESCALE_ENABLE,
        CLIENT_HEARTBEAT_TIMEOUT,
        NETWORK_BUFFERS_PER_CHANNEL,
    ];
}

/// Explicitly set configuration values, keyed by Flink option key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Configuration {
    values: BTreeMap<String, String>,
}

impl Configuration {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a Flink `config.yaml`: nested maps are flattened with `.`, so both
    /// `rest: {port: 8081}` and `rest.port: 8081` set `rest.port`.
    pub fn from_yaml_file(path: &Path) -> Result<Self, CommonError> {
        let text = std::fs::read_to_string(path).map_err(|source| CommonError::ConfigRead {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml_str(&text).map_err(|message| CommonError::ConfigParse {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn from_yaml_str(text: &str) -> Result<Self, String> {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let mut config = Configuration::new();
        match doc {
            serde_yaml::Value::Null => {}
            serde_yaml::Value::Mapping(_) => flatten_yaml("", &doc, &mut config.values)?,
            _ => return Err("the top level must be a mapping of keys to values".into()),
        }
        Ok(config)
    }

    /// Applies one `key=value` dynamic property (the `-D` flag).
    pub fn apply_dynamic_property(&mut self, property: &str) -> Result<(), CommonError> {
        let (key, value) = property
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| CommonError::DynamicProperty(property.to_string()))?;
        self.set(key.trim(), value.trim());
        Ok(())
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    pub fn get_raw(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    fn raw_or_default(&self, option: &ConfigOption) -> &str {
        self.get_raw(option.key).unwrap_or(option.default)
    }

    pub fn get_i64(&self, option: &ConfigOption) -> Result<i64, CommonError> {
        let value = self.raw_or_default(option);
        value.trim().parse().map_err(|_| CommonError::ConfigValue {
            key: option.key.into(),
            value: value.into(),
            reason: "not an integer".into(),
        })
    }

    pub fn get_bool(&self, option: &ConfigOption) -> Result<bool, CommonError> {
        let value = self.raw_or_default(option);
        parse_bool(value).map_err(|reason| CommonError::ConfigValue {
            key: option.key.into(),
            value: value.into(),
            reason,
        })
    }

    pub fn get_text(&self, option: &ConfigOption) -> String {
        self.raw_or_default(option).to_string()
    }

    pub fn get_duration_millis(&self, option: &ConfigOption) -> Result<u64, CommonError> {
        let value = self.raw_or_default(option);
        parse_duration_millis(value).map_err(|reason| CommonError::ConfigValue {
            key: option.key.into(),
            value: value.into(),
            reason,
        })
    }

    /// Checks every known option that is set explicitly parses as its kind.
    pub fn validate(&self) -> Result<(), CommonError> {
        for option in options::ALL {
            if !self.contains(option.key) {
                continue;
            }
            match option.kind {
                OptionKind::Integer => self.get_i64(option).map(drop)?,
                OptionKind::Boolean => self.get_bool(option).map(drop)?,
                OptionKind::DurationMillis => self.get_duration_millis(option).map(drop)?,
                OptionKind::Text => {}
            }
        }
        Ok(())
    }

    /// What is in effect: every explicitly set key, plus the defaults of the
    /// options Rivulet understands, sorted by key.
    pub fn effective_entries(&self) -> Vec<(String, String)> {
        let mut merged: BTreeMap<String, String> = options::ALL
            .iter()
            .map(|o| (o.key.to_string(), o.default.to_string()))
            .collect();
        for (k, v) in &self.values {
            merged.insert(k.clone(), v.clone());
        }
        merged.into_iter().collect()
    }
}

fn flatten_yaml(
    prefix: &str,
    value: &serde_yaml::Value,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    use serde_yaml::Value;
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let key = match k {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported key {other:?}")),
                };
                let full = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_yaml(&full, v, out)?;
            }
        }
        Value::Sequence(items) => {
            let parts: Result<Vec<String>, String> = items.iter().map(scalar_text).collect();
            out.insert(prefix.to_string(), parts?.join(";"));
        }
        scalar => {
            out.insert(prefix.to_string(), scalar_text(scalar)?);
        }
    }
    Ok(())
}

fn scalar_text(value: &serde_yaml::Value) -> Result<String, String> {
    use serde_yaml::Value;
    match value {
        Value::Null => Ok(String::new()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("unsupported value {other:?}")),
    }
}

/// Parses a boolean as Flink does: `true` or `false`, in any case.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("not a boolean".into()),
    }
}

/// Parses Flink's duration syntax: `500`, `500 ms`, `10 s`, `5 min`, `1 h`, `2 d`.
pub fn parse_duration_millis(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a number"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        other => return Err(format!("unknown time unit '{other}'")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("'{text}' overflows"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_flat_yaml_keys_are_the_same_option() {
        let config =
            Configuration::from_yaml_str("rest:\n  port: 9091\ntaskmanager.numberOfTaskSlots: 4\n")
                .unwrap();
        assert_eq!(config.get_i64(&options::REST_PORT).unwrap(), 9091);
        assert_eq!(config.get_i64(&options::TASK_SLOTS).unwrap(), 4);
        assert_eq!(config.get_i64(&options::PARALLELISM_DEFAULT).unwrap(), 1);
    }

    #[test]
    fn dynamic_properties_override_and_reject_garbage() {
        let mut config = Configuration::new();
        config
            .apply_dynamic_property("heartbeat.timeout=2 s")
            .unwrap();
        assert_eq!(
            config
                .get_duration_millis(&options::HEARTBEAT_TIMEOUT)
                .unwrap(),
            2000
        );
        assert!(config.apply_dynamic_property("novalue").is_err());
        config.set("rest.port", "eighty");
        assert!(config.validate().is_err());
    }

    #[test]
    fn durations_follow_flink_syntax() {
        assert_eq!(parse_duration_millis("500").unwrap(), 500);
        assert_eq!(parse_duration_millis("10 s").unwrap(), 10_000);
        assert_eq!(parse_duration_millis("5min").unwrap(), 300_000);
        assert!(parse_duration_millis("soon").is_err());
        assert!(parse_duration_millis("3 fortnights").is_err());
    }
}
