//! Facts about the machine and process, read from `/proc` where available.

/// What `/taskmanagers` reports as `hardware`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HardwareDescription {
    pub cpu_cores: usize,
    pub physical_memory: u64,
    pub free_memory: u64,
}

/// The process's memory, as far as the OS tells it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessMemory {
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
}

fn meminfo_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

pub fn hardware() -> HardwareDescription {
    HardwareDescription {
        cpu_cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        physical_memory: meminfo_kib("MemTotal:").unwrap_or(0) * 1024,
        free_memory: meminfo_kib("MemAvailable:").unwrap_or(0) * 1024,
    }
}

pub fn process_memory() -> ProcessMemory {
    let page = 4096u64;
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let mut fields = statm
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0));
    let virtual_pages = fields.next().unwrap_or(0);
    let resident_pages = fields.next().unwrap_or(0);
    ProcessMemory {
        resident_bytes: resident_pages * page,
        virtual_bytes: virtual_pages * page,
    }
}
