// SPDX-License-Identifier: GPL-2.0
//! Self-test cases of the packet-editing and raw-table targets (TCPMSS,
//! DSCP/TOS, CT), run by cargo test and by rnf_tables' KUnit suites
//! (listed in `super::selftest`) on the golden SYN. No allocation.

use super::ct::decode_ct;
use super::mangle::{decode_dscp, dsfield, set_dsfield, tcpmss_insert, tcpmss_mangle, Mss, TCPMSS_CLAMP_PMTU};
use super::rule::Target;
use super::{errno, Family};
use crate::nat::checksum::{checksum, fold16, get16, put16, sum, wadd, Summed};
use crate::selftest::{ensure, golden};

/// The golden SYN's first `n` bytes (IPv4 header, then TCP) with its TCP
/// header cut to `n - 20` bytes, total length and both checksums right.
fn syn(out: &mut [u8; 64], n: usize) -> &mut [u8] {
    let p = out.get_mut(..n).unwrap_or(&mut []);
    if let (Some(d), Some(s)) = (p.get_mut(..n), golden::IPV4_TCP_SYN.get(..n)) {
        d.copy_from_slice(s);
    }
    put16(p, 2, n as u16);
    if let Some(b) = p.get_mut(32) {
        *b = (((n - 20) / 4) as u8) << 4;
    }
    put16(p, 10, 0);
    let c = checksum(p.get(..20).unwrap_or(&[]));
    put16(p, 10, c);
    put16(p, 36, 0);
    let c = !fold16(sum(p.get(20..).unwrap_or(&[]), pseudo(p)));
    put16(p, 36, c);
    p
}

/// The IPv4 pseudo-header sum of the TCP segment at 20 in `p`.
fn pseudo(p: &[u8]) -> u32 {
    let seg = p.len().saturating_sub(20) as u32;
    wadd(wadd(sum(p.get(12..20).unwrap_or(&[]), 0), 6), seg)
}

fn tcp_ok(p: &[u8]) -> bool {
    fold16(sum(p.get(20..).unwrap_or(&[]), pseudo(p))) == 0xffff
}

/// TCPMSS: the golden SYN's MSS 1460 lowered (never raised), clamped to a
/// path MTU, and a SYN without the option given one, checksums right.
pub(super) fn xt_mangle_tcpmss_option() -> Result<(), &'static str> {
    let mut buf = [0u8; 64];
    let p = syn(&mut buf, 60);
    ensure(tcp_ok(p) && checksum(p.get(..20).unwrap_or(&[])) == 0, "golden SYN checksummed")?;
    let mut s = Summed::None;
    ensure(tcpmss_mangle(p, 60, 20, 40, 1500, 0, &mut s) == Ok(Mss::Unchanged), "never raised")?;
    ensure(tcpmss_mangle(p, 60, 20, 40, 1200, 0, &mut s) == Ok(Mss::Lowered), "lowered")?;
    ensure(get16(p, 42) == 1200 && tcp_ok(p), "MSS 1200, TCP checksum right")?;
    ensure(tcpmss_mangle(p, 60, 20, 40, TCPMSS_CLAMP_PMTU, 1000, &mut s) == Ok(Mss::Lowered), "clamped")?;
    ensure(get16(p, 42) == 960 && tcp_ok(p), "MSS 1000 - 40, TCP checksum right")?;
    ensure(tcpmss_mangle(p, 60, 20, 40, TCPMSS_CLAMP_PMTU, 40, &mut s).is_err(), "path MTU 40 refused")?;
    // Without options: 40 bytes, grown to 44, MSS capped at 536.
    let mut buf = [0u8; 64];
    let p = syn(&mut buf, 40);
    ensure(tcpmss_mangle(p, 40, 20, 40, 1400, 0, &mut s) == Ok(Mss::Insert(1400)), "no option: insert")?;
    let mut buf2 = [0u8; 64];
    let g = buf2.get_mut(..44).unwrap_or(&mut []);
    if let (Some(d), Some(s)) = (g.get_mut(..40), p.get(..40)) {
        d.copy_from_slice(s);
    }
    ensure(tcpmss_insert(g, 44, Family::Ipv4, 20, 1400, &mut s) == Ok(()), "inserted")?;
    ensure(g.get(40..44) == Some(&[2, 4, 2, 0x18][..]) && get16(g, 2) == 44, "MSS 536 first, total length 44")?;
    ensure(tcp_ok(g) && checksum(g.get(..20).unwrap_or(&[])) == 0, "TCP and IP checksums right")
}

/// DSCP/TOS: the DS field rewritten with the IPv4 header checksum kept, the
/// IPv6 flow label untouched; DSCP above 63 refused with EDOM.
pub(super) fn xt_mangle_dsfield() -> Result<(), &'static str> {
    let mut buf = [0u8; 64];
    let p = syn(&mut buf, 60);
    for ds in [0xb8u8, 0x01, 0xff, 0x00] {
        ensure(set_dsfield(Family::Ipv4, p, ds) && dsfield(Family::Ipv4, p) == Some(ds), "IPv4 DS field")?;
        ensure(checksum(p.get(..20).unwrap_or(&[])) == 0, "IPv4 header checksum kept")?;
    }
    let mut v6 = golden::IPV6_UDP;
    let flow_of = |p: &[u8]| match p.get(1..4) {
        Some(&[a, b, c]) => Some([a & 0x0f, b, c]),
        _ => None,
    };
    let flow = flow_of(&v6);
    ensure(set_dsfield(Family::Ipv6, &mut v6, 0xb9) && dsfield(Family::Ipv6, &v6) == Some(0xb9), "IPv6 DS field")?;
    ensure(flow.is_some() && flow_of(&v6) == flow, "flow label kept")?;
    ensure(decode_dscp(&[0x2e]) == Ok(Target::DsField { keep: 3, xor: 0xb8 }), "DSCP EF")?;
    ensure(decode_dscp(&[64]).map_err(|e| e.errno) == Err(errno::EDOM), "DSCP 64: EDOM")
}

/// CT: zones as a kernel with `CONFIG_NF_CONNTRACK_ZONES` takes them; what
/// rnf cannot provide is refused with the kernel's errno.
pub(super) fn xt_validate_ct_errnos() -> Result<(), &'static str> {
    use super::ct::CtTemplate;
    let mut d = [0u8; 72];
    let errno_of = |rev: u8, d: &[u8]| decode_ct(rev, d).map_err(|e| e.errno);
    let tmpl = |zone_id, zone_dir, zone_mark| Ok(Target::CtTemplate(CtTemplate { slot: 0, zone_id, zone_dir, zone_mark }));
    ensure(errno_of(2, &d) == tmpl(0, 3, false), "plain CT: a default-zone template")?;
    d[0] = 1;
    ensure(errno_of(2, &d) == Ok(Target::Notrack), "--notrack")?;
    d[0] = 3;
    ensure(errno_of(2, &d) == Ok(Target::Notrack) && errno_of(1, &d) == Err(errno::EINVAL), "NOTRACK alias: rev 2 only")?;
    d[0] = 0;
    d[2..4].copy_from_slice(&300u16.to_ne_bytes());
    ensure(errno_of(0, &d[..40]) == tmpl(300, 3, false), "--zone 300, rev 0")?;
    ensure(errno_of(1, &d) == tmpl(300, 3, false), "--zone 300, rev 1")?;
    d[0] = 1;
    ensure(errno_of(2, &d) == Ok(Target::Notrack), "--notrack wins over --zone")?;
    for (flags, dir) in [(1u8 << 2, 1u8), (1 << 3, 2), (3 << 2, 3)] {
        d[0] = flags;
        ensure(errno_of(2, &d) == tmpl(300, dir, false), "--zone-orig / --zone-reply")?;
        ensure(errno_of(1, &d) == Err(errno::EINVAL) && errno_of(0, &d[..40]) == Err(errno::EINVAL), "zone directions: rev 2 only")?;
    }
    d[0] = 1 << 4;
    ensure(errno_of(2, &d) == tmpl(300, 3, true), "--zone-mark")?;
    ensure(errno_of(1, &d) == Err(errno::EINVAL), "--zone-mark: rev 2 only")?;
    d[0] = 1 << 5;
    ensure(errno_of(2, &d) == Err(errno::EINVAL), "unknown flag")?;
    d[0] = 0;
    d[2..4].fill(0);
    d[4] = 1;
    ensure(errno_of(1, &d) == Err(errno::EINVAL), "--ctevents: EINVAL")?;
    d[4] = 0;
    d[12] = b'f';
    ensure(errno_of(2, &d) == Err(errno::ENOENT), "--helper: ENOENT")?;
    d[12..28].fill(b'x');
    ensure(errno_of(2, &d) == Err(errno::ENAMETOOLONG), "--helper unterminated: ENAMETOOLONG")?;
    d[12..28].fill(0);
    d[28] = b't';
    ensure(errno_of(2, &d) == Err(errno::EOPNOTSUPP), "--timeout: EOPNOTSUPP")?;
    ensure(errno_of(0, &d[..40]) == tmpl(0, 3, false), "rev 0 has no timeout field")
}
