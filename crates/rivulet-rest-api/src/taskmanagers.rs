//! `/taskmanagers` and `/taskmanagers/{id}` bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskManagersInfo {
    pub taskmanagers: Vec<TaskManagerInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerInfo {
    pub id: String,
    pub path: String,
    pub data_port: i64,
    pub jmx_port: i64,
    /// Despite its name, Flink sends the epoch millis of the last heartbeat.
    pub time_since_last_heartbeat: i64,
    pub slots_number: u32,
    pub free_slots: u32,
    pub assigned_tasks: usize,
    pub total_resource: ResourceProfile,
    pub free_resource: ResourceProfile,
    pub hardware: HardwareDescription,
    pub memory_configuration: MemoryConfiguration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceProfile {
    pub cpu_cores: f64,
    pub task_heap_memory: i64,
    pub task_off_heap_memory: i64,
    pub managed_memory: i64,
    pub network_memory: i64,
    pub extended_resources: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardwareDescription {
    pub cpu_cores: usize,
    pub physical_memory: u64,
    pub free_memory: u64,
    pub managed_memory: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryConfiguration {
    pub framework_heap: u64,
    pub task_heap: u64,
    pub framework_off_heap: u64,
    pub task_off_heap: u64,
    pub network_memory: u64,
    pub managed_memory: u64,
    pub jvm_metaspace: u64,
    pub jvm_overhead: u64,
    pub total_flink_memory: u64,
    pub total_process_memory: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerDetailsInfo {
    #[serde(flatten)]
    pub info: TaskManagerInfo,
    pub allocated_slots: Vec<SlotInfo>,
    pub metrics: TaskManagerMetrics,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotInfo {
    pub job_id: String,
    pub resource: ResourceProfile,
    pub assigned_tasks: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerMetrics {
    pub heap_used: u64,
    pub heap_committed: u64,
    pub heap_max: u64,
    pub non_heap_used: u64,
    pub non_heap_committed: u64,
    pub non_heap_max: u64,
    pub direct_count: u64,
    pub direct_used: u64,
    pub direct_max: u64,
    pub mapped_count: u64,
    pub mapped_used: u64,
    pub mapped_max: u64,
    pub netty_shuffle_memory_segments_available: u64,
    pub netty_shuffle_memory_segments_used: u64,
    pub netty_shuffle_memory_segments_total: u64,
    pub netty_shuffle_memory_available: u64,
    pub netty_shuffle_memory_used: u64,
    pub netty_shuffle_memory_total: u64,
    pub garbage_collectors: Vec<GarbageCollectorInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GarbageCollectorInfo {
    pub name: String,
    pub count: u64,
    pub time: u64,
}
