//! Which cores a benchmark runs on.
//!
//! Issue 4's targets are per query on one core. A process confined to one
//! core, as `taskset -c 0` or a one-CPU container confines it, sees one CPU
//! (`std::thread::available_parallelism`), so the cluster's data plane runs
//! one thread and every task of a query shares it, as they would on a
//! machine of one core.

/// Confines this process, and every thread it starts from now on, to the
/// first `cores` of the CPUs it may run on; how many it then has. Call it
/// before any thread starts: threads already running keep their CPUs.
#[cfg(target_os = "linux")]
pub fn confine_to_first(cores: usize) -> std::io::Result<usize> {
    // SAFETY: cpu_set_t is a plain bitmask; the libc calls only read and
    // write the set passed, of the size passed.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::sched_getaffinity(0, size, &mut allowed) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut chosen: libc::cpu_set_t = std::mem::zeroed();
        let mut count = 0;
        for cpu in 0..libc::CPU_SETSIZE as usize {
            if count == cores {
                break;
            }
            if libc::CPU_ISSET(cpu, &allowed) {
                libc::CPU_SET(cpu, &mut chosen);
                count += 1;
            }
        }
        if libc::sched_setaffinity(0, size, &chosen) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(count)
    }
}

/// Elsewhere the process keeps every CPU: how many that is.
#[cfg(not(target_os = "linux"))]
pub fn confine_to_first(_cores: usize) -> std::io::Result<usize> {
    std::thread::available_parallelism().map(|n| n.get())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_thread_confined_to_one_core_sees_one_cpu() {
        // In a thread of its own, so the test harness keeps its CPUs.
        let seen = std::thread::spawn(|| {
            let confined = confine_to_first(1).unwrap();
            let started = std::thread::spawn(|| std::thread::available_parallelism().unwrap());
            (confined, started.join().unwrap().get())
        })
        .join()
        .unwrap();
        assert_eq!(seen, (1, 1));
    }
}
