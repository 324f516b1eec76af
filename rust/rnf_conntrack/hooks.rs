// SPDX-License-Identifier: GPL-2.0
//! The hooks, where the kernel's conntrack has them
//! (net/netfilter/nf_conntrack_proto.c): tracking at PRE_ROUTING and
//! LOCAL_OUT (`NF_IP_PRI_CONNTRACK`, -200), confirmation at POST_ROUTING and
//! LOCAL_IN (`NF_IP_PRI_CONNTRACK_CONFIRM`, last).

use kernel::prelude::*;

use crate::classify::{classify, Class, Untracked};
use crate::conntrack::conn::{self, Conn, Outcome};
use crate::conntrack::table::InsertError;
use crate::ct_glue::{self, CtNet};
use crate::glue::{self, bindings, Verdict};
use crate::glue::hook::{Hook, HookOps, HookState};
use crate::glue::skb::Skb;
use crate::netns::timeouts_of;
use crate::tracker::{tracker, Tracker};

impl Tracker {
    /// PRE_ROUTING / LOCAL_OUT: update the state of a known connection, or
    /// relate an ICMP error to the connection it is about.
    fn track(&self, skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        let Some(pn) = CtNet::of(st.net()) else { return Verdict::Accept };
        let (p, t) = match classify(skb, st.pf()) {
            Ok(Class::Tuple(p, t)) => (p, t),
            Ok(Class::Error(p, inner)) => {
                let g = self.state.lock();
                let related = g.related(&p, &inner, st.net().id(), glue::jiffies()).is_some();
                drop(g);
                pn.stat(if related {
                    bindings::rnf_ct_stat_RNF_CT_STAT_RELATED
                } else {
                    bindings::rnf_ct_stat_RNF_CT_STAT_ICMP_ERROR
                });
                return Verdict::Accept;
            }
            Err(Untracked::Malformed) => {
                pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INVALID);
                return Verdict::Accept;
            }
            Err(Untracked::NoTuple) => return Verdict::Accept,
        };
        let netns = st.net().id();
        let now = glue::jiffies();
        let tmo = timeouts_of(pn);
        let mut g = self.state.lock();
        let Some((i, dir)) = g.table.find(&t, netns) else { return Verdict::Accept };
        pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_FOUND);
        let outcome = match g.table.get_mut(i) {
            Some(c) if c.expired(now) => Outcome::Reopen,
            Some(c) => c.packet(dir, &p, now, self.hz, &tmo),
            None => return Verdict::Accept,
        };
        match outcome {
            Outcome::Kill(_) | Outcome::Reopen => {
                if g.table.remove(i).is_some() {
                    pn.count_add(-1);
                }
                g.publish_count();
            }
            Outcome::Invalid => pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INVALID),
            Outcome::Accept(_) => {}
        }
        Verdict::Accept
    }

    /// POST_ROUTING / LOCAL_IN: insert the connection of a packet that
    /// opens one. When the namespace has `conntrack_max` connections (the
    /// kernel's `nf_conntrack_alloc()` test of the per-net count against the
    /// global maximum), or every slot of the shared table is used, one of
    /// the namespace's unassured entries is evicted or the packet dropped.
    fn confirm(&self, skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        let Some(pn) = CtNet::of(st.net()) else { return Verdict::Accept };
        let Ok(Class::Tuple(p, t)) = classify(skb, st.pf()) else { return Verdict::Accept };
        let netns = st.net().id();
        let now = glue::jiffies();
        let tmo = timeouts_of(pn);
        let max = ct_glue::ct_max();
        let mut g = self.state.lock();
        // Most packets belong to a confirmed connection: look it up before
        // building a new entry (the kernel's nf_ct_is_confirmed() shortcut).
        let found = g.table.find(&t, netns).map(|(i, _)| i);
        if let Some(i) = found {
            if !g.table.get(i).is_some_and(|c| c.expired(now)) {
                return Verdict::Accept;
            }
        }
        let Ok(mut conn) = Conn::new(&t, &p, netns, now, self.hz, &tmo) else {
            // Cannot open a connection (e.g. an echo reply): untracked.
            return Verdict::Accept;
        };
        conn.status |= conn::IPS_CONFIRMED;
        if let Some(i) = found {
            if g.table.remove(i).is_some() {
                pn.count_add(-1);
            }
        }
        if pn.count() >= max || g.table.count() >= g.table.capacity() {
            let bucket = g.table.bucket_of(&t, netns);
            if !g.table.early_drop(bucket, now, netns) {
                g.publish_count();
                drop(g);
                pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_DROP);
                if glue::net_ratelimit() {
                    pr_warn!("table full, dropping packet\n");
                }
                return Verdict::Drop;
            }
            pn.count_add(-1);
            pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_EARLY_DROP);
        }
        let res = g.table.insert(conn);
        if res.is_ok() {
            pn.count_add(1);
        }
        g.publish_count();
        drop(g);
        match res {
            Ok(_) => pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INSERT),
            // Another CPU confirmed the same tuple first: its entry stands.
            Err(InsertError::Clash) => pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INSERT_FAILED),
            // Cannot happen after the test above; counted, the packet passes.
            Err(InsertError::Full) => pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INSERT_FAILED),
        }
        Verdict::Accept
    }
}

/// PRE_ROUTING and LOCAL_OUT.
struct TrackHook;
impl Hook for TrackHook {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        // Packets looped back were tracked on their way out (LOCAL_OUT).
        if st.hook() == bindings::nf_inet_hooks_NF_INET_PRE_ROUTING && st.input_is_loopback() {
            return Verdict::Accept;
        }
        tracker().map_or(Verdict::Accept, |t| t.track(skb, st))
    }
}

/// POST_ROUTING and LOCAL_IN.
struct ConfirmHook;
impl Hook for ConfirmHook {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        tracker().map_or(Verdict::Accept, |t| t.confirm(skb, st))
    }
}

/// The hook set: tracking and confirmation, for IPv4 and IPv6.
pub(crate) fn build_hooks() -> Result<HookOps> {
    use bindings::{
        nf_inet_hooks_NF_INET_LOCAL_IN as LOCAL_IN, nf_inet_hooks_NF_INET_LOCAL_OUT as LOCAL_OUT,
        nf_inet_hooks_NF_INET_POST_ROUTING as POST_ROUTING, nf_inet_hooks_NF_INET_PRE_ROUTING as PRE_ROUTING,
    };
    let mut ops = HookOps::new();
    let track = bindings::nf_ip_hook_priorities_NF_IP_PRI_CONNTRACK;
    let confirm = bindings::nf_ip_hook_priorities_NF_IP_PRI_CONNTRACK_CONFIRM;
    for pf in [bindings::NFPROTO_IPV4, bindings::NFPROTO_IPV6] {
        ops.add::<TrackHook>(pf, PRE_ROUTING, track)?;
        ops.add::<TrackHook>(pf, LOCAL_OUT, track)?;
        ops.add::<ConfirmHook>(pf, POST_ROUTING, confirm)?;
        ops.add::<ConfirmHook>(pf, LOCAL_IN, confirm)?;
    }
    Ok(ops)
}
