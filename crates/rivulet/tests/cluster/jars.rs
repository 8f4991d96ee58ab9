//! Job packages over `/jars`: upload, list, plan, run with program
//! arguments, delete, and every way an upload or a run can be wrong.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestCluster, read_parts};

/// Copies the rows of `${input}` whose amount is at least `${min}` to `${output}`.
const COPY_SCRIPT: &str = "
CREATE TABLE src (id INT, amount INT) WITH (
  'connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
CREATE TABLE dst (id INT, amount INT) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO dst SELECT id, amount FROM src WHERE amount >= ${min};
";

/// Writes the numbers 1..=n as `${output}` rows `(n, n * 10)`.
const SEQUENCE_SCRIPT: &str = "
CREATE TABLE numbers (n INT) WITH ('connector' = 'datagen',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '${n}');
CREATE TABLE dst (n INT, tenfold INT) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO dst SELECT n, n * 10 FROM numbers;
";

fn jar(files: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in files {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn sorted_rows(dir: &Path) -> Vec<String> {
    let mut rows: Vec<String> = read_parts(dir).into_values().flatten().collect();
    rows.sort();
    rows
}

fn jar_id(upload: &Value) -> String {
    let filename = upload["filename"].as_str().expect("filename");
    filename.rsplit('/').next().unwrap().to_string()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

async fn job_count(cluster: &TestCluster) -> usize {
    cluster.get("/jobs").await["jobs"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jar_is_uploaded_listed_planned_run_with_arguments_and_deleted() {
    let uploads = tempfile::tempdir().unwrap();
    let cluster = TestCluster::start(&[
        ("taskmanager.numberOfTaskSlots", "4"),
        ("web.upload.dir", uploads.path().to_str().unwrap()),
    ])
    .await;
    let input = tempfile::tempdir().unwrap();
    std::fs::write(input.path().join("a.csv"), "1,5\n2,50\n3,500\n").unwrap();
    let package = jar(&[
        (
            "META-INF/MANIFEST.MF",
            "Manifest-Version: 1.0\nMain-Class: jobs.Copy\n",
        ),
        ("jobs/Copy.sql", COPY_SCRIPT),
        ("jobs/Sequence.sql", SEQUENCE_SCRIPT),
    ]);

    let (status, upload) = cluster.upload("orders-job.jar", package).await;
    assert_eq!(status, 200, "{upload}");
    assert_eq!(upload["status"], "success");
    let id = jar_id(&upload);
    assert!(id.ends_with("_orders-job.jar"), "{id}");
    let stored = Path::new(upload["filename"].as_str().unwrap());
    assert!(stored.is_file(), "{} is stored", stored.display());
    assert!(
        stored.starts_with(
            uploads
                .path()
                .canonicalize()
                .unwrap()
                .join("flink-web-upload")
        )
    );

    let list = cluster.get("/jars").await;
    assert_eq!(list["address"], cluster.base.as_str());
    let files = list["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{list}");
    assert_eq!(files[0]["id"], id.as_str());
    assert_eq!(files[0]["name"], "orders-job.jar");
    assert!(files[0]["uploaded"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(
        files[0]["entry"],
        json!([{"name": "jobs/Copy.sql", "description": null}])
    );

    // The plan, without running anything; GET takes query parameters, POST a body.
    let output = tempfile::tempdir().unwrap();
    let args = format!(
        "--input,{},--output,{},--min,50",
        input.path().display(),
        output.path().display()
    );
    let planned = cluster
        .get(&format!("/jars/{id}/plan?programArg={args}&parallelism=2"))
        .await;
    let nodes = planned["plan"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{planned}");
    assert_eq!(nodes[0]["parallelism"], 2);
    assert_eq!(
        nodes[0]["description"],
        "Source: src[1]<br/>+- Calc[2]<br/>+- Sink: dst[3]<br/>"
    );
    let (status, posted) = cluster
        .send_json(
            "POST",
            &format!("/jars/{id}/plan"),
            &json!({"programArgsList": ["--input", input.path(), "--output", output.path(), "--min", "50"]}),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["plan"]["nodes"][0]["parallelism"], 1);
    assert_eq!(job_count(&cluster).await, 0, "planning runs nothing");

    // Run the manifest's entry with arguments, and a chosen job id.
    let job_id = "0123456789abcdef0123456789abcdef";
    let (status, run) = cluster
        .send_json(
            "POST",
            &format!("/jars/{id}/run"),
            &json!({
                "programArgsList": ["--input", input.path(), "--output", output.path(), "--min", "50"],
                "parallelism": 2,
                "jobId": job_id,
            }),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["jobid"], job_id);
    cluster
        .wait_for_status(job_id, "FINISHED", Duration::from_secs(20))
        .await;
    assert_eq!(sorted_rows(output.path()), ["2,50", "3,500"]);
    let details = cluster.get(&format!("/jobs/{job_id}")).await;
    assert_eq!(details["vertices"][0]["parallelism"], 2);

    // entry-class picks the other script; the deprecated programArgs string works too.
    let sequence_out = tempfile::tempdir().unwrap();
    let (status, run) = cluster
        .send_json(
            "POST",
            &format!("/jars/{id}/run?entry-class=jobs.Sequence"),
            &json!({"programArgs": format!("--n 4 --output '{}'", sequence_out.path().display())}),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    let job = run["jobid"].as_str().unwrap();
    cluster
        .wait_for_status(job, "FINISHED", Duration::from_secs(20))
        .await;
    assert_eq!(
        sorted_rows(sequence_out.path()),
        ["1,10", "2,20", "3,30", "4,40"]
    );

    let (status, body) = cluster.call("DELETE", &format!("/jars/{id}")).await;
    assert_eq!((status, body), (200, json!({})));
    assert!(!stored.exists(), "a deleted jar is gone");
    assert_eq!(cluster.get("/jars").await["files"], json!([]));
    let (status, body) = cluster.call("DELETE", &format!("/jars/{id}")).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{body}"
    );
    let (status, _) = cluster
        .send_json("POST", &format!("/jars/{id}/run"), &json!({}))
        .await;
    assert_eq!(status, 500, "Flink answers a run of a missing jar with 500");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_sql_script_is_a_package_too() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "2")]).await;
    let (status, upload) = cluster
        .upload("sequence.sql", SEQUENCE_SCRIPT.as_bytes().to_vec())
        .await;
    assert_eq!(status, 200, "{upload}");
    let id = jar_id(&upload);
    let list = cluster.get("/jars").await;
    assert_eq!(list["files"][0]["entry"][0]["name"], "sequence.sql");
    let output = tempfile::tempdir().unwrap();
    let (status, run) = cluster
        .send_json(
            "POST",
            &format!("/v1/jars/{id}/run"),
            &json!({"programArgsList": ["n=3", format!("output={}", output.path().display())]}),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    cluster
        .wait_for_status(
            run["jobid"].as_str().unwrap(),
            "FINISHED",
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(sorted_rows(output.path()), ["1,10", "2,20", "3,30"]);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_and_runs_are_refused_and_change_nothing() {
    let uploads = tempfile::tempdir().unwrap();
    let cluster = TestCluster::start(&[("web.upload.dir", uploads.path().to_str().unwrap())]).await;
    let dir = uploads.path().join("flink-web-upload");

    let refused = [
        ("notes.txt", b"hello".to_vec(), "Only Jar files are allowed"),
        ("broken.jar", b"not a zip".to_vec(), "not a zip archive"),
        (
            "java.jar",
            jar(&[("com/acme/Job.class", "\u{ca}\u{fe}")]),
            "holds Java classes but no SQL script",
        ),
        ("empty.sql", b"  \n".to_vec(), "empty"),
    ];
    for (name, bytes, message) in refused {
        let (status, body) = cluster.upload(name, bytes).await;
        assert_eq!(status, 400, "{name}: {body}");
        let error = body["errors"][0].as_str().unwrap();
        assert!(error.contains(message), "{name}: {error}");
    }
    assert_eq!(
        files_in(&dir),
        Vec::<String>::new(),
        "a bad upload leaves no file"
    );

    let form = reqwest::multipart::Form::new()
        .part(
            "a",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.sql"),
        )
        .part(
            "b",
            reqwest::multipart::Part::bytes(b"y".to_vec()).file_name("b.sql"),
        );
    let response = cluster
        .client
        .post(cluster.url("/jars/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0],
        "Exactly 1 file must be sent, received 2."
    );

    let (_, upload) = cluster
        .upload(
            "two.jar",
            jar(&[("a.sql", SEQUENCE_SCRIPT), ("b.sql", SEQUENCE_SCRIPT)]),
        )
        .await;
    let id = jar_id(&upload);
    let output = tempfile::tempdir().unwrap();
    let args = json!(["--n", "3", "--output", output.path()]);
    let bad_runs = [
        (
            json!({"programArgsList": args}),
            "choose one with entry-class",
        ),
        (
            json!({"programArgsList": args, "entryClass": "c.sql"}),
            "no entry 'c.sql'",
        ),
        (
            json!({"entryClass": "a.sql"}),
            "no value for parameter '${n}'",
        ),
        (
            json!({"entryClass": "a.sql", "programArgsList": ["stray"]}),
            "neither --name",
        ),
        (
            json!({"entryClass": "a.sql", "programArgsList": args, "savepointPath": "/tmp/sp-1"}),
            "Cannot restore from savepoint '/tmp/sp-1'",
        ),
        (
            json!({"entryClass": "a.sql", "programArgsList": args, "allowNonRestoredState": true}),
            "allowNonRestoredState applies only when restoring",
        ),
        (
            json!({"entryClass": "a.sql", "programArgsList": args, "jobId": "xyz"}),
            "jobId 'xyz' is not a job id",
        ),
        (
            json!({"paralelism": 3}),
            "Request did not match expected format JarRunRequestBody",
        ),
    ];
    for (body, message) in bad_runs {
        let (status, answer) = cluster
            .send_json("POST", &format!("/jars/{id}/run"), &body)
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["errors"][0].as_str().unwrap();
        assert!(error.contains(message), "{body}: {error}");
    }
    let (status, answer) = cluster
        .call(
            "POST",
            &format!("/jars/{id}/run?savepointPath=/tmp/sp-2&entry-class=a.sql"),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = cluster
        .send_json(
            "POST",
            &format!("/jars/{id}/plan"),
            &json!({"savepointPath": "/x"}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let (status, _) = cluster
        .call("GET", "/jars/..%2F..%2Fetc%2Fpasswd/plan")
        .await;
    assert_eq!(status, 500, "an id that leaves the directory is no jar");
    assert_eq!(job_count(&cluster).await, 0, "nothing was submitted");
    assert_eq!(files_in(&dir).len(), 1);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_web_submission_the_jar_routes_are_absent() {
    let cluster = TestCluster::start(&[("web.submit.enable", "false")]).await;
    let (status, _) = cluster.call("GET", "/jars").await;
    assert_eq!(status, 404);
    let config = cluster.get("/config").await;
    assert_eq!(config["features"]["web-submit"], false);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_directory_of_a_cluster_is_removed_when_it_stops() {
    let cluster = TestCluster::start(&[]).await;
    let (status, upload) = cluster
        .upload("sequence.sql", SEQUENCE_SCRIPT.as_bytes().to_vec())
        .await;
    assert_eq!(status, 200, "{upload}");
    let stored = std::path::PathBuf::from(upload["filename"].as_str().unwrap());
    assert!(stored.is_file());
    cluster.stop().await;
    assert!(
        !stored.exists(),
        "the temporary upload directory is removed"
    );
}

/// The upload documented in the README, byte for byte as curl sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_uploads_a_package_as_the_readme_shows() {
    let cluster = TestCluster::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("sequence.jar");
    std::fs::write(&package, jar(&[("sequence.sql", SEQUENCE_SCRIPT)])).unwrap();
    let url = cluster.url("/jars/upload");
    let form_field = format!("jarfile=@{}", package.display());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args([
                "-sS",
                "-X",
                "POST",
                "-H",
                "Expect:",
                "-F",
                &form_field,
                &url,
            ])
            .output()
    })
    .await
    .unwrap()
    .expect("curl runs (.ci/run installs it)");
    assert!(output.status.success(), "{output:?}");
    let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON answer");
    assert_eq!(answer["status"], "success", "{answer}");
    let stored = std::fs::read(answer["filename"].as_str().unwrap()).unwrap();
    assert_eq!(
        stored,
        std::fs::read(&package).unwrap(),
        "stored byte for byte"
    );
    cluster.stop().await;
}
