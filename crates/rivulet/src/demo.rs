//! The demo job `rivulet standalone` starts when given no arguments: a paced
//! generator, a keyed running count behind a hash edge, and a print sink, so
//! the REST API and the TaskManager's stdout both show something alive.

use rivulet_runtime::job_graph::JobGraphSpec;

pub const DEMO_JOB: &str = r#"{
  "name": "rivulet-demo: keyed count",
  "parallelism": 1,
  "vertices": [
    {"id": "numbers", "operators": [
      {"type": "generator", "name": "numbers", "rate": 5, "keys": 5}
    ]},
    {"id": "count", "operators": [
      {"type": "keyed_count", "name": "count-per-key", "key": "key"},
      {"type": "print_sink", "name": "stdout", "identifier": "demo"}
    ]}
  ],
  "edges": [{"from": "numbers", "to": "count", "strategy": "hash", "key": "key"}]
}"#;

pub fn demo_job() -> Result<JobGraphSpec, serde_json::Error> {
    serde_json::from_str(DEMO_JOB)
}
