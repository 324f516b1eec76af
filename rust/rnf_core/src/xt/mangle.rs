// SPDX-License-Identifier: GPL-2.0
//! The packet-editing targets: `TCPMSS` (the MSS option of TCP SYNs),
//! `DSCP` and `TOS` (the DS field), their `checkentry` rules and the edits
//! themselves.
//!
//! C sources: net/netfilter/xt_TCPMSS.c (`tcpmss_mangle_packet`,
//! `tcpmss_tg4`, `tcpmss_tg6`, `tcpmss_tg4_check`, `find_syn_match`),
//! net/netfilter/xt_DSCP.c (`dscp_tg`, `dscp_tg6`, `tos_tg`, `tos_tg6`,
//! `dscp_tg_check`), include/net/dsfield.h. Checksums are kept with the
//! kernel's operations: `inet_proto_csum_replace{2,4}` for the TCP checksum
//! (honouring `CHECKSUM_PARTIAL` and `CHECKSUM_COMPLETE`,
//! [`crate::nat::checksum::inet_proto_csum_replace`]), `csum_replace2` for
//! the IPv4 header's after a length change, `ipv4_change_dsfield`'s own
//! arithmetic for the DS field.
//!
//! The edits run over `pkt`, the packet's writable bytes from its network
//! header on, which the caller made writable ([`Env::edit`]); offsets are
//! from the network header, fields big-endian.

use core::fmt::Write;

use super::eval::{Env, Facts};
use super::rule::{MatchKind, Target};
use super::{errno, Error, Family, Match, NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING};
use crate::nat::checksum::{csum_replace2, get16, inet_proto_csum_replace, put16, wadd, Summed};

/// `XT_TCPMSS_CLAMP_PMTU`: the `mss` of `--clamp-mss-to-pmtu`.
pub const TCPMSS_CLAMP_PMTU: u16 = 0xffff;
/// `TCPOPT_MSS`.
const TCPOPT_MSS: u8 = 2;
/// `TCPOLEN_MSS`: the option's length, and how much the packet grows when
/// the option is added.
pub(crate) const TCPOLEN_MSS: usize = 4;
/// `TCPHDR_SYN` in the `tcp` match's flags.
const TCPHDR_SYN: u8 = 0x02;
/// `XT_TCP_INV_FLAGS`.
const XT_TCP_INV_FLAGS: u8 = 0x04;
/// `XT_DSCP_MAX`.
const XT_DSCP_MAX: u8 = 0x3f;
/// `XT_DSCP_ECN_MASK`: the ECN bits `DSCP` keeps.
const XT_DSCP_ECN_MASK: u8 = 3;
/// `sizeof(struct tcphdr)`.
const TCPHDR: usize = 20;

/// Hooks `--clamp-mss-to-pmtu` is allowed from: FORWARD, OUTPUT, POSTROUTING.
const CLAMP_HOOKS: u32 = (1 << NF_INET_FORWARD) | (1 << NF_INET_LOCAL_OUT) | (1 << NF_INET_POST_ROUTING);

/// `find_syn_match`: a `tcp` match that requires SYN and does not invert
/// the flags.
fn find_syn_match(m: &Match) -> bool {
    matches!(&m.kind, MatchKind::Tcp(t) if t.flg_cmp & TCPHDR_SYN != 0 && t.invflags & XT_TCP_INV_FLAGS == 0)
}

/// `tcpmss_tg4_check` / `tcpmss_tg6_check` on `struct xt_tcpmss_info`
/// (`__u16 mss`, host order): `--clamp-mss-to-pmtu` only from FORWARD,
/// OUTPUT and POSTROUTING (`hook_mask`, the hooks the rule is reachable
/// from), and the rule must have a `tcp` match requiring SYN (`matches`, the
/// rule's decoded matches). Both refusals are EINVAL. The protocol (`-p tcp`)
/// was checked before, by the generic part.
pub(crate) fn decode_tcpmss(data: &[u8], hook_mask: u32, matches: &[Match]) -> Result<Target, Error> {
    let mss = super::abi::ne16(data, 0).ok_or(Error::inval("short TCPMSS"))?;
    if mss == TCPMSS_CLAMP_PMTU && hook_mask & !CLAMP_HOOKS != 0 {
        return Err(Error::inval("TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING hooks"));
    }
    if !matches.iter().any(find_syn_match) {
        return Err(Error::inval("TCPMSS: only works on TCP SYN packets (-p tcp --syn)"));
    }
    Ok(Target::Tcpmss(mss))
}

/// `dscp_tg_check` on `struct xt_DSCP_info` (`__u8 dscp`): EDOM above
/// `XT_DSCP_MAX`. The target keeps the ECN bits and sets the DSCP.
pub(crate) fn decode_dscp(data: &[u8]) -> Result<Target, Error> {
    let dscp = *data.first().ok_or(Error::inval("short DSCP"))?;
    if dscp > XT_DSCP_MAX {
        return Err(Error::new(errno::EDOM, "DSCP: value above 0x3f"));
    }
    Ok(Target::DsField { keep: XT_DSCP_ECN_MASK, xor: dscp << 2 })
}

/// `struct xt_tos_target_info` (`tos_value`, `tos_mask`; no checkentry):
/// the DS field becomes `(tos & ~mask) ^ value`.
pub(crate) fn decode_tos(data: &[u8]) -> Result<Target, Error> {
    let short = Error::inval("short TOS");
    let value = *data.first().ok_or(short)?;
    let mask = *data.get(1).ok_or(short)?;
    Ok(Target::DsField { keep: !mask, xor: value })
}

/// Why `tcpmss_mangle_packet` returns -1 (the target drops the packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MssError {
    /// The TCP header is shorter than 20 bytes, or than its data offset, or
    /// runs past the packet.
    Malformed,
    /// `--clamp-mss-to-pmtu` with a path MTU (the value) no larger than the
    /// headers (`unknown or invalid path-MTU`).
    PathMtu(u32),
}

/// What `tcpmss_mangle_packet` did, or wants done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mss {
    /// Left alone: the option is at or below the MSS, or there is no
    /// option and no room for one (data after the header, or a 60-byte
    /// header).
    Unchanged,
    /// The MSS option was lowered, its checksum updated.
    Lowered,
    /// A SYN without the option: grow the packet by [`TCPOLEN_MSS`] bytes
    /// at its tail and call [`tcpmss_insert`] with this MSS.
    Insert(u16),
}

/// `optlen`: the length of the option at `i`, 1 for EOL, NOP, a zero
/// length (finite progress, as the kernel) or a byte past the header.
fn optlen(opt: &[u8], i: usize) -> usize {
    match (opt.get(i), opt.get(i + 1)) {
        (Some(&k), Some(&l)) if k > 1 && l != 0 => usize::from(l),
        _ => 1,
    }
}

/// The first half of `tcpmss_mangle_packet`: `pkt` is the whole packet
/// from its network header (`len` bytes, `skb->len`, all writable), its TCP
/// header at `tcphoff`. The new MSS is `mss`, or for [`TCPMSS_CLAMP_PMTU`]
/// `mtu` (the smaller of the route's and the reverse route's MTU) less the
/// IP and TCP headers (`minlen`: 40 for IPv4, 60 for IPv6). Finds the MSS
/// option (every option is walked, EOL included, as the kernel does) and
/// lowers it, never raises it; a SYN without one and without data gets one
/// ([`Mss::Insert`]). Changes nothing unless it returns [`Mss::Lowered`].
pub fn tcpmss_mangle(pkt: &mut [u8], len: usize, tcphoff: usize, minlen: u32, mss: u16, mtu: u32, summed: &mut Summed) -> Result<Mss, MssError> {
    let seg = len.checked_sub(tcphoff).filter(|&s| s >= TCPHDR).ok_or(MssError::Malformed)?;
    let tcph = pkt.get_mut(tcphoff..).and_then(|t| t.get_mut(..seg)).ok_or(MssError::Malformed)?;
    let hdrlen = usize::from(tcph.get(12).ok_or(MssError::Malformed)? >> 4) * 4;
    if seg < hdrlen || hdrlen < TCPHDR {
        return Err(MssError::Malformed);
    }
    let newmss = if mss == TCPMSS_CLAMP_PMTU {
        if mtu <= minlen {
            return Err(MssError::PathMtu(mtu));
        }
        (mtu - minlen) as u16 // u16 newmss = min_mtu - minlen, truncated as in C
    } else {
        mss
    };
    let mut i = TCPHDR;
    while i <= hdrlen - TCPOLEN_MSS {
        if let Some(&[TCPOPT_MSS, 4, hi, lo]) = tcph.get(i..i + TCPOLEN_MSS) {
            let oldmss = u16::from_be_bytes([hi, lo]);
            // Never increase the MSS, even when setting it.
            if oldmss <= newmss {
                return Ok(Mss::Unchanged);
            }
            put16(tcph, i + 2, newmss);
            inet_proto_csum_replace(tcph, 16, summed, &oldmss.to_be_bytes(), &newmss.to_be_bytes(), false);
            return Ok(Mss::Lowered);
        }
        i += optlen(tcph, i);
    }
    // Data after the header: the option cannot be added without moving it.
    if seg > hdrlen {
        return Ok(Mss::Unchanged);
    }
    // doff has 4 bits: do not wrap it to 0.
    if hdrlen >= 15 * 4 {
        return Ok(Mss::Unchanged);
    }
    Ok(Mss::Insert(newmss))
}

/// The second half of `tcpmss_mangle_packet` with the length update of
/// `tcpmss_tg4`/`tcpmss_tg6`: `pkt` is the packet after it grew by
/// [`TCPOLEN_MSS`] bytes at its tail (`len` bytes now, all writable), with
/// the TCP header (no data, as [`tcpmss_mangle`] found) at `tcphoff`. Moves
/// the options up, puts the MSS option first with `mss` capped at the
/// protocol's default (536 for IPv4, RFC 1122; 1220 for IPv6), adds one to
/// the data offset, and updates the TCP checksum (pseudo-header length,
/// option, offset word), the IPv4 total length and header checksum or the
/// IPv6 payload length (and `skb->csum` under `CHECKSUM_COMPLETE`, as
/// `tcpmss_tg6` does). `Err` when the packet is not the one
/// [`tcpmss_mangle`] asked to grow.
pub fn tcpmss_insert(pkt: &mut [u8], len: usize, family: Family, tcphoff: usize, mss: u16, summed: &mut Summed) -> Result<(), MssError> {
    let bad = MssError::Malformed;
    if pkt.len() < len {
        return Err(bad);
    }
    let seg = len.checked_sub(tcphoff).and_then(|r| r.checked_sub(TCPOLEN_MSS)).filter(|&s| s >= TCPHDR).ok_or(bad)?;
    // tcphoff + seg + TCPOLEN_MSS is len.
    let tcph = pkt.get_mut(tcphoff..len).ok_or(bad)?;
    let doff_byte = *tcph.get(12).ok_or(bad)?;
    if usize::from(doff_byte >> 4) * 4 != seg || seg >= 15 * 4 {
        return Err(bad);
    }
    let newmss = match family {
        Family::Ipv4 => mss.min(536),
        Family::Ipv6 => mss.min(1220),
    };
    // tcph.copy_within(TCPHDR..seg, TCPHDR + TCPOLEN_MSS), from the end:
    // seg < 60, every index is in tcph (seg + TCPOLEN_MSS bytes).
    for i in (TCPHDR..seg).rev() {
        let b = *tcph.get(i).ok_or(bad)?;
        *tcph.get_mut(i + TCPOLEN_MSS).ok_or(bad)? = b;
    }
    // inet_proto_csum_replace2(htons(len), htons(len + 4), true): `len` is an int, stored as __be16.
    let (l0, l1) = (seg as u16, (seg + TCPOLEN_MSS) as u16);
    inet_proto_csum_replace(tcph, 16, summed, &l0.to_be_bytes(), &l1.to_be_bytes(), true);
    let [hi, lo] = newmss.to_be_bytes();
    let opt = [TCPOPT_MSS, TCPOLEN_MSS as u8, hi, lo];
    tcph.get_mut(TCPHDR..TCPHDR + TCPOLEN_MSS).ok_or(bad)?.copy_from_slice(&opt);
    inet_proto_csum_replace(tcph, 16, summed, &[0; 4], &opt, false);
    let oldval = get16(tcph, 12);
    let newval = oldval.wrapping_add(u16::from(TCPOLEN_MSS as u8 / 4) << 12);
    put16(tcph, 12, newval);
    inet_proto_csum_replace(tcph, 16, summed, &oldval.to_be_bytes(), &newval.to_be_bytes(), false);
    match family {
        Family::Ipv4 => {
            let old = get16(pkt, 2);
            let new = old.wrapping_add(TCPOLEN_MSS as u16);
            let check = csum_replace2(get16(pkt, 10), old, new);
            put16(pkt, 10, check);
            put16(pkt, 2, new);
        }
        Family::Ipv6 => {
            let old = get16(pkt, 4);
            let new = old.wrapping_add(TCPOLEN_MSS as u16);
            if let Summed::Complete(csum) = *summed {
                // csum_add(csum_sub(skb->csum, oldlen), newlen): no complement here.
                let native = |v: u16| u32::from(u16::from_ne_bytes(v.to_be_bytes()));
                *summed = Summed::Complete(wadd(wadd(csum, !native(old)), native(new)));
            }
            put16(pkt, 4, new);
        }
    }
    Ok(())
}

/// The DS field (IPv4 TOS byte, IPv6 traffic class) of the network header
/// `h`; `None` when `h` is too short.
pub fn dsfield(family: Family, h: &[u8]) -> Option<u8> {
    match family {
        Family::Ipv4 => h.get(1).copied(),
        // ipv6_get_dsfield: ntohs(first word) >> 4, as a u8.
        Family::Ipv6 => h.get(..2).map(|w| (get16(w, 0) >> 4) as u8),
    }
}

/// `ipv4_change_dsfield(iph, 0, ds)` (its checksum arithmetic exactly,
/// which differs from `csum_replace2` only in how it writes a zero sum) /
/// `ipv6_change_dsfield(ipv6h, 0, ds)` (no checksum): sets the DS field of
/// the network header at the start of `pkt`. `false` when `pkt` is shorter
/// than the header's first 12 bytes (IPv4) or 2 (IPv6).
pub fn set_dsfield(family: Family, pkt: &mut [u8], ds: u8) -> bool {
    match family {
        Family::Ipv4 => {
            let Some(&tos) = pkt.get(1) else { return false };
            if pkt.len() < 12 {
                return false;
            }
            let mut check = u32::from(get16(pkt, 10));
            check += u32::from(tos);
            if (check + 1) >> 16 != 0 {
                check = (check + 1) & 0xffff;
            }
            check = check.wrapping_sub(u32::from(ds));
            check = check.wrapping_add(check >> 16); // adjust carry
            put16(pkt, 10, check as u16);
            if let Some(b) = pkt.get_mut(1) {
                *b = ds;
            }
            true
        }
        Family::Ipv6 => {
            if pkt.len() < 2 {
                return false;
            }
            let w = (get16(pkt, 0) & 0xf00f) | (u16::from(ds) << 4);
            put16(pkt, 0, w);
            true
        }
    }
}

/// `tcpmss_tg4` / `tcpmss_tg6` on the packet of `f` through `env`:
/// `Some(true)` when the packet changed, `Some(false)` when not (a later
/// fragment, the option already small enough, no room), `None` to drop it
/// (it could not be made writable or grown, its TCP header is malformed, or
/// the path MTU is unusable, which is also logged, rate-limited).
///
/// The TCP header is where the rule's `-p tcp` found it (`ipv6_find_hdr`
/// for IPv6), the same offset as `tcpmss_tg6`'s `ipv6_skip_exthdr` walk of
/// the same chain: both skip the same extension headers the same way, and
/// a packet whose chain cannot be walked never matches `-p tcp`. (Only a
/// blob iptables never sends, `-p tcp` without `IP6T_F_PROTO`, reaches
/// here with an unwalked chain: dropped, where the kernel would walk it
/// over the whole packet rather than the first 192 bytes.)
fn tcpmss_target<E: Env>(f: &Facts<'_>, mss: u16, env: &mut E) -> Option<bool> {
    if f.family == Family::Ipv6 && f.proto.is_none() {
        return None;
    }
    if f.fragoff != 0 {
        return Some(false);
    }
    let (family, tcphoff) = (f.family, f.thoff);
    let minlen: u32 = match family {
        Family::Ipv4 => 20 + 20,
        Family::Ipv6 => 40 + 20,
    };
    let mtu = if mss == TCPMSS_CLAMP_PMTU { env.path_mtu() } else { 0 };
    let len = f.len as usize;
    let first = env.edit(len, 0, |pkt, len, summed| tcpmss_mangle(pkt, len, tcphoff, minlen, mss, mtu, summed));
    match first? {
        Ok(Mss::Unchanged) => Some(false),
        Ok(Mss::Lowered) => Some(true),
        Ok(Mss::Insert(newmss)) => {
            let grown = len.checked_add(TCPOLEN_MSS)?;
            let r = env.edit(grown, TCPOLEN_MSS, |pkt, len, summed| tcpmss_insert(pkt, len, family, tcphoff, newmss, summed));
            r?.ok().map(|()| true)
        }
        Err(MssError::PathMtu(m)) => {
            let mut w = LineBuf { b: [0; 64], n: 0 };
            let _ = write!(w, "TCPMSS: unknown or invalid path-MTU ({m})");
            env.warn(w.b.get(..w.n).unwrap_or(&[]));
            None
        }
        Err(MssError::Malformed) => None,
    }
}

/// Runs an editing target ([`Target::Tcpmss`], [`Target::DsField`]) on
/// the packet of `f`: `Some(changed)`, or `None` to drop the packet. Any
/// other target changes nothing.
pub(crate) fn edit<E: Env>(f: &Facts<'_>, t: &Target, env: &mut E) -> Option<bool> {
    match *t {
        Target::Tcpmss(mss) => tcpmss_target(f, mss, env),
        Target::DsField { keep, xor } => dsfield_target(f, keep, xor, env),
        _ => Some(false),
    }
}

/// `dscp_tg`/`tos_tg` (and their IPv6 twins) on the packet of `f`: the DS
/// field becomes `(ds & keep) ^ xor` when that differs from what it is.
/// `Some(changed)`, or `None` to drop (the header could not be made
/// writable). The writable length is the IPv4 header (20) or the IPv6
/// header (40); the kernel's `tos_tg6` asks for 20, which for an IPv6
/// packet (never shorter than 40 at a hook) makes no difference.
fn dsfield_target<E: Env>(f: &Facts<'_>, keep: u8, xor: u8, env: &mut E) -> Option<bool> {
    let family = f.family;
    let ds = dsfield(family, f.headers)?;
    let nv = (ds & keep) ^ xor;
    if nv == ds {
        return Some(false);
    }
    let need = match family {
        Family::Ipv4 => 20,
        Family::Ipv6 => 40,
    };
    match env.edit(need, 0, |pkt, _, _| set_dsfield(family, pkt, nv)) {
        Some(true) => Some(true),
        _ => None,
    }
}

/// A short log line built without allocation (cut at 64 bytes).
struct LineBuf {
    b: [u8; 64],
    n: usize,
}

impl core::fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &c in s.as_bytes() {
            if let Some(d) = self.b.get_mut(self.n) {
                *d = c;
                // self.n indexed self.b: never saturates.
                self.n = self.n.saturating_add(1);
            }
        }
        Ok(())
    }
}
