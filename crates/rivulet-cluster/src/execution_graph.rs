//! The execution graph of one job: every subtask's attempts and their states,
//! the job's status with the time it entered each, and its exception history.
//!
//! This is plain state with no I/O; the JobMaster drives it and the rules that
//! derive the job status from task states live here, where they can be tested
//! on their own.

use std::collections::HashMap;
use std::sync::Arc;

use rivulet_common::ExecutionAttemptId;
use rivulet_common::clock::now_millis;
use rivulet_runtime::job_graph::JobGraph;
use rivulet_runtime::metrics::IoMetricsSnapshot;

use crate::snapshot::{
    AttemptSnapshot, EdgeSnapshot, ExceptionEntry, JobOverview, JobSnapshot, OverviewParts,
    SubtaskSnapshot, TaskLocation, VertexSnapshot,
};
use crate::status::{ExecutionState, JobStatus};

#[derive(Debug, Clone)]
struct Attempt {
    number: u32,
    execution_id: ExecutionAttemptId,
    state: ExecutionState,
    timestamps: [i64; 10],
    location: Option<TaskLocation>,
    metrics: IoMetricsSnapshot,
    failure: Option<String>,
}

impl Attempt {
    fn new(number: u32) -> Attempt {
        let mut timestamps = [0; 10];
        timestamps[ExecutionState::Created.index()] = now_millis();
        Attempt {
            number,
            execution_id: ExecutionAttemptId::random(),
            state: ExecutionState::Created,
            timestamps,
            location: None,
            metrics: IoMetricsSnapshot::default(),
            failure: None,
        }
    }
}

/// Where an execution sits in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutionPosition {
    pub vertex: usize,
    pub subtask: usize,
}

pub struct ExecutionGraph {
    graph: Arc<JobGraph>,
    status: JobStatus,
    status_timestamps: [i64; 11],
    /// `subtasks[vertex][subtask]` holds that subtask's attempts, current last.
    subtasks: Vec<Vec<Vec<Attempt>>>,
    positions: HashMap<ExecutionAttemptId, ExecutionPosition>,
    exceptions: Vec<ExceptionEntry>,
}

impl ExecutionGraph {
    /// A graph in INITIALIZING since `submitted_at`, one CREATED attempt per subtask.
    pub fn new(graph: Arc<JobGraph>, submitted_at: i64) -> ExecutionGraph {
        let mut status_timestamps = [0; 11];
        status_timestamps[JobStatus::Initializing.index()] = submitted_at;
        let mut positions = HashMap::new();
        let subtasks = graph
            .vertices
            .iter()
            .enumerate()
            .map(|(v, vertex)| {
                (0..vertex.parallelism as usize)
                    .map(|s| {
                        let attempt = Attempt::new(0);
                        positions.insert(
                            attempt.execution_id,
                            ExecutionPosition {
                                vertex: v,
                                subtask: s,
                            },
                        );
                        vec![attempt]
                    })
                    .collect()
            })
            .collect();
        ExecutionGraph {
            graph,
            status: JobStatus::Initializing,
            status_timestamps,
            subtasks,
            positions,
            exceptions: Vec::new(),
        }
    }

    pub fn job_graph(&self) -> &Arc<JobGraph> {
        &self.graph
    }

    pub fn status(&self) -> JobStatus {
        self.status
    }

    pub fn transition(&mut self, status: JobStatus) {
        if self.status == status || self.status.is_globally_terminal() {
            return;
        }
        tracing::info!(job = %self.graph.job_id, from = %self.status, to = %status, "job status changed");
        self.status = status;
        self.status_timestamps[status.index()] = now_millis();
    }

    fn current_mut(&mut self, position: ExecutionPosition) -> &mut Attempt {
        let attempts = &mut self.subtasks[position.vertex][position.subtask];
        let last = attempts.len() - 1;
        &mut attempts[last]
    }

    /// The current attempt of every subtask, with its position.
    pub fn current_executions(
        &self,
    ) -> Vec<(ExecutionPosition, ExecutionAttemptId, ExecutionState)> {
        let mut all = Vec::new();
        for (v, subtasks) in self.subtasks.iter().enumerate() {
            for (s, attempts) in subtasks.iter().enumerate() {
                if let Some(current) = attempts.last() {
                    all.push((
                        ExecutionPosition {
                            vertex: v,
                            subtask: s,
                        },
                        current.execution_id,
                        current.state,
                    ));
                }
            }
        }
        all
    }

    pub fn position_of(&self, execution_id: ExecutionAttemptId) -> Option<ExecutionPosition> {
        self.positions.get(&execution_id).copied()
    }

    pub fn state_of(&self, execution_id: ExecutionAttemptId) -> Option<ExecutionState> {
        let position = self.position_of(execution_id)?;
        self.subtasks[position.vertex][position.subtask]
            .iter()
            .find(|a| a.execution_id == execution_id)
            .map(|a| a.state)
    }

    pub fn location_of(&self, execution_id: ExecutionAttemptId) -> Option<TaskLocation> {
        let position = self.position_of(execution_id)?;
        self.subtasks[position.vertex][position.subtask]
            .iter()
            .find(|a| a.execution_id == execution_id)
            .and_then(|a| a.location.clone())
    }

    /// Moves an execution to `state`. Terminal states are final, and a task
    /// being cancelled only reports its end. Returns whether it changed.
    pub fn set_state(&mut self, execution_id: ExecutionAttemptId, state: ExecutionState) -> bool {
        let Some(position) = self.position_of(execution_id) else {
            return false;
        };
        let attempt = self.current_mut(position);
        if attempt.execution_id != execution_id
            || attempt.state.is_terminal()
            || attempt.state == state
        {
            return false;
        }
        let state = match (attempt.state, state.is_terminal()) {
            (ExecutionState::Canceling, false) => return false,
            // As Flink's Execution: a task told to cancel that ends another
            // way (finished before the call came, or failed as the channels
            // of its cancelled peers closed) has completed its cancelling.
            (ExecutionState::Canceling, true) => ExecutionState::Canceled,
            _ => state,
        };
        attempt.state = state;
        attempt.timestamps[state.index()] = now_millis();
        true
    }

    pub fn set_location(&mut self, execution_id: ExecutionAttemptId, location: TaskLocation) {
        if let Some(position) = self.position_of(execution_id) {
            self.current_mut(position).location = Some(location);
        }
    }

    pub fn set_final_metrics(
        &mut self,
        execution_id: ExecutionAttemptId,
        metrics: IoMetricsSnapshot,
    ) {
        if let Some(position) = self.position_of(execution_id) {
            self.current_mut(position).metrics = metrics;
        }
    }

    pub fn set_failure(&mut self, execution_id: ExecutionAttemptId, message: String) {
        if let Some(position) = self.position_of(execution_id) {
            self.current_mut(position).failure = Some(message);
        }
    }

    pub fn record_exception(&mut self, entry: ExceptionEntry) {
        self.exceptions.push(entry);
    }

    pub fn task_name(&self, position: ExecutionPosition) -> String {
        let vertex = &self.graph.vertices[position.vertex];
        format!(
            "{} ({}/{})",
            vertex.name,
            position.subtask + 1,
            vertex.parallelism
        )
    }

    pub fn all_terminal(&self) -> bool {
        self.current_executions()
            .iter()
            .all(|(_, _, s)| s.is_terminal())
    }

    pub fn all_finished(&self) -> bool {
        self.current_executions()
            .iter()
            .all(|(_, _, s)| *s == ExecutionState::Finished)
    }

    /// The state the job reaches once all its tasks are terminal, if that is now.
    pub fn terminal_status(&self) -> Option<JobStatus> {
        if !self.all_terminal() {
            return None;
        }
        match self.status {
            JobStatus::Failing => Some(JobStatus::Failed),
            JobStatus::Cancelling => Some(JobStatus::Canceled),
            JobStatus::Running if self.all_finished() => Some(JobStatus::Finished),
            JobStatus::Running => Some(JobStatus::Failed),
            _ => None,
        }
    }

    /// The summary `/jobs/overview` lists, without copying the whole graph.
    pub fn overview(&self) -> JobOverview {
        let mut task_counts = [0; 10];
        for (_, _, state) in self.current_executions() {
            task_counts[state.index()] += 1;
        }
        JobOverview::new(OverviewParts {
            job_id: self.graph.job_id,
            name: self.graph.name.clone(),
            job_type: self.graph.job_type,
            status: self.status,
            status_timestamps: self.status_timestamps,
            task_counts,
            now: now_millis(),
        })
    }

    /// A copy of the graph; `live` holds current metrics of running attempts.
    pub fn snapshot(&self, live: &HashMap<ExecutionAttemptId, IoMetricsSnapshot>) -> JobSnapshot {
        let now = now_millis();
        let vertices = self
            .graph
            .vertices
            .iter()
            .zip(&self.subtasks)
            .map(|(vertex, subtasks)| VertexSnapshot {
                id: vertex.id,
                name: vertex.name.clone(),
                parallelism: vertex.parallelism,
                max_parallelism: vertex.max_parallelism,
                operator_names: vertex.operators.iter().map(|o| o.display_name()).collect(),
                subtasks: subtasks
                    .iter()
                    .enumerate()
                    .map(|(index, attempts)| SubtaskSnapshot {
                        index: index as u32,
                        attempts: attempts
                            .iter()
                            .map(|a| AttemptSnapshot {
                                attempt: a.number,
                                execution_id: a.execution_id,
                                state: a.state,
                                state_timestamps: a.timestamps,
                                location: a.location.clone(),
                                metrics: live.get(&a.execution_id).copied().unwrap_or(a.metrics),
                                failure: a.failure.clone(),
                                now,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let edges = self
            .graph
            .edges
            .iter()
            .map(|e| EdgeSnapshot {
                source: self.graph.vertices[e.source].id,
                target: self.graph.vertices[e.target].id,
                strategy: e.strategy,
            })
            .collect();
        JobSnapshot {
            job_id: self.graph.job_id,
            name: self.graph.name.clone(),
            job_type: self.graph.job_type,
            status: self.status,
            status_timestamps: self.status_timestamps,
            parallelism: self.graph.parallelism,
            max_parallelism: self.graph.max_parallelism,
            user_config: self.graph.config.clone(),
            vertices,
            edges,
            exceptions: self.exceptions.clone(),
            now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivulet_runtime::job_graph::JobGraphSpec;

    fn graph() -> ExecutionGraph {
        let spec: JobGraphSpec = serde_json::from_str(
            r#"{"parallelism": 2, "vertices": [
                {"id": "src", "operators": [{"type": "generator", "count": 5}, {"type": "discard_sink"}]}
            ]}"#,
        )
        .unwrap();
        ExecutionGraph::new(
            Arc::new(JobGraph::from_spec(spec, 1).unwrap()),
            now_millis(),
        )
    }

    #[test]
    fn the_job_finishes_only_when_every_task_finished() {
        let mut eg = graph();
        eg.transition(JobStatus::Created);
        eg.transition(JobStatus::Running);
        let ids: Vec<_> = eg
            .current_executions()
            .into_iter()
            .map(|(_, id, _)| id)
            .collect();
        for id in &ids {
            for state in [
                ExecutionState::Scheduled,
                ExecutionState::Deploying,
                ExecutionState::Initializing,
                ExecutionState::Running,
            ] {
                assert!(eg.set_state(*id, state));
            }
        }
        assert!(eg.set_state(ids[0], ExecutionState::Finished));
        assert_eq!(eg.terminal_status(), None);
        assert!(eg.set_state(ids[1], ExecutionState::Finished));
        assert_eq!(eg.terminal_status(), Some(JobStatus::Finished));
        assert!(
            !eg.set_state(ids[1], ExecutionState::Failed),
            "terminal states are final"
        );
    }

    #[test]
    fn a_cancelling_task_only_reports_its_end_and_the_job_ends_canceled() {
        let mut eg = graph();
        eg.transition(JobStatus::Running);
        let ids: Vec<_> = eg
            .current_executions()
            .into_iter()
            .map(|(_, id, _)| id)
            .collect();
        eg.transition(JobStatus::Cancelling);
        eg.set_state(ids[0], ExecutionState::Canceling);
        assert!(!eg.set_state(ids[0], ExecutionState::Running));
        eg.set_state(ids[0], ExecutionState::Canceled);
        // Failing or finishing while cancelling is cancelled.
        eg.set_state(ids[1], ExecutionState::Canceling);
        assert!(eg.set_state(ids[1], ExecutionState::Failed));
        assert_eq!(eg.state_of(ids[1]), Some(ExecutionState::Canceled));
        assert_eq!(eg.terminal_status(), Some(JobStatus::Canceled));
        let snapshot = eg.snapshot(&HashMap::new());
        assert!(snapshot.timestamp(JobStatus::Cancelling) > 0);
        assert_eq!(snapshot.timestamp(JobStatus::Finished), 0);
    }
}
