// SPDX-License-Identifier: GPL-2.0
//! Per-network-namespace set-up and tear-down (`register_pernet_subsys`).
//!
//! C header: [include/net/net_namespace.h](srctree/include/net/net_namespace.h)

use core::ffi::c_int;

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::error::{to_result, Result};
use kernel::types::Opaque;

use super::bindings;
use super::hook::Net;

/// What a module does when a namespace appears (and at registration, for
/// every existing one) and when it goes away.
pub trait PernetHandler {
    /// Sets the namespace up. Process context, may sleep.
    fn init(net: Net) -> Result;
    /// Tears it down. Process context, may sleep.
    fn exit(net: Net);
}

unsafe extern "C" fn init_trampoline<P: PernetHandler>(net: *mut bindings::net) -> c_int {
    // SAFETY: the namespace core passes a live namespace.
    let net = unsafe { Net::from_raw(net) };
    match P::init(net) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn exit_trampoline<P: PernetHandler>(net: *mut bindings::net) {
    // SAFETY: the namespace core passes a namespace that is live until we return.
    P::exit(unsafe { Net::from_raw(net) })
}

/// A registered `pernet_operations`; unregistered (running `exit` for every
/// namespace) when dropped.
pub struct Pernet {
    ops: KBox<Opaque<bindings::pernet_operations>>,
}

// SAFETY: after registration the ops are owned by the namespace core until
// unregistration; we never touch them in between.
unsafe impl Sync for Pernet {}
// SAFETY: as above.
unsafe impl Send for Pernet {}

impl Pernet {
    /// Registers `P` and runs `P::init` for every existing namespace.
    pub fn register<P: PernetHandler>() -> Result<Pernet> {
        // SAFETY: all-zero is a valid `pernet_operations` (empty list head,
        // no callbacks, no id, size 0).
        let mut raw: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        raw.init = Some(init_trampoline::<P>);
        raw.exit = Some(exit_trampoline::<P>);
        let ops = KBox::new(Opaque::new(raw), GFP_KERNEL)?;
        // SAFETY: `ops` is heap memory that stays put until `drop`, which
        // unregisters it first.
        to_result(unsafe { bindings::register_pernet_subsys(ops.get()) })?;
        Ok(Pernet { ops })
    }
}

impl Drop for Pernet {
    fn drop(&mut self) {
        // SAFETY: registered in `register` and not yet unregistered.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) }
    }
}
