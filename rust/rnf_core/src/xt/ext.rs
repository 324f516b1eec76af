// SPDX-License-Identifier: GPL-2.0
//! The matches and targets the engine knows, their revisions and data
//! sizes, and their `checkentry` rules (decoding user data into [`MatchKind`]).
//!
//! C sources: net/netfilter/x_tables.c (`xt_find_revision`, `xt_check_match`,
//! `xt_check_target`), xt_tcpudp.c, xt_state.c, xt_conntrack.c,
//! xt_multiport.c, xt_comment.c, xt_limit.c, xt_LOG.c, ipt_REJECT.c, ip6t_REJECT.c.
//! The mark extensions register in [`super::marks`], the header, link-layer
//! and address-type matches in [`super::pkt_matches`]; [`lookup`] and
//! [`find_revision`] search all these lists.

use super::abi::{self, bytes, ne16, ne32, xt_align, XT_EXTENSION_MAXNAMELEN};
use super::rule::{ConntrackInfo, IcmpInfo, IpPart, LimitInfo, MatchKind, MultiportInfo, TcpInfo, UdpInfo};
use super::ct::{CT_INFO_SIZE, CT_INFO_V1_SIZE, CT_USERSIZE};
use super::nat::{NatKind, Payload};
use super::{errno, Error, Family, NF_INET_FORWARD, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING, NF_INET_PRE_ROUTING};
use crate::packet::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};

/// Which extension an entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExtId {
    Tcp,
    Udp,
    Icmp,
    Icmp6,
    State,
    Conntrack(u8),
    Multiport(u8),
    Comment,
    Limit,
    Standard,
    ErrorTarget,
    Reject,
    Log,
    Nat(NatKind, Payload),
    /// xt_TCPMSS.c.
    Tcpmss,
    /// xt_DSCP.c: `DSCP` revision 0.
    Dscp,
    /// xt_DSCP.c: `TOS` revision 1.
    Tos,
    /// xt_CT.c: `CT` of this revision.
    Ct(u8),
    /// xt_CT.c: `NOTRACK` revision 0.
    Notrack,
    /// `mark`, `connmark`, `MARK`, `CONNMARK` ([`super::marks`]).
    Mark(super::marks::MarkId),
    /// `dscp`, `tos`, `iprange`, `length`, `tcpmss`, `pkttype`, `mac`,
    /// `addrtype` ([`super::pkt_matches`]).
    Pkt(super::pkt_matches::PktId),
    /// xt_hashlimit.c: `hashlimit` of this revision ([`super::hashlimit`]).
    Hashlimit(u8),
}

/// One registered revision of a match or target.
pub(crate) struct Ext {
    pub name: &'static [u8],
    pub rev: u8,
    /// `None`: `NFPROTO_UNSPEC`.
    pub family: Option<Family>,
    pub target: bool,
    /// `matchsize` / `targetsize` (before `XT_ALIGN`).
    pub size: usize,
    /// Bytes of the data copied back to user space; the rest up to
    /// `XT_ALIGN(size)` is zeroed (`usersize`).
    pub usersize: usize,
    /// Required layer-4 protocol (`.proto`), 0 = any.
    pub proto: u8,
    /// Hooks allowed (`.hooks`), 0 = any.
    pub hooks: u32,
    /// Only valid in this table (`.table`).
    pub table: Option<&'static [u8]>,
    pub id: ExtId,
}

const FILTER_HOOKS: u32 = (1 << NF_INET_LOCAL_IN) | (1 << NF_INET_FORWARD) | (1 << NF_INET_LOCAL_OUT);

/// Hooks of the source manip (`NF_NAT_MANIP_SRC`): POSTROUTING and INPUT.
const SRC_HOOKS: u32 = (1 << NF_INET_POST_ROUTING) | (1 << NF_INET_LOCAL_IN);
/// Hooks of the destination manip: PREROUTING and OUTPUT.
const DST_HOOKS: u32 = (1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_LOCAL_OUT);

/// A target of the `nat` table (`.table = "nat"`).
const fn nat(name: &'static [u8], rev: u8, family: Option<Family>, hooks: u32, kind: NatKind, payload: Payload) -> Ext {
    let size = match payload {
        Payload::Compat => crate::nat::range::COMPAT_V4_SIZE,
        Payload::Range1 => crate::nat::range::RANGE1_SIZE,
        Payload::Range2 => crate::nat::range::RANGE2_SIZE,
    };
    Ext { hooks, table: Some(b"nat"), ..t(name, rev, family, size, ExtId::Nat(kind, payload)) }
}

const fn m(name: &'static [u8], rev: u8, family: Option<Family>, size: usize, proto: u8, id: ExtId) -> Ext {
    Ext { name, rev, family, target: false, size, usersize: size, proto, hooks: 0, table: None, id }
}
const fn t(name: &'static [u8], rev: u8, family: Option<Family>, size: usize, id: ExtId) -> Ext {
    Ext { name, rev, family, target: true, size, usersize: size, proto: 0, hooks: 0, table: None, id }
}

pub(crate) const V4: Option<Family> = Some(Family::Ipv4);
pub(crate) const V6: Option<Family> = Some(Family::Ipv6);

/// Every extension revision, as the kernel registers them (sizes LP64), in
/// the list of the family they are registered for (`None`: NFPROTO_UNSPEC),
/// which decides the errno of an unsupported revision (see [`lookup`]).
pub(crate) static EXTS: [Ext; 50] = [
    // xt_tcpudp.c registers tcp, udp, icmp and icmp6 per family.
    m(b"tcp", 0, V4, 12, IPPROTO_TCP, ExtId::Tcp),
    m(b"tcp", 0, V6, 12, IPPROTO_TCP, ExtId::Tcp),
    m(b"udp", 0, V4, 10, IPPROTO_UDP, ExtId::Udp),
    m(b"udp", 0, V6, 10, IPPROTO_UDP, ExtId::Udp),
    m(b"icmp", 0, V4, 4, IPPROTO_ICMP, ExtId::Icmp),
    m(b"icmp6", 0, V6, 4, IPPROTO_ICMPV6, ExtId::Icmp6),
    m(b"state", 0, None, 4, 0, ExtId::State),
    m(b"conntrack", 1, None, 152, 0, ExtId::Conntrack(1)),
    m(b"conntrack", 2, None, 156, 0, ExtId::Conntrack(2)),
    m(b"conntrack", 3, None, 164, 0, ExtId::Conntrack(3)),
    // Revision 0 left the kernel in 2.6.x times; kept because issue 4 asks for it.
    m(b"multiport", 0, V4, 32, 0, ExtId::Multiport(0)),
    m(b"multiport", 0, V6, 32, 0, ExtId::Multiport(0)),
    m(b"multiport", 1, V4, 48, 0, ExtId::Multiport(1)),
    m(b"multiport", 1, V6, 48, 0, ExtId::Multiport(1)),
    m(b"comment", 0, None, 256, 0, ExtId::Comment),
    // xt_rateinfo: avg, burst, then kernel-private prev/credit/cost/master.
    Ext { usersize: 8, ..m(b"limit", 0, None, 40, 0, ExtId::Limit) },
    // ip_tables.c / ip6_tables.c register the standard and ERROR targets per family.
    t(b"", 0, V4, 4, ExtId::Standard),
    t(b"", 0, V6, 4, ExtId::Standard),
    t(b"ERROR", 0, V4, 30, ExtId::ErrorTarget),
    t(b"ERROR", 0, V6, 30, ExtId::ErrorTarget),
    Ext { hooks: FILTER_HOOKS, table: Some(b"filter"), ..t(b"REJECT", 0, V4, 4, ExtId::Reject) },
    Ext { hooks: FILTER_HOOKS, table: Some(b"filter"), ..t(b"REJECT", 0, V6, 4, ExtId::Reject) },
    t(b"LOG", 0, V4, 32, ExtId::Log),
    t(b"LOG", 0, V6, 32, ExtId::Log),
    // xt_nat.c: revision 0 per family (IPv4 only), 1 and 2 NFPROTO_UNSPEC.
    nat(b"SNAT", 0, V4, SRC_HOOKS, NatKind::Snat, Payload::Compat),
    nat(b"DNAT", 0, V4, DST_HOOKS, NatKind::Dnat, Payload::Compat),
    nat(b"SNAT", 1, None, SRC_HOOKS, NatKind::Snat, Payload::Range1),
    nat(b"DNAT", 1, None, DST_HOOKS, NatKind::Dnat, Payload::Range1),
    nat(b"SNAT", 2, None, SRC_HOOKS, NatKind::Snat, Payload::Range2),
    nat(b"DNAT", 2, None, DST_HOOKS, NatKind::Dnat, Payload::Range2),
    // xt_MASQUERADE.c, xt_REDIRECT.c, xt_NETMAP.c: revision 0 per family.
    nat(b"MASQUERADE", 0, V4, 1 << NF_INET_POST_ROUTING, NatKind::Masquerade, Payload::Compat),
    nat(b"MASQUERADE", 0, V6, 1 << NF_INET_POST_ROUTING, NatKind::Masquerade, Payload::Range1),
    nat(b"REDIRECT", 0, V4, DST_HOOKS, NatKind::Redirect, Payload::Compat),
    nat(b"REDIRECT", 0, V6, DST_HOOKS, NatKind::Redirect, Payload::Range1),
    nat(b"NETMAP", 0, V4, SRC_HOOKS | DST_HOOKS, NatKind::Netmap, Payload::Compat),
    nat(b"NETMAP", 0, V6, SRC_HOOKS | DST_HOOKS, NatKind::Netmap, Payload::Range1),
    // xt_TCPMSS.c: per family, `.proto = IPPROTO_TCP`, any table and hook
    // (checkentry limits --clamp-mss-to-pmtu's hooks).
    Ext { proto: IPPROTO_TCP, ..t(b"TCPMSS", 0, V4, 2, ExtId::Tcpmss) },
    Ext { proto: IPPROTO_TCP, ..t(b"TCPMSS", 0, V6, 2, ExtId::Tcpmss) },
    // xt_DSCP.c: DSCP revision 0 and TOS revision 1, per family, mangle only.
    Ext { table: Some(b"mangle"), ..t(b"DSCP", 0, V4, 1, ExtId::Dscp) },
    Ext { table: Some(b"mangle"), ..t(b"DSCP", 0, V6, 1, ExtId::Dscp) },
    Ext { table: Some(b"mangle"), ..t(b"TOS", 1, V4, 2, ExtId::Tos) },
    Ext { table: Some(b"mangle"), ..t(b"TOS", 1, V6, 2, ExtId::Tos) },
    // xt_CT.c: NOTRACK (no data) and CT revisions 0-2 per family, raw only;
    // CT's usersize stops before its kernel pointer (super::ct).
    Ext { table: Some(b"raw"), ..t(b"NOTRACK", 0, V4, 0, ExtId::Notrack) },
    Ext { table: Some(b"raw"), ..t(b"NOTRACK", 0, V6, 0, ExtId::Notrack) },
    ct_t(0, V4, CT_INFO_SIZE),
    ct_t(1, V4, CT_INFO_V1_SIZE),
    ct_t(2, V4, CT_INFO_V1_SIZE),
    ct_t(0, V6, CT_INFO_SIZE),
    ct_t(1, V6, CT_INFO_V1_SIZE),
    ct_t(2, V6, CT_INFO_V1_SIZE),
];

/// A revision of the `CT` target (`.table = "raw"`).
const fn ct_t(rev: u8, family: Option<Family>, size: usize) -> Ext {
    Ext { usersize: CT_USERSIZE, table: Some(b"raw"), ..t(b"CT", rev, family, size, ExtId::Ct(rev)) }
}

/// Every registered extension revision: [`EXTS`] and the lists of the
/// extension files.
fn all() -> impl Iterator<Item = &'static Ext> {
    EXTS.iter().chain(super::marks::EXTS.iter()).chain(super::pkt_matches::EXTS.iter()).chain(super::hashlimit::EXTS.iter())
}

fn family_ok(e: &Ext, family: Family) -> bool {
    e.family.is_none() || e.family == Some(family)
}

/// Finds revision `rev` of `name` for a `SET_REPLACE` entry like
/// `xt_find_match` / `xt_find_target`: the family's own list first (an exact
/// revision only), then the NFPROTO_UNSPEC list, whose answer stands:
/// EPROTOTYPE if it has the name in other revisions, else ENOENT. So a bad
/// revision of a family-registered extension (tcp, udp, icmp, multiport,
/// REJECT, LOG, standard, ERROR) gives ENOENT, of an UNSPEC one (state,
/// conntrack, comment, limit) EPROTOTYPE.
pub(crate) fn lookup(family: Family, target: bool, name: &[u8], rev: u8) -> Result<&'static Ext, Error> {
    let named = |e: &&Ext| e.target == target && e.name == name;
    if let Some(e) = all().filter(named).find(|e| e.family == Some(family) && e.rev == rev) {
        return Ok(e);
    }
    let mut seen = false;
    for e in all().filter(named).filter(|e| e.family.is_none()) {
        if e.rev == rev {
            return Ok(e);
        }
        seen = true;
    }
    if seen {
        Err(Error::new(errno::EPROTOTYPE, "extension revision not supported"))
    } else {
        Err(Error::new(errno::ENOENT, "unknown match or target, or revision"))
    }
}

/// Answers `GET_REVISION_MATCH` (`target == false`) / `GET_REVISION_TARGET`
/// like `xt_find_revision`: `Ok(highest revision)` when `rev` exists,
/// EPROTONOSUPPORT when the name exists without `rev`, ENOENT when unknown.
/// `name` is the `xt_get_revision.name` field (29 bytes, NUL terminated) or
/// the name without NUL.
pub fn find_revision(family: Family, target: bool, name: &[u8], rev: u8) -> Result<i32, Error> {
    let name = match name.iter().position(|&c| c == 0) {
        Some(n) => name.get(..n).unwrap_or(&[]),
        None if name.len() < XT_EXTENSION_MAXNAMELEN => name,
        None => return Err(Error::inval("revision name not NUL-terminated")),
    };
    let mut best: i32 = -1;
    let mut have = false;
    for e in all() {
        if e.target == target && family_ok(e, family) && e.name == name {
            best = best.max(i32::from(e.rev));
            have |= e.rev == rev;
        }
    }
    if best < 0 {
        Err(Error::new(errno::ENOENT, "unknown extension"))
    } else if !have {
        Err(Error::new(errno::EPROTONOSUPPORT, "revision not supported"))
    } else {
        Ok(best)
    }
}

/// What `xt_check_match` / `xt_check_target` see of the entry.
pub(crate) struct CheckCtx<'a> {
    pub table: &'a [u8],
    pub hook_mask: u32,
    pub ip: &'a IpPart,
    /// The table's family (`par->family`).
    pub family: Family,
    /// Byte offset in the blob of the data of the match being checked
    /// (after its `xt_entry_match` header).
    pub data_off: usize,
}

/// The generic part of `xt_check_match`/`xt_check_target`: size, table, hooks, protocol.
pub(crate) fn check_common(e: &Ext, data_len: usize, cx: &CheckCtx<'_>) -> Result<(), Error> {
    if xt_align(e.size) != Some(data_len) {
        return Err(Error::inval("extension data size differs from XT_ALIGN(sizeof)"));
    }
    if let Some(tb) = e.table {
        if tb != cx.table {
            return Err(Error::inval("extension not valid in this table"));
        }
    }
    if e.hooks != 0 && (cx.hook_mask & !e.hooks) != 0 {
        return Err(Error::inval("extension used from a hook it does not support"));
    }
    if e.proto != 0 && (cx.ip.proto != u16::from(e.proto) || cx.ip.invflags & abi::inv::PROTO != 0) {
        return Err(Error::inval("match needs its protocol (-p) without inversion"));
    }
    Ok(())
}

const XT_TCP_INV_MASK: u8 = 0x0f;
const XT_UDP_INV_MASK: u8 = 0x03;
const IPT_ICMP_INV: u8 = 0x01;


/// Decodes and checks a match's data (`checkentry`).
pub(crate) fn decode_match(e: &Ext, d: &[u8], cx: &CheckCtx<'_>) -> Result<MatchKind, Error> {
    check_common(e, d.len(), cx)?;
    let short = Error::inval("match data truncated");
    Ok(match e.id {
        ExtId::Tcp => {
            let info = TcpInfo {
                spts: [ne16(d, 0).ok_or(short)?, ne16(d, 2).ok_or(short)?],
                dpts: [ne16(d, 4).ok_or(short)?, ne16(d, 6).ok_or(short)?],
                option: *d.get(8).ok_or(short)?,
                flg_mask: *d.get(9).ok_or(short)?,
                flg_cmp: *d.get(10).ok_or(short)?,
                invflags: *d.get(11).ok_or(short)?,
            };
            if info.invflags & !XT_TCP_INV_MASK != 0 {
                return Err(Error::inval("tcp: unknown invflags"));
            }
            MatchKind::Tcp(info)
        }
        ExtId::Udp => {
            let info = UdpInfo {
                spts: [ne16(d, 0).ok_or(short)?, ne16(d, 2).ok_or(short)?],
                dpts: [ne16(d, 4).ok_or(short)?, ne16(d, 6).ok_or(short)?],
                invflags: *d.get(8).ok_or(short)?,
            };
            if info.invflags & !XT_UDP_INV_MASK != 0 {
                return Err(Error::inval("udp: unknown invflags"));
            }
            MatchKind::Udp(info)
        }
        ExtId::Icmp | ExtId::Icmp6 => {
            let b = bytes::<4>(d, 0).ok_or(short)?;
            let info = IcmpInfo { typ: b[0], code: [b[1], b[2]], invflags: b[3] };
            if info.invflags & !IPT_ICMP_INV != 0 {
                return Err(Error::inval("icmp: unknown invflags"));
            }
            if e.id == ExtId::Icmp {
                MatchKind::Icmp(info)
            } else {
                MatchKind::Icmp6(info)
            }
        }
        ExtId::State => MatchKind::State(ne32(d, 0).ok_or(short)?),
        ExtId::Conntrack(rev) => {
            let mut info = ConntrackInfo {
                expires: [ne32(d, 128).ok_or(short)?, ne32(d, 132).ok_or(short)?],
                l4proto: ne16(d, 136).ok_or(short)?,
                match_flags: ne16(d, 146).ok_or(short)?,
                invert_flags: ne16(d, 148).ok_or(short)?,
                data: u32::try_from(cx.data_off).map_err(|_| short)?,
                ..Default::default()
            };
            for k in 0..4 {
                let off = 138 + 2 * k;
                info.ports[k] = if rev == 3 {
                    // Host order, with the range's top at 154.. (xt_conntrack_mtinfo3).
                    [ne16(d, off).ok_or(short)?, ne16(d, 154 + 2 * k).ok_or(short)?]
                } else {
                    // __be16, compared for equality with the tuple's port.
                    let p = super::abi::be16(d, off).ok_or(short)?;
                    [p, p]
                };
            }
            if rev == 1 {
                info.state_mask = u16::from(*d.get(150).ok_or(short)?);
                info.status_mask = u16::from(*d.get(151).ok_or(short)?);
            } else {
                info.state_mask = ne16(d, 150).ok_or(short)?;
                info.status_mask = ne16(d, 152).ok_or(short)?;
            }
            MatchKind::Conntrack(info)
        }
        ExtId::Multiport(rev) => {
            let mut info = MultiportInfo { flags: *d.first().ok_or(short)?, count: *d.get(1).ok_or(short)?, ..Default::default() };
            for i in 0..15 {
                info.ports[i] = ne16(d, 2 + 2 * i).ok_or(short)?;
            }
            if rev == 1 {
                info.pflags = bytes::<15>(d, 32).ok_or(short)?;
                info.invert = *d.get(47).ok_or(short)? != 0;
            }
            let p = cx.ip.proto;
            let proto_ok = p == 6 || p == 17 || p == 136 || p == 132 || p == 33;
            if !proto_ok || cx.ip.invflags & abi::inv::PROTO != 0 || info.flags > 2 || info.count > 15 {
                return Err(Error::inval("multiport: needs -p tcp/udp/udplite/sctp/dccp, a valid mode and <= 15 ports"));
            }
            MatchKind::Multiport(info)
        }
        ExtId::Comment => MatchKind::Comment,
        ExtId::Limit => {
            let avg = ne32(d, 0).ok_or(short)?;
            let burst = ne32(d, 4).ok_or(short)?;
            if !super::matches::limit_ok(avg, burst) {
                return Err(Error::new(errno::ERANGE, "limit: rate overflow, try lower"));
            }
            MatchKind::Limit(LimitInfo { avg, burst, ..Default::default() })
        }
        ExtId::Mark(id) => super::marks::decode_match(id, d)?,
        ExtId::Pkt(id) => super::pkt_matches::decode_match(id, d, cx)?,
        ExtId::Hashlimit(rev) => super::hashlimit::decode_match(rev, d, cx)?,
        ExtId::Standard
        | ExtId::ErrorTarget
        | ExtId::Reject
        | ExtId::Log
        | ExtId::Nat(..)
        | ExtId::Tcpmss
        | ExtId::Dscp
        | ExtId::Tos
        | ExtId::Ct(_)
        | ExtId::Notrack => {
            return Err(Error::new(errno::ENOENT, "target used as a match"))
        }
    })
}
