// SPDX-License-Identifier: GPL-2.0
//! Glue only rnf_tables_nat uses: the table registration of rnf_tables
//! (rust/glue/rnf_tables_api.h) and the lookup registration of rnf_nat
//! (rust/glue/rnf_nat_api.h), the symbols that make modpost record
//! `depends=rnf_nat,rnf_tables`. It is mounted by rnf_tables_nat_main.rs
//! alone, not by `glue/mod.rs`.
//!
//! As iptable_nat.c: the table is registered with the table engine, and
//! its walk (`ipt_do_table` there, `rnf_tables_walk` here) is what the NAT
//! engine calls at its hooks for a connection's first packet.
//!
//! C headers: rust/glue/rnf_tables_api.h, rust/glue/rnf_nat_api.h

use core::ffi::{c_uint, CStr};
use core::sync::atomic::{AtomicI32, Ordering};

use kernel::error::{to_result, Result};

use crate::glue::bindings;

/// A family of the ip(6)_tables ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `NFPROTO_IPV4`.
    Ipv4,
    /// `NFPROTO_IPV6`.
    Ipv6,
}

impl Family {
    fn pf(self) -> u8 {
        match self {
            Family::Ipv4 => bindings::NFPROTO_IPV4 as u8,
            Family::Ipv6 => bindings::NFPROTO_IPV6 as u8,
        }
    }

    /// The id of this family's table, for its lookup (-1: none).
    fn id(self) -> &'static AtomicI32 {
        match self {
            Family::Ipv4 => &ID4,
            Family::Ipv6 => &ID6,
        }
    }
}

/// The table ids the lookups walk (set before each lookup is registered).
static ID4: AtomicI32 = AtomicI32::new(-1);
static ID6: AtomicI32 = AtomicI32::new(-1);

/// A table registered with rnf_tables (`rnf_tables_register_table`);
/// unregistered, in every namespace, when dropped.
pub struct Table {
    family: Family,
    id: i32,
}

impl Table {
    /// Registers table `name` of `family` with `valid_hooks`
    /// (`1 << NF_INET_*` bits). Process context.
    pub fn register(family: Family, name: &'static CStr, valid_hooks: u32) -> Result<Table> {
        // SAFETY: `name` is a NUL-terminated static string; process context.
        let id = unsafe { bindings::rnf_tables_register_table(family.pf(), name.as_ptr(), valid_hooks) };
        to_result(id)?;
        Ok(Table { family, id })
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; module exit is process context.
        unsafe { bindings::rnf_tables_unregister_table(self.family.pf(), self.id) }
    }
}

/// `rnf_nat_lookup_fn` of a family: walks its nat table.
///
/// # Safety
///
/// Called by rnf_nat from its hook with that call's `skb` and `state` and a
/// writable `target` (rnf_nat_api.h).
unsafe extern "C" fn lookup<const V6: bool>(
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
    target: *mut bindings::rnf_nat_target,
) -> c_uint {
    let family = if V6 { Family::Ipv6 } else { Family::Ipv4 };
    let id = family.id().load(Ordering::Acquire);
    // SAFETY: the caller's guarantees are rnf_tables_walk's; the table of
    // `id` stays registered while this lookup is (it is unregistered after
    // the lookup, which waits for running calls).
    unsafe { bindings::rnf_tables_walk(family.pf(), id, skb, state, target) }
}

/// The lookup of a family's nat table, registered with rnf_nat
/// (`rnf_nat_register_lookup`); unregistered when dropped, after which no
/// call of it is running.
pub struct Lookup {
    family: Family,
}

impl Lookup {
    /// Registers the walk of `table` as the nat lookup of its family
    /// (drop it before `table`: a lookup of an unregistered table accepts
    /// every packet unmapped). Process context.
    pub fn register(table: &Table) -> Result<Lookup> {
        let family = table.family;
        family.id().store(table.id, Ordering::Release);
        let f: bindings::rnf_nat_lookup_fn = Some(match family {
            Family::Ipv4 => lookup::<false>,
            Family::Ipv6 => lookup::<true>,
        });
        // SAFETY: `f` is a function of this module that stays valid until
        // `drop` unregisters it (rnf_nat waits for running calls then).
        to_result(unsafe { bindings::rnf_nat_register_lookup(family.pf(), f) })?;
        Ok(Lookup { family })
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; waits (synchronize_rcu) until no
        // call of the lookup runs; module exit is process context.
        unsafe { bindings::rnf_nat_unregister_lookup(self.family.pf()) };
        self.family.id().store(-1, Ordering::Release);
    }
}
