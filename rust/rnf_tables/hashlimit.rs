// SPDX-License-Identifier: GPL-2.0
//! The `hashlimit` match's named tables (net/netfilter/xt_hashlimit.c,
//! 6.12): one per name, family and namespace, shared by every rule that
//! names it, made with the configuration of the first such rule
//! (`htable_find_get` / `htable_create`), shown in
//! `/proc/net/ipt_hashlimit/NAME` and `/proc/net/ip6t_hashlimit/NAME`,
//! and freed with the last table instance that uses it (`htable_put`).
//!
//! The entries, their arithmetic and the garbage collection schedule are
//! the engine's (`xt::hashlimit`); this file gives them kernel memory: a
//! bucket array allocated when the table is made (process context,
//! `GFP_KERNEL`) and entries allocated in the packet path with
//! `GFP_ATOMIC`, all under one BH spinlock per table (the kernel takes a
//! table lock to insert and an entry lock to update; one lock gives the
//! same results). The kernel collects garbage from a delayed work every
//! gc interval; here the collection that came due runs at the next use
//! of the table (a packet or a `/proc` read, [`xt::hashlimit::gc`]), as
//! of the time it was due, so the entries counted against `max` and
//! listed are the kernel's. Expired entries may then hold memory until
//! that next use or the table's end.

use kernel::prelude::*;
use kernel::sync::Arc;

use crate::glue::hook::Net;
use crate::glue::proc::SeqFile;
use crate::glue::sync::BhSpinLock;
use crate::glue::{self, kvec};
use crate::netns::{self, Fam};
use crate::tables_glue::procfile::{DataShow, ProcFile};
use crate::xt::hashlimit::{self as hl, Dst, Entry, Meta};
use crate::xt::{self, errno, Family};

/// One entry in a bucket's list (`struct dsthash_ent`'s `node`).
struct Node {
    ent: Entry,
    next: Option<KBox<Node>>,
}

/// A named table's entries and configuration (`struct
/// xt_hashlimit_htable` without its list node and proc entry).
pub(crate) struct Store {
    meta: Meta,
    /// The bucket hash's seed (`rnd`).
    seed: u32,
    /// Entries in the table (`count`).
    count: u32,
    /// `meta.cfg.size` buckets, newest entry first in each (`hlist_add_head`).
    buckets: KVVec<Option<KBox<Node>>>,
}

impl Store {
    fn bucket(&mut self, dst: &Dst) -> Option<&mut Option<KBox<Node>>> {
        let b = dst.bucket(self.seed, self.meta.cfg.size) as usize;
        self.buckets.get_mut(b)
    }
}

impl hl::Htable for Store {
    fn meta(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn count(&self) -> u32 {
        self.count
    }

    fn find(&mut self, dst: &Dst) -> Option<&mut Entry> {
        let mut cur = self.bucket(dst)?.as_deref_mut();
        while let Some(n) = cur {
            if n.ent.dst == *dst {
                return Some(&mut n.ent);
            }
            cur = n.next.as_deref_mut();
        }
        None
    }

    fn insert(&mut self, e: Entry) -> Option<&mut Entry> {
        let b = e.dst.bucket(self.seed, self.meta.cfg.size) as usize;
        let head = self.buckets.get_mut(b)?;
        // Softirq, under the table's spinlock: atomic allocation, and its
        // failure hot-drops the packet as the kernel's does.
        let mut node = KBox::new(Node { ent: e, next: None }, GFP_ATOMIC).ok()?;
        node.next = head.take();
        // Entries in the table: bounded by memory, never saturates.
        self.count = self.count.saturating_add(1);
        Some(&mut head.insert(node).ent)
    }

    fn remove_expired(&mut self, at: u64) {
        let mut removed = 0u32;
        for head in self.buckets.iter_mut() {
            let mut link = head;
            while let Some(mut n) = link.take() {
                if hl::expired(&n.ent, at) {
                    *link = n.next.take();
                    removed = removed.saturating_add(1);
                } else {
                    link = &mut link.insert(n).next;
                }
            }
        }
        self.count = self.count.saturating_sub(removed);
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Unlink one node at a time: a recursive drop of a long list
        // could exhaust the kernel stack.
        for head in self.buckets.iter_mut() {
            let mut cur = head.take();
            while let Some(mut n) = cur {
                cur = n.next.take();
            }
        }
    }
}

impl DataShow for BhSpinLock<Store> {
    /// `dl_seq_show`: every entry, bucket by bucket, each brought up to
    /// now first (`rateinfo_recalc`, as the kernel's reader does).
    fn show(&self, seq: &mut SeqFile<'_>) {
        let now = glue::jiffies();
        let hz = glue::hz();
        let mut s = self.lock();
        hl::gc(&mut *s, now, hz);
        let meta = s.meta;
        for head in s.buckets.iter_mut() {
            let mut cur = head.as_deref_mut();
            while let Some(n) = cur {
                seq.write(hl::proc_line(&mut n.ent, &meta, now, hz).as_bytes());
                cur = n.next.as_deref_mut();
            }
        }
    }
}

/// A named table: its locked store, owned by its `/proc` file.
pub(crate) struct NamedTable {
    file: ProcFile<BhSpinLock<Store>>,
}

impl NamedTable {
    /// The store, to lock.
    pub(crate) fn store(&self) -> &BhSpinLock<Store> {
        self.file.data()
    }
}

/// One table of the registry.
struct Reg {
    /// The namespace (its address: only compared).
    net: usize,
    v6: bool,
    name: KVec<u8>,
    table: Arc<NamedTable>,
    /// Rules (of live or building table instances) using it (`use`).
    users: usize,
}

/// Every named table of every namespace (the kernel's per-namespace
/// `htables` lists under `hashlimit_mutex`), under
/// [`crate::Shared::hashlimit`].
/// (The kernel's `Vec` of 6.12 cannot remove an element: a freed table
/// leaves an empty slot, reused by the next.)
#[derive(Default)]
pub(crate) struct Registry {
    tables: KVec<Option<Reg>>,
}

/// A rule's use of a named table: the packet path's way to it; released
/// when dropped (`htable_put`), which frees the table with its last use.
/// Dropped in process context (a table instance's end).
pub(crate) struct HtRef {
    table: Arc<NamedTable>,
}

impl HtRef {
    /// The table.
    pub(crate) fn table(&self) -> &NamedTable {
        &self.table
    }
}

impl Drop for HtRef {
    fn drop(&mut self) {
        let Some(shared) = crate::shared() else { return };
        let mut reg = shared.hashlimit.lock();
        let slot = reg.tables.iter_mut().find(|r| r.as_ref().is_some_and(|r| Arc::ptr_eq(&r.table, &self.table)));
        if let Some(slot) = slot {
            let last = slot.as_mut().is_some_and(|r| {
                r.users = r.users.saturating_sub(1);
                r.users == 0
            });
            if last {
                // The registry's reference goes; this use's follows at
                // the end of `drop`, freeing the table and its file.
                drop(slot.take());
            }
        }
    }
}

fn err(errno: i32, reason: &'static str) -> xt::Error {
    xt::Error { errno, reason }
}

/// `hashlimit_mt_check_common` after the engine's checks: the overflow
/// checks at this kernel's `HZ`, then the named table `u.name` of `fam` in
/// `net`, found (its rate-match setting must be the rule's) or made from
/// the rule's configuration. Process context. Errors: EINVAL, ERANGE,
/// ENOMEM.
pub(crate) fn get(net: Net, fam: &Fam, u: &hl::Use<'_>) -> Result<HtRef, xt::Error> {
    hl::check_rate(&u.cfg, u.rev, glue::hz())?;
    let shared = crate::shared().ok_or(err(errno::ENOENT, "rnf_tables is going away"))?;
    let nomem = err(errno::ENOMEM, "hashlimit: no memory for the table");
    let id = net.as_ptr() as usize;
    let mut reg = shared.hashlimit.lock();
    let found = reg.tables.iter_mut().flatten().find(|r| r.net == id && r.v6 == fam.ipv6 && r.name.as_slice() == u.name);
    if let Some(r) = found {
        let table_rm = r.table.store().lock().meta.cfg.mode & hl::MODE_RATE_MATCH != 0;
        if table_rm != (u.cfg.mode & hl::MODE_RATE_MATCH != 0) {
            return Err(err(errno::EINVAL, "hashlimit: rate-match differs from the named table's"));
        }
        // One per rule using the table: bounded by memory.
        r.users = r.users.saturating_add(1);
        return Ok(HtRef { table: r.table.clone() });
    }
    let family = if fam.ipv6 { Family::Ipv6 } else { Family::Ipv4 };
    let (pages, page_size) = crate::tables_glue::totalram();
    let meta = Meta::new(&u.cfg, u.rev, family, glue::jiffies(), glue::hz(), pages, page_size);
    let size = meta.cfg.size as usize;
    let mut buckets = KVVec::with_capacity(size, GFP_KERNEL).map_err(|_| nomem)?;
    for _ in 0..size {
        kvec::push(&mut buckets, None, GFP_KERNEL).map_err(|_| nomem)?;
    }
    let store = Store { meta, seed: glue::random_u32(), count: 0, buckets };
    let lock = BhSpinLock::new_boxed(store, GFP_KERNEL).map_err(|_| nomem)?;
    let dir = netns::tables(net).hashlimit_dir(fam);
    // The directory stays while the file is in it (`ProcDir::remove`
    // keeps it otherwise): the namespace's exit removes it after every
    // table instance, and with them every named table and its file, is
    // gone.
    let file = ProcFile::create(dir, u.name, lock).map_err(|_| nomem)?;
    let table = Arc::new(NamedTable { file }, GFP_KERNEL).map_err(|_| nomem)?;
    let mut name = KVec::with_capacity(u.name.len(), GFP_KERNEL).map_err(|_| nomem)?;
    kvec::extend_from_slice(&mut name, u.name, GFP_KERNEL).map_err(|_| nomem)?;
    let r = Reg { net: id, v6: fam.ipv6, name, table: table.clone(), users: 1 };
    match reg.tables.iter_mut().find(|r| r.is_none()) {
        Some(free) => *free = Some(r),
        None => kvec::push(&mut reg.tables, Some(r), GFP_KERNEL).map_err(|_| nomem)?,
    }
    Ok(HtRef { table })
}
