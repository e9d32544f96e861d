//! The allocator's options (mimalloc), set once at the start of `main`.
//!
//! The engine's state only grows: a table that doubles frees its old half, and the next
//! table to double needs as much again within milliseconds. By default mimalloc returns
//! freed memory to the OS after 10 ms (a "purge"), so the next allocation of it faults in
//! fresh, zeroed pages — on a virtual machine the most expensive thing the writer does
//! (BENCHMARKS.md, "Performance": a third of a replay's time was the kernel zeroing pages).
//! Keeping freed memory for reuse instead costs nothing in peak memory, which is set by
//! the state at its largest; a process's resident size simply stays at its peak.

/// mimalloc's `mi_option_purge_delay`: its index in `mi_option_t` (mimalloc.h, v2 and v3
/// alike; libmimalloc-sys is pinned for this reason). -1 never purges.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Applies the options. Call before anything allocates much.
pub fn tune() {
    #[allow(unsafe_code, reason = "FFI: mimalloc's options; the workspace denies unsafe code elsewhere")]
    // SAFETY: mi_option_set stores an integer in mimalloc's option table; it is thread-safe
    // and valid for every option index below `_mi_option_last`.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
    }
}

#[cfg(test)]
mod tests {
    /// The index names the purge delay: its documented default is 10 ms, and it reads back
    /// what was set.
    #[test]
    #[allow(unsafe_code, reason = "FFI: reading mimalloc's options")]
    fn purge_delay_is_the_option_set() {
        // SAFETY: reading an option is thread-safe and valid for this index.
        let before = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert!(before == 10 || before == -1, "option {} reads {before}, not the purge delay", super::PURGE_DELAY);
        super::tune();
        // SAFETY: as above.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) }, -1);
    }
}
