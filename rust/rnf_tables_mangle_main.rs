// SPDX-License-Identifier: GPL-2.0
//! rnf_tables_mangle: the `mangle` tables of IPv4 and IPv6, as
//! iptable_mangle.c and ip6table_mangle.c.
//!
//! The table engine is rnf_tables': this module registers the `mangle`
//! table of each family with it (chains PREROUTING, INPUT, FORWARD, OUTPUT
//! and POSTROUTING, in every network namespace, driven by `iptables-legacy
//! -t mangle` and `ip6tables-legacy -t mangle`) and hooks all five hooks at
//! `NF_IP_PRI_MANGLE` (-150): after connection tracking, before DNAT and
//! the filter tables. At LOCAL_OUT a packet whose addresses, mark or TOS
//! (IPv6: hop limit, traffic class, flow label) a rule changed is routed
//! again (`ipt_mangle_out`, in the C glue). The targets that change packets
//! (MARK, CONNMARK, DSCP, TCPMSS, ...) are rnf_tables'.

use kernel::prelude::*;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

/// Glue of the modules that add tables to rnf_tables (registration, hooks).
#[path = "glue/tables_reg/mod.rs"]
pub mod tables_reg;

/// Glue only this module uses (the LOCAL_OUT walk and re-route).
#[path = "glue/tables_mangle/mod.rs"]
pub mod mangle_glue;

// The self-test harness, which the shared KUnit glue names; this module has
// no suites of its own (the targets' are rnf_tables').
#[cfg(CONFIG_KUNIT)]
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;

use glue::bindings;
use glue::global::Global;
use glue::hook::{HookOps, HookState};
use glue::skb::Skb;
use tables_reg::{Family, HookedSpec, HookedTables, TableId};

module! {
    type: RnfTablesMangle,
    name: "rnf_tables_mangle",
    author: "rnf developers",
    description: "iptables/ip6tables mangle tables on rnf_tables, in Rust",
    license: "GPL",
}

/// The self-test suites this module runs under KUnit: none.
#[cfg(CONFIG_KUNIT)]
pub(crate) const SELFTEST_SUITES: &[&selftest::Suite] = &[];

static IDS: [TableId; 2] = [TableId::new(), TableId::new()];
static HOOKS: Global<HookOps> = Global::new();

/// The mangle tables: all five hooks (`MANGLE_VALID_HOOKS`, 0x1f).
struct Mangle;

impl HookedSpec for Mangle {
    const NAME: &'static core::ffi::CStr = c"mangle";
    const VALID_HOOKS: u32 = 0x1f;
    const PRIORITY: [i32; 2] =
        [bindings::nf_ip_hook_priorities_NF_IP_PRI_MANGLE, bindings::nf_ip6_hook_priorities_NF_IP6_PRI_MANGLE];

    fn ids() -> &'static [TableId; 2] {
        &IDS
    }

    fn hooks() -> &'static Global<HookOps> {
        &HOOKS
    }

    fn walk(family: Family, id: i32, skb: &Skb<'_>, st: &HookState<'_>) -> u32 {
        if st.hook() == bindings::nf_inet_hooks_NF_INET_LOCAL_OUT {
            mangle_glue::walk_mangle_out(family, id, skb, st)
        } else {
            tables_reg::walk(family, id, skb, st)
        }
    }
}

struct RnfTablesMangle {
    _tables: HookedTables<Mangle>,
}

impl kernel::Module for RnfTablesMangle {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let tables = HookedTables::register()?;
        pr_info!("mangle tables for IPv4 and IPv6 ready (iptables-legacy -t mangle, ip6tables-legacy -t mangle)\n");
        Ok(RnfTablesMangle { _tables: tables })
    }
}
