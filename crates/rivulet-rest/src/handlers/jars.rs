//! `/jars`: upload, list, delete, plan and run job packages (Flink's web
//! submission). A package's entry is a SQL script; running it plans the
//! script with the program arguments as `${name}` parameters and submits the
//! job graph to the Dispatcher, exactly as `POST /jobs` does.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use rivulet_common::JobId;
use rivulet_rest_api::EmptyResponse;
use rivulet_rest_api::jars::{
    JarEntryInfo, JarFileInfo, JarListInfo, JarRequest, JarRunResponse, JarUploadResponse,
};
use rivulet_rest_api::jobs::JobPlanInfo;
use rivulet_runtime::job_graph::{JobGraph, JobGraphSpec};
use rivulet_sql::package::parameters_from_args;

use super::ok;
use super::submit::{default_parallelism, multipart_error};
use crate::convert;
use crate::error::{RestError, RestResult};
use crate::jar_store::JarStore;
use crate::{RestState, params};

fn store(state: &RestState) -> Result<&Arc<JarStore>, RestError> {
    // The routes exist only with a store; this is the fallback if not.
    state
        .jars
        .as_ref()
        .ok_or_else(|| RestError::not_found("Web submission is disabled (web.submit.enable)."))
}

pub async fn list(State(state): State<RestState>) -> RestResult {
    let store = store(&state)?;
    let files = store
        .list()?
        .into_iter()
        .map(|jar| {
            // A package that no longer reads still shows, with no entries.
            let entry = store
                .read(&jar)
                .map(|package| {
                    package
                        .entries()
                        .into_iter()
                        .map(|name| JarEntryInfo {
                            name: name.to_string(),
                            description: None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            JarFileInfo {
                id: jar.id,
                name: jar.name,
                uploaded: jar.uploaded,
                entry,
            }
        })
        .collect();
    Ok(ok(&JarListInfo {
        address: state.address.to_string(),
        files,
    }))
}

pub async fn upload(State(state): State<RestState>, mut multipart: Multipart) -> RestResult {
    let store = store(&state)?;
    let mut files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if let Some(file_name) = field.file_name().map(str::to_string) {
            let bytes = field.bytes().await.map_err(multipart_error)?;
            files.push((file_name, bytes));
        }
    }
    let [(file_name, bytes)] = files.as_slice() else {
        return Err(RestError::bad_request(format!(
            "Exactly 1 file must be sent, received {}.",
            files.len()
        )));
    };
    let path = store.save(file_name, bytes)?;
    Ok(ok(&JarUploadResponse {
        filename: path.display().to_string(),
        status: "success".into(),
    }))
}

pub async fn delete(State(state): State<RestState>, Path(id): Path<String>) -> RestResult {
    let store = store(&state)?;
    if !store.delete(&id)? {
        return Err(RestError::bad_request(format!(
            "File {id} does not exist in {}.",
            store.dir().display()
        )));
    }
    Ok(ok(&EmptyResponse {}))
}

/// `GET` and `POST /jars/{id}/plan`: the job's plan, without running it.
pub async fn plan(
    State(state): State<RestState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> RestResult {
    let request = parse_body(&body, "JarPlanRequestBody")?;
    if request.savepoint_path.is_some()
        || request.allow_non_restored_state.is_some()
        || request.claim_mode.is_some()
        || request.restore_mode.is_some()
    {
        return Err(RestError::bad_body("JarPlanRequestBody"));
    }
    let spec = plan_entry(&state, &id, &query, &request).await?;
    let graph = JobGraph::from_spec(spec, default_parallelism(&state)?)
        .map_err(|e| RestError::bad_request(e.to_string()))?;
    Ok(ok(&JobPlanInfo {
        plan: convert::plan_of_graph(&graph),
    }))
}

/// `POST /jars/{id}/run`: plans the entry and submits the job.
pub async fn run(
    State(state): State<RestState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> RestResult {
    let request = parse_body(&body, "JarRunRequestBody")?;
    refuse_restore(&request, &query)?;
    let spec = plan_entry(&state, &id, &query, &request).await?;
    let job_id = state.dispatcher.submit_job_spec(spec).await?;
    // Flink 2.3 runs a one-job jar as an application with the job's id.
    Ok(ok(&JarRunResponse {
        jobid: job_id.to_string(),
        application_id: job_id.to_string(),
    }))
}

fn parse_body(body: &Bytes, body_class: &str) -> Result<JarRequest, RestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(JarRequest::default());
    }
    serde_json::from_slice(body).map_err(|_| RestError::bad_body(body_class))
}

/// Restoring needs checkpoints, which Rivulet does not have yet: a request to
/// restore is refused rather than run from scratch.
fn refuse_restore(request: &JarRequest, query: &HashMap<String, String>) -> Result<(), RestError> {
    let savepoint = request
        .savepoint_path
        .clone()
        .or_else(|| query.get("savepointPath").cloned())
        .filter(|p| !p.trim().is_empty());
    if let Some(path) = savepoint {
        return Err(RestError::bad_request(format!(
            "Cannot restore from savepoint '{path}': Rivulet does not take or restore savepoints yet. The job was not submitted."
        )));
    }
    let allow_non_restored = match request.allow_non_restored_state {
        Some(value) => value,
        None => params::query::<bool>(query, "allowNonRestoredState")?.unwrap_or(false),
    };
    if allow_non_restored {
        return Err(RestError::bad_request(
            "allowNonRestoredState applies only when restoring from a savepoint, and Rivulet does not restore savepoints yet. The job was not submitted.",
        ));
    }
    for mode in [&request.claim_mode, &request.restore_mode]
        .into_iter()
        .flatten()
    {
        if !matches!(mode.as_str(), "CLAIM" | "NO_CLAIM" | "LEGACY") {
            return Err(RestError::bad_body("JarRunRequestBody"));
        }
    }
    Ok(())
}

/// Reads the package, picks the entry and plans it with the request's
/// arguments. Body fields win over query parameters, as in Flink.
async fn plan_entry(
    state: &RestState,
    id: &str,
    query: &HashMap<String, String>,
    request: &JarRequest,
) -> Result<JobGraphSpec, RestError> {
    let store = store(state)?;
    let jar = store.find(id).ok_or_else(|| {
        RestError::internal(format!(
            "Jar file {} does not exist",
            store.path_for(id).display()
        ))
    })?;
    let entry = request
        .entry_class
        .clone()
        .or_else(|| query.get("entry-class").cloned())
        .filter(|e| !e.trim().is_empty());
    let parallelism = match request.parallelism {
        Some(p) => Some(p),
        None => params::query::<i64>(query, "parallelism")?,
    }
    // Flink treats zero or less as "not set".
    .filter(|p| *p > 0)
    .map(|p| {
        u32::try_from(p)
            .map_err(|_| RestError::bad_request(format!("parallelism {p} is too large")))
    })
    .transpose()?;
    let job_id = request
        .job_id
        .as_deref()
        .map(|id| {
            id.parse::<JobId>().map_err(|_| {
                RestError::bad_request(format!("jobId '{id}' is not a job id (32 hex digits)."))
            })
        })
        .transpose()?;
    let args = program_args(request, query);
    let parameters =
        parameters_from_args(&args).map_err(|e| RestError::bad_request(e.to_string()))?;
    let package = store.read(&jar)?;
    let script = package
        .script(entry.as_deref())
        .map_err(|e| RestError::bad_request(e.to_string()))?;
    let options = rivulet_sql::PlanOptions {
        default_parallelism: default_parallelism(state)?,
        parallelism,
        parameters,
        config: request.flink_configuration.clone().unwrap_or_default(),
    };
    let mut spec = rivulet_sql::plan_script(&script.text, &options)
        .await
        .map_err(|e| RestError::bad_request(format!("{}: {e}", script.name)))?;
    if job_id.is_some() {
        spec.job_id = job_id;
    }
    Ok(spec)
}

/// `programArgsList` wins, then the deprecated `programArgs` string, then
/// the `programArg` query parameter (a comma-separated list).
fn program_args(request: &JarRequest, query: &HashMap<String, String>) -> Vec<String> {
    if let Some(list) = &request.program_args_list {
        return list.clone();
    }
    if let Some(args) = &request.program_args {
        return tokenize(args);
    }
    query
        .get("programArg")
        .map(|args| args.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

/// Splits at whitespace; single or double quotes group, as Flink's
/// `programArgs` tokenizer does.
fn tokenize(args: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_token = false;
    for c in args.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_token = true;
            }
            None if c.is_whitespace() => {
                if in_token {
                    tokens.push(std::mem::take(&mut current));
                    in_token = false;
                }
            }
            None => {
                current.push(c);
                in_token = true;
            }
        }
    }
    if in_token {
        tokens.push(current);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    #[test]
    fn quoted_program_arguments_stay_together() {
        assert_eq!(
            tokenize(r#"--name 'a b' --path "/x y"  plain ''"#),
            ["--name", "a b", "--path", "/x y", "plain", ""]
        );
    }
}
