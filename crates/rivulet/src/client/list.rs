//! `rivulet list`: the jobs of the cluster, grouped as Flink's CLI groups
//! them (running/restarting, scheduled, and with `-a` terminated), oldest
//! first, with start times in UTC.

use rivulet_rest_api::jobs::{JobDetails, MultipleJobsDetails};

use super::RestClient;

/// Which groups to print; Flink's default is running and scheduled.
#[derive(Debug, Clone, Copy)]
pub struct ListFilter {
    pub running: bool,
    pub scheduled: bool,
    pub terminated: bool,
}

const RULE: &str = "--------------------------------------------------------------";

pub async fn list(client: &RestClient, filter: ListFilter) -> anyhow::Result<()> {
    println!("Waiting for response...");
    let overview: MultipleJobsDetails = client.get("/jobs/overview").await?;
    print!("{}", render(overview.jobs, filter));
    Ok(())
}

fn render(mut jobs: Vec<JobDetails>, filter: ListFilter) -> String {
    jobs.sort_by_key(|j| j.start_time);
    let group = |states: &[&str]| -> Vec<&JobDetails> {
        jobs.iter()
            .filter(|j| states.contains(&j.state.as_str()))
            .collect()
    };
    let mut out = String::new();
    if filter.running {
        section(
            &mut out,
            "------------------ Running/Restarting Jobs -------------------",
            "No running jobs.",
            &group(&["RUNNING", "RESTARTING", "CANCELLING", "FAILING"]),
        );
    }
    if filter.scheduled {
        section(
            &mut out,
            "----------------------- Scheduled Jobs -----------------------",
            "No scheduled jobs.",
            &group(&["CREATED", "INITIALIZING", "RECONCILING", "SUSPENDED"]),
        );
    }
    if filter.terminated {
        section(
            &mut out,
            "---------------------- Terminated Jobs -----------------------",
            "No terminated jobs.",
            &group(&["FINISHED", "CANCELED", "FAILED"]),
        );
    }
    out
}

fn section(out: &mut String, header: &str, none: &str, jobs: &[&JobDetails]) {
    if jobs.is_empty() {
        out.push_str(none);
        out.push('\n');
        return;
    }
    out.push_str(header);
    out.push('\n');
    for job in jobs {
        out.push_str(&format!(
            "{} : {} : {} ({})\n",
            start_time(job.start_time),
            job.jid,
            job.name,
            job.state
        ));
    }
    out.push_str(RULE);
    out.push('\n');
}

/// Flink's `dd.MM.yyyy HH:mm:ss`.
fn start_time(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format("%d.%m.%Y %H:%M:%S").to_string())
        .unwrap_or_else(|| millis.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(jid: &str, state: &str, start_time: i64) -> JobDetails {
        JobDetails {
            jid: jid.into(),
            name: format!("job-{jid}"),
            job_type: "STREAMING".into(),
            scheduler_type: "Default".into(),
            start_time,
            end_time: -1,
            duration: 0,
            state: state.into(),
            last_modification: start_time,
            tasks: Default::default(),
            pending_operators: 0,
        }
    }

    #[test]
    fn jobs_are_grouped_and_sorted_as_flinks_cli_prints_them() {
        let jobs = vec![
            job("b", "RUNNING", 1_764_338_400_000),
            job("a", "RUNNING", 1_764_338_300_000),
            job("c", "FINISHED", 1_764_338_000_000),
        ];
        let all = ListFilter {
            running: true,
            scheduled: true,
            terminated: true,
        };
        assert_eq!(
            render(jobs, all),
            "------------------ Running/Restarting Jobs -------------------\n\
             28.11.2025 13:58:20 : a : job-a (RUNNING)\n\
             28.11.2025 14:00:00 : b : job-b (RUNNING)\n\
             --------------------------------------------------------------\n\
             No scheduled jobs.\n\
             ---------------------- Terminated Jobs -----------------------\n\
             28.11.2025 13:53:20 : c : job-c (FINISHED)\n\
             --------------------------------------------------------------\n"
        );
    }
}
