// SPDX-License-Identifier: GPL-2.0
//! Matches on the packet's IP header, its TCP options, its link layer and
//! the routing table's view of its addresses: `dscp`, `tos`, `iprange`,
//! `length`, `tcpmss`, `pkttype`, `mac` and `addrtype`, with their
//! registrations, `checkentry` rules and evaluation.
//!
//! C sources: net/netfilter/xt_dscp.c, xt_iprange.c, xt_length.c,
//! xt_tcpmss.c, xt_pkttype.c, xt_mac.c, xt_addrtype.c; C headers:
//! include/uapi/linux/netfilter/xt_dscp.h, xt_iprange.h, xt_length.h,
//! xt_tcpmss.h, xt_pkttype.h, xt_mac.h, xt_addrtype.h. Match data is
//! host-endian (the socket-option ABI), packet bytes network order.
//! Where the C code XORs a boolean with an integer `invert` field and
//! returns the result as `bool`, so does this (any non-zero result matches).

use super::abi::{bytes, ne16, ne32};
use super::eval::{AddrDev, Env, Facts};
use super::ext::{CheckCtx, Ext, ExtId, V4, V6};
use super::rule::MatchKind;
use super::{errno, Error, Family, NF_INET_FORWARD, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING, NF_INET_PRE_ROUTING};
use crate::packet::IPPROTO_TCP;

/// Which of these matches an [`Ext`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PktId {
    Dscp,
    Tos,
    Iprange,
    Length,
    Tcpmss,
    Pkttype,
    Mac,
    /// `addrtype` revision 0 (`xt_addrtype_info`) or 1 (`xt_addrtype_info_v1`).
    Addrtype(u8),
}

const fn m(name: &'static [u8], rev: u8, family: Option<Family>, size: usize, id: PktId) -> Ext {
    Ext { name, rev, family, target: false, size, usersize: size, proto: 0, hooks: 0, table: None, id: ExtId::Pkt(id) }
}

/// `mac`'s hooks: PREROUTING, INPUT and FORWARD (packets that arrived on a device).
const MAC_HOOKS: u32 = (1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_LOCAL_IN) | (1 << NF_INET_FORWARD);

/// The registrations (6.12, LP64 sizes), each in the list of its family,
/// `pkttype` in NFPROTO_UNSPEC's. `iprange` revision 0 and `tos`
/// revision 0 left the kernel long ago; `addrtype` keeps revision 0 for
/// IPv4 only.
pub(crate) static EXTS: [Ext; 16] = [
    m(b"dscp", 0, V4, 2, PktId::Dscp),
    m(b"dscp", 0, V6, 2, PktId::Dscp),
    m(b"tos", 1, V4, 3, PktId::Tos),
    m(b"tos", 1, V6, 3, PktId::Tos),
    m(b"iprange", 1, V4, 68, PktId::Iprange),
    m(b"iprange", 1, V6, 68, PktId::Iprange),
    m(b"length", 0, V4, 6, PktId::Length),
    m(b"length", 0, V6, 6, PktId::Length),
    Ext { proto: IPPROTO_TCP, ..m(b"tcpmss", 0, V4, 6, PktId::Tcpmss) },
    Ext { proto: IPPROTO_TCP, ..m(b"tcpmss", 0, V6, 6, PktId::Tcpmss) },
    m(b"pkttype", 0, None, 8, PktId::Pkttype),
    Ext { hooks: MAC_HOOKS, ..m(b"mac", 0, V4, 12, PktId::Mac) },
    Ext { hooks: MAC_HOOKS, ..m(b"mac", 0, V6, 12, PktId::Mac) },
    m(b"addrtype", 0, V4, 12, PktId::Addrtype(0)),
    m(b"addrtype", 1, V4, 8, PktId::Addrtype(1)),
    m(b"addrtype", 1, V6, 8, PktId::Addrtype(1)),
];

/// `xt_dscp_info`: the DSCP (0..=63) and `invert`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DscpInfo {
    pub dscp: u8,
    pub invert: u8,
}

/// `xt_tos_match_info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TosInfo {
    pub mask: u8,
    pub value: u8,
    pub invert: u8,
}

/// `xt_iprange_mtinfo`: its `flags`, and where the four addresses are in
/// the table's blob (they are read from there, to keep every decoded
/// match small).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IprangeInfo {
    pub flags: u8,
    /// Byte offset of the match data in the blob.
    pub data: u32,
}

/// `xt_length_info` and `xt_tcpmss_match_info`: an inclusive range and `invert`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RangeInfo {
    pub min: u16,
    pub max: u16,
    pub invert: u8,
}

/// `xt_pkttype_info` (two ints).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PkttypeInfo {
    pub pkttype: i32,
    pub invert: i32,
}

/// `xt_mac_info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MacInfo {
    pub src: [u8; 6],
    pub invert: i32,
}

/// `xt_addrtype_info_v1`, and revision 0's `xt_addrtype_info` (`rev0`
/// set, its inversions as the two ints).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AddrtypeInfo {
    pub source: u16,
    pub dest: u16,
    /// `XT_ADDRTYPE_INVERT_*`, `XT_ADDRTYPE_LIMIT_IFACE_*` (revision 1).
    pub flags: u32,
    pub rev0: bool,
    pub invert_source: u32,
    pub invert_dest: u32,
}

/// `XT_ADDRTYPE_INVERT_SOURCE`.
const INVERT_SOURCE: u32 = 0x1;
/// `XT_ADDRTYPE_INVERT_DEST`.
const INVERT_DEST: u32 = 0x2;
/// `XT_ADDRTYPE_LIMIT_IFACE_IN`.
const LIMIT_IFACE_IN: u32 = 0x4;
/// `XT_ADDRTYPE_LIMIT_IFACE_OUT`.
const LIMIT_IFACE_OUT: u32 = 0x8;
/// `XT_ADDRTYPE_UNSPEC`.
pub(crate) const ADDRTYPE_UNSPEC: u16 = 1 << 0;
/// `XT_ADDRTYPE_UNICAST`.
pub(crate) const ADDRTYPE_UNICAST: u16 = 1 << 1;
/// `XT_ADDRTYPE_LOCAL`.
pub(crate) const ADDRTYPE_LOCAL: u16 = 1 << 2;
/// `XT_ADDRTYPE_BROADCAST`.
pub(crate) const ADDRTYPE_BROADCAST: u16 = 1 << 3;
/// `XT_ADDRTYPE_ANYCAST`.
pub(crate) const ADDRTYPE_ANYCAST: u16 = 1 << 4;
/// `XT_ADDRTYPE_MULTICAST`.
pub(crate) const ADDRTYPE_MULTICAST: u16 = 1 << 5;
/// `XT_ADDRTYPE_BLACKHOLE`.
pub(crate) const ADDRTYPE_BLACKHOLE: u16 = 1 << 6;
/// `XT_ADDRTYPE_UNREACHABLE`.
pub(crate) const ADDRTYPE_UNREACHABLE: u16 = 1 << 7;
/// `XT_ADDRTYPE_PROHIBIT`.
pub(crate) const ADDRTYPE_PROHIBIT: u16 = 1 << 8;

/// `XT_DSCP_MAX`.
const XT_DSCP_MAX: u8 = 0x3f;

/// Decodes and checks the data of one of these matches (after the generic
/// checks of `xt_check_match`). Errors: EDOM (`dscp` above 63), EINVAL
/// (`addrtype_mt_checkentry_v1`: both interface limits, a limit the hooks
/// have no device for, IPv6 types it cannot match).
pub(crate) fn decode_match(id: PktId, d: &[u8], cx: &CheckCtx<'_>) -> Result<MatchKind, Error> {
    let short = Error::inval("match data truncated");
    Ok(match id {
        PktId::Dscp => {
            let info = DscpInfo { dscp: *d.first().ok_or(short)?, invert: *d.get(1).ok_or(short)? };
            if info.dscp > XT_DSCP_MAX {
                return Err(Error::new(errno::EDOM, "dscp: value above 63"));
            }
            MatchKind::Dscp(info)
        }
        PktId::Tos => {
            let b = bytes::<3>(d, 0).ok_or(short)?;
            MatchKind::Tos(TosInfo { mask: b[0], value: b[1], invert: b[2] })
        }
        PktId::Iprange => {
            let flags = *d.get(64).ok_or(short)?;
            let data = u32::try_from(cx.data_off).map_err(|_| short)?;
            MatchKind::Iprange(IprangeInfo { flags, data })
        }
        PktId::Length | PktId::Tcpmss => {
            let info = RangeInfo { min: ne16(d, 0).ok_or(short)?, max: ne16(d, 2).ok_or(short)?, invert: *d.get(4).ok_or(short)? };
            if id == PktId::Length {
                MatchKind::Length(info)
            } else {
                MatchKind::Tcpmss(info)
            }
        }
        PktId::Pkttype => MatchKind::Pkttype(PkttypeInfo {
            pkttype: ne32(d, 0).ok_or(short)? as i32,
            invert: ne32(d, 4).ok_or(short)? as i32,
        }),
        PktId::Mac => MatchKind::Mac(MacInfo { src: bytes::<6>(d, 0).ok_or(short)?, invert: ne32(d, 8).ok_or(short)? as i32 }),
        PktId::Addrtype(0) => MatchKind::Addrtype(AddrtypeInfo {
            source: ne16(d, 0).ok_or(short)?,
            dest: ne16(d, 2).ok_or(short)?,
            flags: 0,
            rev0: true,
            invert_source: ne32(d, 4).ok_or(short)?,
            invert_dest: ne32(d, 8).ok_or(short)?,
        }),
        PktId::Addrtype(_) => {
            let info = AddrtypeInfo {
                source: ne16(d, 0).ok_or(short)?,
                dest: ne16(d, 2).ok_or(short)?,
                flags: ne32(d, 4).ok_or(short)?,
                ..Default::default()
            };
            addrtype_check_v1(&info, cx)?;
            MatchKind::Addrtype(info)
        }
    })
}

/// `addrtype_mt_checkentry_v1`.
fn addrtype_check_v1(info: &AddrtypeInfo, cx: &CheckCtx<'_>) -> Result<(), Error> {
    if info.flags & LIMIT_IFACE_IN != 0 && info.flags & LIMIT_IFACE_OUT != 0 {
        return Err(Error::inval("addrtype: both incoming and outgoing interface limitation cannot be selected"));
    }
    if cx.hook_mask & ((1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_LOCAL_IN)) != 0 && info.flags & LIMIT_IFACE_OUT != 0 {
        return Err(Error::inval("addrtype: output interface limitation not valid in PREROUTING and INPUT"));
    }
    if cx.hook_mask & ((1 << NF_INET_POST_ROUTING) | (1 << NF_INET_LOCAL_OUT)) != 0 && info.flags & LIMIT_IFACE_IN != 0 {
        return Err(Error::inval("addrtype: input interface limitation not valid in POSTROUTING and OUTPUT"));
    }
    if cx.family == Family::Ipv6 {
        let types = info.source | info.dest;
        if types & ADDRTYPE_BLACKHOLE != 0 {
            return Err(Error::inval("addrtype: ipv6 BLACKHOLE matching not supported"));
        }
        if types >= ADDRTYPE_PROHIBIT {
            return Err(Error::inval("addrtype: ipv6 PROHIBIT (THROW, NAT ..) matching not supported"));
        }
        if types & ADDRTYPE_BROADCAST != 0 {
            return Err(Error::inval("addrtype: ipv6 does not support BROADCAST matching"));
        }
    }
    Ok(())
}

/// `bool ^ int`, returned as `bool` (the C matches' inversion).
fn xor(m: bool, invert: u32) -> bool {
    (u32::from(m) ^ invert) != 0
}

/// The IPv4 header's TOS byte, or IPv6's traffic class (`ipv6_get_dsfield`).
fn dsfield(f: &Facts<'_>) -> u8 {
    let h = f.headers;
    match f.family {
        Family::Ipv4 => h.get(1).copied().unwrap_or(0),
        Family::Ipv6 => {
            let w = u16::from_be_bytes([h.first().copied().unwrap_or(0), h.get(1).copied().unwrap_or(0)]);
            (w >> 4) as u8
        }
    }
}

/// `dscp_mt` / `dscp_mt6`.
pub(crate) fn dscp(i: &DscpInfo, f: &Facts<'_>) -> bool {
    ((dsfield(f) >> 2) == i.dscp) ^ (i.invert != 0)
}

/// `tos_mt`.
pub(crate) fn tos(i: &TosInfo, f: &Facts<'_>) -> bool {
    ((dsfield(f) & i.mask) == i.value) ^ (i.invert != 0)
}

/// `IPRANGE_SRC`, `IPRANGE_DST`, `IPRANGE_SRC_INV`, `IPRANGE_DST_INV`.
const IPRANGE_SRC: u8 = 1 << 0;
const IPRANGE_DST: u8 = 1 << 1;
const IPRANGE_SRC_INV: u8 = 1 << 4;
const IPRANGE_DST_INV: u8 = 1 << 5;

/// An address as a host-order number: IPv4 the first 4 bytes, IPv6 all 16
/// (so `<` is `ntohl` / `iprange_ipv6_lt` order).
fn addr_key(family: Family, b: &[u8]) -> Option<u128> {
    Some(match family {
        Family::Ipv4 => u128::from(u32::from_be_bytes(bytes::<4>(b, 0)?)),
        Family::Ipv6 => u128::from_be_bytes(bytes::<16>(b, 0)?),
    })
}

/// `iprange_mt4` / `iprange_mt6`. The addresses are read from the blob
/// (`f.blob`); one that is not there (impossible for a translated table)
/// does not match.
pub(crate) fn iprange(i: &IprangeInfo, f: &Facts<'_>) -> bool {
    let Some(d) = f.blob.get(i.data as usize..).and_then(|d| d.get(..64)) else { return false };
    let key = |a: u128| addr_key(f.family, &a.to_ne_bytes());
    let (Some(saddr), Some(daddr)) = (key(f.saddr), key(f.daddr)) else { return false };
    let range = |off: usize| -> Option<(u128, u128)> { Some((addr_key(f.family, d.get(off..)?)?, addr_key(f.family, d.get(off + 16..)?)?)) };
    let outside = |a: u128, off: usize, inv: u8| -> bool {
        let Some((lo, hi)) = range(off) else { return true };
        (a < lo || a > hi) ^ (i.flags & inv != 0)
    };
    if i.flags & IPRANGE_SRC != 0 && outside(saddr, 0, IPRANGE_SRC_INV) {
        return false;
    }
    if i.flags & IPRANGE_DST != 0 && outside(daddr, 32, IPRANGE_DST_INV) {
        return false;
    }
    true
}

/// `length_mt` (the IPv4 total length, or the skb's length when a GSO
/// packet's is 0: `skb_ip_totlen`) / `length_mt6` (`skb->len`).
pub(crate) fn length(i: &RangeInfo, f: &Facts<'_>) -> bool {
    let len = match f.family {
        Family::Ipv4 => match u32::from(u16::from_be_bytes([f.headers.get(2).copied().unwrap_or(0), f.headers.get(3).copied().unwrap_or(0)])) {
            0 => f.len,
            n => n,
        },
        Family::Ipv6 => f.len,
    };
    xor(len >= u32::from(i.min) && len <= u32::from(i.max), u32::from(i.invert))
}

/// `TCPOPT_MSS`, `TCPOLEN_MSS`.
const TCPOPT_MSS: u8 = 2;
const TCPOLEN_MSS: usize = 4;

/// `tcpmss_mt`: the MSS option's value in range; no option matches only
/// inverted; `None` (hot-drop) for a missing or malformed header or
/// options cut short.
pub(crate) fn tcpmss(i: &RangeInfo, f: &Facts<'_>) -> Option<bool> {
    let th = f.headers.get(f.thoff..)?.get(..20)?;
    let doff = usize::from(th[12] >> 4) * 4;
    if doff < 20 {
        return None;
    }
    let optlen = doff - 20;
    let start = f.thoff.checked_add(20)?;
    let op = f.headers.get(start..start.checked_add(optlen)?)?;
    let mut k = 0usize;
    while k < optlen {
        let o = *op.get(k)?;
        if o == TCPOPT_MSS && optlen - k >= TCPOLEN_MSS && op.get(k + 1).copied() == Some(TCPOLEN_MSS as u8) {
            let mss = u16::from_be_bytes([*op.get(k + 2)?, *op.get(k + 3)?]);
            return Some(xor(mss >= i.min && mss <= i.max, u32::from(i.invert)));
        }
        if o < 2 || k == optlen - 1 {
            k += 1;
        } else {
            let l = usize::from(*op.get(k + 1)?);
            k += if l == 0 { 1 } else { l };
        }
    }
    Some(i.invert != 0)
}

/// `PACKET_BROADCAST`, `PACKET_MULTICAST`, `PACKET_LOOPBACK`.
const PACKET_BROADCAST: u8 = 1;
const PACKET_MULTICAST: u8 = 2;
const PACKET_LOOPBACK: u8 = 5;

/// `pkttype_mt`: a looped-back packet counts as multicast when its IPv4
/// destination is multicast or it is IPv6, else as broadcast.
pub(crate) fn pkttype<E: Env>(i: &PkttypeInfo, f: &Facts<'_>, env: &mut E) -> bool {
    let mut ty = env.pkt_type();
    if ty == PACKET_LOOPBACK {
        ty = match f.family {
            Family::Ipv4 if f.headers.get(16).is_some_and(|b| b & 0xf0 == 0xe0) => PACKET_MULTICAST,
            Family::Ipv6 => PACKET_MULTICAST,
            Family::Ipv4 => PACKET_BROADCAST,
        };
    }
    xor(i32::from(ty) == i.pkttype, i.invert as u32)
}

/// `mac_mt`: no match without an Ethernet source.
pub(crate) fn mac<E: Env>(i: &MacInfo, env: &mut E) -> bool {
    match env.mac_source() {
        Some(src) => xor(src == i.src, i.invert as u32),
        None => false,
    }
}

/// `ipv6_addr_type()`'s unicast, multicast and any bits (net/ipv6/addrconf_core.c).
#[derive(Clone, Copy, PartialEq, Eq)]
enum V6Kind {
    Unicast,
    Multicast,
    Any,
    /// IPv4-mapped (`IPV6_ADDR_MAPPED`): neither.
    Mapped,
}

fn v6_kind(a: u128) -> V6Kind {
    let st = (a >> 96) as u32;
    if st & 0xE000_0000 != 0 && st & 0xE000_0000 != 0xE000_0000 {
        return V6Kind::Unicast;
    }
    if st & 0xFF00_0000 == 0xFF00_0000 {
        return V6Kind::Multicast;
    }
    if st & 0xFFC0_0000 == 0xFE80_0000 || st & 0xFFC0_0000 == 0xFEC0_0000 || st & 0xFE00_0000 == 0xFC00_0000 {
        return V6Kind::Unicast;
    }
    if a >> 64 == 0 {
        let (w2, w3) = ((a >> 32) as u32, a as u32);
        if w2 == 0 {
            return if w3 == 0 { V6Kind::Any } else { V6Kind::Unicast };
        }
        if w2 == 0x0000_ffff {
            return V6Kind::Mapped;
        }
    }
    V6Kind::Unicast
}

/// `match_type6`.
fn match_type6<E: Env>(env: &mut E, dev: AddrDev, addr: &[u8; 16], mask: u16) -> bool {
    let kind = v6_kind(u128::from_be_bytes(*addr));
    if mask & ADDRTYPE_MULTICAST != 0 && kind != V6Kind::Multicast {
        return false;
    }
    if mask & ADDRTYPE_UNICAST != 0 && kind != V6Kind::Unicast {
        return false;
    }
    if mask & ADDRTYPE_UNSPEC != 0 && kind != V6Kind::Any {
        return false;
    }
    if mask & (ADDRTYPE_LOCAL | ADDRTYPE_ANYCAST | ADDRTYPE_UNREACHABLE) != 0 {
        return mask & env.addr_type(addr, dev) != 0;
    }
    true
}

/// `addrtype_mt_v0` / `addrtype_mt_v1`.
pub(crate) fn addrtype<E: Env>(i: &AddrtypeInfo, f: &Facts<'_>, env: &mut E) -> bool {
    let (s, d) = (f.saddr.to_ne_bytes(), f.daddr.to_ne_bytes());
    if i.rev0 {
        // `ret &= match ^ invert` on a bool: the low bit of the int decides.
        let mut ret = 1u32;
        if i.source != 0 {
            ret &= u32::from(i.source & env.addr_type(&s[..4], AddrDev::Any) != 0) ^ i.invert_source;
        }
        if i.dest != 0 {
            ret &= u32::from(i.dest & env.addr_type(&d[..4], AddrDev::Any) != 0) ^ i.invert_dest;
        }
        return ret != 0;
    }
    let dev = if i.flags & LIMIT_IFACE_IN != 0 {
        AddrDev::In
    } else if i.flags & LIMIT_IFACE_OUT != 0 {
        AddrDev::Out
    } else {
        AddrDev::Any
    };
    let mut ret = true;
    match f.family {
        Family::Ipv4 => {
            if i.source != 0 {
                ret &= (i.source & env.addr_type(&s[..4], dev) != 0) ^ (i.flags & INVERT_SOURCE != 0);
            }
            if ret && i.dest != 0 {
                ret &= (i.dest & env.addr_type(&d[..4], dev) != 0) ^ (i.flags & INVERT_DEST != 0);
            }
        }
        Family::Ipv6 => {
            if i.source != 0 {
                ret &= match_type6(env, dev, &s, i.source) ^ (i.flags & INVERT_SOURCE != 0);
            }
            if ret && i.dest != 0 {
                ret &= match_type6(env, dev, &d, i.dest) ^ (i.flags & INVERT_DEST != 0);
            }
        }
    }
    ret
}
