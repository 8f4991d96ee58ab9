//! The `rivulet` binary's library half: starting a standalone cluster (a
//! JobManager with its REST endpoint and N TaskManagers in one process), and
//! the demo job a new user sees on the first run. The binary and the
//! integration tests start clusters through the same [`standalone::start`].
//! [`client`] is the command line's REST client (`run`, `list`, `cancel`, `info`);
//! [`nexmark_json`] writes the Nexmark event stream as a JSON-lines file.

/// mimalloc for every process that runs a cluster (the binary, the
/// benchmarks, the tests): batches allocate and free large column buffers
/// at a high rate, and glibc's malloc hands those back to the kernel and
/// faults them in again (page faults and zeroing showed in the profiles of
/// the file sources); mimalloc keeps them for reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (its index in mimalloc 3's `mi_option_e`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Lets freed memory wait ten seconds, not one, before mimalloc hands it
/// back to the kernel. A sink's parquet writer frees a row group's buffers
/// (over 100 MB) and fills new ones within a second or two; with the default
/// delay those pages went back to the kernel in between and were faulted
/// and zeroed again, 45 000 faults and a fifth of the JSON → parquet job's
/// CPU time, against 2 100 faults with the longer delay. Memory a finished
/// job leaves still goes back, a little later.
pub fn tune_allocator() {
    // SAFETY: mi_option_set only stores the option's value; mimalloc reads
    // it on its next purge decision.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10_000) }
}

pub mod client;
pub mod demo;
pub mod nexmark_json;
pub mod standalone;

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_the_one_tuned() {
        // SAFETY: reading an option only reads mimalloc's option table.
        let get = || unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // mimalloc 3's default purge delay: had the option's index moved,
            // another option's value would show here.
            assert_eq!(get(), 1000);
        }
        super::tune_allocator();
        assert_eq!(get(), 10_000);
    }
}
