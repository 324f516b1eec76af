// SPDX-License-Identifier: GPL-2.0
//! Layouts of the x_tables structures on LP64 and checked host-endian reads.
//!
//! C headers: include/uapi/linux/netfilter/x_tables.h,
//! include/uapi/linux/netfilter_ipv4/ip_tables.h,
//! include/uapi/linux/netfilter_ipv6/ip6_tables.h. Offsets are in bytes;
//! `XT_ALIGN` is 8 (`__alignof__(struct _xt_align)` on x86_64 and arm64).
// Some offsets are only read by tests and the builder; they document the ABI.
#![allow(dead_code)]

use super::{Error, Family};

/// `XT_ALIGN` boundary in bytes.
pub(crate) const XT_ALIGN: usize = 8;

/// Rounds `n` up to [`XT_ALIGN`]; `None` on overflow.
pub(crate) fn xt_align(n: usize) -> Option<usize> {
    n.checked_add(XT_ALIGN - 1).map(|v| v & !(XT_ALIGN - 1))
}

/// `sizeof(struct ipt_entry)`: `ipt_ip` (84), nfcache, target_offset,
/// next_offset, comefrom, counters (16, 8-aligned at 96).
pub const IPT_ENTRY_SIZE: usize = 112;
/// `sizeof(struct ip6t_entry)`: `ip6t_ip6` (136), nfcache, offsets,
/// comefrom, 4 bytes padding, counters at 152.
pub const IP6T_ENTRY_SIZE: usize = 168;
/// `sizeof(struct xt_entry_match)` (union with a kernel pointer: 32).
pub const XT_ENTRY_MATCH_SIZE: usize = 32;
/// `sizeof(struct xt_entry_target)`.
pub const XT_ENTRY_TARGET_SIZE: usize = 32;
/// `XT_ALIGN(sizeof(struct xt_standard_target))`: target + int verdict.
pub const XT_STANDARD_TARGET_SIZE: usize = 40;
/// `sizeof(struct xt_error_target)`: target + `errorname[30]`, padded to 64.
pub const XT_ERROR_TARGET_SIZE: usize = 64;
/// `XT_FUNCTION_MAXNAMELEN`: extension name field incl. NUL.
pub(crate) const XT_EXTENSION_MAXNAMELEN: usize = 29;
/// `XT_TABLE_MAXNAMELEN`.
pub(crate) const XT_TABLE_MAXNAMELEN: usize = 32;
/// `IFNAMSIZ`.
pub(crate) const IFNAMSIZ: usize = 16;

/// `NF_DROP`.
pub const NF_DROP: i32 = 0;
/// `NF_ACCEPT`.
pub const NF_ACCEPT: i32 = 1;
/// `NF_QUEUE`.
pub const NF_QUEUE: i32 = 3;
/// `NF_REPEAT`.
pub(crate) const NF_REPEAT: i32 = 4;
/// `XT_RETURN` = `-NF_REPEAT - 1`: the standard verdict that returns from a chain.
pub const XT_RETURN: i32 = -NF_REPEAT - 1;

/// Offsets inside one entry for a family.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryLayout {
    /// `sizeof(struct ipt_entry)` or `ip6t_entry`: where matches start.
    pub(crate) size: usize,
    /// Offset of `target_offset` (u16).
    pub(crate) target_offset: usize,
    /// Offset of `next_offset` (u16).
    pub(crate) next_offset: usize,
    /// Offset of `comefrom` (u32).
    pub(crate) comefrom: usize,
    /// Offset of `counters` (two u64: packets, bytes).
    pub(crate) counters: usize,
}

/// `struct ipt_entry`.
pub(crate) const IPT_LAYOUT: EntryLayout =
    EntryLayout { size: IPT_ENTRY_SIZE, target_offset: 88, next_offset: 90, comefrom: 92, counters: 96 };
/// `struct ip6t_entry`.
pub(crate) const IP6T_LAYOUT: EntryLayout =
    EntryLayout { size: IP6T_ENTRY_SIZE, target_offset: 140, next_offset: 142, comefrom: 144, counters: 152 };

/// The entry layout of `family`.
pub(crate) fn layout(family: Family) -> &'static EntryLayout {
    match family {
        Family::Ipv4 => &IPT_LAYOUT,
        Family::Ipv6 => &IP6T_LAYOUT,
    }
}

/// `ipt_ip`: offsets of its fields.
pub(crate) mod ipt_ip {
    /// src, dst, smsk, dmsk (each 4 bytes, network order).
    pub(crate) const SRC: usize = 0;
    /// Destination address.
    pub(crate) const DST: usize = 4;
    /// Source mask.
    pub(crate) const SMSK: usize = 8;
    /// Destination mask.
    pub(crate) const DMSK: usize = 12;
    /// `iniface[16]`.
    pub(crate) const INIFACE: usize = 16;
    /// `outiface[16]`.
    pub(crate) const OUTIFACE: usize = 32;
    /// `iniface_mask[16]`.
    pub(crate) const INIFACE_MASK: usize = 48;
    /// `outiface_mask[16]`.
    pub(crate) const OUTIFACE_MASK: usize = 64;
    /// `proto` (u16).
    pub(crate) const PROTO: usize = 80;
    /// `flags` (u8).
    pub(crate) const FLAGS: usize = 82;
    /// `invflags` (u8).
    pub(crate) const INVFLAGS: usize = 83;
    /// `IPT_F_FRAG`.
    pub(crate) const F_FRAG: u8 = 0x01;
    /// `IPT_F_GOTO`.
    pub(crate) const F_GOTO: u8 = 0x02;
    /// `IPT_F_MASK`.
    pub(crate) const F_MASK: u8 = 0x03;
}

/// `ip6t_ip6`: offsets of its fields.
pub(crate) mod ip6t_ip6 {
    /// Source address (16 bytes).
    pub(crate) const SRC: usize = 0;
    /// Destination address.
    pub(crate) const DST: usize = 16;
    /// Source mask.
    pub(crate) const SMSK: usize = 32;
    /// Destination mask.
    pub(crate) const DMSK: usize = 48;
    /// `iniface[16]`.
    pub(crate) const INIFACE: usize = 64;
    /// `outiface[16]`.
    pub(crate) const OUTIFACE: usize = 80;
    /// `iniface_mask[16]`.
    pub(crate) const INIFACE_MASK: usize = 96;
    /// `outiface_mask[16]`.
    pub(crate) const OUTIFACE_MASK: usize = 112;
    /// `proto` (u16).
    pub(crate) const PROTO: usize = 128;
    /// `tos` (u8).
    pub(crate) const TOS: usize = 130;
    /// `flags` (u8).
    pub(crate) const FLAGS: usize = 131;
    /// `invflags` (u8).
    pub(crate) const INVFLAGS: usize = 132;
    /// `IP6T_F_PROTO`.
    pub(crate) const F_PROTO: u8 = 0x01;
    /// `IP6T_F_TOS`.
    pub(crate) const F_TOS: u8 = 0x02;
    /// `IP6T_F_GOTO`.
    pub(crate) const F_GOTO: u8 = 0x04;
    /// `IP6T_F_MASK`.
    pub(crate) const F_MASK: u8 = 0x07;
}

/// `IPT_INV_*` / `IP6T_INV_*` (the same values).
pub(crate) mod inv {
    /// Invert the input interface test.
    pub(crate) const VIA_IN: u8 = 0x01;
    /// Invert the output interface test.
    pub(crate) const VIA_OUT: u8 = 0x02;
    /// Invert TOS (unused by the kernel's matcher).
    pub(crate) const TOS: u8 = 0x04;
    /// Invert the source address test.
    pub(crate) const SRCIP: u8 = 0x08;
    /// Invert the destination address test.
    pub(crate) const DSTIP: u8 = 0x10;
    /// Invert the fragment test (IPv4).
    pub(crate) const FRAG: u8 = 0x20;
    /// Invert the protocol test (`XT_INV_PROTO`).
    pub(crate) const PROTO: u8 = 0x40;
    /// All bits.
    pub(crate) const MASK: u8 = 0x7f;
}

/// Reads `N` bytes at `off`; `None` past the end of `b` (any `off`).
pub(crate) fn bytes<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..)?.first_chunk().copied()
}

/// The `len` items at `off`, `b[off..off + len]` without computing the end
/// (no overflow for any `off`, `len`); `None` past the end of `b`.
pub(crate) fn sub<T>(b: &[T], off: usize, len: usize) -> Option<&[T]> {
    b.get(off..)?.get(..len)
}

/// Host-endian u16 at `off`.
pub(crate) fn ne16(b: &[u8], off: usize) -> Option<u16> {
    bytes::<2>(b, off).map(u16::from_ne_bytes)
}
/// Host-endian u32 at `off`.
pub(crate) fn ne32(b: &[u8], off: usize) -> Option<u32> {
    bytes::<4>(b, off).map(u32::from_ne_bytes)
}
/// Host-endian u64 at `off`.
pub(crate) fn ne64(b: &[u8], off: usize) -> Option<u64> {
    bytes::<8>(b, off).map(u64::from_ne_bytes)
}
/// Network-order u16 at `off`.
pub(crate) fn be16(b: &[u8], off: usize) -> Option<u16> {
    bytes::<2>(b, off).map(u16::from_be_bytes)
}

/// The NUL-terminated name in `field` (without the NUL); `None` if the field has no NUL.
pub(crate) fn cstr(field: &[u8]) -> Option<&[u8]> {
    let n = field.iter().position(|&c| c == 0)?;
    field.get(..n)
}

/// Writes `v` host-endian at `off`, failing with EINVAL if out of range.
pub(crate) fn put(out: &mut [u8], off: usize, v: &[u8]) -> Result<(), Error> {
    let end = off.checked_add(v.len()).ok_or(Error::inval("offset overflow"))?;
    out.get_mut(off..end).ok_or(Error::inval("write out of range"))?.copy_from_slice(v);
    Ok(())
}
