//! `/taskmanagers` and `/taskmanagers/{id}`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use rivulet_cluster::snapshot::TaskManagerSnapshot;
use rivulet_rest_api::taskmanagers::{
    HardwareDescription, MemoryConfiguration, ResourceProfile, SlotInfo, TaskManagerDetailsInfo,
    TaskManagerInfo, TaskManagerMetrics, TaskManagersInfo,
};

use super::ok;
use crate::RestState;
use crate::error::RestResult;

/// Rivulet sets no memory budgets per slot yet: a slot's profile is one core.
fn profile(cores: f64) -> ResourceProfile {
    ResourceProfile {
        cpu_cores: cores,
        task_heap_memory: 0,
        task_off_heap_memory: 0,
        managed_memory: 0,
        network_memory: 0,
        extended_resources: BTreeMap::new(),
    }
}

fn info(tm: &TaskManagerSnapshot) -> TaskManagerInfo {
    TaskManagerInfo {
        id: tm.resource_id.clone(),
        path: tm.address.clone(),
        data_port: tm.data_port,
        jmx_port: -1,
        time_since_last_heartbeat: tm.last_heartbeat,
        slots_number: tm.slots,
        free_slots: tm.free_slots,
        assigned_tasks: tm.assigned_tasks(),
        total_resource: profile(tm.slots as f64),
        free_resource: profile(tm.free_slots as f64),
        hardware: HardwareDescription {
            cpu_cores: tm.hardware.cpu_cores,
            physical_memory: tm.hardware.physical_memory,
            free_memory: tm.hardware.free_memory,
            managed_memory: 0,
        },
        memory_configuration: MemoryConfiguration {
            framework_heap: 0,
            task_heap: 0,
            framework_off_heap: 0,
            task_off_heap: 0,
            network_memory: 0,
            managed_memory: 0,
            jvm_metaspace: 0,
            jvm_overhead: 0,
            total_flink_memory: 0,
            total_process_memory: 0,
        },
    }
}

pub async fn list(State(state): State<RestState>) -> RestResult {
    let tms = state.resource_manager.task_managers().await?;
    Ok(ok(&TaskManagersInfo {
        taskmanagers: tms.iter().map(info).collect(),
    }))
}

pub async fn details(State(state): State<RestState>, Path(id): Path<String>) -> RestResult {
    let tm = state.resource_manager.task_manager(&id).await?;
    Ok(ok(&TaskManagerDetailsInfo {
        info: info(&tm),
        allocated_slots: tm
            .allocated
            .iter()
            .map(|slot| SlotInfo {
                job_id: slot.job_id.to_string(),
                resource: profile(1.0),
                assigned_tasks: slot.assigned_tasks,
            })
            .collect(),
        // A TaskManager runs inside the Rivulet process: its memory is the
        // process's resident memory; there is no JVM heap, GC or Netty pool.
        metrics: TaskManagerMetrics {
            heap_used: tm.memory.resident_bytes,
            heap_committed: tm.memory.resident_bytes,
            heap_max: tm.hardware.physical_memory,
            non_heap_used: 0,
            non_heap_committed: 0,
            non_heap_max: 0,
            direct_count: 0,
            direct_used: 0,
            direct_max: 0,
            mapped_count: 0,
            mapped_used: 0,
            mapped_max: 0,
            netty_shuffle_memory_segments_available: 0,
            netty_shuffle_memory_segments_used: 0,
            netty_shuffle_memory_segments_total: 0,
            netty_shuffle_memory_available: 0,
            netty_shuffle_memory_used: 0,
            netty_shuffle_memory_total: 0,
            garbage_collectors: Vec::new(),
        },
    }))
}
