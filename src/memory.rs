//! Process-wide memory settings for the long-running server.

/// Turns transparent huge pages off for this process. With the kernel's
/// THP at `always` (common on VMs), every 2 MiB region the allocator or a
/// thread stack touched became one resident huge page: the idle server
/// held about 27 MiB of huge pages for a few MiB of live data (issue 16,
/// docs/performance.md). The flag is inherited by every thread started
/// afterwards; `serve` sets it before it starts any. Where the kernel
/// refuses, nothing changes.
pub fn small_pages_only() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("note: could not turn transparent huge pages off: {e}");
    }
}
