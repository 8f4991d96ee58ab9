//! `/jars`: uploaded job packages, their plans and runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /jars`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JarListInfo {
    /// The REST endpoint's own address, `http://host:port`.
    pub address: String,
    pub files: Vec<JarFileInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JarFileInfo {
    /// `<uuid>_<name>`, the last segment of the upload's `filename`.
    pub id: String,
    pub name: String,
    /// When it was uploaded, epoch millis.
    pub uploaded: i64,
    pub entry: Vec<JarEntryInfo>,
}

/// One runnable entry of a package (Flink: a main class; Rivulet: a script).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JarEntryInfo {
    pub name: String,
    pub description: Option<String>,
}

/// `POST /jars/upload`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JarUploadResponse {
    /// The absolute path the package was stored at.
    pub filename: String,
    pub status: String,
}

/// The body of `POST /jars/{id}/plan` and `POST /jars/{id}/run`; every field
/// is optional and wins over the query parameter of the same meaning.
/// Fields only `run` knows are refused by `plan`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JarRequest {
    pub entry_class: Option<String>,
    /// Deprecated in Flink: one string, split at spaces (quotes group).
    pub program_args: Option<String>,
    pub program_args_list: Option<Vec<String>>,
    pub parallelism: Option<i64>,
    pub job_id: Option<String>,
    pub flink_configuration: Option<BTreeMap<String, String>>,
    pub allow_non_restored_state: Option<bool>,
    pub savepoint_path: Option<String>,
    pub claim_mode: Option<String>,
    pub restore_mode: Option<String>,
}

/// `POST /jars/{id}/run`. Flink 2.3 runs each jar as an application whose
/// id is the job's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JarRunResponse {
    pub jobid: String,
    pub application_id: String,
}
