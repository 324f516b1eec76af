// SPDX-License-Identifier: GPL-2.0
//! Fixed headers of the socket options: `ipt_replace`, `ipt_getinfo`,
//! `ipt_get_entries`, `xt_counters_info`, `xt_get_revision`.
//!
//! C headers: include/uapi/linux/netfilter_ipv4/ip_tables.h (the IPv6 ones
//! in ip6_tables.h have identical layouts), include/uapi/linux/netfilter/x_tables.h.
//! Host byte order, LP64 layouts. Size checks follow net/ipv4/netfilter/ip_tables.c
//! (`do_replace`, `get_entries`, `get_info`) and `xt_copy_counters`.

use super::abi::{bytes, ne32, ne64, XT_TABLE_MAXNAMELEN};
use super::{errno, Error, NF_INET_NUMHOOKS};

/// `sizeof(struct ipt_get_entries)`: `name[32]`, size, 4 bytes padding.
pub const GET_ENTRIES_SIZE: usize = 40;
/// `sizeof(struct xt_counters_info)`: `name[32]`, `num_counters`, padding.
pub const COUNTERS_INFO_SIZE: usize = 40;
/// `sizeof(struct xt_get_revision)`: `name[29]`, revision.
pub const GET_REVISION_SIZE: usize = 30;

/// `struct ipt_replace` / `struct ip6t_replace` (the `SET_REPLACE` header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplaceHeader {
    /// Table name, NUL terminated (the last byte is forced to NUL).
    pub name: [u8; 32],
    /// Hooks the table has chains for (`1 << NF_INET_*`).
    pub valid_hooks: u32,
    /// Number of entries in the blob.
    pub num_entries: u32,
    /// Size of the entries blob in bytes.
    pub size: u32,
    /// Byte offset of each hook's first rule.
    pub hook_entry: [u32; NF_INET_NUMHOOKS],
    /// Byte offset of each hook's policy rule (underflow).
    pub underflow: [u32; NF_INET_NUMHOOKS],
    /// Number of counters user space wants back (must equal the old table's entries).
    pub num_counters: u32,
    /// User pointer where the old counters go (`struct xt_counters __user *`).
    pub counters_ptr: u64,
}

impl ReplaceHeader {
    /// `sizeof(struct ipt_replace)` on LP64.
    pub const SIZE: usize = 96;

    /// Parses a `SET_REPLACE` buffer of `buf.len()` bytes (the sockopt `len`):
    /// the header, then the `size` bytes of entries, which are returned.
    ///
    /// Errors as `do_replace`: `len < sizeof` → EINVAL; `num_counters >= INT_MAX
    /// / 16` → ENOMEM; `num_counters == 0` → EINVAL; `len < sizeof + size` →
    /// EINVAL. Extra bytes after the entries are ignored, as in the kernel.
    pub fn parse(buf: &[u8]) -> Result<(ReplaceHeader, &[u8]), Error> {
        let h = Self::parse_header(buf)?;
        if h.num_counters >= (i32::MAX as u32) / 16 {
            return Err(Error::new(errno::ENOMEM, "num_counters too large"));
        }
        if h.num_counters == 0 {
            return Err(Error::inval("num_counters is zero"));
        }
        let end = Self::SIZE.checked_add(h.size as usize).ok_or(Error::inval("size overflow"))?;
        let entries = buf.get(Self::SIZE..end).ok_or(Error::inval("buffer shorter than header + size"))?;
        Ok((h, entries))
    }

    /// Decodes the 96-byte header only (no size checks beyond its own length).
    pub fn parse_header(buf: &[u8]) -> Result<ReplaceHeader, Error> {
        let short = Error::inval("buffer shorter than ipt_replace");
        let mut h = ReplaceHeader { name: bytes::<32>(buf, 0).ok_or(short)?, ..Default::default() };
        h.name[XT_TABLE_MAXNAMELEN - 1] = 0;
        h.valid_hooks = ne32(buf, 32).ok_or(short)?;
        h.num_entries = ne32(buf, 36).ok_or(short)?;
        h.size = ne32(buf, 40).ok_or(short)?;
        for i in 0..NF_INET_NUMHOOKS {
            h.hook_entry[i] = ne32(buf, 44 + 4 * i).ok_or(short)?;
            h.underflow[i] = ne32(buf, 64 + 4 * i).ok_or(short)?;
        }
        h.num_counters = ne32(buf, 84).ok_or(short)?;
        h.counters_ptr = ne64(buf, 88).ok_or(short)?;
        Ok(h)
    }

    /// The header as user space lays it out (for builders and tests).
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut o = [0u8; Self::SIZE];
        o[..32].copy_from_slice(&self.name);
        o[32..36].copy_from_slice(&self.valid_hooks.to_ne_bytes());
        o[36..40].copy_from_slice(&self.num_entries.to_ne_bytes());
        o[40..44].copy_from_slice(&self.size.to_ne_bytes());
        for i in 0..NF_INET_NUMHOOKS {
            o[44 + 4 * i..48 + 4 * i].copy_from_slice(&self.hook_entry[i].to_ne_bytes());
            o[64 + 4 * i..68 + 4 * i].copy_from_slice(&self.underflow[i].to_ne_bytes());
        }
        o[84..88].copy_from_slice(&self.num_counters.to_ne_bytes());
        o[88..96].copy_from_slice(&self.counters_ptr.to_ne_bytes());
        o
    }

    /// The table name without its NUL.
    pub fn name(&self) -> &[u8] {
        name_of(&self.name)
    }
}

/// The bytes of a NUL-padded name field up to the first NUL.
pub(crate) fn name_of(n: &[u8; 32]) -> &[u8] {
    let len = n.iter().position(|&c| c == 0).unwrap_or(n.len());
    n.get(..len).unwrap_or(&[])
}

/// `struct ipt_getinfo` / `ip6t_getinfo`: the `GET_INFO` answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// Table name, NUL padded.
    pub name: [u8; 32],
    /// Hooks the table has chains for.
    pub valid_hooks: u32,
    /// Byte offset of each hook's first rule (0xFFFFFFFF for hooks the table lacks).
    pub hook_entry: [u32; NF_INET_NUMHOOKS],
    /// Byte offset of each hook's policy rule.
    pub underflow: [u32; NF_INET_NUMHOOKS],
    /// Number of entries.
    pub num_entries: u32,
    /// Size of the entries in bytes.
    pub size: u32,
}

impl Info {
    /// `sizeof(struct ipt_getinfo)`; `get_info` refuses any other `len` with EINVAL.
    pub const SIZE: usize = 84;

    /// The structure as `GET_INFO` copies it to user space (host endian).
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut o = [0u8; Self::SIZE];
        o[..32].copy_from_slice(&self.name);
        o[32..36].copy_from_slice(&self.valid_hooks.to_ne_bytes());
        for i in 0..NF_INET_NUMHOOKS {
            o[36 + 4 * i..40 + 4 * i].copy_from_slice(&self.hook_entry[i].to_ne_bytes());
            o[56 + 4 * i..60 + 4 * i].copy_from_slice(&self.underflow[i].to_ne_bytes());
        }
        o[76..80].copy_from_slice(&self.num_entries.to_ne_bytes());
        o[80..84].copy_from_slice(&self.size.to_ne_bytes());
        o
    }
}

/// Parses the `GET_ENTRIES` request (`struct ipt_get_entries` header):
/// returns the table name (last byte forced to NUL) and the `size` asked for.
///
/// `buf.len()` is the sockopt `*len`. Errors as `get_entries`: shorter than
/// 40 bytes → EINVAL; `len != 40 + size` → EINVAL. The caller then answers
/// EAGAIN when `size` differs from the table's [`super::Table::size`].
pub fn parse_get_entries(buf: &[u8]) -> Result<([u8; 32], u32), Error> {
    let short = Error::inval("get_entries: buffer shorter than header");
    let mut name = bytes::<32>(buf, 0).ok_or(short)?;
    let size = ne32(buf, 32).ok_or(short)?;
    if buf.len() as u64 != GET_ENTRIES_SIZE as u64 + u64::from(size) {
        return Err(Error::inval("get_entries: len != sizeof(get) + size"));
    }
    name[XT_TABLE_MAXNAMELEN - 1] = 0;
    Ok((name, size))
}

/// A parsed `SET_ADD_COUNTERS` request: `struct xt_counters_info` and its counters.
#[derive(Clone, Copy, Debug)]
pub struct AddCounters<'a> {
    /// Table name, last byte NUL.
    pub name: [u8; 32],
    /// Number of counters (the caller checks it equals the table's entries: EINVAL otherwise).
    pub num_counters: u32,
    data: &'a [u8],
}

impl<'a> AddCounters<'a> {
    /// Counter `i` as (packets, bytes), host endian.
    pub fn get(&self, i: usize) -> Option<(u64, u64)> {
        let off = i.checked_mul(16)?;
        Some((ne64(self.data, off)?, ne64(self.data, off.checked_add(8)?)?))
    }

    /// The counters in entry order as (packets, bytes).
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let data = self.data;
        data.chunks_exact(16).map(|c| {
            let p = ne64(c, 0).unwrap_or(0);
            let b = ne64(c, 8).unwrap_or(0);
            (p, b)
        })
    }
}

/// Parses a `SET_ADD_COUNTERS` buffer of `buf.len()` bytes (the sockopt `len`).
///
/// Errors as `xt_copy_counters`: `len <= 40` → EINVAL; `16 * num_counters
/// != len - 40` → EINVAL.
pub fn parse_add_counters(buf: &[u8]) -> Result<AddCounters<'_>, Error> {
    if buf.len() <= COUNTERS_INFO_SIZE {
        return Err(Error::inval("add_counters: buffer too short"));
    }
    let mut name = bytes::<32>(buf, 0).ok_or(Error::inval("add_counters: short"))?;
    name[XT_TABLE_MAXNAMELEN - 1] = 0;
    let num_counters = ne32(buf, 32).ok_or(Error::inval("add_counters: short"))?;
    let data = buf.get(COUNTERS_INFO_SIZE..).ok_or(Error::inval("add_counters: short"))?;
    if 16u64 * u64::from(num_counters) != data.len() as u64 {
        return Err(Error::inval("add_counters: len != sizeof + 16 * num_counters"));
    }
    Ok(AddCounters { name, num_counters, data })
}
