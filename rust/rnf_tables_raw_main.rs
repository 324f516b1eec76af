// SPDX-License-Identifier: GPL-2.0
//! rnf_tables_raw: the `raw` tables of IPv4 and IPv6, as iptable_raw.c and
//! ip6table_raw.c.
//!
//! The table engine is rnf_tables': this module registers the `raw` table
//! of each family with it (chains PREROUTING and OUTPUT, in every network
//! namespace, driven by `iptables-legacy -t raw` and `ip6tables-legacy -t
//! raw`) and hooks both at `NF_IP_PRI_RAW` (-300): after defragmentation,
//! before connection tracking, so that `CT --notrack` / `NOTRACK` (targets
//! of rnf_tables) mark packets that rnf_conntrack then leaves alone. The
//! kernel's `raw_before_defrag` parameter has no counterpart.

use kernel::prelude::*;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

/// Glue of the modules that add tables to rnf_tables (registration, hooks).
#[path = "glue/tables_reg/mod.rs"]
pub mod tables_reg;

// The self-test harness, which the shared KUnit glue names; this module has
// no suites of its own (the targets' are rnf_tables').
#[cfg(CONFIG_KUNIT)]
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;

use glue::bindings;
use glue::global::Global;
use glue::hook::HookOps;
use tables_reg::{HookedSpec, HookedTables, TableId};

module! {
    type: RnfTablesRaw,
    name: "rnf_tables_raw",
    author: "rnf developers",
    description: "iptables/ip6tables raw tables on rnf_tables, in Rust",
    license: "GPL",
}

/// The self-test suites this module runs under KUnit: none.
#[cfg(CONFIG_KUNIT)]
pub(crate) const SELFTEST_SUITES: &[&selftest::Suite] = &[];

static IDS: [TableId; 2] = [TableId::new(), TableId::new()];
static HOOKS: Global<HookOps> = Global::new();

/// The raw tables: PRE_ROUTING and LOCAL_OUT (`RAW_VALID_HOOKS`, 0x9).
struct Raw;

impl HookedSpec for Raw {
    const NAME: &'static core::ffi::CStr = c"raw";
    const VALID_HOOKS: u32 = (1 << bindings::nf_inet_hooks_NF_INET_PRE_ROUTING) | (1 << bindings::nf_inet_hooks_NF_INET_LOCAL_OUT);
    const PRIORITY: [i32; 2] =
        [bindings::nf_ip_hook_priorities_NF_IP_PRI_RAW, bindings::nf_ip6_hook_priorities_NF_IP6_PRI_RAW];

    fn ids() -> &'static [TableId; 2] {
        &IDS
    }

    fn hooks() -> &'static Global<HookOps> {
        &HOOKS
    }
}

struct RnfTablesRaw {
    _tables: HookedTables<Raw>,
}

impl kernel::Module for RnfTablesRaw {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let tables = HookedTables::register()?;
        pr_info!("raw tables for IPv4 and IPv6 ready (iptables-legacy -t raw, ip6tables-legacy -t raw)\n");
        Ok(RnfTablesRaw { _tables: tables })
    }
}
