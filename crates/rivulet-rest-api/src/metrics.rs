//! Metric bodies: Flink answers metric queries with a bare JSON array of
//! `{"id": …, "value": …}`, values as strings, `value` left out when only
//! the available ids are listed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metric {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}
