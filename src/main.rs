//! The `scrubline` binary: everything lives in the library; see `scrubline::cli`.

fn main() -> std::process::ExitCode {
    pin_mmap_threshold();
    scrubline::cli::main()
}

/// Keeps glibc's malloc from holding on to freed memory, so that peak RSS follows what the
/// pipeline has in flight.
///
/// By default glibc raises its mmap threshold to the size of each large block it frees.
/// One freed table of a few MB at start-up (the keyword automaton is built through one) is
/// enough for every later batch and output buffer to come from the heap instead of its own
/// mapping, and the heap then grows with the input: +17 MiB of peak RSS on the 300 MB bench
/// corpus, for the same peak of live heap. A fixed threshold turns that adjustment off.
///
/// 512 KiB: measured against 128 KiB (glibc's start value), 1 and 4 MiB. Lower costs a
/// few ms of start-up in mappings for the regex compiler's temporaries; 4 MiB lets the
/// heap grow again.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn pin_mmap_threshold() {
    const THRESHOLD: libc::c_int = 512 * 1024;
    // SAFETY: mallopt only sets an allocator parameter, before any other thread exists.
    // If it fails (returns 0) the defaults stay, which are correct, only larger.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn pin_mmap_threshold() {}
