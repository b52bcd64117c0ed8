//! glibc's allocator, tuned for tensors. Every operation of a Burn model allocates its
//! output, and most outputs are one to forty megabytes. glibc serves allocations above its
//! `mmap` threshold with fresh pages from the kernel and returns them on free, and it moves
//! that threshold and trims the heap as it goes; on a page of text that is hundreds of
//! thousands of page faults (the first touch of each 4 KiB page is a fault the kernel zeroes).
//! A fixed 32 MiB threshold and a 128 MiB trim threshold keep those buffers in the heap for
//! reuse: measured on `ocr_eval --mode full --model pp-ocrv4` over four pages, page faults
//! fell from 380 000–500 000 to 41 000, pages/s rose 0.56 → 0.64, peak RSS was unchanged
//! (176 MB before, 170 MB after).
//!
//! glibc reads its tunables only when a process starts, so [`tune`] restarts the process
//! (the same executable, arguments, `argv[0]` and process id: `exec`) with `GLIBC_TUNABLES`
//! set. It does nothing when `GLIBC_TUNABLES` is already set (the operator's choice stands),
//! off glibc, or if `exec` fails (the process carries on untuned). It restarts at most once:
//! the restarted process also carries `TOLLGATE_MALLOC_TUNED`, because glibc removes
//! `GLIBC_TUNABLES` from a setuid or file-capability binary's environment (secure mode), and
//! without the marker such a binary would restart forever. (`mallopt` would need no restart,
//! but calling it is `unsafe`, which this workspace forbids.)

/// The tunables `tune` sets.
pub const TUNABLES: &str =
    "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728";

/// Set in the restarted process: never restart twice.
const MARKER: &str = "TOLLGATE_MALLOC_TUNED";

/// Restarts this process with [`TUNABLES`] unless `GLIBC_TUNABLES` is set; call it first
/// thing in `main`, before any thread starts. Returns only when it did not restart.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("GLIBC_TUNABLES").is_some() || std::env::var_os(MARKER).is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
        let err = std::process::Command::new(&exe)
            .arg0(arg0)
            .args(args)
            .env("GLIBC_TUNABLES", TUNABLES)
            .env(MARKER, "1")
            .exec();
        eprintln!("note: running without the allocator settings for tensors: {err}");
    }
}
