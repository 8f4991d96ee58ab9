//! Golden SQL cases (`tests/sql/*`), each run through a real cluster over
//! HTTP at parallelism 1 and 3, comparing the sink's rows or the error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{TestCluster, read_parts};

fn cases() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sql");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/sql exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("query.sql").exists())
        .collect();
    cases.sort();
    cases
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn run_case(cluster: &TestCluster, case: &Path, parallelism: u32) -> Result<(), String> {
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let output = tempfile::tempdir().unwrap();
    let script = format!(
        "SET 'parallelism.default' = '{parallelism}';\n{}",
        read(&case.join("query.sql"))
            .replace("${output}", output.path().to_str().unwrap())
            .replace("${input}", case.join("input").to_str().unwrap())
    );
    let (status, body) = cluster
        .submit_raw(
            script.into_bytes(),
            r#"{"executionPlanFileName":"job.json"}"#,
        )
        .await;
    let error_file = case.join("error.txt");
    if error_file.exists() {
        let message = body["errors"][0].as_str().unwrap_or_default().to_string();
        if status != 400 {
            return Err(format!("{name}: expected 400, got {status}: {body}"));
        }
        for needle in read(&error_file).lines().filter(|l| !l.trim().is_empty()) {
            // The script got one SET line in front, so lines shift by one.
            let needle = shift_line_numbers(needle);
            if !message.contains(&needle) {
                return Err(format!("{name}: error lacks '{needle}':\n{message}"));
            }
        }
        return Ok(());
    }
    if status != 202 {
        return Err(format!(
            "{name} (p={parallelism}): submission failed {status}: {body}"
        ));
    }
    let job = body["jobUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches("/jobs/")
        .to_string();
    cluster
        .wait_for_status(&job, "FINISHED", Duration::from_secs(20))
        .await;
    let mut rows: Vec<String> = read_parts(output.path()).into_values().flatten().collect();
    rows.sort();
    let mut expected: Vec<String> = read(&case.join("expected.csv"))
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    expected.sort();
    if rows != expected {
        return Err(format!(
            "{name} (p={parallelism}): rows differ\n got: {rows:?}\nwant: {expected:?}"
        ));
    }
    Ok(())
}

fn shift_line_numbers(needle: &str) -> String {
    match needle.split_once("at line ") {
        Some((before, after)) => {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            let line: usize = digits.parse().unwrap_or(0);
            format!("{before}at line {}{}", line + 1, &after[digits.len()..])
        }
        None => needle.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_sql_cases_at_parallelism_1_and_3() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "3")]).await;
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 5, "found only {} cases", cases.len());
    for case in &cases {
        for parallelism in [1, 3] {
            if let Err(failure) = run_case(&cluster, case, parallelism).await {
                failures.push(failure);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let jobs = cluster.get("/jobs").await;
    let failed = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["status"] != "FINISHED")
        .count();
    assert_eq!(failed, 0, "{jobs}");
    cluster.stop().await;
}
