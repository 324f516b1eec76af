// SPDX-License-Identifier: GPL-2.0
//! The NAT hooks: `nf_nat_inet_fn()` (net/netfilter/nf_nat_core.c) with the
//! per-family ends of net/netfilter/nf_nat_proto.c.
//!
//! At each NAT hook a connection's first packet (NEW, or RELATED to an
//! expectation) walks the nat table once per manip type; the target's range
//! (or a null binding when no rule maps it) goes to rnf_conntrack, which
//! picks the tuple (`rnf_ct_nat_setup`). Every packet of a mapped
//! connection is then rewritten towards the inverse of the other
//! direction's tuple (`nf_nat_packet`), and ICMP errors about a connection
//! are translated, embedded packet included, without walking the table.

use crate::conntrack::tuple::Tuple;
use crate::glue::hook::HookState;
use crate::glue::skb::{HeaderBuf, Skb};
use crate::glue::{bindings, Verdict};
use crate::nat::range::{ManipType, NatRange};
use crate::nat::rewrite::{self, IcmpVerdict, RewriteError, IPS_DST_NAT_DONE, IPS_NAT_MASK, IPS_SRC_NAT_DONE};
use crate::nat_glue::{self, CtNat, Lookup, PktStart};
use crate::packet::{self, L3Proto, IPPROTO_ICMP, IPPROTO_ICMPV6};

/// `enum ip_conntrack_info` values (include/uapi/linux/netfilter/nf_conntrack_common.h).
const IP_CT_RELATED: u8 = 1;
const IP_CT_NEW: u8 = 2;
const IP_CT_RELATED_REPLY: u8 = 4;


/// The hook body, at every NAT hook of both families, with the per-hook
/// ends of nf_nat_proto.c: at PRE_ROUTING a packet whose destination
/// changed is routed again (`nf_nat_ipv4_pre_routing`, `nf_nat_ipv6_in`:
/// `skb_dst_drop`), at LOCAL_OUT a packet of a connection whose tuples say
/// NAT changed an address is re-routed (`nf_nat_ipv4_local_fn`,
/// `nf_nat_ipv6_local_fn`), ICMP errors the host generates about a NATed
/// flow included. `manip` is the hook's manip type (destination NAT at
/// PRE_ROUTING and LOCAL_OUT, source NAT at POST_ROUTING and LOCAL_IN), a
/// constant in each hook function: inlined, the tests that depend on it
/// are made when the module is built.
#[inline(always)]
pub(crate) fn nat_hook(skb: &Skb<'_>, st: &HookState<'_>, manip: ManipType) -> Verdict {
    let v = nat_fn(skb, st, manip);
    // Without a NAT bit the reply tuple is the original's inverse, so the
    // addresses agree: only a NATed connection's tuples need reading.
    let nated = || nat_glue::ct_status(skb).is_some_and(|q| q.status & IPS_NAT_MASK != 0);
    let local_out = manip == ManipType::Dst && st.hook() == bindings::nf_inet_hooks_NF_INET_LOCAL_OUT;
    if v == Verdict::Accept && local_out && nated() {
        if let Some(ct) = nat_glue::ct_info(skb) {
            let dir = usize::from(ct.dir.min(1));
            let (this, other) = (ct.tuple.get(dir), ct.tuple.get(1 - dir));
            if let (Some(t), Some(o)) = (this, other) {
                if t.dst != o.src && nat_glue::route_me_harder(skb, st).is_err() {
                    return Verdict::Drop;
                }
            }
        }
    }
    v
}

/// After a rewrite at PRE_ROUTING that changed the destination, the packet
/// is routed again (`nf_nat_ipv4_pre_routing`, `nf_nat_ipv6_in`).
fn pre_routing_reroute(skb: &Skb<'_>, st: &HookState<'_>, before: &[u8; 16], after: &[u8; 16]) {
    if st.hook() == bindings::nf_inet_hooks_NF_INET_PRE_ROUTING && before != after {
        nat_glue::dst_drop(skb);
    }
}

/// `nf_nat_inet_fn()` with the ICMP error translation of `nf_nat_ipv4_fn()`
/// / `nf_nat_ipv6_fn()`.
#[inline(always)]
fn nat_fn(skb: &Skb<'_>, st: &HookState<'_>, manip: ManipType) -> Verdict {
    let Some(l3) = L3Proto::from_nfproto(st.pf()) else { return Verdict::Accept };
    // The glue copies the other direction's tuple when the status says
    // this hook rewrites the packet: the common rewrite's one call.
    let want = [rewrite::statusbit(manip, false), rewrite::statusbit(manip, true)];
    let v = nat_glue::with_pkt_start(skb, st, want, |quick, other| nat_conn(skb, st, l3, manip, quick, other));
    v.unwrap_or(Verdict::Accept)
}

/// The rest of [`nat_fn`], for a packet that carries a connection, with
/// the other direction's tuple when the status says this hook rewrites the
/// packet.
#[inline(always)]
fn nat_conn(skb: &Skb<'_>, st: &HookState<'_>, l3: L3Proto, manip: ManipType, quick: &PktStart, other: Option<&Tuple>) -> Verdict {
    let done = match manip {
        ManipType::Src => IPS_SRC_NAT_DONE,
        ManipType::Dst => IPS_DST_NAT_DONE,
    };
    let ctinfo = quick.ctinfo();
    let related = matches!(ctinfo, IP_CT_RELATED | IP_CT_RELATED_REPLY);
    let undecided = ctinfo == IP_CT_NEW && quick.status() & done == 0;
    if !related && !undecided {
        // An established connection, or a new one (no reply yet) whose
        // mapping for this manip is made: as nf_nat_inet_fn()'s
        // ESTABLISHED case and its NEW case with nf_nat_initialized(), the
        // packet is rewritten if its direction's status bit says so,
        // towards the other direction's tuple, which the glue read then.
        if killed_for_oif(skb, st, quick, manip) {
            return Verdict::Drop;
        }
        return match other {
            Some(other) => do_nat(skb, st, other, manip, quick),
            None => Verdict::Accept,
        };
    }
    first_or_related(skb, st, l3, quick, manip, done)
}

/// The rest of [`nat_fn`]: a connection's first packet for this manip, or
/// one related to a connection (an ICMP error, or the first packet of an
/// expected one). A function of its own, not inlined, so that the common
/// path above keeps a small frame. The status, ctinfo and direction are
/// `quick`'s; a tuple is read only where it is used (reading both for
/// every such packet, and copying them, cost a new connection some 100
/// instructions a hook on arm64).
#[inline(never)]
fn first_or_related(skb: &Skb<'_>, st: &HookState<'_>, l3: L3Proto, quick: &PktStart, manip: ManipType, done: u32) -> Verdict {
    if matches!(quick.ctinfo(), IP_CT_RELATED | IP_CT_RELATED_REPLY) {
        if let Some(hdrlen) = icmp_offset(skb, l3) {
            // Both tuples: the embedded packet is translated too.
            let Some(ct) = nat_glue::ct_info(skb) else { return Verdict::Accept };
            return icmp_error(skb, st, &ct, manip, hdrlen, l3);
        }
    }
    let first = quick.status() & done == 0;
    if !first && killed_for_oif(skb, st, quick, manip) {
        return Verdict::Drop;
    }
    if first {
        match nat_glue::lookup(skb, st) {
            // No nat table: nothing to decide; mapped connections are still
            // translated below.
            Lookup::NoTable => {}
            Lookup::Drop => return Verdict::Drop,
            Lookup::Target(t) => {
                let Some(range) = range_for(skb, st, &t, manip) else { return Verdict::Drop };
                // EEXIST: another packet decided first; ENOENT: the
                // connection left the table. Either way, translate as it is.
                let _ = nat_glue::ct_setup(skb, &range, manip);
                // The mapping may have changed the status and the reply
                // tuple: read again what the rewrite needs, the status and
                // one tuple.
                let Some(now) = nat_glue::ct_status(skb) else { return Verdict::Accept };
                let Some(o) = rewritten_towards(now.status, now.dir, manip) else { return Verdict::Accept };
                // Borrowed where the glue wrote it, not moved out of the Option.
                let other = nat_glue::ct_tuple(skb, o);
                let Some(other) = other.as_ref() else { return Verdict::Accept };
                return do_nat(skb, st, other, manip, quick);
            }
        }
    }
    let Some(o) = rewritten_towards(quick.status(), quick.dir(), manip) else { return Verdict::Accept };
    let other = nat_glue::ct_tuple(skb, o);
    let Some(other) = other.as_ref() else { return Verdict::Accept };
    do_nat(skb, st, other, manip, quick)
}

/// `nf_nat_packet()`'s test: when the connection's `status` says a packet
/// of direction `dir` (0 original, 1 reply) is rewritten at a hook of
/// manip type `manip`, the other direction, whose tuple the rewrite goes
/// towards (inverted); `None` when it is not rewritten.
fn rewritten_towards(status: u32, dir: u8, manip: ManipType) -> Option<u8> {
    let dir = dir.min(1);
    (status & rewrite::statusbit(manip, dir == 1) != 0).then_some(1 - dir)
}

/// `nf_nat_oif_changed()`: a masqueraded connection's original-direction
/// packet leaving POST_ROUTING by another interface than it was mapped for
/// (the masquerade index as the hook started). Then the connection is
/// killed (`nf_ct_kill()`; the next packet starts a new one) and `true`
/// says to drop this packet.
fn killed_for_oif(skb: &Skb<'_>, st: &HookState<'_>, q: &PktStart, manip: ManipType) -> bool {
    let changed = q.masq_index() != 0
        && manip == ManipType::Src
        && st.hook() == bindings::nf_inet_hooks_NF_INET_POST_ROUTING
        && q.dir() == 0
        && q.masq_index() != q.out_ifindex();
    if changed {
        nat_glue::ct_kill(skb);
    }
    changed
}

/// The range to map a new connection into for the table's answer `t`
/// (`xt_snat_target_v*`, `nf_nat_masquerade_ipv4/6`, `nf_nat_redirect_*`,
/// `netmap_tg*`, or `__nf_nat_alloc_null_binding`); `None` drops the packet
/// (no address for MASQUERADE or REDIRECT). The connection's tuples are
/// read from it (`rnf_ct_nat_tuple`) only for the kinds that need them:
/// the reply for a null binding and NETMAP, the original for
/// MASQUERADE's test of a 0.0.0.0 source.
fn range_for(skb: &Skb<'_>, st: &HookState<'_>, t: &bindings::rnf_nat_target, manip: ManipType) -> Option<NatRange> {
    let rule = NatRange {
        flags: t.flags,
        min_addr: t.min_addr,
        max_addr: t.max_addr,
        min_proto: t.min_proto,
        max_proto: t.max_proto,
        base_proto: t.base_proto,
    };
    // The connection's reply tuple, read when a kind needs it (the skb
    // holds the connection: it is always there).
    let reply = || nat_glue::ct_tuple(skb, 1);
    let null = || {
        reply().map(|r| {
            NatRange::null_binding(match manip {
                ManipType::Src => r.dst,
                ManipType::Dst => r.src,
            })
        })
    };
    Some(match t.kind {
        bindings::rnf_nat_kind_RNF_NAT_SNAT | bindings::rnf_nat_kind_RNF_NAT_DNAT => rule,
        bindings::rnf_nat_kind_RNF_NAT_MASQUERADE => {
            // A local packet from 0.0.0.0 is not masqueraded.
            let orig = nat_glue::ct_tuple(skb, 0)?;
            if orig.l3 == L3Proto::Ipv4 && orig.src == [0; 16] {
                null()?
            } else {
                NatRange::to_addr(&rule, nat_glue::masq_addr(skb, st)?)
            }
        }
        bindings::rnf_nat_kind_RNF_NAT_REDIRECT => NatRange::to_addr(&rule, nat_glue::redirect_addr(skb, st)?),
        bindings::rnf_nat_kind_RNF_NAT_NETMAP => {
            // The connection as it looks after the manips decided so far.
            let curr = reply()?.invert();
            let addr = match manip {
                ManipType::Dst => curr.dst,
                ManipType::Src => curr.src,
            };
            NatRange::to_addr(&rule, rule.netmap(&addr))
        }
        _ => null()?,
    })
}

/// `nf_nat_packet()` and the per-hook ends of nf_nat_proto.c, for a
/// connection whose status says `manip` applies in the packet's direction:
/// the packet is rewritten towards the inverse of `other`, the other
/// direction's tuple; `q` has the skb's checksum state and length.
fn do_nat(skb: &Skb<'_>, st: &HookState<'_>, other: &Tuple, manip: ManipType, q: &PktStart) -> Verdict {
    let hook = st.hook();
    if hook == bindings::nf_inet_hooks_NF_INET_PRE_ROUTING || hook == bindings::nf_inet_hooks_NF_INET_LOCAL_IN {
        return do_nat_looking(skb, st, other, manip, q);
    }
    // POST_ROUTING and LOCAL_OUT: the rewrite alone (LOCAL_OUT's routing
    // again is nat_hook's).
    let target = other.invert();
    let mut summed = q.summed();
    if !rewrite_writable(skb, q.len() as usize, |buf, len| rewrite::manip_pkt(buf, len, 0, &target, manip, &mut summed)) {
        return Verdict::Drop;
    }
    nat_glue::set_summed(skb, summed);
    Verdict::Accept
}

/// [`do_nat`] at PRE_ROUTING and LOCAL_IN, which look at the header
/// addresses before the rewrite to see what changed: PRE_ROUTING routes a
/// packet whose destination changed again, LOCAL_IN orphans one whose
/// source changed. Not inlined: the other hooks' rewrite keeps a small
/// frame.
#[inline(never)]
fn do_nat_looking(skb: &Skb<'_>, st: &HookState<'_>, other: &Tuple, manip: ManipType, q: &PktStart) -> Verdict {
    let target = other.invert();
    let mut summed = q.summed();
    let local_in = st.hook() == bindings::nf_inet_hooks_NF_INET_LOCAL_IN;
    let mut before = ([0u8; 16], [0u8; 16], 0u16);
    let done = rewrite_writable(skb, q.len() as usize, |buf, len| {
        before = header_addrs(buf, target.l3, local_in);
        rewrite::manip_pkt(buf, len, 0, &target, manip, &mut summed)
    });
    if !done {
        return Verdict::Drop;
    }
    nat_glue::set_summed(skb, summed);
    pre_routing_reroute(skb, st, &before.1, &target.dst);
    after_nat(skb, st, &target, manip, before)
}

/// Runs `rewrite` over the writable bytes of a packet of `len` bytes, at
/// first the first 64 ([`nat_glue::with_writable`]), then as many as it
/// asks for ([`RewriteError::NeedWritable`], within the packet; three
/// tries in all); `false` when the bytes cannot be made writable or
/// `rewrite` fails otherwise (the packet is dropped).
#[inline(always)]
fn rewrite_writable(skb: &Skb<'_>, len: usize, mut rewrite: impl FnMut(&mut [u8], usize) -> Result<(), RewriteError>) -> bool {
    let mut need = len.min(64);
    for _ in 0..3 {
        match nat_glue::with_writable(skb, need, &mut rewrite) {
            Some(Ok(())) => return true,
            Some(Err(RewriteError::NeedWritable(n))) if n > need && n <= len => need = n,
            _ => return false,
        }
    }
    false
}

/// Source and destination address of the packet in `buf`, and its source
/// port when `with_port` (parsed only then: LOCAL_IN needs it). Not
/// inlined: only PRE_ROUTING and LOCAL_IN look, and inlined into
/// [`do_nat`] its set-up ran at every hook.
#[inline(never)]
fn header_addrs(buf: &[u8], l3: L3Proto, with_port: bool) -> ([u8; 16], [u8; 16], u16) {
    let (mut s, mut d) = ([0u8; 16], [0u8; 16]);
    let (so, dof, n) = match l3 {
        L3Proto::Ipv4 => (12, 16, 4),
        L3Proto::Ipv6 => (8, 24, 16),
    };
    if let (Some(x), Some(y)) = (buf.get(so..so + n), s.get_mut(..n)) {
        y.copy_from_slice(x);
    }
    if let (Some(x), Some(y)) = (buf.get(dof..dof + n), d.get_mut(..n)) {
        y.copy_from_slice(x);
    }
    if !with_port {
        return (s, d, 0);
    }
    let sport = packet::parse(l3, buf).ok().map_or(0, |p| match p.l4 {
        packet::L4::Tcp { sport, .. } | packet::L4::Udp { sport, .. } => sport,
        _ => 0,
    });
    (s, d, sport)
}

/// After a rewrite at LOCAL_IN: orphan an early-demuxed packet whose source
/// changed (`nf_nat_ipv4_local_in`; routing again at PRE_ROUTING and
/// LOCAL_OUT is done by [`nat_hook`]).
fn after_nat(skb: &Skb<'_>, st: &HookState<'_>, target: &Tuple, manip: ManipType, before: ([u8; 16], [u8; 16], u16)) -> Verdict {
    if manip == ManipType::Src
        && st.hook() == bindings::nf_inet_hooks_NF_INET_LOCAL_IN
        && (target.src != before.0 || (target.src_id != before.2 && before.2 != 0))
    {
        nat_glue::local_in_orphan(skb);
    }
    Verdict::Accept
}

/// The offset of the ICMP(v6) header if the packet is ICMP (the RELATED
/// packets NAT translates as errors).
fn icmp_offset(skb: &Skb<'_>, l3: L3Proto) -> Option<usize> {
    let mut buf = HeaderBuf::new();
    let bytes = skb.network_bytes(&mut buf)?;
    let p = packet::parse_l3(l3, bytes).ok()?;
    let icmp = match l3 {
        L3Proto::Ipv4 => IPPROTO_ICMP,
        L3Proto::Ipv6 => IPPROTO_ICMPV6,
    };
    (p.proto == icmp && !p.later_fragment).then_some(p.l4_offset)
}

/// `nf_nat_icmp_reply_translation` / `nf_nat_icmpv6_reply_translation`.
fn icmp_error(skb: &Skb<'_>, st: &HookState<'_>, ct: &CtNat, manip: ManipType, hdrlen: usize, l3: L3Proto) -> Verdict {
    let proto = match l3 {
        L3Proto::Ipv4 => IPPROTO_ICMP,
        L3Proto::Ipv6 => IPPROTO_ICMPV6,
    };
    if !nat_glue::l4_checksum_ok(skb, st, hdrlen, proto) {
        return Verdict::Drop;
    }
    let dir = if ct.dir == 0 {
        crate::conntrack::conn::Direction::Original
    } else {
        crate::conntrack::conn::Direction::Reply
    };
    let mut summed = nat_glue::summed(skb);
    let len = skb.len() as usize;
    let mut dsts = ([0u8; 16], [0u8; 16]);
    let r = nat_glue::with_writable(skb, len, |buf, _| {
        dsts.0 = header_addrs(buf, l3, false).1;
        let v = rewrite::icmp_reply_translation(buf, hdrlen, &ct.tuple, ct.status, dir, manip, &mut summed);
        dsts.1 = header_addrs(buf, l3, false).1;
        v
    });
    match r {
        Some(Ok(IcmpVerdict::Accept)) => {
            nat_glue::set_summed(skb, summed);
            pre_routing_reroute(skb, st, &dsts.0, &dsts.1);
            Verdict::Accept
        }
        _ => Verdict::Drop,
    }
}
