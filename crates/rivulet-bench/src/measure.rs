//! Wall-clock and process CPU time over one measured run, and the figures
//! printed for it. CPU time is the whole process's (every thread: the task,
//! the cluster's actors, the REST server), so rows per CPU-second is an
//! honest "per core" rate even when work spills onto the second core.

use std::time::{Duration, Instant};

fn usage() -> libc::rusage {
    // SAFETY: getrusage only writes into the struct we pass it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

/// The most memory this process has had resident so far, in bytes.
pub fn peak_resident_bytes() -> u64 {
    // Linux reports ru_maxrss in KiB.
    (usage().ru_maxrss.max(0) as u64) * 1024
}

/// User plus system CPU time of this process so far.
fn process_cpu() -> Duration {
    let usage = usage();
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// A measurement in progress.
pub struct Stopwatch {
    wall: Instant,
    cpu: Duration,
}

impl Stopwatch {
    pub fn start() -> Self {
        Stopwatch {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }

    pub fn stop(self, case: &str, rows: u64, note: &str) -> Figures {
        let figures = Figures {
            wall: self.wall.elapsed(),
            cpu: process_cpu().saturating_sub(self.cpu),
            rows,
        };
        figures.print(case, note);
        figures
    }
}

pub struct Figures {
    pub wall: Duration,
    pub cpu: Duration,
    pub rows: u64,
}

impl Figures {
    fn print(&self, case: &str, note: &str) {
        let wall = self.wall.as_secs_f64();
        let cpu = self.cpu.as_secs_f64();
        println!(
            "{case:<16} {:>11} rows  {wall:>7.2} s wall  {cpu:>7.2} s cpu  {:>7.3} M rows/s wall  {:>7.3} M rows/cpu-s  {note}",
            self.rows,
            self.rows as f64 / wall / 1e6,
            self.rows as f64 / cpu.max(1e-9) / 1e6,
        );
    }
}
