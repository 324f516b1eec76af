// SPDX-License-Identifier: GPL-2.0
//! The hooks, where the kernel's conntrack has them
//! (net/netfilter/nf_conntrack_proto.c): tracking at PRE_ROUTING and
//! LOCAL_OUT (`NF_IP_PRI_CONNTRACK`, -200), confirmation at POST_ROUTING and
//! LOCAL_IN (`NF_IP_PRI_CONNTRACK_CONFIRM`, last).
//!
//! As `nf_conntrack_in()` and `nf_confirm()`: tracking attaches the
//! packet's connection to the skb (`_nfct`, with its ctinfo), creating an
//! unconfirmed one for a packet that opens a connection; every later hook,
//! rnf's and the kernel's, reads it from there; confirmation hashes an
//! unconfirmed connection into the table.

use kernel::prelude::*;

use crate::classify::{classify, Class, Untracked};
use crate::conntrack::conn::{self, Conn, CtInfo, Direction, Outcome};
use crate::conntrack::table::InsertError;
use crate::conntrack::tuple::Tuple;
use crate::conntrack::zone::{Zone, ZoneTemplate};
use crate::ct_glue::nfct::{CtRef, SkbCt, NO_SLOT};
use crate::ct_glue::{self, CtNet};
use crate::glue::hook::{Hook, HookOps, HookState, Net};
use crate::glue::skb::{HeaderBuf, Skb};
use crate::glue::{self, bindings, Verdict};
use crate::netns::Switches;
use crate::packet::{self, L3Proto, PacketInfo, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, L4};
use crate::tracker::{tracker, State, Tracker};

/// Whether `p`'s checksum is one `nf_conntrack_checksum` has checked and
/// found bad (TCP, UDP, ICMP and ICMPv6 at PRE_ROUTING, as the kernel's
/// trackers check them in their `error` callbacks). Inlined for the
/// packets it never checks (udp_error(): a datagram without a checksum;
/// protocols without a tracker's check), which then cost no call.
#[inline(always)]
fn checksum_bad(sw: &Switches<'_>, skb: &Skb<'_>, st: &HookState<'_>, p: &PacketInfo) -> bool {
    match p.l4 {
        L4::Udp { check: 0, .. } | L4::Other => false,
        _ => checksum_checked_bad(sw, skb, st, p),
    }
}

/// [`checksum_bad`] for a packet whose checksum may be checked.
#[inline(never)]
fn checksum_checked_bad(sw: &Switches<'_>, skb: &Skb<'_>, st: &HookState<'_>, p: &PacketInfo) -> bool {
    let proto = match p.l4 {
        L4::Tcp { .. } => IPPROTO_TCP,
        L4::Udp { .. } => IPPROTO_UDP,
        L4::Icmp { .. } => p.proto,
        L4::Other => return false,
    };
    sw.checksum()
        && st.hook() == bindings::nf_inet_hooks_NF_INET_PRE_ROUTING
        && matches!(proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_ICMP | IPPROTO_ICMPV6)
        && ct_glue::checksum_bad(skb, st.hook(), u32::try_from(p.l4_offset).unwrap_or(u32::MAX), proto, st.pf())
}

/// A packet of protocol `proto` conntrack refuses: counted in `stat`
/// (`invalid`, or `error` for what the ICMP trackers refuse), and logged
/// when the namespace's `nf_conntrack_log_invalid` asks for it.
fn refused(pn: CtNet, sw: &Switches<'_>, skb: &Skb<'_>, st: &HookState<'_>, stat: bindings::rnf_ct_stat, proto: u8, why: &core::ffi::CStr) {
    pn.stat(stat);
    if sw.log_invalid() != 0 {
        ct_glue::log_invalid(st, skb, proto, why);
    }
}

/// An INVALID packet of protocol `proto` ([`refused`], counted `invalid`).
fn invalid(pn: CtNet, sw: &Switches<'_>, skb: &Skb<'_>, st: &HookState<'_>, proto: u8, why: &core::ffi::CStr) {
    refused(pn, sw, skb, st, bindings::rnf_ct_stat_RNF_CT_STAT_INVALID, proto, why);
}

impl Tracker {
    /// PRE_ROUTING / LOCAL_OUT: find the packet's connection (updating its
    /// state) or create an unconfirmed one, or relate an ICMP error to the
    /// connection it is about, and attach it to the skb.
    fn track(&self, skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        // The raw table's CT template, taken off the packet: the zone it is
        // tracked in (`nf_ct_zone_tmpl()`), else the default zone. No
        // tracking for a packet tracked already (looped back after
        // LOCAL_OUT), marked untracked, or looped back at PRE_ROUTING
        // (tracked on its way out; those that kept no connection are not
        // tracked anew either).
        let mut buf = HeaderBuf::new();
        let Some(tin) = ct_glue::track_start(st, skb, &mut buf) else { return Verdict::Accept };
        let zone = match tin.template {
            Some((id, dir, from_mark, mark)) => ZoneTemplate { zone: Zone { id, dir }, from_mark }.resolve(mark),
            None => Zone::DEFAULT,
        };
        let (pn, netns, now) = (tin.pn, tin.netns, tin.now);
        let (cfg, sw) = (tin.config, Switches(tin.config));
        // The parsed headers stay where parse_into() wrote them: classify()
        // and everything after borrow them (moving PacketInfo copies its
        // hundred-odd bytes; the profile showed three such copies a
        // packet before).
        let Some(l3) = L3Proto::from_nfproto(st.pf()) else { return Verdict::Accept };
        let Some(bytes) = tin.bytes else {
            pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INVALID);
            return Verdict::Accept;
        };
        let mut info = PacketInfo::EMPTY;
        let parsed = packet::parse_into(l3, bytes, &mut info).map(|()| &info);
        let mut tuple = Tuple::EMPTY;
        let class = classify(l3, bytes, parsed, &mut tuple);
        let t = &tuple;
        let p = match class {
            Ok(Class::Tuple(p) | Class::Error(p)) if checksum_bad(&sw, skb, st, p) => {
                // nf_conntrack_icmp(v6)_error() counts a bad ICMP checksum `error`.
                let stat = match p.l4 {
                    L4::Icmp { .. } => bindings::rnf_ct_stat_RNF_CT_STAT_ICMP_ERROR,
                    _ => bindings::rnf_ct_stat_RNF_CT_STAT_INVALID,
                };
                refused(pn, &sw, skb, st, stat, p.proto, c"bad checksum");
                return Verdict::Accept;
            }
            Ok(Class::Tuple(p)) => p,
            Ok(Class::Error(p)) => {
                let g = self.state.lock();
                let related = match g.related(p, t, netns, zone, now) {
                    Some((i, _, ctinfo)) => g.obj(i).map(|o| o.attach(skb, ctinfo as u8)).is_some(),
                    None => false,
                };
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
            Err(Untracked::IcmpError) => {
                pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_ICMP_ERROR);
                return Verdict::Accept;
            }
            Err(Untracked::NoTuple) => return Verdict::Accept,
        };
        let mut g = self.state.lock();
        if let Some((i, dir)) = g.table.find_in(t, netns, zone) {
            // Not counted `found`: the kernel counts that only when NAT
            // finds a tuple taken (nf_conntrack_tuple_taken()).
            let outcome = match g.table.get_mut(i) {
                Some(c) if c.expired(now) => Outcome::Reopen,
                Some(c) => c.packet(dir, p, now, self.hz, &cfg),
                None => return Verdict::Accept,
            };
            match outcome {
                Outcome::Accept(ctinfo) | Outcome::Ignored(ctinfo) => {
                    let (status, expires) = g.table.get(i).map_or((0, 0), |c| (c.status, c.expires));
                    if let Some(o) = g.obj(i) {
                        // nf_ct_refresh_acct() counts what renewed the timeout.
                        let acct = matches!(outcome, Outcome::Accept(_)).then_some(dir as u8);
                        o.refresh_attach(skb, ctinfo as u8, status, expires, acct);
                    }
                    return Verdict::Accept;
                }
                Outcome::Invalid => {
                    drop(g);
                    invalid(pn, &sw, skb, st, t.proto, c"invalid packet");
                    return Verdict::Accept;
                }
                Outcome::Kill(ctinfo) => {
                    // As nf_ct_kill_acct() in tcp_packet(): the connection
                    // leaves the table, counted, but this packet (a RST that
                    // was the only reply) keeps it, so NAT still translates
                    // it.
                    if let Some(o) = g.obj(i) {
                        o.acct_add(dir as u8, skb.len());
                        o.attach(skb, ctinfo as u8);
                    }
                    if g.remove_confirmed(i) {
                        pn.count_add(-1);
                    }
                    g.publish_count();
                    return Verdict::Accept;
                }
                Outcome::Reopen => {
                    if g.remove_confirmed(i) {
                        pn.count_add(-1);
                    }
                }
            }
        }
        let Ok(mut conn) = Conn::new(t, p, netns, now, self.hz, &cfg) else {
            // Cannot open a connection (e.g. a TCP segment other than a SYN
            // with nf_conntrack_tcp_loose off): INVALID, as the kernel's
            // -NF_ACCEPT from the tracker's `new`.
            g.publish_count();
            drop(g);
            invalid(pn, &sw, skb, st, t.proto, c"invalid new");
            return Verdict::Accept;
        };
        conn.zone = zone;
        // The kernel's nf_conntrack_alloc(): the namespace's count against
        // conntrack_max (unconfirmed connections count), or a full table
        // (one that has not grown yet, or cannot).
        if pn.count() >= ct_glue::ct_max() || g.table.count() >= g.table.capacity() {
            let bucket = g.table.bucket_in(t, netns, zone.id_in(Direction::Original));
            match g.table.early_drop(bucket, now, netns) {
                Some(v) => {
                    g.forget_obj(v);
                    pn.count_add(-1);
                    pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_EARLY_DROP);
                }
                None => {
                    g.publish_count();
                    let grow = g.want_growth();
                    drop(g);
                    if grow {
                        ct_glue::gc_kick();
                    }
                    pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_DROP);
                    if glue::net_ratelimit() {
                        pr_warn!("table full, dropping packet\n");
                    }
                    return Verdict::Drop;
                }
            }
        }
        let (relative, status) = (conn.expires.saturating_sub(now), conn.status);
        let new = new_unconfirmed(&mut g, st.net(), &conn, sw.acct());
        if new.is_some() {
            pn.count_add(1);
        }
        g.publish_count();
        // Half the arena taken: the GC work grows it, ahead of need.
        let grow = g.want_growth();
        drop(g);
        if grow {
            ct_glue::gc_kick();
        }
        match new {
            Some(obj) => {
                obj.refresh_attach(skb, CtInfo::New as u8, status, relative, Some(Direction::Original as u8));
                // The skb holds the object now; this was not the last
                // reference, and the lock is released anyway.
                drop(obj);
                Verdict::Accept
            }
            None => {
                pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_DROP);
                Verdict::Drop
            }
        }
    }

    /// POST_ROUTING / LOCAL_IN (and br_netfilter): hash the unconfirmed
    /// connection the skb carries (`__nf_conntrack_confirm`). When one of
    /// its tuples is in the table already, another packet of the same flow
    /// won the race: the skb takes that connection instead (the kernel's
    /// clash resolution); any other clash (a mapping NAT could not make
    /// unique) drops the packet, counted as `insert_failed` and `drop`.
    ///
    /// Inlined into the hook: nearly every packet carries a confirmed
    /// connection or none, and returns after one helper call, without
    /// the frame the confirmation itself needs.
    #[inline(always)]
    pub(crate) fn confirm(&self, skb: &Skb<'_>, net: Net) -> Verdict {
        match SkbCt::unconfirmed(skb) {
            Some((ct, ctinfo)) => self.confirm_new(skb, net, ct, ctinfo),
            None => Verdict::Accept,
        }
    }

    /// [`Tracker::confirm`] for a packet whose connection `ct` (with the
    /// packet's `ctinfo`) is unconfirmed.
    #[inline(never)]
    fn confirm_new(&self, skb: &Skb<'_>, net: Net, ct: SkbCt<'_>, ctinfo: u8) -> Verdict {
        let Some(pn) = CtNet::of(net) else { return Verdict::Accept };
        let i = ct.slot();
        if i == NO_SLOT {
            return Verdict::Accept;
        }
        let mut g = self.state.lock();
        match g.table.hash(i) {
            Ok(()) => {
                let (mut status, mut expires) = (0, 0);
                if let Some(c) = g.table.get_mut(i) {
                    c.status |= conn::IPS_CONFIRMED;
                    status = c.status;
                    expires = c.expires;
                }
                let obj = ct.to_ref();
                obj.set_status(status);
                obj.set_timeout(expires);
                if let Some(r) = g.refs.get_mut(i as usize) {
                    *r = Some(obj);
                }
                g.publish_count();
                drop(g);
                // No `insert` here: the kernel counts it only for entries
                // ctnetlink inserts (nf_conntrack_hash_check_insert()),
                // not in __nf_conntrack_confirm().
                Verdict::Accept
            }
            Err(InsertError::Clash) => {
                let winner = same_flow(&g, i);
                drop(g);
                match winner {
                    Some(obj) => {
                        // Not under the lock: this may drop the last
                        // reference to our unconfirmed connection.
                        obj.replace_on(skb, ctinfo);
                        pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_CLASH_RESOLVE);
                        Verdict::Accept
                    }
                    None => {
                        pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INSERT_FAILED);
                        pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_DROP);
                        Verdict::Drop
                    }
                }
            }
            Err(InsertError::Full) => Verdict::Accept,
        }
    }

    /// `nf_ct_set_closing()` for the TCP connection in `slot`: CLOSE, with
    /// the close timeout of namespace `net`.
    fn closing(&self, net: Net, slot: u32) {
        let Some(pn) = CtNet::of(net) else { return };
        let cfg = pn.config();
        let now = glue::jiffies();
        let mut g = self.state.lock();
        if !g.table.is_hashed(slot) {
            return;
        }
        if let Some(c) = g.table.get_mut(slot) {
            c.set_closing(now, self.hz, &cfg);
        }
    }
}

/// Puts `conn` in a new unconfirmed slot with an object for namespace
/// `net` carrying its tuples, and with `acct` (`nf_conntrack_acct`) its
/// counters (a connection whose counters cannot be allocated is tracked
/// without, as `nf_ct_acct_ext_add()` failing leaves it); `None` (the table
/// unchanged) when the table or the object allocation fails.
fn new_unconfirmed(g: &mut State, net: Net, conn: &Conn, acct: bool) -> Option<CtRef> {
    let i = g.table.alloc(*conn).ok()?;
    let Some(obj) = CtRef::alloc(net, i, conn.status) else {
        g.table.remove(i);
        return None;
    };
    if acct {
        obj.acct_enable();
    }
    obj.set_zone(conn.zone.id, conn.zone.dir);
    obj.set_tuple(Direction::Original as u8, &conn.tuple[0]);
    obj.set_tuple(Direction::Reply as u8, &conn.tuple[1]);
    Some(obj)
}

/// The confirmed connection with the same tuples as the unconfirmed one in
/// slot `i` (the same flow, tracked twice in a race), with a reference.
fn same_flow(g: &State, i: u32) -> Option<CtRef> {
    let c = g.table.get(i)?;
    let (j, dir) = g.table.find_in(&c.tuple[0], c.netns, c.zone)?;
    let other = g.table.get(j)?;
    if dir != Direction::Original || other.tuple != c.tuple {
        return None;
    }
    g.obj(j).cloned()
}

/// PRE_ROUTING and LOCAL_OUT.
struct TrackHook;
impl Hook for TrackHook {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        tracker().map_or(Verdict::Accept, |t| t.track(skb, st))
    }
}

/// POST_ROUTING and LOCAL_IN.
struct ConfirmHook;
impl Hook for ConfirmHook {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        tracker().map_or(Verdict::Accept, |t| t.confirm(skb, st.net()))
    }
}

/// Confirms `skb`'s connection for `nf_ct_hook->confirm` (br_netfilter).
pub(crate) fn confirm_skb(net: Net, skb: &Skb<'_>) -> Verdict {
    tracker().map_or(Verdict::Accept, |t| t.confirm(skb, net))
}

/// `nf_ct_hook->set_closing` for a TCP connection.
pub(crate) fn closing(net: Net, slot: u32) {
    if let Some(t) = tracker() {
        t.closing(net, slot);
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
