// SPDX-License-Identifier: GPL-2.0
//! NAT ranges: what a SNAT, DNAT, MASQUERADE, REDIRECT or NETMAP rule maps to.
//!
//! C header: include/uapi/linux/netfilter/nf_nat.h (`struct nf_nat_range2`,
//! `struct nf_nat_range`, `struct nf_nat_ipv4_multi_range_compat`, the
//! `NF_NAT_RANGE_*` flags). The three target payloads iptables sends are
//! decoded here into one [`NatRange`], as the kernel's xt targets convert
//! them to `nf_nat_range2` (`xt_nat_convert_range`, net/netfilter/xt_nat.c).

use crate::packet::L3Proto;

/// `NF_NAT_RANGE_MAP_IPS`: map the address into `min_addr..=max_addr`.
pub const MAP_IPS: u32 = 0x01;
/// `NF_NAT_RANGE_PROTO_SPECIFIED`: map the port (or ICMP id) into
/// `min_proto..=max_proto`.
pub const PROTO_SPECIFIED: u32 = 0x02;
/// `NF_NAT_RANGE_PROTO_RANDOM`: `--random`.
pub const PROTO_RANDOM: u32 = 0x04;
/// `NF_NAT_RANGE_PERSISTENT`: `--persistent`, the address depends on the
/// source only.
pub const PERSISTENT: u32 = 0x08;
/// `NF_NAT_RANGE_PROTO_RANDOM_FULLY`: `--random-fully`.
pub const PROTO_RANDOM_FULLY: u32 = 0x10;
/// `NF_NAT_RANGE_PROTO_OFFSET`: shifted port map (`:a-b/base`, revision 2).
pub const PROTO_OFFSET: u32 = 0x20;
/// `NF_NAT_RANGE_NETMAP` (nftables only; never set by the xt targets).
pub const NETMAP: u32 = 0x40;
/// `NF_NAT_RANGE_PROTO_RANDOM_ALL`: either random flag.
pub const PROTO_RANDOM_ALL: u32 = PROTO_RANDOM | PROTO_RANDOM_FULLY;

/// Size of `struct nf_nat_ipv4_multi_range_compat` (revision 0 of SNAT and
/// DNAT, and the IPv4 MASQUERADE, REDIRECT and NETMAP): `rangesize` and one
/// `nf_nat_ipv4_range`.
pub const COMPAT_V4_SIZE: usize = 20;
/// Size of `struct nf_nat_range` (revision 1; the IPv6 MASQUERADE, REDIRECT
/// and NETMAP).
pub const RANGE1_SIZE: usize = 40;
/// Size of `struct nf_nat_range2` (revision 2), without its tail padding.
pub const RANGE2_SIZE: usize = 44;

/// Which part of a tuple a mapping changes (`enum nf_nat_manip_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManipType {
    /// Source NAT: the source address and port (POST_ROUTING, LOCAL_IN).
    Src,
    /// Destination NAT: the destination address and port (PRE_ROUTING,
    /// LOCAL_OUT).
    Dst,
}

impl ManipType {
    /// The other manip type (`!manip` in the kernel's ICMP error
    /// translation).
    pub fn other(self) -> ManipType {
        match self {
            ManipType::Src => ManipType::Dst,
            ManipType::Dst => ManipType::Src,
        }
    }
}

/// A NAT range, the kernel's `struct nf_nat_range2`.
///
/// Addresses are in network byte order, IPv4 in the first four bytes with
/// the rest zero; the port (or ICMP identifier) bounds are in host byte
/// order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatRange {
    /// `NF_NAT_RANGE_*` bits. Not checked against `NF_NAT_RANGE_MASK`: the
    /// kernel's xt targets pass any value on.
    pub flags: u32,
    /// Lowest address.
    pub min_addr: [u8; 16],
    /// Highest address.
    pub max_addr: [u8; 16],
    /// Lowest port or ICMP identifier.
    pub min_proto: u16,
    /// Highest port or ICMP identifier.
    pub max_proto: u16,
    /// Base of a shifted port map (`PROTO_OFFSET`); zero for revisions 0 and 1.
    pub base_proto: u16,
}

/// Why a target payload is refused (the kernel answers each with `EINVAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeError {
    /// The payload is shorter than the structure.
    Truncated,
    /// `rangesize` of a compat range is not 1 ("multiple ranges no longer
    /// supported").
    RangeSize(u32),
}

fn u32_at(b: &[u8], off: usize) -> Result<u32, RangeError> {
    match b.get(off..off + 4) {
        Some(&[a, c, d, e]) => Ok(u32::from_ne_bytes([a, c, d, e])),
        _ => Err(RangeError::Truncated),
    }
}

fn be16_at(b: &[u8], off: usize) -> Result<u16, RangeError> {
    match b.get(off..off + 2) {
        Some(&[a, c]) => Ok(u16::from_be_bytes([a, c])),
        _ => Err(RangeError::Truncated),
    }
}

fn addr_at<const N: usize>(b: &[u8], off: usize) -> Result<[u8; 16], RangeError> {
    let src = b.get(off..off + N).ok_or(RangeError::Truncated)?;
    let mut a = [0u8; 16];
    if let Some(d) = a.get_mut(..N) {
        d.copy_from_slice(src);
    }
    Ok(a)
}

impl NatRange {
    /// A range mapping to exactly `addr` (and the ports of `ports`, if it has
    /// `PROTO_SPECIFIED`), with `flags | MAP_IPS`: what MASQUERADE, REDIRECT
    /// and NETMAP hand to `nf_nat_setup_info`. `base_proto` is zero (the C
    /// code leaves it uninitialised).
    pub fn to_addr(ports: &NatRange, addr: [u8; 16]) -> NatRange {
        NatRange {
            flags: ports.flags | MAP_IPS,
            min_addr: addr,
            max_addr: addr,
            min_proto: ports.min_proto,
            max_proto: ports.max_proto,
            base_proto: 0,
        }
    }

    /// The null binding's range (`__nf_nat_alloc_null_binding`): map to the
    /// address the connection already has, ports unspecified.
    pub fn null_binding(addr: [u8; 16]) -> NatRange {
        NatRange { flags: MAP_IPS, min_addr: addr, max_addr: addr, min_proto: 0, max_proto: 0, base_proto: 0 }
    }

    /// Decodes `struct nf_nat_ipv4_multi_range_compat` (20 bytes: `rangesize`
    /// in host order, then `flags`, `min_ip`, `max_ip`, `min`, `max`), as
    /// `xt_nat_convert_range` does. `rangesize` must be 1.
    pub fn from_compat_v4(b: &[u8]) -> Result<NatRange, RangeError> {
        let rangesize = u32_at(b, 0)?;
        if b.len() < COMPAT_V4_SIZE {
            return Err(RangeError::Truncated);
        }
        if rangesize != 1 {
            return Err(RangeError::RangeSize(rangesize));
        }
        Ok(NatRange {
            flags: u32_at(b, 4)?,
            min_addr: addr_at::<4>(b, 8)?,
            max_addr: addr_at::<4>(b, 12)?,
            min_proto: be16_at(b, 16)?,
            max_proto: be16_at(b, 18)?,
            base_proto: 0,
        })
    }

    /// The `flags` of a compat range without checking `rangesize` (for the
    /// checks that look at the flags before the size, as
    /// `masquerade_tg_check` does).
    pub fn compat_v4_flags(b: &[u8]) -> Result<(u32, u32), RangeError> {
        Ok((u32_at(b, 0)?, u32_at(b, 4)?))
    }

    /// Decodes `struct nf_nat_range` (revision 1, 40 bytes): `flags`, two
    /// 16-byte addresses, then `min_proto` and `max_proto`; `base_proto` is
    /// zero (`xt_snat_target_v1`).
    pub fn from_range1(b: &[u8]) -> Result<NatRange, RangeError> {
        if b.len() < RANGE1_SIZE {
            return Err(RangeError::Truncated);
        }
        Ok(NatRange {
            flags: u32_at(b, 0)?,
            min_addr: addr_at::<16>(b, 4)?,
            max_addr: addr_at::<16>(b, 20)?,
            min_proto: be16_at(b, 36)?,
            max_proto: be16_at(b, 38)?,
            base_proto: 0,
        })
    }

    /// Decodes `struct nf_nat_range2` (revision 2, 44 bytes): the revision 1
    /// fields and `base_proto`.
    pub fn from_range2(b: &[u8]) -> Result<NatRange, RangeError> {
        if b.len() < RANGE2_SIZE {
            return Err(RangeError::Truncated);
        }
        let mut r = NatRange::from_range1(b)?;
        r.base_proto = be16_at(b, 40)?;
        Ok(r)
    }

    /// Whether `addr` lies in `min_addr..=max_addr`, compared as a host-order
    /// `u32` for IPv4 and bytewise (`ipv6_addr_cmp`) for IPv6
    /// (`nf_nat_inet_in_range`).
    pub fn addr_in_range(&self, l3: L3Proto, addr: &[u8; 16]) -> bool {
        let n = l3.addr_len();
        let (Some(a), Some(lo), Some(hi)) = (addr.get(..n), self.min_addr.get(..n), self.max_addr.get(..n)) else {
            return false;
        };
        // Big-endian bytes compare as the host-order numbers they encode.
        a >= lo && a <= hi
    }

    /// NETMAP's address (`netmap_tg4`/`netmap_tg6`): the host part of `addr`
    /// under the prefix of the range, `(addr & ~netmask) | (min & netmask)`
    /// with `netmask = ~(min ^ max)`. Bitwise, so it works on the 16 bytes
    /// as one number in any byte order.
    pub fn netmap(&self, addr: &[u8; 16]) -> [u8; 16] {
        let (a, lo, hi) = (u128::from_ne_bytes(*addr), u128::from_ne_bytes(self.min_addr), u128::from_ne_bytes(self.max_addr));
        let mask = !(lo ^ hi);
        ((a & !mask) | (lo & mask)).to_ne_bytes()
    }

    /// Whether a random flag (`--random` or `--random-fully`) is set.
    pub fn random(&self) -> bool {
        self.flags & PROTO_RANDOM_ALL != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_v4_as_iptables_sends_it() {
        // SNAT rev 0 --to-source 1.2.3.4:1000-2000 --random (nat-reference 2.4).
        let mut b = [0u8; 24];
        b[0..4].copy_from_slice(&1u32.to_ne_bytes());
        b[4..8].copy_from_slice(&7u32.to_ne_bytes());
        b[8..12].copy_from_slice(&[1, 2, 3, 4]);
        b[12..16].copy_from_slice(&[1, 2, 3, 4]);
        b[16..20].copy_from_slice(&[0x03, 0xe8, 0x07, 0xd0]);
        let r = NatRange::from_compat_v4(&b).unwrap();
        assert_eq!(r.flags, MAP_IPS | PROTO_SPECIFIED | PROTO_RANDOM);
        assert_eq!(&r.min_addr[..4], &[1, 2, 3, 4]);
        assert_eq!(r.min_addr[4..], [0; 12]);
        assert_eq!((r.min_proto, r.max_proto, r.base_proto), (1000, 2000, 0));
        assert!(r.random());
        b[0] = 2;
        assert_eq!(NatRange::from_compat_v4(&b), Err(RangeError::RangeSize(2)));
        assert_eq!(NatRange::from_compat_v4(&b[..19]), Err(RangeError::Truncated));
        assert_eq!(NatRange::from_compat_v4(&b[..3]), Err(RangeError::Truncated));
    }

    #[test]
    fn range2_carries_base_and_range1_drops_it() {
        // DNAT rev 2 5.6.7.8:1000-2000/3000: flags 0x23.
        let mut b = [0u8; 48];
        b[0..4].copy_from_slice(&0x23u32.to_ne_bytes());
        b[4..8].copy_from_slice(&[5, 6, 7, 8]);
        b[20..24].copy_from_slice(&[5, 6, 7, 8]);
        b[36..38].copy_from_slice(&1000u16.to_be_bytes());
        b[38..40].copy_from_slice(&2000u16.to_be_bytes());
        b[40..42].copy_from_slice(&3000u16.to_be_bytes());
        let r2 = NatRange::from_range2(&b).unwrap();
        assert_eq!((r2.flags, r2.min_proto, r2.max_proto, r2.base_proto), (0x23, 1000, 2000, 3000));
        let r1 = NatRange::from_range1(&b).unwrap();
        assert_eq!(r1.base_proto, 0);
        assert_eq!(NatRange::from_range2(&b[..43]), Err(RangeError::Truncated));
        assert_eq!(NatRange::from_range1(&b[..39]), Err(RangeError::Truncated));
    }

    #[test]
    fn address_ranges_compare_as_numbers() {
        let mut r = NatRange::null_binding([0; 16]);
        r.min_addr[..4].copy_from_slice(&[10, 0, 1, 100]);
        r.max_addr[..4].copy_from_slice(&[10, 0, 1, 120]);
        let a = |x: u8| {
            let mut v = [0u8; 16];
            v[..4].copy_from_slice(&[10, 0, 1, x]);
            v
        };
        assert!(r.addr_in_range(L3Proto::Ipv4, &a(100)));
        assert!(r.addr_in_range(L3Proto::Ipv4, &a(120)));
        assert!(!r.addr_in_range(L3Proto::Ipv4, &a(99)));
        assert!(!r.addr_in_range(L3Proto::Ipv4, &a(121)));
        let mut v6 = NatRange::null_binding([0; 16]);
        v6.min_addr = [0xfd, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        v6.max_addr = [0xfd, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        let mut x = v6.min_addr;
        x[15] = 0xff;
        assert!(v6.addr_in_range(L3Proto::Ipv6, &x));
        x[14] = 1;
        assert!(!v6.addr_in_range(L3Proto::Ipv6, &x));
    }
}
