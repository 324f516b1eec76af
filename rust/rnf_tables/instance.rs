// SPDX-License-Identifier: GPL-2.0
//! One live table: the engine's decoded [`xt::Table`] over kernel storage,
//! with its per-CPU rule counters.
//!
//! Built from a `SET_REPLACE` blob (or the initial table) entirely before it
//! is published, so a refused blob never touches the table in force.

use kernel::prelude::*;

use crate::glue::percpu::PerCpuCounters;
use crate::xt::{self, errno, ReplaceHeader, TableDef};

/// A `KVVec` as the slice storage the engine takes (`AsRef`/`AsMut`, which
/// the kernel's `Vec` of 6.12 does not implement).
pub(crate) struct KvSlice<T>(pub(crate) KVVec<T>);

impl<T> AsRef<[T]> for KvSlice<T> {
    fn as_ref(&self) -> &[T] {
        &self.0
    }
}

impl<T> AsMut<[T]> for KvSlice<T> {
    fn as_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

/// The engine's table over kernel memory: the entries blob as user space
/// sent it, one decoded rule per entry, the decoded matches.
pub(crate) type CoreTable = xt::Table<KvSlice<u8>, KvSlice<xt::Rule>, KvSlice<xt::Match>>;

/// `XT_MAX_TABLE_SIZE` (x_tables.c): the largest blob (bytes) we allocate.
pub(crate) const MAX_TABLE_BYTES: usize = 512 * 1024 * 1024;

/// A table in force in one namespace.
pub(crate) struct Instance {
    /// The decoded rules and the blob they came from.
    pub(crate) table: CoreTable,
    /// (packets, bytes) per entry, per CPU.
    pub(crate) counters: PerCpuCounters,
}

fn nomem(reason: &'static str) -> xt::Error {
    xt::Error { errno: errno::ENOMEM, reason }
}

/// `n` default values in a new `KVVec`.
fn defaults<T: Default>(n: usize) -> Result<KvSlice<T>, xt::Error> {
    let mut v = KVVec::with_capacity(n, GFP_KERNEL).map_err(|_| nomem("no memory for decoded rules"))?;
    for _ in 0..n {
        v.push(T::default(), GFP_KERNEL).map_err(|_| nomem("no memory for decoded rules"))?;
    }
    Ok(KvSlice(v))
}

impl Instance {
    /// Validates and decodes `blob` (the `hdr.size` bytes of entries after
    /// the header) for table `def`. Process context (allocates with
    /// `GFP_KERNEL`). Errors: the engine's (EINVAL, ELOOP, ENOENT, ...) or
    /// ENOMEM.
    pub(crate) fn build(def: &TableDef, hdr: &ReplaceHeader, blob: KVVec<u8>) -> Result<KBox<Instance>, xt::Error> {
        let sizes = xt::measure(def, hdr, &blob)?;
        let rules = defaults::<xt::Rule>(sizes.rules)?;
        let matches = defaults::<xt::Match>(sizes.matches)?;
        let table = CoreTable::translate(def, hdr, KvSlice(blob), rules, matches)?;
        let counters = PerCpuCounters::new(table.num_entries() as usize).map_err(|_| nomem("no per-CPU memory for counters"))?;
        KBox::new(Instance { table, counters }, GFP_KERNEL).map_err(|_| nomem("no memory for the table"))
    }

    /// The table a namespace starts with: every built-in chain empty with
    /// policy ACCEPT (as `ipt_alloc_initial_table`).
    pub(crate) fn initial(def: &TableDef) -> Result<KBox<Instance>, xt::Error> {
        let mut blob = KVVec::from_elem(0u8, xt::initial_size(def), GFP_KERNEL).map_err(|_| nomem("no memory for the initial table"))?;
        let hdr = xt::initial_table(def, &mut blob)?;
        Self::build(def, &hdr, blob)
    }
}
