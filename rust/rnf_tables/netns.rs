// SPDX-License-Identifier: GPL-2.0
//! The tables of each network namespace, the filter hooks and the
//! `/proc/net/ip_tables_names` / `ip6_tables_names` files.
//!
//! Each namespace keeps, in its `net_generic` area, one RCU-protected
//! pointer per family and table id to the [`Instance`] in force. Id
//! [`FILTER`] is this module's `filter` table: a namespace starts with its
//! initial table (policy ACCEPT); the other ids belong to the tables other
//! modules register (`registry.rs`), which fill and empty their slot in
//! every namespace themselves. `SET_REPLACE` swaps in a new instance (see
//! `control.rs`); the exit frees what is left after the hooks are gone.

use core::ffi::CStr;

use kernel::prelude::*;

use crate::glue::hook::Net;
use crate::glue::pernet::{NetGeneric, PernetData};
use crate::glue::proc::{self, SeqFile, SeqShow};
use crate::glue::rcu::{RcuBox, RcuReadGuard};
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

/// Writes the names of the tables of `fam` in `net`, one a line, the newest
/// (highest id) first as x_tables lists them: what `iptables-legacy-save`
/// reads to find them.
fn show_names(fam: &Fam, net: Net, seq: &mut SeqFile<'_>) {
    let rcu = RcuReadGuard::new();
    for slot in tables(net).slots(fam).iter().rev() {
        if let Some(inst) = slot.read(&rcu) {
            seq.write(inst.table.name());
            seq.write(b"\n");
        }
    }
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
        for fam in [&IPV4, &IPV6] {
            let inst = Instance::initial(fam.filter).map_err(|e| {
                pr_err!("{}: initial filter table refused: {}\n", fam.tool, e.reason);
                Error::from_errno(-e.errno)
            })?;
            // Nothing can read the slot yet: no grace period to wait for.
            drop(data.filter(fam).replace(Some(inst)));
        }
        proc::create::<TableNames4>(net, NAMES4, 0o440)?;
        if let Err(e) = proc::create::<TableNames6>(net, NAMES6, 0o440) {
            proc::remove(net, NAMES4);
            return Err(e);
        }
        let hooks = crate::shared().map(|s| &s.hooks).ok_or(ENODEV);
        if let Err(e) = hooks.and_then(|h| h.register(net)) {
            proc::remove(net, NAMES6);
            proc::remove(net, NAMES4);
            return Err(e);
        }
        // On any error above `data` is dropped with the tables in it.
        Ok(())
    }

    fn exit(net: Net, data: &NetTables) {
        if let Some(s) = crate::shared() {
            s.hooks.unregister(net);
        }
        proc::remove(net, NAMES6);
        proc::remove(net, NAMES4);
        // `take` waits for a grace period: no hook still walks the tables.
        // The registered tables' slots are empty by now (their own pernet
        // operations, registered after this module's, exit first).
        for slot in [&data.v4, &data.v6].into_iter().flatten() {
            drop(slot.take());
        }
    }
}
