// SPDX-License-Identifier: GPL-2.0
//! The tables of each network namespace, the filter hooks and the
//! `/proc/net/ip_tables_names` / `ip6_tables_names` files.
//!
//! Each namespace keeps, in its `net_generic` area, one RCU-protected
//! pointer per family and table id to the [`Instance`] in force. Id
//! [`FILTER`] is this module's `filter` table; the other ids belong to the
//! tables other modules register (`registry.rs`).
//!
//! As x_tables' templates (6.12: `xt_register_template`, every built-in
//! table with iptable_filter's default `forward=1`), a table comes into a
//! namespace the first time a socket option names it ([`instantiate`]:
//! its initial table, policy ACCEPT): until then its slot is empty, its
//! hooks accept without walking or counting, and `ip_tables_names` does
//! not list it. The filter table's own hooks are registered in the
//! namespace only then, as `ipt_register_table()` registers
//! iptable_filter's: a namespace that never used the filter table of a
//! family has no filter hooks of it, and its packets do not pay for them. The names are listed newest first, as x_tables'
//! `list_add` leaves them, which decides the order of `iptables-save`.
//! `SET_REPLACE` swaps in a new instance (see `control.rs`); the exit
//! frees what is left after the hooks are gone.

use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use kernel::prelude::*;

use crate::glue::hook::Net;
use crate::glue::pernet::{NetGeneric, PernetData};
use crate::glue::proc::{self, SeqFile, SeqShow};
use crate::glue::rcu::{RcuBox, RcuReadGuard};
use crate::tables_glue::procfile::ProcDir;
use crate::instance::Instance;
use crate::xt::{self, TableDef};

/// Tables a family can have in a namespace: `filter` and the registered ones.
pub(crate) const MAX_TABLES: usize = 4;

/// The id of the `filter` table.
pub(crate) const FILTER: usize = 0;

/// What differs between the IPv4 and the IPv6 tables.
pub(crate) struct Fam {
    /// The engine's definition of the family's `filter` table.
    pub(crate) filter: &'static TableDef,
    /// `true` for IPv6.
    pub(crate) ipv6: bool,
    /// The family's tool name, for log lines.
    pub(crate) tool: &'static str,
}

/// The IPv4 tables (`iptables`).
pub(crate) static IPV4: Fam = Fam { filter: &xt::FILTER_IPV4, ipv6: false, tool: "iptables" };
/// The IPv6 tables (`ip6tables`).
pub(crate) static IPV6: Fam = Fam { filter: &xt::FILTER_IPV6, ipv6: true, tool: "ip6tables" };

/// The family of `pf` (`NFPROTO_IPV4` or `NFPROTO_IPV6`).
pub(crate) fn fam_of(pf: u8) -> Option<&'static Fam> {
    match u32::from(pf) {
        crate::glue::bindings::NFPROTO_IPV4 => Some(&IPV4),
        crate::glue::bindings::NFPROTO_IPV6 => Some(&IPV6),
        _ => None,
    }
}

/// A namespace's tables, indexed by id.
#[derive(Default)]
pub(crate) struct NetTables {
    v4: [RcuBox<Instance>; MAX_TABLES],
    v6: [RcuBox<Instance>; MAX_TABLES],
    /// When each table came into the namespace (per family, by id): a
    /// number from `next_stamp`, 0 while the slot is empty. Written under
    /// [`crate::Shared::lock`].
    stamps: [[AtomicU32; MAX_TABLES]; 2],
    /// The last stamp given.
    next_stamp: AtomicU32,
    /// Whether the filter hooks of IPv4 (0) and IPv6 (1) are registered in
    /// the namespace (with its filter table, by [`instantiate`]). Written
    /// under [`crate::Shared::lock`], read by the exit.
    hooked: [AtomicBool; 2],
    /// `/proc/net/ipt_hashlimit` and `/proc/net/ip6t_hashlimit`, which
    /// hold the `hashlimit` match's named tables (`hashlimit_proc_net_init`).
    hashlimit_dirs: [ProcDir; 2],
}

impl NetTables {
    /// The tables of `fam`.
    pub(crate) fn slots(&self, fam: &Fam) -> &[RcuBox<Instance>; MAX_TABLES] {
        if fam.ipv6 {
            &self.v6
        } else {
            &self.v4
        }
    }

    /// The `filter` table of `fam`.
    #[inline(always)]
    pub(crate) fn filter(&self, fam: &Fam) -> &RcuBox<Instance> {
        &self.slots(fam)[FILTER]
    }

    /// The directory of `fam`'s `hashlimit` tables.
    pub(crate) fn hashlimit_dir(&self, fam: &Fam) -> &ProcDir {
        &self.hashlimit_dirs[usize::from(fam.ipv6)]
    }

    /// Records that table `id` of `fam` has just come into the namespace
    /// (0: it has gone). Under [`crate::Shared::lock`].
    pub(crate) fn stamp(&self, fam: &Fam, id: usize, present: bool) {
        let Some(s) = self.stamps[usize::from(fam.ipv6)].get(id) else { return };
        let v = if present { self.next_stamp.fetch_add(1, Ordering::Relaxed).wrapping_add(1) } else { 0 };
        s.store(v, Ordering::Relaxed);
    }

    /// The table of `fam` named `name`, and its id, while `rcu` lives.
    pub(crate) fn find<'a>(&'a self, fam: &Fam, name: &[u8], rcu: &'a RcuReadGuard) -> Option<(usize, &'a Instance)> {
        self.slots(fam)
            .iter()
            .enumerate()
            .find_map(|(id, slot)| slot.read(rcu).filter(|i| i.table.name() == name).map(|i| (id, i)))
    }
}

/// The per-namespace data slot.
pub(crate) static NETS: NetGeneric<NetTables> = NetGeneric::new();

/// The tables of `net` (a namespace whose set-up has run and whose
/// tear-down has not: a hook's or a socket's namespace).
pub(crate) fn tables(net: Net) -> &'static NetTables {
    NETS.get(net)
}

/// The tables of `net`, `None` while the namespace is still being set up
/// (for callers from other modules' hooks, which may run in a namespace
/// before this module's set-up has reached it).
pub(crate) fn try_tables(net: Net) -> Option<&'static NetTables> {
    NETS.try_get(net)
}

const NAMES4: &CStr = c"ip_tables_names";
const NAMES6: &CStr = c"ip6_tables_names";
const HASHLIMIT4: &CStr = c"ipt_hashlimit";
const HASHLIMIT6: &CStr = c"ip6t_hashlimit";

/// Writes the names of the tables of `fam` in `net`, one a line, the one
/// that came into the namespace last first, as x_tables lists them: what
/// `iptables-legacy-save` reads to find them, in that order.
fn show_names(fam: &Fam, net: Net, seq: &mut SeqFile<'_>) {
    let rcu = RcuReadGuard::new();
    let t = tables(net);
    let stamps = &t.stamps[usize::from(fam.ipv6)];
    let mut ids: [usize; MAX_TABLES] = core::array::from_fn(|i| i);
    // Four entries: an insertion sort by stamp, newest first.
    let stamp = |id: usize| stamps.get(id).map_or(0, |s| s.load(Ordering::Relaxed));
    for i in 1..MAX_TABLES {
        let mut j = i;
        while j > 0 && stamp(ids[j - 1]) < stamp(ids[j]) {
            ids.swap(j - 1, j);
            j -= 1;
        }
    }
    for id in ids {
        if let Some(inst) = t.slots(fam).get(id).and_then(|s| s.read(&rcu)) {
            seq.write(inst.table.name());
            seq.write(b"\n");
        }
    }
}

/// Brings table `name` of `fam` into `net` if it is not there yet, as
/// `xt_find_table_lock` runs a template's `table_init`: its initial table
/// (an ACCEPT policy per built-in chain). Every socket option that names a
/// table calls it first. A name that is neither `filter` nor a registered
/// table is left alone (the option then answers ENOENT). Process context;
/// takes [`crate::Shared::lock`]. Errors: ENOMEM, ENODEV.
pub(crate) fn instantiate(fam: &Fam, net: Net, name: &[u8]) -> Result {
    let shared = crate::shared().ok_or(ENODEV)?;
    let _guard = shared.lock.lock();
    let (id, def) = if name == fam.filter.name.as_bytes() {
        (FILTER, fam.filter)
    } else {
        match crate::registry::find(fam, name) {
            Some(found) => found,
            None => return Ok(()),
        }
    };
    let t = tables(net);
    let Some(slot) = t.slots(fam).get(id) else { return Ok(()) };
    {
        let rcu = RcuReadGuard::new();
        if slot.read(&rcu).is_some() {
            return Ok(());
        }
    }
    let inst = Instance::initial(def).map_err(|e| {
        pr_err!("{}: initial {} table refused: {}\n", fam.tool, def.name, e.reason);
        Error::from_errno(e.errno.wrapping_neg())
    })?;
    // The slot is empty: `replace` returns at once (no grace period).
    drop(slot.replace(Some(inst)));
    if id == FILTER {
        // The table is in its slot before the hooks that walk it come.
        let hooked = &t.hooked[usize::from(fam.ipv6)];
        if !hooked.load(Ordering::Relaxed) {
            if let Err(e) = shared.hooks[usize::from(fam.ipv6)].register(net) {
                // No hook walks the table: it goes as it came.
                drop(slot.take());
                return Err(e);
            }
            hooked.store(true, Ordering::Relaxed);
        }
    }
    t.stamp(fam, id, true);
    Ok(())
}

/// `/proc/net/ip_tables_names`.
struct TableNames4;
impl SeqShow for TableNames4 {
    fn show(net: Net, seq: &mut SeqFile<'_>) {
        show_names(&IPV4, net, seq);
    }
}

/// `/proc/net/ip6_tables_names`.
struct TableNames6;
impl SeqShow for TableNames6 {
    fn show(net: Net, seq: &mut SeqFile<'_>) {
        show_names(&IPV6, net, seq);
    }
}

/// Set-up and tear-down of a namespace.
pub(crate) struct PerNet;

impl PernetData for PerNet {
    type Data = NetTables;

    fn slot() -> &'static NetGeneric<NetTables> {
        &NETS
    }

    fn init(net: Net, data: &NetTables) -> Result {
        // No table yet: each comes with the first socket option naming it
        // (`instantiate`).
        proc::create::<TableNames4>(net, NAMES4, 0o440)?;
        if let Err(e) = proc::create::<TableNames6>(net, NAMES6, 0o440) {
            proc::remove(net, NAMES4);
            return Err(e);
        }
        // The hashlimit directories, as xt_hashlimit.c makes them in every
        // namespace while it is loaded.
        if let Err(e) = data.hashlimit_dirs[0].make(net, HASHLIMIT4).and_then(|()| data.hashlimit_dirs[1].make(net, HASHLIMIT6)) {
            data.hashlimit_dirs[1].remove(net, HASHLIMIT6);
            data.hashlimit_dirs[0].remove(net, HASHLIMIT4);
            proc::remove(net, NAMES6);
            proc::remove(net, NAMES4);
            return Err(e);
        }
        // The filter hooks come with the filter table (`instantiate`).
        Ok(())
    }

    fn exit(net: Net, data: &NetTables) {
        if let Some(s) = crate::shared() {
            for (hooks, hooked) in s.hooks.iter().zip(&data.hooked) {
                if hooked.swap(false, Ordering::Relaxed) {
                    hooks.unregister(net);
                }
            }
        }
        proc::remove(net, NAMES6);
        proc::remove(net, NAMES4);
        // `take` waits for a grace period: no hook still walks the tables.
        // The registered tables' slots are empty by now (their own pernet
        // operations, registered after this module's, exit first).
        for slot in [&data.v4, &data.v6].into_iter().flatten() {
            drop(slot.take());
        }
        // With the instances their named tables went, and their files (a
        // directory that still has one, a bug, is kept and logged).
        data.hashlimit_dirs[1].remove(net, HASHLIMIT6);
        data.hashlimit_dirs[0].remove(net, HASHLIMIT4);
    }
}
