// SPDX-License-Identifier: GPL-2.0
//! Netfilter hook registration.
//!
//! C header: [include/linux/netfilter.h](srctree/include/linux/netfilter.h)
//!
//! A module describes each hook by a type implementing [`Hook`]; the generic
//! [`trampoline`] adapts the C calling convention (`nf_hookfn`) to it, so hook
//! bodies are safe Rust.

use core::ffi::{c_uint, c_void};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{to_result, Result};

use super::bindings;
use super::kvec;
use super::rcu::RcuHeld;
use super::skb::Skb;
use super::Verdict;

/// A network namespace, borrowed.
///
/// # Invariants
///
/// `raw` points to a live `struct net` for as long as this value exists.
#[derive(Clone, Copy)]
pub struct Net {
    raw: *mut bindings::net,
}

impl Net {
    /// Wraps a raw namespace pointer.
    ///
    /// # Safety
    ///
    /// `raw` must point to a live `struct net` for the lifetime of the value.
    pub unsafe fn from_raw(raw: *mut bindings::net) -> Net {
        // INVARIANT: guaranteed by the caller.
        Net { raw }
    }

    /// The raw pointer.
    pub fn as_ptr(self) -> *mut bindings::net {
        self.raw
    }

    /// The namespace's identifier: its inode number, unique among live
    /// namespaces (what `ls -l /proc/self/ns/net` shows).
    pub fn id(self) -> u32 {
        // SAFETY: `raw` is live (type invariant).
        unsafe { bindings::rnf_net_id(self.raw) }
    }
}

/// The state netfilter passes to a hook (`struct nf_hook_state`).
pub struct HookState<'a> {
    raw: &'a bindings::nf_hook_state,
}

impl<'a> HookState<'a> {
    /// Wraps the state another module's hook passes on (an exported entry
    /// point called from a hook).
    ///
    /// # Safety
    ///
    /// `raw` must be the valid state of a hook call that lasts for `'a`
    /// and runs under `rcu_read_lock()`, as every netfilter hook does
    /// ([`HookState::rcu`]).
    pub unsafe fn from_raw(raw: *const bindings::nf_hook_state) -> HookState<'a> {
        // SAFETY: guaranteed by the caller.
        HookState { raw: unsafe { &*raw } }
    }
}

impl<'a> HookState<'a> {
    /// The RCU read-side critical section the hook call runs in: netfilter
    /// calls hooks only under `rcu_read_lock()` (`nf_hook()` around
    /// `nf_hook_slow()`, net/netfilter/core.c: "Caller must hold
    /// rcu_read_lock"), which lasts for the whole call, `'a`.
    pub fn rcu(&self) -> RcuHeld<'a> {
        // SAFETY: a `HookState<'a>` exists only for a hook call lasting
        // `'a` (the trampoline's, or `from_raw`'s contract), which runs in
        // an RCU read-side critical section for all of it (above).
        unsafe { RcuHeld::new() }
    }
}

impl HookState<'_> {
    /// The hook number (`NF_INET_*`).
    pub fn hook(&self) -> u32 {
        u32::from(self.raw.hook)
    }

    /// The family (`NFPROTO_*`).
    pub fn pf(&self) -> u8 {
        self.raw.pf
    }

    /// The namespace the packet is in.
    pub fn net(&self) -> Net {
        // SAFETY: netfilter guarantees `state->net` is live during the hook.
        unsafe { Net::from_raw(self.raw.net) }
    }

    /// The raw state, for handing to C functions that take it apart.
    pub fn as_raw(&self) -> &bindings::nf_hook_state {
        self.raw
    }
}

/// A netfilter hook body. Runs in softirq (or with BHs disabled): must not
/// sleep and must not allocate with `GFP_KERNEL`.
pub trait Hook {
    /// Judges one packet.
    fn run(skb: &Skb<'_>, state: &HookState<'_>) -> Verdict;
}

/// The `nf_hookfn` that calls `H::run`.
///
/// # Safety
///
/// Called only by netfilter with a valid skb and hook state.
unsafe extern "C" fn trampoline<H: Hook>(
    _priv: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
) -> c_uint {
    // SAFETY: netfilter passes a valid skb owned by this call path for the
    // duration of the hook, and a valid state.
    let (skb, state) = unsafe { (Skb::from_raw(skb), HookState { raw: &*state }) };
    H::run(&skb, &state).as_raw()
}

/// An array of `nf_hook_ops`, registered per namespace.
pub struct HookOps {
    ops: KVec<bindings::nf_hook_ops>,
}

// SAFETY: the array is written only while building it, before registration;
// afterwards netfilter and we only read it.
unsafe impl Sync for HookOps {}
// SAFETY: as above.
unsafe impl Send for HookOps {}

impl HookOps {
    /// An empty set.
    pub fn new() -> HookOps {
        HookOps { ops: KVec::new() }
    }

    /// Adds hook `H` for family `pf` (`NFPROTO_*`) at `hooknum`
    /// (`NF_INET_*`) with `priority` (lower runs first).
    pub fn add<H: Hook>(&mut self, pf: u32, hooknum: u32, priority: i32) -> Result {
        // SAFETY: `nf_hook_ops` is plain data (pointers and integers) for
        // which all-zero is a valid value (no device, no priv, type 0).
        let mut op: bindings::nf_hook_ops = unsafe { core::mem::zeroed() };
        op.hook = Some(trampoline::<H>);
        op.pf = pf as u8;
        op.hooknum = hooknum;
        op.priority = priority;
        kvec::push(&mut self.ops, op, GFP_KERNEL)?;
        Ok(())
    }

    /// Registers every hook in namespace `net`. Process context.
    pub fn register(&self, net: Net) -> Result {
        // SAFETY: `net` is live; `ops` is a valid array that outlives the
        // registration (the owner unregisters before dropping it).
        to_result(unsafe { bindings::nf_register_net_hooks(net.as_ptr(), self.ops.as_ptr(), self.ops.len() as u32) })
    }

    /// Unregisters every hook from `net`. Hooks already running may still
    /// finish afterwards: wait for a grace period before freeing what they use.
    pub fn unregister(&self, net: Net) {
        // SAFETY: as in `register`; the hooks were registered in `net`.
        unsafe { bindings::nf_unregister_net_hooks(net.as_ptr(), self.ops.as_ptr(), self.ops.len() as u32) }
    }
}
