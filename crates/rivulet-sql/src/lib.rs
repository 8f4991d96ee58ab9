//! Flink SQL scripts as Rivulet jobs.
//!
//! [`script`] splits a script into statements, [`statements`] parses Flink's
//! DDL and DML forms, [`types`] maps Flink types to Arrow, [`connectors`] knows
//! each connector's options ([`filesystem`] its formats' too), and [`planner`]
//! plans queries with DataFusion and lowers them to a
//! [`rivulet_runtime::job_graph::JobGraphSpec`]; [`package`] reads job packages
//! (a `.sql` script or a `.jar` of scripts). Every error
//! carries the statement and its line and column; nothing runs unless the
//! whole script plans.

mod aggregation;
mod column_names;
pub mod connectors;
pub mod error;
pub mod filesystem;
mod listagg;
mod lookup;
mod nested_fields;
pub mod nexmark;
pub mod package;
pub mod planner;
pub mod script;
mod select_names;
pub mod statements;
pub mod types;
mod unparse_dialect;
mod window_tvf;

pub use error::SqlError;
pub use package::JobPackage;
pub use planner::{PlanOptions, plan_script};
