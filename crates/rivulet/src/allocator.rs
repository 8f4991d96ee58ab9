//! The process's allocator: mimalloc for every process that runs a cluster
//! (the binary, the benchmarks, the tests), and the options it is tuned with
//! once a cluster starts.
//!
//! Batches allocate and free large column buffers at a high rate. glibc's
//! malloc handed those back to the kernel and faulted them in again (page
//! faults and zeroing showed in the profiles of the file sources); mimalloc
//! keeps them for reuse.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (its index in mimalloc 3's `mi_option_e`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// mimalloc's `allow_thp` option (its index in mimalloc 3's `mi_option_e`).
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;
/// Where a user chooses how long freed memory waits, as mimalloc reads it.
const PURGE_DELAY_ENV: &str = "MIMALLOC_PURGE_DELAY";
/// Where a user chooses mimalloc's huge-page use for themselves.
const ALLOW_THP_ENV: &str = "MIMALLOC_ALLOW_THP";

/// Tunes the allocator for a cluster's work:
///
/// - Freed memory waits ten seconds, not one, before it goes back to the
///   kernel. A sink's parquet writer frees a row group's buffers (over
///   100 MB) and fills new ones within a second or two; with the default
///   delay those pages went back in between and were faulted and zeroed
///   again: 45 000 faults and a fifth of the JSON → parquet job's CPU time,
///   against 2 100 faults with the longer delay. Memory a finished job
///   leaves still goes back, a little later.
/// - No transparent huge pages, as the JVM (and so Flink) has none unless
///   told to. mimalloc asks for them on its arenas, and each fault then
///   zeroes a fresh 2 MiB page that the kernel first has to find (and, in a
///   VM that reports free memory to its host, that the host has to back
///   anew): the JSON → parquet job spent 1.1 – 1.4 s of system time per
///   10 M rows with them and 0.6 s without, for 30 % more rows per CPU-second;
///   the stateful Nexmark queries measured the same either way. A user who
///   sets `MIMALLOC_ALLOW_THP` keeps their choice.
pub fn tune_allocator() {
    if std::env::var_os(PURGE_DELAY_ENV).is_none() {
        // SAFETY: mi_option_set only stores the option's value; mimalloc
        // reads it on its next purge decision.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10_000) }
    }
    if std::env::var_os(ALLOW_THP_ENV).is_none() {
        disable_transparent_huge_pages();
    }
}

/// mimalloc stops asking for huge pages on the arenas it maps from now on,
/// and the kernel stops giving them to this process, also where mimalloc
/// asked for them at its start (before any of our code ran).
fn disable_transparent_huge_pages() {
    // SAFETY: as above, an option's value is only stored.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0) }
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag
    // of this process. A kernel without it answers EINVAL, and the process
    // then keeps huge pages: slower on some machines, never wrong.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_tuned_are_purge_delay_and_allow_thp() {
        // SAFETY: reading an option only reads mimalloc's option table.
        let get = |option| unsafe { libmimalloc_sys::mi_option_get(option) };
        // mimalloc 3's defaults: had an option's index moved, another
        // option's value would show here.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(MI_OPTION_PURGE_DELAY), 1000);
        }
        let thp_chosen = std::env::var_os(ALLOW_THP_ENV).is_some();
        if !thp_chosen {
            assert_eq!(get(MI_OPTION_ALLOW_THP), 1);
        }
        tune_allocator();
        assert_eq!(get(MI_OPTION_PURGE_DELAY), 10_000);
        if !thp_chosen {
            assert_eq!(get(MI_OPTION_ALLOW_THP), 0);
            // SAFETY: PR_GET_THP_DISABLE reads this process's flag.
            let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
            assert_eq!(disabled, 1, "the kernel gives this process no huge pages");
        }
    }
}
