// SPDX-License-Identifier: GPL-2.0
//! The table a namespace starts with: `ipt_alloc_initial_table` /
//! `ip6t_alloc_initial_table` (net/netfilter/xt_repldata.h): one ACCEPT
//! policy per built-in chain, then the ERROR entry that ends the table.

use super::abi::{layout, put, XT_ERROR_TARGET_SIZE, XT_STANDARD_TARGET_SIZE};
use super::{Error, ReplaceHeader, TableDef, NF_ACCEPT, NF_INET_NUMHOOKS};

/// Bytes of the initial entries blob of `def`.
pub fn initial_size(def: &TableDef) -> usize {
    let s = layout(def.family).size;
    def.valid_hooks.count_ones() as usize * (s + XT_STANDARD_TARGET_SIZE) + s + XT_ERROR_TARGET_SIZE
}

/// Writes the initial entries into `out` (exactly [`initial_size`] bytes,
/// EINVAL otherwise) and returns the matching header (`num_counters` =
/// `num_entries`, so it also passes [`ReplaceHeader::parse`]).
pub fn initial_table(def: &TableDef, out: &mut [u8]) -> Result<ReplaceHeader, Error> {
    if out.len() != initial_size(def) {
        return Err(Error::inval("initial table buffer size"));
    }
    out.fill(0);
    let l = layout(def.family);
    let mut h = ReplaceHeader { valid_hooks: def.valid_hooks, ..Default::default() };
    let n = def.name.len().min(31);
    h.name.get_mut(..n).ok_or(Error::inval("name"))?.copy_from_slice(def.name.as_bytes().get(..n).ok_or(Error::inval("name"))?);
    let mut off = 0usize;
    let mut entries = 0u32;
    for hook in 0..NF_INET_NUMHOOKS {
        if def.valid_hooks & (1 << hook) == 0 {
            continue;
        }
        h.hook_entry[hook] = off as u32;
        h.underflow[hook] = off as u32;
        let next = l.size.saturating_add(XT_STANDARD_TARGET_SIZE);
        put(out, off.saturating_add(l.target_offset), &(l.size as u16).to_ne_bytes())?;
        put(out, off.saturating_add(l.next_offset), &(next as u16).to_ne_bytes())?;
        put(out, off.saturating_add(l.size), &(XT_STANDARD_TARGET_SIZE as u16).to_ne_bytes())?;
        put(out, off.saturating_add(l.size).saturating_add(32), &(-NF_ACCEPT - 1).to_ne_bytes())?;
        off = off.saturating_add(next);
        entries = entries.saturating_add(1);
    }
    let next = l.size.saturating_add(XT_ERROR_TARGET_SIZE);
    put(out, off.saturating_add(l.target_offset), &(l.size as u16).to_ne_bytes())?;
    put(out, off.saturating_add(l.next_offset), &(next as u16).to_ne_bytes())?;
    put(out, off.saturating_add(l.size), &(XT_ERROR_TARGET_SIZE as u16).to_ne_bytes())?;
    put(out, off.saturating_add(l.size).saturating_add(2), b"ERROR")?;
    put(out, off.saturating_add(l.size).saturating_add(32), b"ERROR")?;
    entries = entries.saturating_add(1);
    h.num_entries = entries;
    h.num_counters = entries;
    h.size = off.saturating_add(next) as u32;
    Ok(h)
}
