// SPDX-License-Identifier: GPL-2.0
//! The connection table: a fixed arena of entries hashed by both tuples.
//!
//! Like the kernel's conntrack hash (net/netfilter/nf_conntrack_core.c), every
//! connection is reachable from two hash chains, one per direction, so a
//! packet of either direction finds it with one lookup. Instead of pointers
//! the chains link slot indices: a chain node is `slot << 1 | direction`.
//! The arena is allocated once, at `conntrack_max` entries, by the caller
//! (the kernel module, in process context); nothing here allocates, so the
//! packet path never does either. Free slots form a list through `next[0]`.
//!
//! As in the kernel, a connection first exists unconfirmed: [`ConnTable::alloc`]
//! gives it a slot (it counts against the capacity) without hashing it, so
//! lookups do not find it and its tuples may still change (NAT alters the
//! reply tuple); [`ConnTable::hash`] confirms it. Only hashed connections
//! are listed, collected, flushed or early-dropped; an unconfirmed one is
//! freed by its owner with [`ConnTable::remove`].
//!
//! Bucket selection uses `reciprocal_scale` (any bucket count works).
//! Not synchronised: the caller holds the table's lock.

use core::ops::DerefMut;

use crate::conntrack::conn::{Conn, Direction, IPS_ASSURED};
use crate::conntrack::tuple::Tuple;

/// End of a chain or of the free list.
pub const NIL: u32 = u32::MAX;

/// Largest arena the node encoding supports.
pub const MAX_ENTRIES: usize = (u32::MAX >> 2) as usize;

/// How many buckets early drop scans for a victim (the kernel's
/// `NF_CT_EVICTION_RANGE`).
pub const EVICTION_RANGE: u32 = 8;

/// One arena slot.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    /// The connection, `None` for a free slot.
    pub conn: Option<Conn>,
    /// Next node in the chain of each direction (or the free list, `next[0]`).
    next: [u32; 2],
    /// Whether the connection is in the hash chains (confirmed).
    hashed: bool,
}

impl Slot {
    /// An unused slot, for filling the arena before [`ConnTable::new`].
    pub const EMPTY: Slot = Slot { conn: None, next: [NIL, NIL], hashed: false };
}

/// Why an insertion failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertError {
    /// No free slot (`conntrack_max` reached).
    Full,
    /// One of the tuples is already in the table (another CPU won the race).
    Clash,
}

/// The table over an arena `S` of [`Slot`]s and bucket heads `B`.
pub struct ConnTable<S, B> {
    slots: S,
    buckets: B,
    free: u32,
    count: u32,
    seed: u32,
}

fn reciprocal_scale(val: u32, ep_ro: u32) -> u32 {
    ((u64::from(val) * u64::from(ep_ro)) >> 32) as u32
}

fn node(slot: u32, dir: Direction) -> u32 {
    slot << 1 | dir as u32
}

fn node_slot(n: u32) -> u32 {
    n >> 1
}

fn node_dir(n: u32) -> Direction {
    if n & 1 == 0 {
        Direction::Original
    } else {
        Direction::Reply
    }
}

impl<S, B> ConnTable<S, B>
where
    S: DerefMut<Target = [Slot]>,
    B: DerefMut<Target = [u32]>,
{
    /// Builds an empty table over `slots` (its length is the capacity,
    /// truncated to [`MAX_ENTRIES`]) and `buckets` (at least one). `seed`
    /// randomises the hash (pass `get_random_u32()`).
    pub fn new(mut slots: S, mut buckets: B, seed: u32) -> Self {
        let cap = slots.len().min(MAX_ENTRIES) as u32;
        for (i, s) in slots.iter_mut().enumerate() {
            let next = if (i as u32).wrapping_add(1) < cap { i as u32 + 1 } else { NIL };
            *s = Slot { conn: None, next: [next, NIL], hashed: false };
        }
        for b in buckets.iter_mut() {
            *b = NIL;
        }
        let free = if cap > 0 { 0 } else { NIL };
        ConnTable { slots, buckets, free, count: 0, seed }
    }

    /// Number of connections in the table, unconfirmed ones included.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Maximum number of connections.
    pub fn capacity(&self) -> u32 {
        self.slots.len().min(MAX_ENTRIES) as u32
    }

    /// Number of hash buckets.
    pub fn buckets(&self) -> u32 {
        self.buckets.len() as u32
    }

    /// The bucket of tuple `t` in namespace `netns`.
    pub fn bucket_of(&self, t: &Tuple, netns: u32) -> u32 {
        reciprocal_scale(t.hash(netns, self.seed), self.buckets.len() as u32)
    }

    fn slot(&self, i: u32) -> Option<&Slot> {
        self.slots.get(i as usize)
    }

    fn next_of(&self, n: u32) -> u32 {
        self.slot(node_slot(n))
            .and_then(|s| s.next.get(node_dir(n) as usize))
            .copied()
            .unwrap_or(NIL)
    }

    fn set_next(&mut self, n: u32, v: u32) {
        if let Some(s) = self.slots.get_mut(node_slot(n) as usize) {
            s.next[node_dir(n) as usize] = v;
        }
    }

    /// Finds the connection one of whose tuples is `t` in `netns`: its slot
    /// index and which of its tuples matched.
    pub fn find(&self, t: &Tuple, netns: u32) -> Option<(u32, Direction)> {
        let b = self.bucket_of(t, netns);
        let mut n = self.buckets.get(b as usize).copied().unwrap_or(NIL);
        // A chain can never be longer than the number of nodes; bounding the
        // walk keeps a corrupted chain from looping forever.
        let mut budget = u64::from(self.capacity()) * 2 + 1;
        while n != NIL && budget > 0 {
            let dir = node_dir(n);
            if let Some(Some(c)) = self.slot(node_slot(n)).map(|s| s.conn.as_ref()) {
                if c.netns == netns && c.tuple[dir as usize] == *t {
                    return Some((node_slot(n), dir));
                }
            }
            n = self.next_of(n);
            budget -= 1;
        }
        None
    }

    /// The connection in slot `i`.
    pub fn get(&self, i: u32) -> Option<&Conn> {
        self.slot(i).and_then(|s| s.conn.as_ref())
    }

    /// The connection in slot `i`, mutable.
    pub fn get_mut(&mut self, i: u32) -> Option<&mut Conn> {
        self.slots.get_mut(i as usize).and_then(|s| s.conn.as_mut())
    }

    /// Inserts `conn`, hashed by both its tuples ([`ConnTable::alloc`] then
    /// [`ConnTable::hash`]). Fails with [`InsertError::Clash`] if either tuple
    /// is present already and with [`InsertError::Full`] if no slot is free;
    /// the table is unchanged then.
    pub fn insert(&mut self, conn: Conn) -> Result<u32, InsertError> {
        if self.clashes(&conn) {
            return Err(InsertError::Clash);
        }
        let idx = self.alloc(conn)?;
        self.hash(idx)?;
        Ok(idx)
    }

    fn clashes(&self, conn: &Conn) -> bool {
        self.find(&conn.tuple[0], conn.netns).is_some() || self.find(&conn.tuple[1], conn.netns).is_some()
    }

    /// Gives `conn` a slot without hashing it (an unconfirmed connection:
    /// lookups do not find it). Fails with [`InsertError::Full`] when no
    /// slot is free.
    pub fn alloc(&mut self, conn: Conn) -> Result<u32, InsertError> {
        let idx = self.free;
        let slot = self.slots.get_mut(idx as usize).ok_or(InsertError::Full)?;
        self.free = slot.next[0];
        *slot = Slot { conn: Some(conn), next: [NIL, NIL], hashed: false };
        self.count += 1;
        Ok(idx)
    }

    /// Whether slot `i` holds a hashed (confirmed) connection.
    pub fn is_hashed(&self, i: u32) -> bool {
        self.slot(i).is_some_and(|s| s.hashed && s.conn.is_some())
    }

    /// Hashes the unconfirmed connection of slot `i` by both its tuples (the
    /// kernel's `__nf_conntrack_confirm`). Fails with [`InsertError::Clash`]
    /// if either tuple is in the table already (the slot stays unconfirmed)
    /// and with [`InsertError::Full`] if slot `i` holds no unconfirmed
    /// connection.
    pub fn hash(&mut self, idx: u32) -> Result<(), InsertError> {
        let conn = match self.slot(idx) {
            Some(Slot { conn: Some(c), hashed: false, .. }) => *c,
            _ => return Err(InsertError::Full),
        };
        if self.clashes(&conn) {
            return Err(InsertError::Clash);
        }
        for dir in [Direction::Original, Direction::Reply] {
            let b = self.bucket_of(&conn.tuple[dir as usize], conn.netns) as usize;
            let head = self.buckets.get(b).copied().unwrap_or(NIL);
            self.set_next(node(idx, dir), head);
            if let Some(h) = self.buckets.get_mut(b) {
                *h = node(idx, dir);
            }
        }
        if let Some(s) = self.slots.get_mut(idx as usize) {
            s.hashed = true;
        }
        Ok(())
    }

    fn unlink(&mut self, n: u32, tuple: &Tuple, netns: u32) {
        let b = self.bucket_of(tuple, netns) as usize;
        let next = self.next_of(n);
        let Some(&head) = self.buckets.get(b) else { return };
        if head == n {
            if let Some(h) = self.buckets.get_mut(b) {
                *h = next;
            }
            return;
        }
        let mut prev = head;
        let mut budget = u64::from(self.capacity()) * 2 + 1;
        while prev != NIL && budget > 0 {
            let p_next = self.next_of(prev);
            if p_next == n {
                self.set_next(prev, next);
                return;
            }
            prev = p_next;
            budget -= 1;
        }
    }

    /// Removes the connection in slot `i`, hashed or not, and returns it.
    pub fn remove(&mut self, i: u32) -> Option<Conn> {
        let conn = self.get(i).copied()?;
        if self.is_hashed(i) {
            self.unlink(node(i, Direction::Original), &conn.tuple[0], conn.netns);
            self.unlink(node(i, Direction::Reply), &conn.tuple[1], conn.netns);
        }
        let free = self.free;
        let slot = self.slots.get_mut(i as usize)?;
        *slot = Slot { conn: None, next: [free, NIL], hashed: false };
        self.free = i;
        self.count -= 1;
        Some(conn)
    }

    /// Garbage collection: removes expired connections in up to `max_buckets`
    /// buckets starting at `start`, calling `gone` with the slot and the
    /// namespace of each (so per-namespace counts and references can
    /// follow). Returns how many it removed and the bucket to start from next
    /// time (wrapping around).
    pub fn gc(&mut self, now: u64, start: u32, max_buckets: u32, mut gone: impl FnMut(u32, u32)) -> (u32, u32) {
        let nb = self.buckets();
        if nb == 0 {
            return (0, 0);
        }
        let mut removed = 0;
        let mut b = start % nb;
        for _ in 0..max_buckets.min(nb) {
            removed += self.expire_bucket(b, |c| c.expired(now), &mut gone);
            b = (b + 1) % nb;
        }
        (removed, b)
    }

    /// Removes every confirmed connection of namespace `netns` (the
    /// namespace is going away) or, with `None`, every confirmed connection,
    /// calling `gone` with each slot. Unconfirmed ones stay with their
    /// owners. Returns how many.
    pub fn flush(&mut self, netns: Option<u32>, mut gone: impl FnMut(u32)) -> u32 {
        let mut removed = 0;
        for i in 0..self.capacity() {
            if let Some(c) = self.get(i) {
                if self.is_hashed(i) && netns.is_none_or(|n| c.netns == n) {
                    self.remove(i);
                    gone(i);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Removes the connections of bucket `b` (by their original-direction
    /// node) for which `doomed` holds.
    fn expire_bucket(&mut self, b: u32, doomed: impl Fn(&Conn) -> bool, gone: &mut impl FnMut(u32, u32)) -> u32 {
        let mut removed = 0;
        let mut n = self.buckets.get(b as usize).copied().unwrap_or(NIL);
        let mut budget = u64::from(self.capacity()) * 2 + 1;
        while n != NIL && budget > 0 {
            let next = self.next_of(n);
            if node_dir(n) == Direction::Original && self.get(node_slot(n)).is_some_and(&doomed) {
                if let Some(c) = self.remove(node_slot(n)) {
                    gone(node_slot(n), c.netns);
                }
                removed += 1;
            }
            n = next;
            budget -= 1;
        }
        removed
    }

    /// Early drop when the table is full: evicts one connection of
    /// namespace `netns` that is not ASSURED (an expired one first) from the
    /// [`EVICTION_RANGE`] buckets starting at `bucket`. Returns the slot of
    /// the evicted one. Like the kernel's `early_drop()`, a namespace never
    /// evicts another's connections.
    pub fn early_drop(&mut self, bucket: u32, now: u64, netns: u32) -> Option<u32> {
        let nb = self.buckets();
        if nb == 0 {
            return None;
        }
        for k in 0..EVICTION_RANGE.min(nb) {
            let b = (bucket.wrapping_add(k)) % nb;
            let mut n = self.buckets.get(b as usize).copied().unwrap_or(NIL);
            let mut victim = None;
            let mut budget = u64::from(self.capacity()) * 2 + 1;
            while n != NIL && budget > 0 {
                if let Some(c) = self.get(node_slot(n)).filter(|c| c.netns == netns) {
                    if c.expired(now) {
                        victim = Some(node_slot(n));
                        break;
                    }
                    if c.status & IPS_ASSURED == 0 && victim.is_none() {
                        victim = Some(node_slot(n));
                    }
                }
                n = self.next_of(n);
                budget -= 1;
            }
            if let Some(v) = victim {
                self.remove(v);
                return Some(v);
            }
        }
        None
    }

    /// Every confirmed connection with its slot index, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Conn)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.hashed)
            .filter_map(|(i, s)| s.conn.as_ref().map(|c| (i as u32, c)))
    }
}

/// The kernel's default number of hash buckets for a machine with
/// `ram_bytes` of memory (`nf_conntrack_init_start()`): RAM / 16384 / size of
/// a bucket head, at least 1024; 65536 above 1 GiB; 262144 above 4 GiB on
/// 64-bit. With no `hashsize` given the kernel also uses this as the maximum
/// number of connections.
pub fn default_buckets(ram_bytes: u64, bucket_head_bytes: u64) -> u32 {
    const GIB: u64 = 1 << 30;
    let n = if bucket_head_bytes >= 8 && ram_bytes > 4 * GIB {
        262_144
    } else if ram_bytes > GIB {
        65_536
    } else {
        ram_bytes / 16_384 / bucket_head_bytes.max(1)
    };
    n.clamp(1024, 262_144) as u32
}
