//! `rivulet cancel <jobid>`: `PATCH /jobs/{id}?mode=cancel`, as Flink's CLI.

use serde_json::Value;

use super::RestClient;

pub async fn cancel(client: &RestClient, job_id: &str) -> anyhow::Result<()> {
    println!("Cancelling job {job_id}.");
    let _: Value = client.patch(&format!("/jobs/{job_id}?mode=cancel")).await?;
    println!("Cancelled job {job_id}.");
    Ok(())
}
