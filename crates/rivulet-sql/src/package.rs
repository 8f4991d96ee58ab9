//! Job packages: what `/jars/upload` keeps and `rivulet run` sends.
//!
//! A package is either one plain `.sql` script or a `.jar` (a zip archive)
//! holding one or more `.sql` scripts. Where a Flink jar names its main class
//! in the manifest (`program-class`, else `Main-Class`), a Rivulet jar may name
//! its entry script there; without one, every script in the jar is an entry
//! and the submitter picks one with Flink's `entry-class`.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use crate::error::SqlError;

/// Scripts larger than this are refused when a jar is read, so a small
/// archive cannot inflate into gigabytes of memory.
const MAX_SCRIPT_BYTES: u64 = 16 * 1024 * 1024;

const MANIFEST: &str = "META-INF/MANIFEST.MF";

/// One script inside a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagedScript {
    /// Its path in the jar, or the file name of a plain script.
    pub name: String,
    pub text: String,
}

/// A readable job package.
#[derive(Debug, Clone)]
pub struct JobPackage {
    scripts: Vec<PackagedScript>,
    /// The entry the manifest names, if any.
    main: Option<String>,
}

/// Whether a file name has the extension of a job package.
pub fn is_package_name(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    lower.ends_with(".jar") || lower.ends_with(".sql")
}

fn not_a_package(file_name: &str, why: impl std::fmt::Display) -> SqlError {
    SqlError::Package(format!("'{file_name}' is not a job package: {why}"))
}

impl JobPackage {
    /// Reads a package from its bytes; `file_name` decides the kind.
    pub fn read(file_name: &str, bytes: &[u8]) -> Result<JobPackage, SqlError> {
        if file_name.to_ascii_lowercase().ends_with(".sql") {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| not_a_package(file_name, "the SQL script is not UTF-8 text"))?;
            if text.trim().is_empty() {
                return Err(not_a_package(file_name, "the SQL script is empty"));
            }
            return Ok(JobPackage {
                scripts: vec![PackagedScript {
                    name: file_name.to_string(),
                    text: text.to_string(),
                }],
                main: None,
            });
        }
        if !file_name.to_ascii_lowercase().ends_with(".jar") {
            return Err(not_a_package(
                file_name,
                "only .jar packages and .sql scripts are accepted",
            ));
        }
        Self::read_jar(file_name, bytes)
    }

    fn read_jar(file_name: &str, bytes: &[u8]) -> Result<JobPackage, SqlError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| not_a_package(file_name, format!("not a zip archive ({e})")))?;
        let mut scripts = Vec::new();
        let mut manifest = None;
        let mut holds_classes = false;
        for index in 0..archive.len() {
            let mut entry = archive
                .by_index(index)
                .map_err(|e| not_a_package(file_name, format!("unreadable entry ({e})")))?;
            if entry.is_dir() {
                continue;
            }
            let name = entry
                .name()
                .map_err(|e| not_a_package(file_name, format!("unreadable entry name ({e})")))?
                .to_string();
            let is_script = name.to_ascii_lowercase().ends_with(".sql");
            holds_classes |= name.ends_with(".class");
            if !is_script && name != MANIFEST {
                continue;
            }
            if entry.size() > MAX_SCRIPT_BYTES {
                return Err(not_a_package(
                    file_name,
                    format!("{name} is larger than {MAX_SCRIPT_BYTES} bytes"),
                ));
            }
            let mut content = Vec::new();
            (&mut entry)
                .take(MAX_SCRIPT_BYTES + 1)
                .read_to_end(&mut content)
                .map_err(|e| not_a_package(file_name, format!("cannot read {name} ({e})")))?;
            let text = String::from_utf8(content)
                .map_err(|_| not_a_package(file_name, format!("{name} is not UTF-8 text")))?;
            if is_script {
                scripts.push(PackagedScript { name, text });
            } else {
                manifest = Some(text);
            }
        }
        if scripts.is_empty() {
            let why = if holds_classes {
                "it holds Java classes but no SQL script (*.sql); Rivulet runs Flink SQL jobs"
            } else {
                "it holds no SQL script (*.sql)"
            };
            return Err(not_a_package(file_name, why));
        }
        scripts.sort_by(|a, b| a.name.cmp(&b.name));
        let main = manifest.as_deref().and_then(main_entry);
        let package = JobPackage { scripts, main };
        if let Some(main) = &package.main
            && package.find(main).is_none()
        {
            return Err(not_a_package(
                file_name,
                format!("the manifest names the entry '{main}', which the jar does not hold"),
            ));
        }
        Ok(package)
    }

    /// The entries a submitter can run: the manifest's entry if it names
    /// one, else every script.
    pub fn entries(&self) -> Vec<&str> {
        match &self.main {
            Some(main) => self
                .find(main)
                .map(|s| s.name.as_str())
                .into_iter()
                .collect(),
            None => self.scripts.iter().map(|s| s.name.as_str()).collect(),
        }
    }

    /// The script to run: `entry` if given (a script path, with or without
    /// `.sql`, or in Java class form `pkg.Job` for `pkg/Job.sql`), else the
    /// manifest's entry, else the only script.
    pub fn script(&self, entry: Option<&str>) -> Result<&PackagedScript, SqlError> {
        let wanted = entry.or(self.main.as_deref());
        match wanted {
            Some(wanted) => self.find(wanted).ok_or_else(|| {
                SqlError::Package(format!(
                    "The package has no entry '{wanted}'. Its scripts are: {}.",
                    self.script_names()
                ))
            }),
            None => match self.scripts.as_slice() {
                [only] => Ok(only),
                _ => Err(SqlError::Package(format!(
                    "The package holds several scripts and its manifest names no entry \
                     (Main-Class or program-class); choose one with entry-class: {}.",
                    self.script_names()
                ))),
            },
        }
    }

    fn script_names(&self) -> String {
        self.scripts
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn find(&self, wanted: &str) -> Option<&PackagedScript> {
        let wanted = wanted.trim().trim_start_matches('/');
        let as_path = format!("{}.sql", wanted.replace('.', "/"));
        let with_extension = format!("{wanted}.sql");
        self.scripts
            .iter()
            .find(|s| s.name == wanted || s.name == with_extension || s.name == as_path)
    }
}

/// The values of a script's `${name}` parameters from program arguments,
/// in the forms Flink programs take them: `--name value`, `--name=value`,
/// or `name=value` (one dash works as well as two).
pub fn parameters_from_args(args: &[String]) -> Result<BTreeMap<String, String>, SqlError> {
    let mut parameters = BTreeMap::new();
    let mut args = args
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .peekable();
    while let Some(arg) = args.next() {
        let flag = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'));
        let (name, value) = match (flag, arg.split_once('=')) {
            (Some(flag), _) if flag.contains('=') => {
                let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
                (name, value.to_string())
            }
            (Some(flag), _) => match args.next_if(|next| !next.starts_with('-')) {
                Some(value) => (flag, value.to_string()),
                None => {
                    return Err(SqlError::Package(format!(
                        "Program argument '{arg}' has no value: pass --{flag} <value> or {flag}=<value>."
                    )));
                }
            },
            (None, Some((name, value))) => (name, value.to_string()),
            (None, None) => {
                return Err(SqlError::Package(format!(
                    "Program argument '{arg}' is neither --name <value> nor name=<value>."
                )));
            }
        };
        if name.is_empty() {
            return Err(SqlError::Package(format!(
                "Program argument '{arg}' names no parameter."
            )));
        }
        parameters.insert(name.to_string(), value);
    }
    Ok(parameters)
}

/// The entry a jar manifest names: `program-class` wins over `Main-Class`,
/// as in Flink. Long values continue on lines that start with a space.
fn main_entry(manifest: &str) -> Option<String> {
    let mut attributes: Vec<(String, String)> = Vec::new();
    for line in manifest.lines() {
        if let Some(continued) = line.strip_prefix(' ') {
            if let Some((_, value)) = attributes.last_mut() {
                value.push_str(continued);
            }
        } else if let Some((key, value)) = line.split_once(':') {
            attributes.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    let lookup = |key: &str| {
        attributes
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(key) && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    lookup("program-class").or_else(|| lookup("Main-Class"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn jar(files: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in files {
            writer
                .start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn a_plain_script_is_its_own_entry() {
        let package = JobPackage::read("job.sql", b"INSERT INTO a SELECT 1;").unwrap();
        assert_eq!(package.entries(), ["job.sql"]);
        assert_eq!(package.script(None).unwrap().name, "job.sql");
    }

    #[test]
    fn the_manifest_names_the_entry_and_entry_class_overrides_it() {
        let bytes = jar(&[
            (
                "META-INF/MANIFEST.MF",
                "Manifest-Version: 1.0\nMain-Class: jobs.Second\n",
            ),
            ("jobs/First.sql", "-- first"),
            ("jobs/Second.sql", "-- second"),
        ]);
        let package = JobPackage::read("p.jar", &bytes).unwrap();
        assert_eq!(package.entries(), ["jobs/Second.sql"]);
        assert_eq!(package.script(None).unwrap().text, "-- second");
        assert_eq!(
            package.script(Some("jobs/First.sql")).unwrap().text,
            "-- first"
        );
        assert_eq!(package.script(Some("jobs.First")).unwrap().text, "-- first");
        assert!(package.script(Some("nope")).is_err());
    }

    #[test]
    fn several_scripts_without_a_manifest_need_a_choice() {
        let bytes = jar(&[("a.sql", "-- a"), ("b.sql", "-- b")]);
        let package = JobPackage::read("p.jar", &bytes).unwrap();
        assert_eq!(package.entries(), ["a.sql", "b.sql"]);
        let error = package.script(None).unwrap_err().to_string();
        assert!(error.contains("entry-class"), "{error}");
    }

    #[test]
    fn what_is_not_a_package_is_refused_with_the_reason() {
        let not_zip = JobPackage::read("p.jar", b"hello").unwrap_err().to_string();
        assert!(not_zip.contains("not a zip archive"), "{not_zip}");
        let classes = jar(&[("com/x/Job.class", "\u{1}")]);
        let java = JobPackage::read("p.jar", &classes).unwrap_err().to_string();
        assert!(java.contains("Java classes"), "{java}");
        let missing_main = jar(&[
            ("META-INF/MANIFEST.MF", "Main-Class: gone\n"),
            ("a.sql", "x"),
        ]);
        assert!(JobPackage::read("p.jar", &missing_main).is_err());
        assert!(JobPackage::read("p.txt", b"x").is_err());
        assert!(JobPackage::read("p.sql", b"  \n").is_err());
        assert!(JobPackage::read("p.sql", &[0xff, 0xfe]).is_err());
    }

    #[test]
    fn program_arguments_become_parameters_in_each_flink_form() {
        let args: Vec<String> = [
            "--input",
            "/data/in",
            "--limit=5",
            "out=/tmp/x",
            "-mode",
            "fast",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let parameters = parameters_from_args(&args).unwrap();
        assert_eq!(parameters["input"], "/data/in");
        assert_eq!(parameters["limit"], "5");
        assert_eq!(parameters["out"], "/tmp/x");
        assert_eq!(parameters["mode"], "fast");
        assert!(parameters_from_args(&["stray".to_string()]).is_err());
        assert!(parameters_from_args(&["--dangling".to_string()]).is_err());
        assert!(parameters_from_args(&["=x".to_string()]).is_err());
    }

    #[test]
    fn manifest_values_continue_on_indented_lines() {
        assert_eq!(
            main_entry("Main-Class: jobs.Ver\n yLong\nprogram-class:\n").as_deref(),
            Some("jobs.VeryLong")
        );
        assert_eq!(
            main_entry("Main-Class: a\nprogram-class: b\n").as_deref(),
            Some("b")
        );
    }
}
