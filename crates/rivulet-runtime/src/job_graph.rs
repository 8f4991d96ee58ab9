//! The job graph: what a client submits and what the cluster schedules.
//!
//! [`JobGraphSpec`] is the JSON a client writes (documented in
//! `docs/job-graph.md`). [`JobGraph::from_spec`] checks it completely, resolving
//! parallelism, ordering vertices topologically and propagating Arrow schemas
//! through every operator chain, so a graph that would fail to start is rejected
//! at submission with a message that names the problem.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_schema::SchemaRef;
use rivulet_common::{JobId, JobVertexId};
use serde::{Deserialize, Serialize};

use crate::error::{Result, RuntimeError};
use crate::key_groups::default_max_parallelism;
use crate::operators::OperatorSpec;
use crate::operators::keyed_count::column_names;

/// How records travel along an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipStrategy {
    /// Subtask `i` sends to subtask `i`; both sides need the same parallelism.
    Forward,
    /// Each row goes to the subtask owning its key's key group.
    Hash,
    /// Batches go round-robin to all consumer subtasks.
    Rebalance,
    /// Every batch goes to every consumer subtask.
    Broadcast,
}

impl ShipStrategy {
    /// The name Flink shows in a plan's `ship_strategy`.
    pub fn flink_name(self) -> &'static str {
        match self {
            ShipStrategy::Forward => "FORWARD",
            ShipStrategy::Hash => "HASH",
            ShipStrategy::Rebalance => "REBALANCE",
            ShipStrategy::Broadcast => "BROADCAST",
        }
    }
}

/// The submitted form of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobGraphSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub job_id: Option<JobId>,
    /// Default parallelism of vertices that set none.
    #[serde(default)]
    pub parallelism: Option<u32>,
    #[serde(default)]
    pub max_parallelism: Option<u32>,
    /// `STREAMING` (default) or `BATCH`, Flink's `execution.runtime-mode`.
    #[serde(default)]
    pub job_type: Option<JobType>,
    /// User configuration, shown in `/jobs/{id}/config`.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    pub vertices: Vec<VertexSpec>,
    #[serde(default)]
    pub edges: Vec<EdgeSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VertexSpec {
    /// A name unique in the graph, used by edges.
    pub id: String,
    #[serde(default)]
    pub parallelism: Option<u32>,
    #[serde(default)]
    pub max_parallelism: Option<u32>,
    pub operators: Vec<OperatorSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EdgeSpec {
    pub from: String,
    pub to: String,
    pub strategy: ShipStrategy,
    /// The key column of a `hash` edge.
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobType {
    Streaming,
    Batch,
}

/// A checked, runnable job graph. Vertices are in topological order.
#[derive(Debug, Clone)]
pub struct JobGraph {
    pub job_id: JobId,
    pub name: String,
    pub job_type: JobType,
    /// The job's default parallelism (`job-parallelism` in `/jobs/{id}/config`).
    pub parallelism: u32,
    /// The job-wide max parallelism if the submitter set one, else -1.
    pub max_parallelism: i64,
    pub config: BTreeMap<String, String>,
    pub vertices: Vec<JobVertex>,
    pub edges: Vec<JobEdge>,
}

#[derive(Debug, Clone)]
pub struct JobVertex {
    pub id: JobVertexId,
    /// The id the submitter gave the vertex.
    pub local_id: String,
    /// The chain's display names joined by ` -> `, as Flink names a task.
    pub name: String,
    pub parallelism: u32,
    pub max_parallelism: u32,
    pub operators: Vec<OperatorSpec>,
    pub input_schema: Option<SchemaRef>,
    pub output_schema: Option<SchemaRef>,
}

#[derive(Debug, Clone)]
pub struct JobEdge {
    /// Index into [`JobGraph::vertices`].
    pub source: usize,
    pub target: usize,
    pub strategy: ShipStrategy,
    /// Index of the key column in the source's output schema (hash edges).
    pub key_column: Option<usize>,
}

fn invalid(message: impl Into<String>) -> RuntimeError {
    RuntimeError::InvalidJobGraph(message.into())
}

/// Derives a stable vertex id from the job id and the vertex's local id, so the
/// same submission always shows the same vertex ids.
fn vertex_id_for(job_id: JobId, local_id: &str) -> JobVertexId {
    let mut hash: u128 = 0x6c62272e07bb014262b821756295c58d ^ job_id.0.as_u128();
    for byte in local_id.bytes() {
        hash ^= byte as u128;
        hash = hash.wrapping_mul(0x0000000001000000000000000000013B);
    }
    JobVertexId(rivulet_common::AbstractId::from_u128(hash))
}

impl JobGraph {
    /// Checks a submitted graph. `default_parallelism` is the cluster's
    /// `parallelism.default`.
    pub fn from_spec(spec: JobGraphSpec, default_parallelism: u32) -> Result<JobGraph> {
        if spec.vertices.is_empty() {
            return Err(invalid("the job graph has no vertices"));
        }
        let job_id = spec.job_id.unwrap_or_else(JobId::random);
        let job_parallelism = spec.parallelism.unwrap_or(default_parallelism);
        if job_parallelism == 0 {
            return Err(invalid("parallelism must be at least 1"));
        }

        let mut index_of: HashMap<&str, usize> = HashMap::new();
        for (i, vertex) in spec.vertices.iter().enumerate() {
            if index_of.insert(vertex.id.as_str(), i).is_some() {
                return Err(invalid(format!("vertex id '{}' is used twice", vertex.id)));
            }
        }
        let mut edges = Vec::new();
        for edge in &spec.edges {
            let lookup = |name: &str| {
                index_of.get(name).copied().ok_or_else(|| {
                    invalid(format!(
                        "edge {} -> {} references vertex '{name}', which does not exist",
                        edge.from, edge.to
                    ))
                })
            };
            let (source, target) = (lookup(&edge.from)?, lookup(&edge.to)?);
            if source == target {
                return Err(invalid(format!(
                    "edge {0} -> {0} is a self-loop",
                    edge.from
                )));
            }
            edges.push((source, target, edge));
        }

        let order = topological_order(spec.vertices.len(), &edges).ok_or_else(|| {
            invalid("the job graph has a cycle; edges must form a directed acyclic graph")
        })?;

        let mut vertices: Vec<Option<JobVertex>> = vec![None; spec.vertices.len()];
        for &v in &order {
            let vertex_spec = &spec.vertices[v];
            let inputs: Vec<&(usize, usize, &EdgeSpec)> =
                edges.iter().filter(|(_, t, _)| *t == v).collect();
            let input_schema = resolve_input_schema(vertex_spec, &inputs, &vertices)?;
            let vertex = build_vertex(
                job_id,
                vertex_spec,
                input_schema,
                job_parallelism,
                spec.max_parallelism,
            )?;
            vertices[v] = Some(vertex);
        }

        let mut resolved_edges = Vec::new();
        for (source, target, edge) in &edges {
            let (Some(src), Some(dst)) = (&vertices[*source], &vertices[*target]) else {
                return Err(invalid("internal: unresolved vertex"));
            };
            if edge.strategy == ShipStrategy::Forward && src.parallelism != dst.parallelism {
                return Err(invalid(format!(
                    "forward edge {} -> {} connects parallelism {} to {}; forward needs equal parallelism (use rebalance or hash)",
                    edge.from, edge.to, src.parallelism, dst.parallelism
                )));
            }
            let key_column = match (edge.strategy, &edge.key) {
                (ShipStrategy::Hash, None) => {
                    return Err(invalid(format!(
                        "hash edge {} -> {} needs a 'key' column",
                        edge.from, edge.to
                    )));
                }
                (ShipStrategy::Hash, Some(key)) => {
                    let schema = src
                        .output_schema
                        .as_ref()
                        .ok_or_else(|| invalid(format!("vertex '{}' ends in a sink", edge.from)))?;
                    Some(schema.index_of(key).map_err(|_| {
                        invalid(format!(
                            "hash edge {} -> {} keys on '{key}', which is not a column of [{}]",
                            edge.from,
                            edge.to,
                            column_names(schema)
                        ))
                    })?)
                }
                (_, Some(_)) => {
                    return Err(invalid(format!(
                        "edge {} -> {} sets 'key' but only hash edges take a key",
                        edge.from, edge.to
                    )));
                }
                (_, None) => None,
            };
            resolved_edges.push(JobEdge {
                source: order_position(&order, *source),
                target: order_position(&order, *target),
                strategy: edge.strategy,
                key_column,
            });
        }

        let vertices: Vec<JobVertex> = order.iter().filter_map(|&v| vertices[v].take()).collect();
        let graph = JobGraph {
            job_id,
            name: spec.name.unwrap_or_else(|| "rivulet-job".into()),
            job_type: spec.job_type.unwrap_or(JobType::Streaming),
            parallelism: job_parallelism,
            max_parallelism: spec.max_parallelism.map(i64::from).unwrap_or(-1),
            config: spec.config,
            vertices,
            edges: resolved_edges,
        };
        check_keyed_inputs(&graph)?;
        Ok(graph)
    }

    /// Edges arriving at vertex `index`, in a fixed order.
    pub fn inputs_of(&self, index: usize) -> impl Iterator<Item = &JobEdge> {
        self.edges.iter().filter(move |e| e.target == index)
    }

    pub fn outputs_of(&self, index: usize) -> impl Iterator<Item = &JobEdge> {
        self.edges.iter().filter(move |e| e.source == index)
    }

    /// The consumer-side channel layout of vertex `index`: for each input edge
    /// (in [`inputs_of`](Self::inputs_of) order) the index of its first channel,
    /// plus the total. A forward edge is one channel; any other edge is one
    /// channel per producer subtask.
    pub fn input_channel_offsets(&self, index: usize) -> (Vec<usize>, usize) {
        let mut offsets = Vec::new();
        let mut total = 0;
        for edge in self.inputs_of(index) {
            offsets.push(total);
            total += match edge.strategy {
                ShipStrategy::Forward => 1,
                _ => self.vertices[edge.source].parallelism as usize,
            };
        }
        (offsets, total)
    }

    /// The number of slots the job needs: all vertices share slots, so it is
    /// the largest parallelism.
    pub fn required_slots(&self) -> u32 {
        self.vertices
            .iter()
            .map(|v| v.parallelism)
            .max()
            .unwrap_or(0)
    }
}

fn order_position(order: &[usize], original: usize) -> usize {
    order
        .iter()
        .position(|&o| o == original)
        .unwrap_or(original)
}

fn topological_order(count: usize, edges: &[(usize, usize, &EdgeSpec)]) -> Option<Vec<usize>> {
    let mut in_degree = vec![0usize; count];
    for (_, target, _) in edges {
        in_degree[*target] += 1;
    }
    let mut ready: Vec<usize> = (0..count).filter(|&v| in_degree[v] == 0).rev().collect();
    let mut order = Vec::with_capacity(count);
    while let Some(v) = ready.pop() {
        order.push(v);
        for (source, target, _) in edges {
            if *source == v {
                in_degree[*target] -= 1;
                if in_degree[*target] == 0 {
                    ready.insert(0, *target);
                }
            }
        }
    }
    (order.len() == count).then_some(order)
}

fn resolve_input_schema(
    vertex: &VertexSpec,
    inputs: &[&(usize, usize, &EdgeSpec)],
    built: &[Option<JobVertex>],
) -> Result<Option<SchemaRef>> {
    let starts_with_source = vertex
        .operators
        .first()
        .is_some_and(OperatorSpec::is_source);
    if starts_with_source {
        if !inputs.is_empty() {
            return Err(invalid(format!(
                "vertex '{}' starts with a source and cannot have input edges",
                vertex.id
            )));
        }
        return Ok(None);
    }
    if inputs.is_empty() {
        return Err(invalid(format!(
            "vertex '{}' has neither a source nor an input edge",
            vertex.id
        )));
    }
    let join = vertex.operators.first().and_then(OperatorSpec::as_join);
    if join.is_some() && inputs.len() != 2 {
        return Err(invalid(format!(
            "vertex '{}' joins two inputs but has {} input edges",
            vertex.id,
            inputs.len()
        )));
    }
    let mut schema: Option<SchemaRef> = None;
    for (side, (source, _, edge)) in inputs.iter().enumerate() {
        let upstream = built[*source]
            .as_ref()
            .ok_or_else(|| invalid("internal: input vertex not yet resolved"))?;
        let output = upstream.output_schema.clone().ok_or_else(|| {
            invalid(format!(
                "vertex '{}' ends in a sink, so edge {} -> {} carries nothing",
                edge.from, edge.from, edge.to
            ))
        })?;
        // A join's sides differ; each must carry the columns it expects.
        if let Some(expected) = join.and_then(|j| j.input_schema(side)) {
            if expected.fields() != output.fields() {
                return Err(invalid(format!(
                    "input {side} of vertex '{}' carries [{}], but its join expects [{}]",
                    vertex.id,
                    column_names(&output),
                    column_names(&Arc::new(expected.clone()))
                )));
            }
            schema.get_or_insert(output);
            continue;
        }
        match &schema {
            None => schema = Some(output),
            Some(existing) if existing.fields() == output.fields() => {}
            Some(existing) => {
                return Err(invalid(format!(
                    "inputs of vertex '{}' have different columns: [{}] and [{}]",
                    vertex.id,
                    column_names(existing),
                    column_names(&output)
                )));
            }
        }
    }
    Ok(schema)
}

fn build_vertex(
    job_id: JobId,
    spec: &VertexSpec,
    input_schema: Option<SchemaRef>,
    job_parallelism: u32,
    job_max_parallelism: Option<u32>,
) -> Result<JobVertex> {
    if spec.operators.is_empty() {
        return Err(invalid(format!("vertex '{}' has no operators", spec.id)));
    }
    let parallelism = spec.parallelism.unwrap_or(job_parallelism);
    if parallelism == 0 {
        return Err(invalid(format!("vertex '{}' has parallelism 0", spec.id)));
    }
    let max_parallelism = spec
        .max_parallelism
        .or(job_max_parallelism)
        .unwrap_or_else(|| default_max_parallelism(parallelism));
    if !(1..=32768).contains(&max_parallelism) || max_parallelism < parallelism {
        return Err(invalid(format!(
            "vertex '{}' has max parallelism {max_parallelism}; it must be between its parallelism {parallelism} and 32768",
            spec.id
        )));
    }
    let mut schema = input_schema.clone();
    for (position, operator) in spec.operators.iter().enumerate() {
        operator.validate()?;
        if operator.is_source() && position > 0 {
            return Err(invalid(format!(
                "vertex '{}': a source must be the first operator of its chain",
                spec.id
            )));
        }
        if position > 0 && schema.is_none() {
            return Err(invalid(format!(
                "vertex '{}': '{}' follows a sink",
                spec.id,
                operator.display_name()
            )));
        }
        if let Some(key) = operator
            .key_column()
            .or(operator.as_join().map(|j| j.left_key.as_str()))
            && position > 0
        {
            return Err(invalid(format!(
                "vertex '{}': keyed operator on '{key}' must be first in its chain, behind a hash edge on '{key}'",
                spec.id
            )));
        }
        schema = operator.output_schema(schema.as_ref())?;
    }
    Ok(JobVertex {
        id: vertex_id_for(job_id, &spec.id),
        local_id: spec.id.clone(),
        name: spec
            .operators
            .iter()
            .map(OperatorSpec::display_name)
            .collect::<Vec<_>>()
            .join(" -> "),
        parallelism,
        max_parallelism,
        operators: spec.operators.clone(),
        input_schema,
        output_schema: schema,
    })
}

/// Checks that every keyed operator is fed only by hash edges on its key
/// (a join: each input on its own key).
fn check_keyed_inputs(graph: &JobGraph) -> Result<()> {
    for (index, vertex) in graph.vertices.iter().enumerate() {
        let first = vertex.operators.first();
        let join = first.and_then(OperatorSpec::as_join);
        let Some(single_key) = first
            .and_then(OperatorSpec::key_column)
            .or(join.map(|_| ""))
        else {
            continue;
        };
        for (side, edge) in graph.inputs_of(index).enumerate() {
            let key = join.and_then(|j| j.input_key(side)).unwrap_or(single_key);
            let upstream = &graph.vertices[edge.source];
            let edge_key = edge
                .key_column
                .zip(upstream.output_schema.as_ref())
                .map(|(i, s)| s.field(i).name().clone());
            if edge.strategy != ShipStrategy::Hash || edge_key.as_deref() != Some(key) {
                return Err(invalid(format!(
                    "vertex '{}' counts by '{key}', so its input from '{}' must be a hash edge on '{key}'",
                    vertex.local_id, upstream.local_id
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<JobGraph> {
        let spec: JobGraphSpec = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
        JobGraph::from_spec(spec, 1)
    }

    const GOOD: &str = r#"{
        "name": "count", "parallelism": 3,
        "vertices": [
            {"id": "sink", "operators": [{"type": "keyed_count", "key": "key"}, {"type": "discard_sink"}]},
            {"id": "src", "operators": [{"type": "generator", "count": 10}]}
        ],
        "edges": [{"from": "src", "to": "sink", "strategy": "hash", "key": "key"}]
    }"#;

    #[test]
    fn a_valid_graph_is_ordered_and_named_like_flink() {
        let graph = parse(GOOD).unwrap();
        assert_eq!(graph.vertices[0].local_id, "src");
        assert_eq!(graph.vertices[0].name, "Source: generator");
        assert_eq!(graph.vertices[1].name, "keyed-count -> Sink: discard");
        assert_eq!(graph.vertices[1].max_parallelism, 128);
        assert_eq!(graph.edges[0].source, 0);
        assert_eq!(graph.input_channel_offsets(1), (vec![0], 3));
        assert_eq!(graph.required_slots(), 3);
    }

    #[test]
    fn broken_graphs_are_rejected_with_the_reason() {
        let missing = GOOD.replace(r#""to": "sink""#, r#""to": "nowhere""#);
        assert!(
            parse(&missing)
                .unwrap_err()
                .to_string()
                .contains("'nowhere'")
        );
        let bad_key = GOOD.replace(r#""key": "key"}]"#, r#""key": "nope"}]"#);
        assert!(parse(&bad_key).unwrap_err().to_string().contains("'nope'"));
        let rebalance = GOOD.replace(
            r#""strategy": "hash", "key": "key""#,
            r#""strategy": "rebalance""#,
        );
        assert!(
            parse(&rebalance)
                .unwrap_err()
                .to_string()
                .contains("hash edge")
        );
        let cycle = GOOD.replace(
            r#""edges": ["#,
            r#""edges": [{"from": "sink", "to": "src", "strategy": "rebalance"},"#,
        );
        assert!(parse(&cycle).is_err());
    }
}
