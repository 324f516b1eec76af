// SPDX-License-Identifier: GPL-2.0
//! Glue of the modules that add a built-in table to rnf_tables
//! (rnf_tables_nat, rnf_tables_mangle, rnf_tables_raw): the table
//! registration and the walk rnf_tables exports (rust/glue/rnf_tables_api.h),
//! the symbols that make modpost record `depends=rnf_tables`. Mounted by
//! those modules' crate roots alone, not by `glue/mod.rs`.
//!
//! As iptable_mangle.c and its siblings: the table is registered with the
//! table engine (`ipt_register_table` there, `rnf_tables_register_table`
//! here) and the module's hooks walk it (`ipt_do_table`, `rnf_tables_walk`).
//!
//! C headers: rust/glue/rnf_tables_api.h

use core::ffi::CStr;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicI32, Ordering};

use kernel::error::{code::ENODEV, to_result, Result};
use kernel::prelude::*;

use crate::glue::bindings;
use crate::glue::global::Global;
use crate::glue::hook::{Hook, HookOps, HookState, Net};
use crate::glue::pernet::{Pernet, PernetHandler};
use crate::glue::skb::Skb;
use crate::glue::Verdict;

/// A family of the ip(6)_tables ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `NFPROTO_IPV4`.
    Ipv4,
    /// `NFPROTO_IPV6`.
    Ipv6,
}

impl Family {
    /// `NFPROTO_*`.
    pub fn pf(self) -> u8 {
        match self {
            Family::Ipv4 => bindings::NFPROTO_IPV4 as u8,
            Family::Ipv6 => bindings::NFPROTO_IPV6 as u8,
        }
    }
}

/// A table registered with rnf_tables (`rnf_tables_register_table`);
/// unregistered, in every namespace, when dropped (after every walk that
/// may still read it has returned).
pub struct Table {
    family: Family,
    id: i32,
}

impl Table {
    /// Registers table `name` of `family` with `valid_hooks`
    /// (`1 << NF_INET_*` bits). Process context. Errors are
    /// `rnf_tables_register_table`'s (ENOENT, EEXIST, EINVAL, ENOSPC, ENOMEM).
    pub fn register(family: Family, name: &'static CStr, valid_hooks: u32) -> Result<Table> {
        // SAFETY: `name` is a NUL-terminated static string; process context.
        let id = unsafe { bindings::rnf_tables_register_table(family.pf(), name.as_ptr(), valid_hooks) };
        to_result(id)?;
        Ok(Table { family, id })
    }

    /// The table's family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The table's id in rnf_tables (small, non-negative).
    pub fn id(&self) -> i32 {
        self.id
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; module exit is process context.
        unsafe { bindings::rnf_tables_unregister_table(self.family.pf(), self.id) }
    }
}

/// The id of a registered table, as the hooks of its module read it: -1
/// until the table is registered (a walk of id -1 accepts).
pub struct TableId(AtomicI32);

impl TableId {
    /// No table yet.
    pub const fn new() -> TableId {
        TableId(AtomicI32::new(-1))
    }

    /// Publishes `table`'s id, before the hooks that read it are registered.
    pub fn set(&self, table: &Table) {
        self.0.store(table.id, Ordering::Release);
    }

    /// Back to no table, after the hooks that read it are gone.
    pub fn clear(&self) {
        self.0.store(-1, Ordering::Release);
    }

    /// The id (-1: none).
    pub fn get(&self) -> i32 {
        self.0.load(Ordering::Acquire)
    }
}

/// Walks table `id` of `family` for `skb` at the hook of `state`
/// (`rnf_tables_walk` without a NAT target): `NF_ACCEPT` or `NF_DROP`.
pub fn walk(family: Family, id: i32, skb: &Skb<'_>, state: &HookState<'_>) -> u32 {
    // SAFETY: `skb` and `state` are the running hook call's; a NULL target
    // is allowed. rnf_tables stays loaded while this module is (depends=).
    unsafe { bindings::rnf_tables_walk(family.pf(), id, skb.as_ptr(), state.as_raw(), core::ptr::null_mut()) }
}

/// A table pair (IPv4 and IPv6) that its module hooks itself, as
/// iptable_mangle.c and iptable_raw.c do: what differs between them.
pub trait HookedSpec: 'static {
    /// The table's name (`mangle`, `raw`).
    const NAME: &'static CStr;
    /// Its chains, `1 << NF_INET_*` (the kernel's `*_VALID_HOOKS`).
    const VALID_HOOKS: u32;
    /// Hook priority for IPv4 (`NF_IP_PRI_*`) and IPv6 (`NF_IP6_PRI_*`).
    const PRIORITY: [i32; 2];
    /// The ids of the registered tables, IPv4 then IPv6.
    fn ids() -> &'static [TableId; 2];
    /// The hook set, published while registered.
    fn hooks() -> &'static Global<HookOps>;
    /// The walk at `st`'s hook: `NF_ACCEPT` or `NF_DROP`.
    fn walk(family: Family, id: i32, skb: &Skb<'_>, st: &HookState<'_>) -> u32 {
        walk(family, id, skb, st)
    }
}

/// The hook of table `S` of one family (IPv6 if `V6`).
struct TableHook<S, const V6: bool>(PhantomData<S>);

impl<S: HookedSpec, const V6: bool> Hook for TableHook<S, V6> {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        let family = if V6 { Family::Ipv6 } else { Family::Ipv4 };
        let id = S::ids()[usize::from(V6)].get();
        if S::walk(family, id, skb, st) == bindings::NF_ACCEPT {
            Verdict::Accept
        } else {
            Verdict::Drop
        }
    }
}

/// Registers and unregisters `S`'s hooks in each namespace.
struct TableNet<S>(PhantomData<S>);

impl<S: HookedSpec> PernetHandler for TableNet<S> {
    fn init(net: Net) -> Result {
        S::hooks().get().ok_or(ENODEV)?.register(net)
    }

    fn exit(net: Net) {
        if let Some(h) = S::hooks().get() {
            h.unregister(net);
        }
    }
}

/// The tables of `S` registered with rnf_tables and hooked in every
/// namespace; dropped in the reverse order: the hooks leave every
/// namespace, then the tables go (rnf_tables waits for running walks).
pub struct HookedTables<S: HookedSpec> {
    pernet: Option<Pernet>,
    tables: Option<[Table; 2]>,
    _spec: PhantomData<S>,
}

impl<S: HookedSpec> HookedTables<S> {
    /// Registers both tables, then hooks them at every hook of
    /// `S::VALID_HOOKS` in every namespace. Process context.
    pub fn register() -> Result<Self> {
        let tables = [
            Table::register(Family::Ipv4, S::NAME, S::VALID_HOOKS)?,
            Table::register(Family::Ipv6, S::NAME, S::VALID_HOOKS)?,
        ];
        S::ids()[0].set(&tables[0]);
        S::ids()[1].set(&tables[1]);
        let mut ops = HookOps::new();
        for hook in 0..bindings::nf_inet_hooks_NF_INET_NUMHOOKS {
            if S::VALID_HOOKS & (1 << hook) != 0 {
                ops.add::<TableHook<S, false>>(bindings::NFPROTO_IPV4, hook, S::PRIORITY[0])?;
                ops.add::<TableHook<S, true>>(bindings::NFPROTO_IPV6, hook, S::PRIORITY[1])?;
            }
        }
        drop(S::hooks().set(KBox::new(ops, GFP_KERNEL)?));
        let pernet = match Pernet::register::<TableNet<S>>() {
            Ok(p) => p,
            Err(e) => {
                drop(S::hooks().take());
                return Err(e);
            }
        };
        Ok(HookedTables { pernet: Some(pernet), tables: Some(tables), _spec: PhantomData })
    }
}

impl<S: HookedSpec> Drop for HookedTables<S> {
    fn drop(&mut self) {
        // Netfilter reads only the hook function and its private data of a
        // hook being unregistered, so the array may go once every namespace
        // has dropped it; a hook still running finishes within the grace
        // period that the tables' unregistration waits for.
        drop(self.pernet.take());
        drop(S::hooks().take());
        drop(self.tables.take());
        S::ids()[0].clear();
        S::ids()[1].clear();
    }
}
