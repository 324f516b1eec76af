// SPDX-License-Identifier: GPL-2.0
//! The filter tables of each network namespace, their hooks and the
//! `/proc/net/ip_tables_names` / `ip6_tables_names` files.
//!
//! Each namespace keeps, in its `net_generic` area, one RCU-protected
//! pointer per family to the [`Instance`] in force. A namespace starts with
//! the initial table (policy ACCEPT); `SET_REPLACE` swaps in a new instance
//! (see `control.rs`); the exit frees both after its hooks are gone.

use core::ffi::CStr;

use kernel::prelude::*;

use crate::glue::hook::Net;
use crate::glue::pernet::{NetGeneric, PernetData};
use crate::glue::proc::{self, SeqFile, SeqShow};
use crate::glue::rcu::RcuBox;
use crate::instance::Instance;
use crate::xt::{self, TableDef};

/// What differs between the IPv4 and the IPv6 filter table.
pub(crate) struct Fam {
    /// The engine's table definition (name "filter", family, hooks).
    pub(crate) def: &'static TableDef,
    /// `true` for IPv6.
    pub(crate) ipv6: bool,
    /// The family's tool name, for log lines.
    pub(crate) tool: &'static str,
}

/// The IPv4 filter table (`iptables`).
pub(crate) static IPV4: Fam = Fam { def: &xt::FILTER_IPV4, ipv6: false, tool: "iptables" };
/// The IPv6 filter table (`ip6tables`).
pub(crate) static IPV6: Fam = Fam { def: &xt::FILTER_IPV6, ipv6: true, tool: "ip6tables" };

/// A namespace's tables.
#[derive(Default)]
pub(crate) struct NetTables {
    v4: RcuBox<Instance>,
    v6: RcuBox<Instance>,
}

impl NetTables {
    /// The table of `fam`.
    pub(crate) fn slot(&self, fam: &Fam) -> &RcuBox<Instance> {
        if fam.ipv6 {
            &self.v6
        } else {
            &self.v4
        }
    }
}

/// The per-namespace data slot.
pub(crate) static NETS: NetGeneric<NetTables> = NetGeneric::new();

/// The tables of `net` (a namespace whose set-up has run and whose
/// tear-down has not: a hook's or a socket's namespace).
pub(crate) fn tables(net: Net) -> &'static NetTables {
    NETS.get(net)
}

const NAMES4: &CStr = c"ip_tables_names";
const NAMES6: &CStr = c"ip6_tables_names";

/// `/proc/net/ip_tables_names` and `ip6_tables_names`: the tables of the
/// family, one name a line (what `iptables-legacy-save` reads to find them).
struct TableNames;
impl SeqShow for TableNames {
    fn show(_net: Net, seq: &mut SeqFile<'_>) {
        seq.write(b"filter\n");
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
            let inst = Instance::initial(fam.def).map_err(|e| {
                pr_err!("{}: initial filter table refused: {}\n", fam.tool, e.reason);
                Error::from_errno(-e.errno)
            })?;
            // Nothing can read the slot yet: no grace period to wait for.
            drop(data.slot(fam).replace(Some(inst)));
        }
        proc::create::<TableNames>(net, NAMES4, 0o440)?;
        if let Err(e) = proc::create::<TableNames>(net, NAMES6, 0o440) {
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
        drop(data.v4.take());
        drop(data.v6.take());
    }
}
