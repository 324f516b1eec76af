// SPDX-License-Identifier: GPL-2.0
//! Evaluation of the decoded matches.
//!
//! C sources: net/netfilter/xt_tcpudp.c, xt_state.c, xt_conntrack.c,
//! xt_multiport.c, xt_limit.c. Each returns `Some(matched)`, or `None` for
//! the kernel's hotdrop (a header it was asked to examine is missing).

use super::abi::sub;
use core::sync::atomic::Ordering;

use super::eval::{CtState, CtTuple, Env, Facts};
use super::pkt_matches as pm;
use super::rule::{ConntrackInfo, IcmpInfo, LimitInfo, Match, MatchKind, MultiportInfo};
use super::Family;

fn port_match(min: u16, max: u16, port: u16, invert: bool) -> bool {
    (port >= min && port <= max) ^ invert
}

fn l4<'a>(f: &Facts<'a>, n: usize) -> Option<&'a [u8]> {
    f.headers.get(f.thoff..f.thoff.checked_add(n)?)
}

/// Evaluates one match. Inlined into the walk (one call site): the
/// per-rule cost is what the rule-heavy benchmark measures.
#[inline(always)]
pub(crate) fn eval<E: Env>(m: &Match, f: &Facts<'_>, env: &mut E) -> Option<bool> {
    match &m.kind {
        MatchKind::Comment => Some(true),
        MatchKind::Tcp(t) => {
            if f.fragoff != 0 {
                return if f.family == Family::Ipv4 && f.fragoff == 1 { None } else { Some(false) };
            }
            if f.l4_len < 20 {
                return None;
            }
            let (sp, dp) = (f.sport, f.dport);
            if !port_match(t.spts[0], t.spts[1], sp, t.invflags & 0x01 != 0) || !port_match(t.dpts[0], t.dpts[1], dp, t.invflags & 0x02 != 0) {
                return Some(false);
            }
            if t.flg_mask != 0 || t.flg_cmp != 0 || t.invflags & 0x04 != 0 || t.option != 0 {
                return tcp_flags_options(t, f);
            }
            Some(true)
        }
        MatchKind::Udp(u) => {
            if f.fragoff != 0 {
                return Some(false);
            }
            if f.l4_len < 8 {
                return None;
            }
            Some(port_match(u.spts[0], u.spts[1], f.sport, u.invflags & 0x01 != 0) && port_match(u.dpts[0], u.dpts[1], f.dport, u.invflags & 0x02 != 0))
        }
        MatchKind::Icmp(i) | MatchKind::Icmp6(i) => icmp(i, f),
        MatchKind::State(mask) => {
            let bit = match env.conntrack() {
                CtState::Tracked { ctinfo, .. } => 1u32 << (u32::from(ctinfo) % 3 + 1),
                CtState::Untracked => 1 << 6,
                CtState::Invalid => 1,
            };
            Some(mask & bit != 0)
        }
        MatchKind::Conntrack(c) => Some(conntrack(c, f, env)),
        MatchKind::Multiport(mp) => {
            if f.fragoff != 0 {
                return Some(false);
            }
            if f.l4_len < 4 {
                return None;
            }
            Some(multiport(mp, f.sport, f.dport))
        }
        MatchKind::Limit(l) => Some(limit(l, env)),
        MatchKind::Mark(mk) => Some(mk.test(env.mark())),
        MatchKind::Connmark(mk) => Some(env.ct_mark().is_some_and(|m| mk.test(m))),
        MatchKind::Dscp(i) => Some(pm::dscp(i, f)),
        MatchKind::Tos(i) => Some(pm::tos(i, f)),
        MatchKind::Iprange(i) => Some(pm::iprange(i, f)),
        MatchKind::Length(i) => Some(pm::length(i, f)),
        MatchKind::Tcpmss(i) => pm::tcpmss(i, f),
        MatchKind::Pkttype(i) => Some(pm::pkttype(i, f, env)),
        MatchKind::Mac(i) => Some(pm::mac(i, env)),
        MatchKind::Addrtype(i) => Some(pm::addrtype(i, f, env)),
        MatchKind::Hashlimit(h) => super::hashlimit::eval(h, f, env),
    }
}

/// The flags and option part of `tcp_mt` (the ports already matched, the
/// 20-byte header is present).
fn tcp_flags_options(t: &super::rule::TcpInfo, f: &Facts<'_>) -> Option<bool> {
    let th = l4(f, 20)?;
    {
        if !(((th[13] & t.flg_mask) == t.flg_cmp) ^ (t.invflags & 0x04 != 0)) {
            return Some(false);
        }
        if t.option != 0 {
            let doff = usize::from(th[12] >> 4) * 4;
            if doff < 20 {
                return None;
            }
            let invert = t.invflags & 0x08 != 0;
            let optlen = doff - 20;
            if optlen == 0 {
                return Some(invert);
            }
            let op = f.headers.get(f.thoff..)?.get(20..)?.get(..optlen)?;
            let mut i = 0usize;
            while i < optlen {
                let o = *op.get(i)?;
                if o == t.option {
                    return Some(!invert);
                }
                if o < 2 || i == optlen - 1 {
                    i += 1;
                } else {
                    let l = usize::from(*op.get(i + 1)?);
                    i += if l == 0 { 1 } else { l };
                }
            }
            return Some(invert);
        }
        Some(true)
    }
}

fn icmp(i: &IcmpInfo, f: &Facts<'_>) -> Option<bool> {
    if f.fragoff != 0 {
        return Some(false);
    }
    let ic = l4(f, 8)?;
    let (typ, code) = (ic[0], ic[1]);
    let m = i.typ == 0xff || (typ == i.typ && code >= i.code[0] && code <= i.code[1]);
    Some(m ^ (i.invflags & 0x01 != 0))
}

const IPS_SRC_NAT: u32 = 1 << 4;
const IPS_DST_NAT: u32 = 1 << 5;

/// `XT_CONNTRACK_ORIGSRC` .. `REPLDST`: the address flags, in the order of
/// the addresses in `xt_conntrack_mtinfo*` (each followed by its mask).
const CT_ADDR_FLAGS: [u16; 4] = [0x0004, 0x0008, 0x0010, 0x0020];
/// `XT_CONNTRACK_ORIGSRC_PORT` .. `REPLDST_PORT`.
const CT_PORT_FLAGS: [u16; 4] = [0x0100, 0x0200, 0x0400, 0x0800];

/// Address `k` (0 orig src, 1 orig dst, 2 reply src, 3 reply dst) and its
/// mask from the match data in the blob, as `u128::from_ne_bytes` of the
/// 16 bytes (IPv4: the first 4, the rest zeroed as the kernel compares
/// only `.ip`).
fn ct_addr(f: &Facts<'_>, data: u32, k: usize) -> Option<(u128, u128)> {
    let d = f.blob.get(data as usize..)?;
    let n = if f.family == Family::Ipv4 { 4 } else { 16 };
    let read = |off: usize| -> Option<u128> {
        let mut a = [0u8; 16];
        a.get_mut(..n)?.copy_from_slice(sub(d, off, n)?);
        Some(u128::from_ne_bytes(a))
    };
    let at = k.checked_mul(32)?;
    Some((read(at)?, read(at.checked_add(16)?)?))
}

/// The tuple field address test `k` compares (`conntrack_mt_origsrc` ..).
fn tuple_addr(t: &[CtTuple; 2], k: usize) -> u128 {
    match k {
        0 => t[0].src,
        1 => t[0].dst,
        2 => t[1].src,
        _ => t[1].dst,
    }
}

/// The tuple port test `k` compares (`ct_proto_port_check`).
fn tuple_port(t: &[CtTuple; 2], k: usize) -> u16 {
    match k {
        0 => t[0].src_port,
        1 => t[0].dst_port,
        2 => t[1].src_port,
        _ => t[1].dst_port,
    }
}

/// `conntrack_mt` (all revisions; revisions 1 and 2 compare one port,
/// decoded as a one-port range, revision 3 a range).
fn conntrack<E: Env>(c: &ConntrackInfo, f: &Facts<'_>, env: &mut E) -> bool {
    let ct = env.conntrack();
    if !conntrack_state(c, ct) {
        return false;
    }
    let CtState::Tracked { status, proto, .. } = ct else {
        return c.match_flags & 0x0001 != 0;
    };
    let inv = |flag: u16| c.invert_flags & flag != 0;
    let want = |flag: u16| c.match_flags & flag != 0;
    if want(0x0002) && ((u16::from(proto) == c.l4proto) ^ !inv(0x0002)) {
        return false;
    }
    if want(0x0040) && ((u32::from(c.status_mask) & status != 0) ^ !inv(0x0040)) {
        return false;
    }
    if !CT_ADDR_FLAGS.iter().chain(CT_PORT_FLAGS.iter()).any(|&fl| want(fl)) {
        return ct_expires_match(c, env);
    }
    // The tests on the connection's tuples. An Env that cannot give them
    // matches nothing that asks (the kernel always has them).
    let Some(t) = env.ct_tuples() else { return false };
    for (k, &fl) in CT_ADDR_FLAGS.iter().enumerate() {
        if want(fl) {
            let Some((addr, mask)) = ct_addr(f, c.data, k) else { return false };
            if (((tuple_addr(&t, k) ^ addr) & mask) == 0) ^ !inv(fl) {
                return false;
            }
        }
    }
    for (k, &fl) in CT_PORT_FLAGS.iter().enumerate() {
        if want(fl) {
            let [lo, hi] = c.ports[k];
            if !port_match(lo, hi, tuple_port(&t, k), inv(fl)) {
                return false;
            }
        }
    }
    ct_expires_match(c, env)
}

/// `XT_CONNTRACK_EXPIRES` (0x0080): the seconds left within
/// `expires_min..=expires_max`, or outside with `!`.
fn ct_expires_match<E: Env>(c: &ConntrackInfo, env: &mut E) -> bool {
    const EXPIRES: u16 = 0x0080;
    if c.match_flags & EXPIRES == 0 {
        return true;
    }
    // An Env that cannot tell matches nothing that asks (the kernel always can).
    let Some(left) = env.ct_expires() else { return false };
    let inside = left >= c.expires[0] && left <= c.expires[1];
    !(inside ^ (c.invert_flags & EXPIRES == 0))
}

/// The state and direction part of `conntrack_mt`.
fn conntrack_state(c: &ConntrackInfo, ct: CtState) -> bool {
    let inv = |flag: u16| c.invert_flags & flag != 0;
    let mut statebit: u16 = match ct {
        CtState::Tracked { ctinfo, .. } => 1 << (u16::from(ctinfo) % 3 + 1),
        CtState::Untracked => 1 << 8,
        CtState::Invalid => 1,
    };
    if c.match_flags & 0x0001 != 0 {
        if let CtState::Tracked { status, .. } = ct {
            if status & IPS_SRC_NAT != 0 {
                statebit |= 1 << 6;
            }
            if status & IPS_DST_NAT != 0 {
                statebit |= 1 << 7;
            }
        }
        if (c.state_mask & statebit != 0) ^ !inv(0x0001) {
            return false;
        }
    }
    if let CtState::Tracked { dir, .. } = ct {
        if c.match_flags & 0x1000 != 0 && ((dir == 0) ^ !inv(0x1000)) {
            return false;
        }
    }
    true
}

/// `ports_match_v1` (rev 1) and the exact-port rev 0 (no ranges, no invert).
fn multiport(m: &MultiportInfo, src: u16, dst: u16) -> bool {
    let mut i = 0usize;
    let count = usize::from(m.count);
    while i < count {
        let Some(&s) = m.ports.get(i) else { break };
        let hit = if m.pflags.get(i).copied().unwrap_or(0) != 0 {
            i += 1;
            let e = m.ports.get(i).copied().unwrap_or(0);
            match m.flags {
                0 => src >= s && src <= e,
                1 => dst >= s && dst <= e,
                _ => (src >= s && src <= e) || (dst >= s && dst <= e),
            }
        } else {
            match m.flags {
                0 => src == s,
                1 => dst == s,
                _ => src == s || dst == s,
            }
        };
        if hit {
            return !m.invert;
        }
        i += 1;
    }
    m.invert
}

const STARTED: u64 = 1 << 63;

/// `XT_LIMIT_SCALE`.
const XT_LIMIT_SCALE: u64 = 10000;

/// `CREDITS_PER_JIFFY` for `hz`: the power of two below `0xFFFFFFFF / (hz * 86400)`.
fn credits_per_jiffy(hz: u32) -> u64 {
    let max = 0xFFFF_FFFFu64 / (u64::from(hz.max(1)) * 86400);
    if max == 0 {
        return 1;
    }
    1u64 << (63 - max.leading_zeros())
}

/// `user2credits` for `hz` (32-bit arithmetic as in the kernel).
fn user2credits(user: u32, hz: u32) -> u32 {
    let k = u64::from(hz) * credits_per_jiffy(hz);
    if k == 0 {
        return 0;
    }
    let user = u64::from(user);
    if user > 0xFFFF_FFFF / k {
        ((user / XT_LIMIT_SCALE) * k) as u32
    } else {
        ((user * k) / XT_LIMIT_SCALE) as u32
    }
}

/// `limit_mt_check`'s overflow test. HZ is not known at translate time, so
/// the test is made for each common HZ (100, 250, 300, 1000) and any
/// overflow refuses the rule (ERANGE).
pub(crate) fn limit_ok(avg: u32, burst: u32) -> bool {
    burst != 0 && [100u32, 250, 300, 1000].iter().all(|&hz| user2credits(avg.wrapping_mul(burst), hz) >= user2credits(avg, hz))
}

/// `limit_mt`: a token bucket updated with compare-and-swap; the state word
/// holds a started bit (63), the jiffies of the last update modulo 2^31
/// (62..32) and the credit (31..0); a bucket starts full, as `limit_mt_check` fills it.
fn limit<E: Env>(l: &LimitInfo, env: &mut E) -> bool {
    let hz = env.hz();
    let cpj = credits_per_jiffy(hz);
    let cap = user2credits(l.avg.wrapping_mul(l.burst), hz);
    let cost = user2credits(l.avg, hz);
    let now = (env.jiffies() as u32) & 0x7fff_ffff;
    let mut old = l.state.load(Ordering::Relaxed);
    loop {
        let (prev, credit) = if old & STARTED == 0 { (now, cap) } else { (((old >> 32) as u32) & 0x7fff_ffff, old as u32) };
        let inc = u64::from(now.wrapping_sub(prev) & 0x7fff_ffff).saturating_mul(cpj);
        let mut c = u64::from(credit).saturating_add(inc).min(u64::from(cap));
        let ok = c >= u64::from(cost);
        if ok {
            c -= u64::from(cost);
        }
        let new = STARTED | (u64::from(now) << 32) | c;
        match l.state.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return ok,
            Err(cur) => old = cur,
        }
    }
}
