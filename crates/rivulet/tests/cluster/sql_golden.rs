//! Golden SQL cases (`tests/sql/*`), each run through a real cluster over
//! HTTP at parallelism 1 and 3, comparing the sink's rows, the rejection,
//! or the job's failure.

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
        .filter(|p| match std::env::var("RIVULET_GOLDEN") {
            // Some cases only, while working on them: names containing it.
            Ok(only) => p.to_string_lossy().contains(&only),
            Err(_) => true,
        })
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
    // At parallelism 3 keyed state lives on disk (Flink's 'rocksdb'), so every
    // stateful case runs on both backends; the SETs share one line.
    let backend = match parallelism {
        1 => "hashmap",
        _ => "rocksdb",
    };
    let script = format!(
        "SET 'parallelism.default' = '{parallelism}'; SET 'state.backend.type' = '{backend}';\n{}",
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
    let status = final_status(cluster, &job).await;
    let failure_file = case.join("failure.txt");
    if failure_file.exists() {
        if status != "FAILED" {
            return Err(format!(
                "{name} (p={parallelism}): expected FAILED, got {status}"
            ));
        }
        let exceptions = cluster.get(&format!("/jobs/{job}/exceptions")).await;
        let cause = exceptions["exceptionHistory"]["entries"][0]["stacktrace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for needle in read(&failure_file).lines().filter(|l| !l.trim().is_empty()) {
            if !cause.contains(needle) {
                return Err(format!(
                    "{name} (p={parallelism}): failure lacks '{needle}':\n{cause}"
                ));
            }
        }
        return Ok(());
    }
    if status != "FINISHED" {
        let exceptions = cluster.get(&format!("/jobs/{job}/exceptions")).await;
        return Err(format!(
            "{name} (p={parallelism}): job ended {status}: {exceptions}"
        ));
    }
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

/// Waits for the job to end, returning how it ended.
async fn final_status(cluster: &TestCluster, job: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let status = cluster.status(job).await;
        if matches!(status.as_str(), "FINISHED" | "FAILED" | "CANCELED")
            || started.elapsed() > Duration::from_secs(20)
        {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    match std::env::var("RIVULET_GOLDEN") {
        Ok(only) => assert!(!cases.is_empty(), "no case is named like '{only}'"),
        Err(_) => assert!(cases.len() >= 5, "found only {} cases", cases.len()),
    }
    for case in &cases {
        for parallelism in [1, 3] {
            if let Err(failure) = run_case(&cluster, case, parallelism).await {
                failures.push(failure);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Every job ended, and only the cases that expect a failure failed.
    let expected_failures = 2 * cases
        .iter()
        .filter(|c| c.join("failure.txt").exists())
        .count();
    let jobs = cluster.get("/jobs").await;
    let count = |status: &str| {
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["status"] == status)
            .count()
    };
    assert_eq!(count("FAILED"), expected_failures, "{jobs}");
    assert_eq!(
        count("FINISHED") + expected_failures,
        jobs["jobs"].as_array().unwrap().len(),
        "{jobs}"
    );
    cluster.stop().await;
}

/// `SET` keys that shape the job rather than its rows: its name, its type
/// and its default parallelism, as `/jobs/{id}` shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_statements_name_the_job_and_choose_its_mode_and_parallelism() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "2")]).await;
    let script = "SET 'pipeline.name' = 'nightly-export';
SET 'execution.runtime-mode' = 'batch';
SET 'table.exec.resource.default-parallelism' = '2';
CREATE TABLE s (n INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE b (n INT) WITH ('connector' = 'blackhole');
INSERT INTO b SELECT n FROM s;";
    let job = cluster.submit_script(script).await;
    cluster
        .wait_for_status(&job, "FINISHED", Duration::from_secs(20))
        .await;
    let details = cluster.get(&format!("/jobs/{job}")).await;
    assert_eq!(details["name"], "nightly-export");
    assert_eq!(details["job-type"], "BATCH");
    assert_eq!(details["vertices"][0]["parallelism"], 2);
    let config = cluster.get(&format!("/jobs/{job}/config")).await;
    assert_eq!(config["execution-config"]["job-parallelism"], 2, "{config}");

    let (status, body) = cluster
        .submit_raw(
            b"SET 'execution.runtime-mode' = 'sometimes';\nCREATE TABLE s (n INT) WITH ('connector' = 'datagen');\nCREATE TABLE b (n INT) WITH ('connector' = 'blackhole');\nINSERT INTO b SELECT n FROM s;".to_vec(),
            r#"{"executionPlanFileName":"job.json"}"#,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let error = body["errors"][0].as_str().unwrap();
    assert!(
        error.contains("Could not parse value 'sometimes' for key 'execution.runtime-mode'"),
        "{error}"
    );
    assert!(error.contains("at line 1"), "{error}");
    cluster.stop().await;
}
