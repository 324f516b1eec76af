// SPDX-License-Identifier: GPL-2.0
//! rnf_tables_nat: the `nat` tables of IPv4 and IPv6, as iptable_nat.c and
//! ip6table_nat.c.
//!
//! The table engine is rnf_tables': this module registers the `nat` table
//! of each family with it (chains PREROUTING, INPUT, OUTPUT, POSTROUTING,
//! in every network namespace, driven by `iptables-legacy -t nat` and
//! `ip6tables-legacy -t nat`), and registers the table's walk with rnf_nat,
//! whose hooks run it for a connection's first packet and apply the NAT
//! target it ends in. A filter-only firewall does not load it.

use kernel::prelude::*;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

/// Glue of the modules that add tables to rnf_tables (the registration).
#[path = "glue/tables_reg/mod.rs"]
pub mod tables_reg;

/// Glue only this module uses (rnf_nat's lookup registration).
#[path = "glue/tables_nat/mod.rs"]
pub mod tables_nat_glue;

// The self-test harness, which the shared KUnit glue names; this module has
// no suites of its own (the nat targets' are rnf_tables').
#[cfg(CONFIG_KUNIT)]
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;

use tables_nat_glue::Lookup;
use tables_reg::{Family, Table};

module! {
    type: RnfTablesNat,
    name: "rnf_tables_nat",
    author: "rnf developers",
    description: "iptables/ip6tables nat tables on rnf_tables and rnf_nat, in Rust",
    license: "GPL",
}

/// The self-test suites this module runs under KUnit: none.
#[cfg(CONFIG_KUNIT)]
pub(crate) const SELFTEST_SUITES: &[&selftest::Suite] = &[];

/// The hooks of the nat tables, `1 << NF_INET_*`: PRE_ROUTING (0),
/// LOCAL_IN (1), LOCAL_OUT (3), POST_ROUTING (4), as `nf_nat_ipv4_table`.
const NAT_VALID_HOOKS: u32 = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4);

struct RnfTablesNat {
    // Dropped in this order: the lookups (rnf_nat stops walking the tables
    // and waits for running walks), then the tables (in every namespace).
    _lookups: [Lookup; 2],
    _tables: [Table; 2],
}

impl kernel::Module for RnfTablesNat {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let tables = [
            Table::register(Family::Ipv4, c"nat", NAT_VALID_HOOKS)?,
            Table::register(Family::Ipv6, c"nat", NAT_VALID_HOOKS)?,
        ];
        let lookup4 = Lookup::register(&tables[0])?;
        let lookup6 = Lookup::register(&tables[1])?;
        pr_info!("nat tables for IPv4 and IPv6 ready (iptables-legacy -t nat, ip6tables-legacy -t nat)\n");
        Ok(RnfTablesNat { _lookups: [lookup4, lookup6], _tables: tables })
    }
}
