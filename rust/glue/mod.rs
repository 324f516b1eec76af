// SPDX-License-Identifier: GPL-2.0
//! Kernel glue shared by the rnf modules: the thin layer that holds all the
//! `unsafe` code. Everything above it (the module crate roots) is safe Rust
//! over the kernel-independent `rnf_core`.
//!
//! Each module crate compiles this directory with `#[path]`; a module uses
//! only part of it, hence `dead_code` is allowed here and nowhere else.
#![allow(dead_code)]

pub mod bindings;
pub mod global;
pub mod hook;
pub mod kvec;
#[cfg(CONFIG_KUNIT)]
pub mod kunit;
pub mod percpu;
pub mod pernet;
pub mod proc;
pub mod rcu;
pub mod skb;
pub mod sockopt;
pub mod sync;

/// Netfilter verdicts (include/uapi/linux/netfilter.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `NF_ACCEPT`: continue traversal.
    Accept,
    /// `NF_DROP`: free the packet.
    Drop,
}

impl Verdict {
    /// The `NF_*` value a hook function returns.
    pub fn as_raw(self) -> u32 {
        match self {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
        }
    }
}

/// Current time in jiffies (`get_jiffies_64()`).
pub fn jiffies() -> u64 {
    // SAFETY: reads a global counter; no preconditions.
    unsafe { bindings::rnf_jiffies() }
}

/// The kernel's `HZ`: jiffies per second.
pub fn hz() -> u32 {
    // SAFETY: returns a compile-time constant of the kernel.
    unsafe { bindings::rnf_hz() }
}

/// `net_ratelimit()`: whether a packet-path log line may be printed now.
pub fn net_ratelimit() -> bool {
    // SAFETY: no preconditions; callable from any context.
    unsafe { bindings::rnf_net_ratelimit() }
}

/// A random `u32` (`get_random_u32()`), e.g. a hash seed.
pub fn random_u32() -> u32 {
    // SAFETY: no preconditions.
    unsafe { bindings::get_random_u32() }
}

/// Sleeps at least `ms` milliseconds (`msleep()`): process context only.
pub fn msleep(ms: u32) {
    // SAFETY: callers are process-context paths (namespace exit).
    unsafe { bindings::rnf_msleep(ms) }
}

/// Waits for an RCU grace period (`synchronize_rcu()`): every hook that was
/// running when it was called has returned. Sleeps: process context only.
pub fn synchronize_rcu() {
    // SAFETY: called from module init/exit paths, which may sleep.
    unsafe { bindings::synchronize_rcu() }
}
