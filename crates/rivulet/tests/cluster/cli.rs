//! The `rivulet` command line as a REST client: `run` (attached and
//! detached), `list`, `cancel` and `info` against a real cluster.

use std::time::Duration;

use crate::support::{TestCluster, read_parts};

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the `rivulet` binary with `args` against `cluster`.
async fn rivulet(cluster: &TestCluster, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rivulet"));
    command
        .args(args)
        .args(["-m", cluster.base.trim_start_matches("http://")]);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("rivulet runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into(),
        stderr: String::from_utf8_lossy(&output.stderr).into(),
    }
}

const SEQUENCE_SCRIPT: &str = "
CREATE TABLE numbers (n INT) WITH ('connector' = 'datagen',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '${n}');
CREATE TABLE dst (n INT, tenfold INT) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO dst SELECT n, n * 10 FROM numbers WHERE n > 1;
";

const ENDLESS_SCRIPT: &str = "
CREATE TABLE ticks (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '100');
CREATE TABLE sink (n BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT n FROM ticks;
";

fn job_id_in(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Job has been submitted with JobID "))
        .unwrap_or_else(|| panic!("no job id in {stdout}"))
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_waits_for_the_result_and_passes_arguments_and_parallelism() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "2")]).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("sequence.sql");
    std::fs::write(&script, SEQUENCE_SCRIPT).unwrap();
    let output = tempfile::tempdir().unwrap();
    let out_arg = format!("output={}", output.path().display());
    let run = rivulet(
        &cluster,
        &[
            "run",
            script.to_str().unwrap(),
            "-p",
            "2",
            "--arg",
            "n=4",
            "--arg",
            &out_arg,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let job = job_id_in(&run.stdout);
    assert!(
        run.stdout
            .contains(&format!("Job with JobID {job} has finished.")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Job Runtime: "), "{}", run.stdout);
    let mut rows: Vec<String> = read_parts(output.path()).into_values().flatten().collect();
    rows.sort();
    assert_eq!(rows, ["2,20", "3,30", "4,40"]);
    let details = cluster.get(&format!("/jobs/{job}")).await;
    assert_eq!(details["vertices"][0]["parallelism"], 2);
    assert_eq!(
        cluster.get("/jars").await["files"],
        serde_json::json!([]),
        "the upload is gone"
    );

    let info = rivulet(
        &cluster,
        &[
            "info",
            script.to_str().unwrap(),
            "--arg",
            "n=4",
            "--arg",
            &out_arg,
        ],
    )
    .await;
    assert_eq!(info.code, 0, "{}", info.stderr);
    assert!(
        info.stdout
            .starts_with("----------------------- Execution Plan"),
        "{}",
        info.stdout
    );
    assert!(
        info.stdout
            .contains("Source: numbers[1]<br/>+- Calc[2]<br/>+- Sink: dst[3]<br/>"),
        "{}",
        info.stdout
    );
    assert_eq!(
        cluster.get("/jobs").await["jobs"].as_array().unwrap().len(),
        1,
        "info runs nothing"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detached_run_list_and_cancel() {
    let cluster = TestCluster::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("endless.sql");
    std::fs::write(&script, ENDLESS_SCRIPT).unwrap();
    let run = rivulet(&cluster, &["run", "-d", script.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let job = job_id_in(&run.stdout);
    cluster
        .wait_for_status(&job, "RUNNING", Duration::from_secs(10))
        .await;

    let list = rivulet(&cluster, &["list"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(
        list.stdout.contains("Running/Restarting Jobs"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains(&format!(" : {job} : ")),
        "{}",
        list.stdout
    );
    assert!(list.stdout.contains("(RUNNING)"), "{}", list.stdout);
    assert!(
        list.stdout.contains("No scheduled jobs."),
        "{}",
        list.stdout
    );

    let cancel = rivulet(&cluster, &["cancel", &job]).await;
    assert_eq!(cancel.code, 0, "{}", cancel.stderr);
    assert!(
        cancel.stdout.contains(&format!("Cancelled job {job}.")),
        "{}",
        cancel.stdout
    );
    cluster
        .wait_for_status(&job, "CANCELED", Duration::from_secs(10))
        .await;

    let running = rivulet(&cluster, &["list"]).await;
    assert!(
        running.stdout.contains("No running jobs."),
        "{}",
        running.stdout
    );
    let all = rivulet(&cluster, &["list", "-a"]).await;
    assert!(all.stdout.contains("Terminated Jobs"), "{}", all.stdout);
    assert!(
        all.stdout.contains(&format!(" : {job} : ")),
        "{}",
        all.stdout
    );
    assert!(all.stdout.contains("(CANCELED)"), "{}", all.stdout);

    let again = rivulet(&cluster, &["cancel", "00000000000000000000000000000000"]).await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("404"), "{}", again.stderr);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scripts_and_failed_jobs_exit_with_one() {
    let cluster = TestCluster::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.sql");
    std::fs::write(
        &bad,
        "CREATE TABLE t (n INT) WITH ('connector' = 'datagen');\nINSERT INTO t SELEC n FROM t;\n",
    )
    .unwrap();
    let run = rivulet(&cluster, &["run", bad.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    assert_eq!(
        cluster.get("/jobs").await["jobs"].as_array().unwrap().len(),
        0
    );

    let input = dir.path().join("in.json");
    std::fs::write(&input, "{\"n\": 1}\nnot json\n").unwrap();
    let failing = dir.path().join("failing.sql");
    std::fs::write(
        &failing,
        format!(
            "CREATE TABLE src (n INT) WITH ('connector' = 'filesystem', 'path' = '{}', 'format' = 'json');
CREATE TABLE snk (n INT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT n FROM src;",
            input.display()
        ),
    )
    .unwrap();
    let run = rivulet(&cluster, &["run", failing.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("The program finished with the following exception"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("in.json"),
        "the cause names the file: {}",
        run.stdout
    );

    let unreachable = std::process::Command::new(env!("CARGO_BIN_EXE_rivulet"))
        .args(["list", "-m", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unreachable.stderr).contains("could not reach the JobManager")
    );
    cluster.stop().await;
}
