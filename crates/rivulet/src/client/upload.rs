//! A script or package uploaded for one command and deleted after it: the
//! cluster plans and runs only what is in `/jars`.

use std::path::Path;

use anyhow::Context;
use rivulet_rest_api::jars::JarUploadResponse;
use serde_json::Value;

use super::RestClient;

pub struct UploadedPackage {
    pub id: String,
}

impl UploadedPackage {
    /// Uploads `bytes` under `file_name`; a name that is neither `.jar` nor
    /// `.sql` is taken as a SQL script, as `POST /jobs` takes it.
    pub async fn upload(
        client: &RestClient,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<UploadedPackage> {
        let upload_name = if rivulet_sql::package::is_package_name(file_name) {
            file_name.to_string()
        } else {
            format!("{file_name}.sql")
        };
        let upload: JarUploadResponse = client
            .post_multipart("/jars/upload", &[], vec![("jarfile", upload_name, bytes)])
            .await
            .context("could not upload the job (is web.submit.enable off on the cluster?)")?;
        let id = upload
            .filename
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .to_string();
        Ok(UploadedPackage { id })
    }

    /// Deletes the upload; a failure is only worth a warning.
    pub async fn discard(self, client: &RestClient) {
        let deleted: anyhow::Result<Value> = client.delete(&format!("/jars/{}", self.id)).await;
        if let Err(e) = deleted {
            tracing::warn!(error = %e, jar = %self.id, "could not delete the uploaded package");
        }
    }
}

/// Reads a file and its name for upload.
pub fn read_job_file(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "job.sql".into());
    Ok((file_name, bytes))
}
