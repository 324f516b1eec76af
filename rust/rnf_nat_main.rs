// SPDX-License-Identifier: GPL-2.0
//! rnf_nat: the NAT engine's hooks, on top of rnf_conntrack.
//!
//! NAT works per connection: the first packet of a connection decides its
//! mapping, every later packet of either direction is rewritten the same
//! way. So the engine asks rnf_conntrack, for each packet, which connection
//! and direction it belongs to (`rnf_ct_lookup`, exported by rnf_conntrack:
//! the symbol that makes modpost record `depends=rnf_conntrack`).
//!
//! This first version registers the hooks at the kernel's NAT priorities
//! (DNAT at PRE_ROUTING and LOCAL_OUT, -100; SNAT at POST_ROUTING and
//! LOCAL_IN, 100) and classifies every packet through rnf_conntrack; it
//! counts what it saw and reports at unload. The mapping and rewriting
//! (with `nat::csum_replace*`) come with the `nat` table.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::prelude::*;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

// The kernel-independent engines this module uses (rust/rnf_core/src): the
// NAT engine, the conntrack engine its tuples come from, the packet views
// and the self-test harness. Mounted at the crate root under the names
// rust/rnf_core/src/lib.rs gives them, so their `crate::` paths resolve as
// in the rnf_core crate.
#[path = "rnf_core/src/conntrack/mod.rs"]
pub mod conntrack;
#[path = "rnf_core/src/nat/mod.rs"]
pub mod nat;
#[path = "rnf_core/src/packet/mod.rs"]
pub mod packet;
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;

use glue::bindings;
use glue::global::Global;
use glue::hook::{Hook, HookOps, HookState};
use glue::pernet::{Pernet, PernetHandler};
use glue::skb::Skb;
use glue::Verdict;

module! {
    type: RnfNat,
    name: "rnf_nat",
    author: "rnf developers",
    description: "NAT engine hooks for IPv4 and IPv6 on rnf_conntrack, in Rust",
    license: "GPL",
}

/// The self-test suites this module runs under KUnit.
#[cfg(CONFIG_KUNIT)]
pub(crate) const SELFTEST_SUITES: &[&selftest::Suite] = &nat::selftest::SUITES;

#[cfg(CONFIG_KUNIT)]
kunit_suites! {
    0 => CASES_0, SUITE_0;
    1 => CASES_1, SUITE_1;
}

/// Packets classified: by `ctinfo` (index 0..=4), untracked, unparsable.
static SEEN: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];
const UNTRACKED: usize = 5;
const UNPARSABLE: usize = 6;

/// The hook set, built in init and read by the per-namespace callbacks.
/// Teardown rule (see [`Global::get`]): taken in exit after the pernet
/// unregistration has removed the hooks from every namespace.
static HOOKS: Global<HookOps> = Global::new();

struct NatHook;
impl Hook for NatHook {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        let mut r = bindings::rnf_ct_lookup { status: 0, ctinfo: 0, dir: 0, proto: 0, pad: 0 };
        // SAFETY: the namespace and skb are live for the hook call; `r` is
        // writable. rnf_conntrack stays loaded while we are (we depend on it).
        let rc = unsafe { bindings::rnf_ct_lookup(st.net().as_ptr(), st.pf(), skb.as_ptr(), &mut r) };
        let slot = match rc {
            0 => usize::from(r.ctinfo).min(4),
            e if e == -(bindings::ENOENT as i32) => UNTRACKED,
            _ => UNPARSABLE,
        };
        if let Some(c) = SEEN.get(slot) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        Verdict::Accept
    }
}

struct PerNet;
impl PernetHandler for PerNet {
    fn init(net: glue::hook::Net) -> Result {
        HOOKS.get().ok_or(ENODEV)?.register(net)
    }

    fn exit(net: glue::hook::Net) {
        if let Some(h) = HOOKS.get() {
            h.unregister(net);
        }
    }
}

struct RnfNat {
    pernet: Option<Pernet>,
}

impl kernel::Module for RnfNat {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        use bindings::{
            nf_inet_hooks_NF_INET_LOCAL_IN as LOCAL_IN, nf_inet_hooks_NF_INET_LOCAL_OUT as LOCAL_OUT,
            nf_inet_hooks_NF_INET_POST_ROUTING as POST_ROUTING,
            nf_inet_hooks_NF_INET_PRE_ROUTING as PRE_ROUTING,
        };
        let mut ops = HookOps::new();
        let dst = bindings::nf_ip_hook_priorities_NF_IP_PRI_NAT_DST;
        let src = bindings::nf_ip_hook_priorities_NF_IP_PRI_NAT_SRC;
        for pf in [bindings::NFPROTO_IPV4, bindings::NFPROTO_IPV6] {
            ops.add::<NatHook>(pf, PRE_ROUTING, dst)?;
            ops.add::<NatHook>(pf, LOCAL_OUT, dst)?;
            ops.add::<NatHook>(pf, POST_ROUTING, src)?;
            ops.add::<NatHook>(pf, LOCAL_IN, src)?;
        }
        drop(HOOKS.set(KBox::new(ops, GFP_KERNEL)?));
        match Pernet::register::<PerNet>() {
            Ok(p) => Ok(RnfNat { pernet: Some(p) }),
            Err(e) => {
                drop(HOOKS.take());
                Err(e)
            }
        }
    }
}

impl Drop for RnfNat {
    fn drop(&mut self) {
        drop(self.pernet.take());
        glue::synchronize_rcu();
        drop(HOOKS.take());
        let n = |i: usize| SEEN.get(i).map_or(0, |c| c.load(Ordering::Relaxed));
        pr_info!(
            "classified by rnf_conntrack: new={} established={} reply={} related={} untracked={} unparsable={}\n",
            n(2),
            n(0),
            n(3),
            n(1) + n(4),
            n(UNTRACKED),
            n(UNPARSABLE)
        );
    }
}
