// SPDX-License-Identifier: GPL-2.0
//! `GET_ENTRIES`: `copy_entries_to_user` (net/ipv4/netfilter/ip_tables.c)
//! with `xt_match_to_user` / `xt_target_to_user` / `xt_data_to_user`
//! (net/netfilter/x_tables.c): the entries as user space sent them, each
//! entry's counters and `comefrom` filled in, extension names cut after
//! their NUL and kernel-private data bytes (beyond `usersize`) zeroed.

use super::abi::{layout, ne16, put, XT_ENTRY_MATCH_SIZE};
use super::ext;
use super::rule::{Match, Rule};
use super::{Error, Table};

impl<B, R, M> Table<B, R, M>
where
    B: AsRef<[u8]>,
    R: AsRef<[Rule]> + AsMut<[Rule]>,
    M: AsRef<[Match]> + AsMut<[Match]>,
{
    /// Writes the entries into `out` (`out.len()` must be [`Table::size`],
    /// EINVAL otherwise) with `counter(i)` = (packets, bytes) of rule `i`
    /// stored host-endian in each entry.
    pub fn copy_entries(&self, out: &mut [u8], mut counter: impl FnMut(usize) -> (u64, u64)) -> Result<(), Error> {
        let blob = self.blob.as_ref();
        if out.len() != blob.len() {
            return Err(Error::inval("GET_ENTRIES buffer size differs from the table"));
        }
        out.copy_from_slice(blob);
        let l = layout(self.family);
        for (i, r) in self.rules.as_ref().iter().enumerate() {
            let off = r.offset as usize;
            let (p, b) = counter(i);
            put(out, off + l.counters, &p.to_ne_bytes())?;
            put(out, off + l.counters + 8, &b.to_ne_bytes())?;
            put(out, off + l.comefrom, &r.comefrom.to_ne_bytes())?;
            let target_off = usize::from(ne16(blob, off + l.target_offset).ok_or(Error::inval("entry"))?);
            let mut pos = l.size;
            while pos <= target_off {
                let is_target = pos == target_off;
                let at = off + pos;
                let size = usize::from(ne16(blob, at).ok_or(Error::inval("extension"))?);
                let name_field = out.get_mut(at + 2..at + 31).ok_or(Error::inval("extension"))?;
                let nl = name_field.iter().position(|&c| c == 0).unwrap_or(name_field.len());
                let rev = *blob.get(at + 31).ok_or(Error::inval("extension"))?;
                let found = {
                    let name = blob.get(at + 2..at + 2 + nl).ok_or(Error::inval("extension"))?;
                    ext::lookup(self.family, is_target, name, rev)
                };
                if let Some(rest) = name_field.get_mut(nl..) {
                    rest.fill(0);
                }
                if let Ok(e) = found {
                    let data = out.get_mut(at + XT_ENTRY_MATCH_SIZE..at + size).ok_or(Error::inval("extension"))?;
                    if let Some(private) = data.get_mut(e.usersize..) {
                        private.fill(0);
                    }
                }
                if size == 0 {
                    break;
                }
                pos += size;
            }
        }
        Ok(())
    }
}
