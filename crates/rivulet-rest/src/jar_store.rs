//! The directory of uploaded job packages, as Flink keeps its jars.
//!
//! Packages live in `<web.upload.dir>/flink-web-upload/` as `<uuid>_<name>`;
//! without `web.upload.dir`, in a fresh `rivulet-web-<uuid>` directory under
//! `web.tmpdir` (default: the system's temp dir) that is removed when the
//! store is dropped. An upload is written under a hidden temporary name and
//! renamed into place only when complete, so a failed upload leaves nothing
//! a listing or a run could see.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use rivulet_common::Configuration;
use rivulet_common::config::options;
use rivulet_sql::JobPackage;
use rivulet_sql::package::is_package_name;

use crate::error::RestError;

/// One stored package.
pub struct StoredJar {
    pub id: String,
    pub name: String,
    /// Modification time, epoch millis.
    pub uploaded: i64,
    pub path: PathBuf,
}

pub struct JarStore {
    dir: PathBuf,
    /// The directory this store created and removes when dropped.
    owned_root: Option<PathBuf>,
}

impl JarStore {
    /// Opens (and creates) the upload directory the configuration names.
    pub fn open(config: &Configuration) -> std::io::Result<JarStore> {
        let upload_dir = config.get_text(&options::WEB_UPLOAD_DIR);
        let (root, owned) = if upload_dir.trim().is_empty() {
            let tmp = config.get_text(&options::WEB_TMP_DIR);
            let tmp = if tmp.trim().is_empty() {
                std::env::temp_dir()
            } else {
                PathBuf::from(tmp)
            };
            (
                tmp.join(format!("rivulet-web-{}", uuid::Uuid::new_v4())),
                true,
            )
        } else {
            (PathBuf::from(upload_dir), false)
        };
        let dir = root.join("flink-web-upload");
        std::fs::create_dir_all(&dir)?;
        let dir = dir.canonicalize()?;
        Ok(JarStore {
            dir,
            owned_root: owned.then_some(root),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Checks that `bytes` is a job package and stores it; answers its path.
    pub fn save(&self, file_name: &str, bytes: &[u8]) -> Result<PathBuf, RestError> {
        // Browsers and some clients send a path; only its last part counts.
        let name = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .trim();
        if !is_package_name(name) {
            return Err(RestError::bad_request(
                "Only Jar files are allowed. Rivulet takes .jar packages of SQL scripts and plain .sql scripts.",
            ));
        }
        JobPackage::read(name, bytes).map_err(|e| RestError::bad_request(e.to_string()))?;
        let id = format!("{}_{name}", uuid::Uuid::new_v4());
        let partial = self.dir.join(format!(".{id}.uploading"));
        let target = self.dir.join(&id);
        let written =
            std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, &target));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(RestError::internal(format!(
                "Could not store the uploaded package in {}: {e}",
                self.dir.display()
            )));
        }
        Ok(target)
    }

    /// The stored package with this id, if there is one. Ids are plain file
    /// names; anything that could leave the directory is no id.
    pub fn find(&self, id: &str) -> Option<StoredJar> {
        if id.is_empty()
            || id.starts_with('.')
            || id.contains(['/', '\\'])
            || !id.contains('_')
            || !is_package_name(id)
        {
            return None;
        }
        let path = self.dir.join(id);
        let metadata = std::fs::metadata(&path).ok()?;
        if !metadata.is_file() {
            return None;
        }
        let uploaded = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        let name = id.split_once('_').map_or(id, |(_, name)| name).to_string();
        Some(StoredJar {
            id: id.to_string(),
            name,
            uploaded,
            path,
        })
    }

    /// The path a missing id would have, for Flink's error messages.
    pub fn path_for(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Every stored package, newest first as Flink lists them.
    pub fn list(&self) -> Result<Vec<StoredJar>, RestError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| {
            RestError::internal(format!("Could not list {}: {e}", self.dir.display()))
        })?;
        let mut jars: Vec<StoredJar> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| self.find(&entry.file_name().to_string_lossy()))
            .collect();
        jars.sort_by(|a, b| b.uploaded.cmp(&a.uploaded).then(a.id.cmp(&b.id)));
        Ok(jars)
    }

    /// Reads a stored package.
    pub fn read(&self, jar: &StoredJar) -> Result<JobPackage, RestError> {
        let bytes = std::fs::read(&jar.path).map_err(|e| {
            RestError::internal(format!("Could not read {}: {e}", jar.path.display()))
        })?;
        JobPackage::read(&jar.name, &bytes).map_err(|e| RestError::bad_request(e.to_string()))
    }

    /// Deletes a stored package; false if there was none.
    pub fn delete(&self, id: &str) -> Result<bool, RestError> {
        let Some(jar) = self.find(id) else {
            return Ok(false);
        };
        std::fs::remove_file(&jar.path).map_err(|e| {
            RestError::internal(format!("Could not delete {}: {e}", jar.path.display()))
        })?;
        Ok(true)
    }

    /// Removes the directory this store created, if it created one.
    pub fn remove_temporary_dir(&self) {
        if let Some(root) = &self.owned_root {
            match std::fs::remove_dir_all(root) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(dir = %root.display(), error = %e, "could not remove the upload directory")
                }
            }
        }
    }
}

impl Drop for JarStore {
    fn drop(&mut self) {
        self.remove_temporary_dir();
    }
}
