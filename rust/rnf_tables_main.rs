// SPDX-License-Identifier: GPL-2.0
//! rnf_tables: the `filter` tables of IPv4 and IPv6, driven by the stock
//! `iptables-legacy` and `ip6tables-legacy` through the ip_tables /
//! ip6_tables socket-option ABI, and the tables other modules register.
//!
//! The kernel-independent engine (`xt`, in rust/rnf_core) parses, validates
//! and evaluates the rules; this module gives it kernel memory, the socket
//! options (`control`), a table per family in each network namespace that
//! uses one, with its hooks at LOCAL_IN, FORWARD and LOCAL_OUT (`netns`,
//! `packet`), per-CPU counters, conntrack state from rnf_conntrack, and
//! REJECT through the kernel's nf_reject_ipv4 / nf_reject_ipv6. Other
//! modules add built-in tables of their own (`registry`: rnf_tables_nat's
//! `nat`) and walk them from their hooks (rust/glue/rnf_tables_api.h), as iptable_nat.c does with
//! x_tables. The kernel's own ip_tables must not be loaded: both cannot own
//! the socket options.

use kernel::prelude::*;
use kernel::sync::Mutex;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

/// Glue only this module uses (nf_reject, rnf_conntrack calls).
#[path = "glue/tables/mod.rs"]
pub mod tables_glue;

// The kernel-independent engines this module uses (rust/rnf_core/src): the
// packet views, the table engine, the NAT ranges its nat targets carry (not
// the rest of the NAT engine) and the self-test harness. Mounted at the
// crate root under the names rust/rnf_core/src/lib.rs gives them, so their
// `crate::` paths resolve as in the rnf_core crate.
#[path = "rnf_tables/nat_range.rs"]
pub mod nat;
#[path = "rnf_core/src/packet/mod.rs"]
pub mod packet;
#[cfg(CONFIG_KUNIT)]
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;
#[path = "rnf_core/src/xt/mod.rs"]
pub mod xt;

#[path = "rnf_tables/control.rs"]
mod control;
#[path = "rnf_tables/hashlimit.rs"]
mod hashlimit;
#[path = "rnf_tables/instance.rs"]
mod instance;
#[path = "rnf_tables/netns.rs"]
mod netns;
#[path = "rnf_tables/packet.rs"]
mod packet_path;
#[path = "rnf_tables/registry.rs"]
mod registry;

use glue::global::Global;
use glue::hook::HookOps;
use glue::pernet::Pernet;
use glue::sockopt::Sockopt;

module! {
    type: RnfTables,
    name: "rnf_tables",
    author: "rnf developers",
    description: "iptables/ip6tables filter tables (ip_tables socket ABI), in Rust",
    license: "GPL",
}

/// What the hooks and the socket options share; lives from init to exit.
pub(crate) struct Shared {
    /// The filter hooks of IPv4 and IPv6, registered in a namespace with
    /// its filter table of that family.
    pub(crate) hooks: [HookOps; 2],
    /// Serialises table replacement, counter addition and the creation
    /// and removal of registered tables in a namespace (the xt mutex).
    pub(crate) lock: Pin<KBox<Mutex<()>>>,
    /// The registered tables (taken before `lock`, never under it).
    pub(crate) registry: Pin<KBox<Mutex<registry::Registered>>>,
    /// The `hashlimit` match's named tables (`hashlimit_mutex`). Taken
    /// after `lock` (a table instance freed under it releases its named
    /// tables), never before it.
    pub(crate) hashlimit: Pin<KBox<Mutex<hashlimit::Registry>>>,
}

/// Teardown rule (see [`Global::get`]): taken in exit after the socket
/// options and the pernet operations (hence every hook) are unregistered
/// and a grace period has passed.
static SHARED: Global<Shared> = Global::new();

pub(crate) fn shared() -> Option<&'static Shared> {
    SHARED.get()
}

struct RnfTables {
    sockopt4: Option<Sockopt>,
    sockopt6: Option<Sockopt>,
    pernet: Option<Pernet>,
}

impl kernel::Module for RnfTables {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let lock = KBox::pin_init(kernel::new_mutex!(()), GFP_KERNEL)?;
        let registry = KBox::pin_init(kernel::new_mutex!(Default::default()), GFP_KERNEL)?;
        let hashlimit = KBox::pin_init(kernel::new_mutex!(Default::default()), GFP_KERNEL)?;
        let shared = KBox::new(Shared { hooks: [packet_path::build_hooks(false)?, packet_path::build_hooks(true)?], lock, registry, hashlimit }, GFP_KERNEL)?;
        drop(SHARED.set(shared));
        let mut me = RnfTables { sockopt4: None, sockopt6: None, pernet: None };
        // The socket options first: if the kernel's ip_tables holds them
        // (EBUSY), stop before creating /proc/net/ip_tables_names, which it
        // owns too. Until the namespaces are set up the options answer
        // ENOENT (see `control::ready`).
        me.sockopt4 = Some(register_sockopt::<control::Ipv4Opts>(module, false)?);
        me.sockopt6 = Some(register_sockopt::<control::Ipv6Opts>(module, true)?);
        me.pernet = Some(Pernet::register_data::<netns::PerNet>()?);
        control::set_ready(true);
        pr_info!("filter tables for IPv4 and IPv6 ready (iptables-legacy, ip6tables-legacy)\n");
        Ok(me)
    }
}

fn register_sockopt<H: glue::sockopt::SockoptHandler>(module: &'static ThisModule, ipv6: bool) -> Result<Sockopt> {
    Sockopt::register::<H>(module, control::range(ipv6)).inspect_err(|e| {
        if *e == EBUSY {
            pr_err!(
                "the {} socket options are taken: the kernel's {} module is loaded; unload it (and ip{}table_*) first\n",
                if ipv6 { "ip6_tables" } else { "ip_tables" },
                if ipv6 { "ip6_tables" } else { "ip_tables" },
                if ipv6 { "6" } else { "" }
            );
        }
    })
}

impl Drop for RnfTables {
    fn drop(&mut self) {
        // No option call can start any more (and none is running: each
        // pins the module).
        drop(self.sockopt6.take());
        drop(self.sockopt4.take());
        control::set_ready(false);
        // None is left (their modules depend on this one and are gone).
        if let Some(s) = shared() {
            registry::unregister_all(&mut s.registry.lock());
        }
        drop(self.pernet.take());
        glue::synchronize_rcu();
        drop(SHARED.take());
    }
}

/// The self-test suites this module runs under KUnit: the engine's.
#[cfg(CONFIG_KUNIT)]
pub(crate) const SELFTEST_SUITES: &[&selftest::Suite] = &xt::selftest::SUITES;

#[cfg(CONFIG_KUNIT)]
kunit_suites! {
    0 => CASES_0, SUITE_0;
    1 => CASES_1, SUITE_1;
    2 => CASES_2, SUITE_2;
}
