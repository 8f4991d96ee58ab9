//! `rivulet info <script>`: the plan the cluster would run, without running
//! it (the script is uploaded, planned with `/jars/{id}/plan`, and the
//! upload deleted), printed as Flink's `flink info` prints it.

use rivulet_rest_api::jars::JarRequest;
use serde_json::Value;

use super::RestClient;
use super::upload::{UploadedPackage, read_job_file};

const HEADER: &str = "----------------------- Execution Plan -----------------------";
const RULE: &str = "--------------------------------------------------------------";

pub async fn info(
    client: &RestClient,
    file: &std::path::Path,
    request: JarRequest,
) -> anyhow::Result<()> {
    let (file_name, bytes) = read_job_file(file)?;
    let package = UploadedPackage::upload(client, &file_name, bytes).await?;
    let plan: anyhow::Result<Value> = client
        .post(&format!("/jars/{}/plan", package.id), &request)
        .await;
    package.discard(client).await;
    let plan = plan?;
    println!("{HEADER}");
    println!("{}", serde_json::to_string_pretty(&plan["plan"])?);
    println!("{RULE}");
    Ok(())
}
