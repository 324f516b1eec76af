// SPDX-License-Identifier: GPL-2.0
//! rnf_conntrack: connection tracking for IPv4 and IPv6.
//!
//! Tracks TCP, UDP, ICMP and ICMPv6 echo, and any other protocol by address,
//! with the semantics and `/proc/net/nf_conntrack` line format of the
//! kernel's `nf_conntrack`. Hooks sit where the kernel's conntrack sits
//! (net/netfilter/nf_conntrack_proto.c): tracking at PRE_ROUTING and
//! LOCAL_OUT (priority `NF_IP_PRI_CONNTRACK`, -200) and confirmation at
//! POST_ROUTING and LOCAL_IN (`NF_IP_PRI_CONNTRACK_CONFIRM`, last). A new
//! connection enters the table only when its first packet is confirmed,
//! so a packet dropped by a filter in between leaves no entry.
//!
//! Per network namespace, as nf_conntrack: each namespace sees its own
//! connections and has its own count, timeouts, statistics and sysctls
//! (kept by the C glue, `struct rnf_ct_net`, reached through
//! `net_generic()`); `conntrack_max` is global and limits each namespace's
//! count. The entries of all namespaces share one table, keyed by namespace.
//!
//! The kernel's `nf_defrag_ipv4` and `nf_defrag_ipv6` reassemble fragments
//! before tracking (priority -400); this module enables them per namespace
//! by calling their enable functions, which makes the dependency visible to
//! `modinfo -F depends`.
//!
//! The kernel-independent engine (`conntrack`, in rust/rnf_core) tracks;
//! this module gives it kernel memory and packets, in rust/rnf_conntrack/:
//! the table under its lock and the GC batches (`tracker`), what a packet
//! is to tracking (`classify`), the hooks (`hooks`), the per-namespace
//! set-up and timeouts (`netns`) and `/proc/net/nf_conntrack` (`proc`).
//! What other modules read of a packet's connection (`rnf_ct_lookup`,
//! `rnf_ct_nat_status`, ...) is read as the kernel's `nf_ct_get()` reads
//! it, in the C glue (glue/conntrack/nfct.c).
//!
//! While loaded it provides the kernel's names for its state (the C glue,
//! glue/conntrack/names.c): `/proc/net/nf_conntrack` (and
//! `/proc/net/rnf_conntrack`), `/proc/net/stat/nf_conntrack` and the
//! `net.netfilter.nf_conntrack_*` sysctls, backed by the variables the
//! tracker reads.

use kernel::prelude::*;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

/// Glue only this module uses (its C glue, nf_defrag, the exported entry
/// points).
#[path = "glue/conntrack/mod.rs"]
pub mod ct_glue;

// The kernel-independent engines this module uses (rust/rnf_core/src): the
// packet views, the conntrack engine and the self-test harness. Mounted at
// the crate root under the names rust/rnf_core/src/lib.rs gives them, so
// their `crate::` paths resolve as in the rnf_core crate.
#[path = "rnf_core/src/conntrack/mod.rs"]
pub mod conntrack;
#[path = "rnf_core/src/nat/mod.rs"]
pub mod nat;
#[path = "rnf_core/src/packet/mod.rs"]
pub mod packet;
#[cfg(CONFIG_KUNIT)]
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;

#[path = "rnf_conntrack/classify.rs"]
mod classify;
#[path = "rnf_conntrack/hooks.rs"]
mod hooks;
#[path = "rnf_conntrack/nat.rs"]
mod nat_setup;
#[path = "rnf_conntrack/netns.rs"]
mod netns;
#[path = "rnf_conntrack/proc.rs"]
mod proc;
#[path = "rnf_conntrack/tracker.rs"]
mod tracker;

use conntrack::table;
use ct_glue::nfct::NfctHook;
use ct_glue::{Controls, GcWork};
use glue::bindings;
use glue::pernet::Pernet;
use tracker::{Tracker, TRACKER};

// The entry points of `ct_glue` call these (see rust/glue/conntrack/mod.rs).
pub(crate) use hooks::{closing, confirm_skb};
pub(crate) use nat_setup::{flush_masq, kill, nat_cleanup, setup as nat_setup};
pub(crate) use proc::{flush as proc_flush, show as proc_show};
pub(crate) use tracker::{gc_run, release_slot, resize};

module! {
    type: RnfConntrack,
    name: "rnf_conntrack",
    author: "rnf developers",
    description: "Connection tracking for IPv4 and IPv6, in Rust",
    license: "GPL",
}

/// The self-test suites this module runs under KUnit.
#[cfg(CONFIG_KUNIT)]
pub(crate) const SELFTEST_SUITES: &[&selftest::Suite] = &conntrack::selftest::SUITES;

#[cfg(CONFIG_KUNIT)]
kunit_suites! {
    0 => CASES_0, SUITE_0;
    1 => CASES_1, SUITE_1;
    2 => CASES_2, SUITE_2;
    3 => CASES_3, SUITE_3;
    4 => CASES_4, SUITE_4;
    5 => CASES_5, SUITE_5;
}

struct RnfConntrack {
    pernet: Option<Pernet>,
    /// The kernel's `nf_ct_hook`, owned while loaded; dropped after the
    /// hooks are gone (it waits until no packet holds a connection).
    nfct: Option<NfctHook>,
    /// The GC work and the C glue's per-namespace data: dropped by
    /// [`free_tracker`] after the hooks are gone.
    gc: Option<GcWork>,
    controls: Option<Controls>,
}

impl kernel::Module for RnfConntrack {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let (hashsize, max) = ct_glue::params();
        let ram = ct_glue::totalram_bytes();
        let wanted = if hashsize > 0 { hashsize } else { table::default_buckets(ram, 8) };
        // Whole pages of heads, as nf_ct_alloc_hashtable() rounds them.
        let buckets = table::round_buckets(wanted, tracker::BUCKETS_PER_PAGE).ok_or(EINVAL)?;
        // The limit: conntrack_max, or as many connections as buckets (the
        // kernel's default). The arena starts with room for at most
        // tracker::INITIAL_SLOTS of them and grows as connections come (up
        // to table::MAX_ENTRIES, whatever nf_conntrack_max says later).
        let max = if max > 0 { max } else { buckets }.min(table::MAX_ENTRIES as u32);
        let capacity = tracker::INITIAL_SLOTS.min(max);
        // First: with the kernel's nf_conntrack loaded, refuse (EBUSY).
        let nfct = NfctHook::claim()?;
        let tracker = Tracker::new(buckets, capacity)?;
        ct_glue::set_limits(buckets, table::MAX_ENTRIES as u32, max);
        // Per-namespace data, sysctls and statistics, before any hook: the
        // hooks' pernet operations (below) are registered after these, so
        // they run after them in a new namespace and before them in a dying
        // one.
        let controls = Controls::register()?;
        TRACKER.set(tracker);
        let gc = match GcWork::start() {
            Ok(gc) => gc,
            Err(e) => {
                free_tracker(None, controls);
                return Err(e);
            }
        };
        let pernet = match Pernet::register::<netns::PerNet>() {
            Ok(p) => p,
            Err(e) => {
                free_tracker(Some(gc), controls);
                return Err(e);
            }
        };
        // For comparison: the kernel's `struct nf_conn` as bindgen laid it
        // out for this kernel (its slab rounds it up to a cache line).
        pr_info!(
            "{} buckets by tuple and as many by source for NAT ({} bytes of heads in all), room for {} connections to start with, growing as they come (nf_conntrack_max {}), {} bytes each in the table + {} per object packets carry (struct nf_conn: {} bytes)\n",
            buckets,
            u64::from(buckets).saturating_mul(2 * core::mem::size_of::<u32>() as u64),
            capacity,
            max,
            tracker::SLOT_BYTES,
            nfct.object_size(),
            core::mem::size_of::<bindings::nf_conn>()
        );
        Ok(RnfConntrack { pernet: Some(pernet), nfct: Some(nfct), gc: Some(gc), controls: Some(controls) })
    }
}

/// Stops the GC (waiting for a running batch), removes the controls and
/// frees the tracker. Hooks must be unregistered already.
fn free_tracker(gc: Option<GcWork>, controls: Controls) {
    drop(gc);
    glue::synchronize_rcu();
    // No hook can count any more.
    drop(controls);
    drop(TRACKER.take());
}

impl Drop for RnfConntrack {
    fn drop(&mut self) {
        // Unregisters hooks and proc files in every namespace, flushing each
        // and waiting for its unconfirmed connections.
        drop(self.pernet.take());
        // Waits until no packet holds a connection object, then gives the
        // kernel's nf_ct_hook back.
        drop(self.nfct.take());
        if let Some(controls) = self.controls.take() {
            free_tracker(self.gc.take(), controls);
        }
        pr_info!("unloaded\n");
    }
}
