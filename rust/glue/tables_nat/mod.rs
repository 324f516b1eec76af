// SPDX-License-Identifier: GPL-2.0
//! Glue only rnf_tables_nat uses: the lookup registration of rnf_nat
//! (rust/glue/rnf_nat_api.h), which with the table registration of
//! `tables_reg` makes modpost record `depends=rnf_nat,rnf_tables`. It is mounted by rnf_tables_nat_main.rs
//! alone, not by `glue/mod.rs`.
//!
//! As iptable_nat.c: the table is registered with the table engine, and
//! its walk (`ipt_do_table` there, `rnf_tables_walk` here) is what the NAT
//! engine calls at its hooks for a connection's first packet.
//!
//! C headers: rust/glue/rnf_tables_api.h, rust/glue/rnf_nat_api.h

use core::ffi::c_uint;

use kernel::error::{to_result, Result};

use crate::glue::bindings;
use crate::tables_reg::{Family, Table, TableId};

/// The table id each family's lookup walks (set before the lookup is
/// registered).
fn id_of(family: Family) -> &'static TableId {
    match family {
        Family::Ipv4 => &ID4,
        Family::Ipv6 => &ID6,
    }
}

static ID4: TableId = TableId::new();
static ID6: TableId = TableId::new();

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
    let id = id_of(family).get();
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
        let family = table.family();
        id_of(family).set(table);
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
        id_of(self.family).clear();
    }
}
