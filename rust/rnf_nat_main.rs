// SPDX-License-Identifier: GPL-2.0
//! rnf_nat: the NAT engine, on rnf_conntrack, for IPv4 and IPv6.
//!
//! As the kernel's nf_nat (net/netfilter/nf_nat_core.c, nf_nat_proto.c):
//! hooks at the NAT priorities (DNAT -100 at PRE_ROUTING and LOCAL_OUT,
//! SNAT 100 at POST_ROUTING and LOCAL_IN) map each connection's first packet
//! through the nat table registered with `rnf_nat_register_lookup()` (the
//! rnf_tables_nat module), and rewrite every packet of a mapped connection
//! (`rnf_nat/engine.rs`). The connection comes with the packet (rnf_conntrack
//! attaches it); rnf_conntrack chooses the tuple (`rnf_ct_nat_setup`), the
//! symbol that makes modpost record `depends=rnf_conntrack`.

use kernel::prelude::*;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

/// Glue only this module uses (the nat tables' lookups, rnf_conntrack's
/// NAT calls, skb rewriting and routing).
#[path = "glue/nat/mod.rs"]
pub mod nat_glue;

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
#[cfg(CONFIG_KUNIT)]
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;

#[path = "rnf_nat/engine.rs"]
mod engine;

use glue::global::Global;
use glue::hook::{Hook, HookOps, HookState};
use glue::pernet::{Pernet, PernetHandler};
use glue::skb::Skb;
use glue::{bindings, Verdict};
use nat::range::ManipType;

module! {
    type: RnfNat,
    name: "rnf_nat",
    author: "rnf developers",
    description: "NAT for IPv4 and IPv6 on rnf_conntrack, in Rust",
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

/// The hook set, built in init and read by the per-namespace callbacks.
/// Teardown rule (see [`Global::get`]): taken in exit after the pernet
/// unregistration has removed the hooks from every namespace.
static HOOKS: Global<HookOps> = Global::new();

/// The NAT hook of one manip type: source NAT (`SRC`, POST_ROUTING and
/// LOCAL_IN) or destination NAT (PRE_ROUTING and LOCAL_OUT). Two hook
/// functions, so that the manip type is a constant in each.
struct NatHook<const SRC: bool>;
impl<const SRC: bool> Hook for NatHook<SRC> {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        engine::nat_hook(skb, st, if SRC { ManipType::Src } else { ManipType::Dst })
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
    masq: Option<nat_glue::MasqNotifiers>,
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
            ops.add::<NatHook<false>>(pf, PRE_ROUTING, dst)?;
            ops.add::<NatHook<false>>(pf, LOCAL_OUT, dst)?;
            ops.add::<NatHook<true>>(pf, POST_ROUTING, src)?;
            ops.add::<NatHook<true>>(pf, LOCAL_IN, src)?;
        }
        let masq = nat_glue::MasqNotifiers::register()?;
        drop(HOOKS.set(KBox::new(ops, GFP_KERNEL)?));
        match Pernet::register::<PerNet>() {
            Ok(p) => Ok(RnfNat { pernet: Some(p), masq: Some(masq) }),
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
        drop(self.masq.take());
        glue::synchronize_rcu();
        // As nf_nat_cleanup(): no connection keeps a mapping nobody applies.
        let deleted = nat_glue::ct_nat_cleanup();
        drop(HOOKS.take());
        let n = nat_glue::seen_sum;
        pr_info!("unloaded: {} NATed connections deleted\n", deleted);
        pr_info!(
            "packets by conntrack state: new={} established={} reply={} related={} untracked={}\n",
            n(2),
            n(0),
            n(3),
            n(1).wrapping_add(n(4)),
            n(nat_glue::SEEN_UNTRACKED)
        );
    }
}
