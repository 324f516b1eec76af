// SPDX-License-Identifier: GPL-2.0
//! The connection table: a fixed arena of entries hashed by both tuples.
//!
//! Like the kernel's conntrack hash (net/netfilter/nf_conntrack_core.c), every
//! connection is reachable from two hash chains, one per direction, so a
//! packet of either direction finds it with one lookup. Instead of pointers
//! the chains link slot indices: a chain node is `slot << 1 | direction`.
//! The arena is allocated by the caller (the kernel module, in process
//! context); nothing here allocates, so the packet path never does either.
//! Free slots form a list through `next[0]`.
//!
//! As in the kernel, a connection first exists unconfirmed: [`ConnTable::alloc`]
//! gives it a slot (it counts against the capacity) without hashing it, so
//! lookups do not find it and its tuples may still change (NAT alters the
//! reply tuple); [`ConnTable::hash`] confirms it. Only hashed connections
//! are listed, collected, flushed or early-dropped; an unconfirmed one is
//! freed by its owner with [`ConnTable::remove`].
//!
//! For NAT there is a third chain per slot, the by-source index (the
//! kernel's `nf_nat_bysource`, net/netfilter/nf_nat_core.c): a connection is
//! linked there by the source of its original tuple (protocol, family,
//! address and port or ICMP identifier, in its namespace) when source NAT
//! is set up for it ([`ConnTable::link_bysource`], null bindings included),
//! so that [`ConnTable::for_each_same_src`] finds the mapping an earlier
//! connection from the same source got. It has its own bucket array, and
//! [`ConnTable::remove`] unlinks a connection from it.
//!
//! The arena can grow ([`ConnTable::grow`]): the caller allocates a larger
//! one outside the lock and the table moves onto it, slot indices kept.
//!
//! Bucket selection uses `reciprocal_scale` (any bucket count works).
//! Not synchronised: the caller holds the table's lock.

use core::ops::DerefMut;

use crate::conntrack::conn::{Conn, Direction, IPS_ASSURED};
use crate::conntrack::tuple::{jhash2, Tuple};
use crate::conntrack::zone::Zone;
use crate::packet::L3Proto;

/// End of a chain or of the free list.
pub const NIL: u32 = u32::MAX;

/// Largest arena the node encoding supports.
pub const MAX_ENTRIES: usize = (u32::MAX >> 2) as usize;

/// The smallest arena [`ConnTable::growth_target`] asks for.
pub const GROW_MIN: u32 = 64;

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
    /// Next slot in the by-source chain.
    src_next: u32,
    /// Whether the connection is in the hash chains (confirmed).
    hashed: bool,
    /// Whether the connection is in the by-source chain.
    bysrc: bool,
}

impl Slot {
    /// An unused slot, for filling the arena before [`ConnTable::new`].
    pub const EMPTY: Slot = Slot { conn: None, next: [NIL, NIL], src_next: NIL, hashed: false, bysrc: false };

    /// Makes this slot hold `conn` (or be free, with `free_next` the next
    /// free slot), in no chain. Field by field: a new Slot built on the
    /// stack and copied in was two copies of the connection a new one.
    fn set_unlinked(&mut self, conn: Option<Conn>, free_next: u32) {
        self.conn = conn;
        (self.next, self.src_next, self.hashed, self.bysrc) = ([free_next, NIL], NIL, false, false);
    }
}

/// Why an insertion failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertError {
    /// No free slot (`conntrack_max` reached).
    Full,
    /// One of the tuples is already in the table (another CPU won the race).
    Clash,
}

/// The table over an arena `S` of [`Slot`]s and bucket heads `B` (one
/// array for the tuple hash, one for the by-source index).
pub struct ConnTable<S, B> {
    slots: S,
    buckets: B,
    src_buckets: B,
    free: u32,
    count: u32,
    seed: u32,
}

/// Empties slots `from..to` of `slots` and chains them, in order, into a
/// free list that continues with `tail`.
fn free_run(slots: &mut [Slot], from: u32, to: u32, tail: u32) {
    for i in from..to {
        let next = if i.wrapping_add(1) < to { i.wrapping_add(1) } else { tail };
        if let Some(s) = slots.get_mut(i as usize) {
            s.set_unlinked(None, next);
        }
    }
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
    /// truncated to [`MAX_ENTRIES`]), `buckets` for the tuple hash and
    /// `src_buckets` for the by-source index (at least one each; the kernel
    /// sizes both alike). `seed` randomises both hashes (pass
    /// `get_random_u32()`).
    pub fn new(mut slots: S, mut buckets: B, mut src_buckets: B, seed: u32) -> Self {
        let cap = slots.len().min(MAX_ENTRIES) as u32;
        free_run(&mut slots, 0, cap, NIL);
        for b in buckets.iter_mut().chain(src_buckets.iter_mut()) {
            *b = NIL;
        }
        let free = if cap > 0 { 0 } else { NIL };
        ConnTable { slots, buckets, src_buckets, free, count: 0, seed }
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

    /// The bucket of tuple `t` in namespace `netns` and the default zone.
    pub fn bucket_of(&self, t: &Tuple, netns: u32) -> u32 {
        self.bucket_in(t, netns, 0)
    }

    /// The bucket of tuple `t` in namespace `netns` keyed by zone id
    /// `zone_id` (`hash_conntrack_raw()`, which mixes the zone id into the
    /// hash key: here into the seed, so zone 0 hashes as before zones).
    pub fn bucket_in(&self, t: &Tuple, netns: u32, zone_id: u16) -> u32 {
        reciprocal_scale(t.hash(netns, self.seed ^ u32::from(zone_id)), self.buckets.len() as u32)
    }

    /// The bucket of direction `dir`'s node of `c` (the kernel hashes each
    /// tuple with `nf_ct_zone_id(zone, dir)`).
    fn bucket_of_node(&self, c: &Conn, dir: Direction) -> u32 {
        self.bucket_in(&c.tuple[dir as usize], c.netns, c.zone.id_in(dir))
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

    /// Finds the connection one of whose tuples is `t` in `netns`, in the
    /// default zone: its slot index and which of its tuples matched.
    pub fn find(&self, t: &Tuple, netns: u32) -> Option<(u32, Direction)> {
        self.find_in(t, netns, Zone::DEFAULT)
    }

    /// Finds the connection one of whose tuples is `t` in `netns` looked up
    /// in zone `zone` (`nf_ct_key_equal()`: the tuple, the namespace, and
    /// `nf_ct_zone_equal()` for the direction of the tuple that matched).
    /// As `resolve_normal_ct()`, the bucket of the zone's original-direction
    /// id is searched, then, if the reply-direction id differs, that one's;
    /// between them they hold every node that can match (the kernel's
    /// `nf_conntrack_find_get()` and `nf_conntrack_tuple_taken()` search
    /// only one of the two).
    pub fn find_in(&self, t: &Tuple, netns: u32, zone: Zone) -> Option<(u32, Direction)> {
        let orig = zone.id_in(Direction::Original);
        let reply = zone.id_in(Direction::Reply);
        self.find_in_bucket(t, netns, zone, orig)
            .or_else(|| if reply != orig { self.find_in_bucket(t, netns, zone, reply) } else { None })
    }

    fn find_in_bucket(&self, t: &Tuple, netns: u32, zone: Zone, zone_id: u16) -> Option<(u32, Direction)> {
        self.find_at(self.bucket_in(t, netns, zone_id), t, netns, zone)
    }

    /// [`ConnTable::find_at`], not inlined: the clash search's four calls
    /// share one copy of the chain walk (inlined into each, they made
    /// rnf_conntrack's text 1.6 KB larger on x86_64).
    #[inline(never)]
    fn find_at_shared(&self, b: u32, t: &Tuple, netns: u32, zone: Zone) -> Option<(u32, Direction)> {
        self.find_at(b, t, netns, zone)
    }

    /// [`ConnTable::find_in_bucket`] in bucket `b`, worked out by the caller.
    #[inline(always)]
    fn find_at(&self, b: u32, t: &Tuple, netns: u32, zone: Zone) -> Option<(u32, Direction)> {
        let mut n = self.buckets.get(b as usize).copied().unwrap_or(NIL);
        // A chain can never be longer than the number of nodes; bounding the
        // walk keeps a corrupted chain from looping forever.
        let mut budget = u64::from(self.capacity()) * 2 + 1;
        while n != NIL && budget > 0 {
            let dir = node_dir(n);
            if let Some(Some(c)) = self.slot(node_slot(n)).map(|s| s.conn.as_ref()) {
                // The tuple first: the other connections of a bucket are
                // nearly always of the same namespace, and differ in the
                // ports, which the tuple's comparison tests first.
                if c.tuple[dir as usize] == *t && c.netns == netns && c.zone.equal_in(zone, dir) {
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
    /// the table is unchanged then (a clash is reported before a full
    /// table). One clash search: [`ConnTable::hash`]'s, the slot it was
    /// about to link given back on a clash.
    pub fn insert(&mut self, conn: Conn) -> Result<u32, InsertError> {
        let idx = match self.alloc(conn) {
            Ok(idx) => idx,
            Err(e) => return Err(if self.clashes(&conn) { InsertError::Clash } else { e }),
        };
        if let Err(e) = self.hash(idx) {
            // The slot goes back to the head of the free list, where
            // alloc() took it from: the table is as it was.
            self.remove(idx);
            return Err(e);
        }
        Ok(idx)
    }

    /// Whether either of `conn`'s tuples is in the table (`find_in` of
    /// each in `conn`'s zone).
    fn clashes(&self, conn: &Conn) -> bool {
        self.clashes_at(conn, self.node_buckets(conn))
    }

    /// The buckets `conn`'s nodes go to, by direction.
    fn node_buckets(&self, conn: &Conn) -> [u32; 2] {
        [Direction::Original, Direction::Reply].map(|d| self.bucket_of_node(conn, d))
    }

    /// [`ConnTable::clashes`] given `buckets`, `conn`'s node buckets: each
    /// tuple's own is also the first one `find_in` searches for it when
    /// the zone has one id, hashed once for the search and the link.
    fn clashes_at(&self, conn: &Conn, buckets: [u32; 2]) -> bool {
        let (o, r) = (conn.zone.id_in(Direction::Original), conn.zone.id_in(Direction::Reply));
        let ([t0, t1], netns, zone) = (&conn.tuple, conn.netns, conn.zone);
        self.find_at_shared(buckets[0], t0, netns, zone).is_some()
            || self.find_at_shared(buckets[1], t1, netns, zone).is_some()
            || (r != o
                && (self.find_at_shared(self.bucket_in(t0, netns, r), t0, netns, zone).is_some()
                    || self.find_at_shared(self.bucket_in(t1, netns, o), t1, netns, zone).is_some()))
    }

    /// Gives `conn` a slot without hashing it (an unconfirmed connection:
    /// lookups do not find it). Fails with [`InsertError::Full`] when no
    /// slot is free.
    pub fn alloc(&mut self, conn: Conn) -> Result<u32, InsertError> {
        let idx = self.free;
        let slot = self.slots.get_mut(idx as usize).ok_or(InsertError::Full)?;
        self.free = slot.next[0];
        slot.set_unlinked(Some(conn), NIL);
        // At most the number of slots (u32 indices): never saturates.
        self.count = self.count.saturating_add(1);
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
        let Some(Slot { conn: Some(c), hashed: false, .. }) = self.slot(idx) else { return Err(InsertError::Full) };
        // Worked out once for the clash search and the link.
        let buckets = self.node_buckets(c);
        if self.clashes_at(c, buckets) {
            return Err(InsertError::Clash);
        }
        for (dir, b) in [Direction::Original, Direction::Reply].into_iter().zip(buckets) {
            let b = b as usize;
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

    fn unlink(&mut self, n: u32, conn: &Conn) {
        let b = self.bucket_of_node(conn, node_dir(n)) as usize;
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

    /// The by-source bucket of a source in namespace `netns` and zone
    /// `zone`: the family, protocol, address and port (or ICMP identifier)
    /// of an original tuple's source and the zone's id when it covers both
    /// directions, the key of the kernel's `hash_by_src()`. As in
    /// [`Tuple::hash`], the namespace goes into the initial value with the
    /// seed, and an IPv4 source takes three words (the address; the port
    /// with the protocol and family; the zone): lookup3's final mix alone.
    fn src_bucket_of(&self, netns: u32, zone: Zone, proto: u8, l3: L3Proto, src: &[u8; 16], src_id: u16) -> u32 {
        let [a0, a1, a2, a3] = super::tuple::addr_words(src);
        let id = u32::from(src_id) << 16 | u32::from(proto) << 8 | u32::from(l3.nfproto());
        let zone = u32::from(zone.bysource_id());
        let initval = self.seed ^ netns;
        let h = match l3 {
            L3Proto::Ipv4 => jhash2(&[a0, id, zone], initval),
            L3Proto::Ipv6 => jhash2(&[a0, a1, a2, a3, id, zone], initval),
        };
        reciprocal_scale(h, self.src_buckets.len() as u32)
    }

    fn src_bucket_of_conn(&self, c: &Conn) -> u32 {
        let t = &c.tuple[Direction::Original as usize];
        self.src_bucket_of(c.netns, c.zone, t.proto, t.l3, &t.src, t.src_id)
    }

    fn src_next_of(&self, i: u32) -> u32 {
        self.slot(i).map_or(NIL, |s| s.src_next)
    }

    fn set_src_next(&mut self, i: u32, v: u32) {
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.src_next = v;
        }
    }

    /// Whether slot `i` holds a connection in the by-source index.
    pub fn is_bysource(&self, i: u32) -> bool {
        self.slot(i).is_some_and(|s| s.bysrc && s.conn.is_some())
    }

    /// Links the connection of slot `i`, confirmed or not, into the
    /// by-source index under the source of its original tuple (the
    /// kernel's `nf_nat_setup_info` for a SRC manip); a linked one stays as
    /// it is. Its original tuple must not change while it is linked.
    /// Returns whether slot `i` is linked (false for a free slot).
    pub fn link_bysource(&mut self, i: u32) -> bool {
        if self.is_bysource(i) {
            return true;
        }
        // The bucket from the connection where it lies (a copy of the
        // whole connection, for the borrow, was a memcpy a new mapping).
        let Some(conn) = self.get(i) else { return false };
        let b = self.src_bucket_of_conn(conn) as usize;
        let Some(&head) = self.src_buckets.get(b) else { return false };
        self.set_src_next(i, head);
        if let Some(h) = self.src_buckets.get_mut(b) {
            *h = i;
        }
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.bysrc = true;
        }
        true
    }

    /// Takes slot `i` out of the by-source index, if it is in it (NAT going
    /// away clears its bindings).
    pub fn unlink_bysource_slot(&mut self, i: u32) {
        if self.is_bysource(i) {
            if let Some(c) = self.get(i).copied() {
                self.unlink_bysource(i, &c);
            }
        }
    }

    fn unlink_bysource(&mut self, i: u32, conn: &Conn) {
        let b = self.src_bucket_of_conn(conn) as usize;
        let next = self.src_next_of(i);
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.bysrc = false;
            s.src_next = NIL;
        }
        let Some(&head) = self.src_buckets.get(b) else { return };
        if head == i {
            if let Some(h) = self.src_buckets.get_mut(b) {
                *h = next;
            }
            return;
        }
        let mut prev = head;
        let mut budget = u64::from(self.capacity()) + 1;
        while prev != NIL && budget > 0 {
            let p_next = self.src_next_of(prev);
            if p_next == i {
                self.set_src_next(prev, next);
                return;
            }
            prev = p_next;
            budget -= 1;
        }
    }

    /// [`ConnTable::for_each_same_src_in`] in the default zone.
    pub fn for_each_same_src(
        &self,
        netns: u32,
        proto: u8,
        l3: L3Proto,
        src: &[u8; 16],
        src_id: u16,
        f: impl FnMut(u32, &Conn) -> bool,
    ) {
        self.for_each_same_src_in(netns, Zone::DEFAULT, proto, l3, src, src_id, f)
    }

    /// Calls `f` with the slot and the connection of each entry of the
    /// by-source index in namespace `netns` whose original tuple has the
    /// source `proto`, `l3`, `src`, `src_id` and whose zone equals `zone`
    /// in the original direction (the kernel's `find_appropriate_src`
    /// walk: `same_src`, `nf_ct_zone_equal(ct, zone, IP_CT_DIR_ORIGINAL)`),
    /// unconfirmed ones included, until `f` returns true.
    #[allow(clippy::too_many_arguments)]
    pub fn for_each_same_src_in(
        &self,
        netns: u32,
        zone: Zone,
        proto: u8,
        l3: L3Proto,
        src: &[u8; 16],
        src_id: u16,
        mut f: impl FnMut(u32, &Conn) -> bool,
    ) {
        let b = self.src_bucket_of(netns, zone, proto, l3, src, src_id);
        let mut i = self.src_buckets.get(b as usize).copied().unwrap_or(NIL);
        // As in `find`: a chain never holds more than every slot once.
        let mut budget = u64::from(self.capacity()) + 1;
        while i != NIL && budget > 0 {
            if let Some(c) = self.get(i) {
                let t = &c.tuple[Direction::Original as usize];
                if c.netns == netns
                    && c.zone.equal_in(zone, Direction::Original)
                    && t.proto == proto
                    && t.l3 == l3
                    && t.src == *src
                    && t.src_id == src_id
                    && f(i, c)
                {
                    return;
                }
            }
            i = self.src_next_of(i);
            budget -= 1;
        }
    }

    /// Removes the connection in slot `i`, hashed or not, and returns it;
    /// it leaves the by-source index too.
    pub fn remove(&mut self, i: u32) -> Option<Conn> {
        let conn = self.get(i).copied()?;
        if self.is_hashed(i) {
            self.unlink(node(i, Direction::Original), &conn);
            self.unlink(node(i, Direction::Reply), &conn);
        }
        if self.is_bysource(i) {
            self.unlink_bysource(i, &conn);
        }
        let free = self.free;
        let slot = self.slots.get_mut(i as usize)?;
        slot.set_unlinked(None, free);
        self.free = i;
        self.count = self.count.saturating_sub(1);
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
            removed = self.expire_bucket(b, |c| c.expired(now), &mut gone).saturating_add(removed);
            b = (b + 1) % nb;
        }
        (removed, b)
    }

    /// Removes every confirmed connection of namespace `netns` (the
    /// namespace is going away) or, with `None`, every confirmed connection,
    /// calling `gone` with each slot. Unconfirmed ones stay with their
    /// owners. Returns how many.
    pub fn flush(&mut self, netns: Option<u32>, gone: impl FnMut(u32)) -> u32 {
        self.flush_matching(|c| netns.is_none_or(|n| c.netns == n), gone)
    }

    /// Removes every confirmed connection for which `doomed` holds (the
    /// kernel's `nf_ct_iterate_cleanup()`), calling `gone` with each slot.
    /// Unconfirmed ones stay with their owners. Returns how many.
    pub fn flush_matching(&mut self, doomed: impl Fn(&Conn) -> bool, mut gone: impl FnMut(u32)) -> u32 {
        let mut removed = 0u32;
        for i in 0..self.capacity() {
            if let Some(c) = self.get(i) {
                if self.is_hashed(i) && doomed(c) {
                    self.remove(i);
                    gone(i);
                    removed = removed.saturating_add(1);
                }
            }
        }
        removed
    }

    /// Removes the connections of bucket `b` (by their original-direction
    /// node) for which `doomed` holds.
    fn expire_bucket(&mut self, b: u32, doomed: impl Fn(&Conn) -> bool, gone: &mut impl FnMut(u32, u32)) -> u32 {
        let mut removed = 0u32;
        let mut n = self.buckets.get(b as usize).copied().unwrap_or(NIL);
        let mut budget = u64::from(self.capacity()) * 2 + 1;
        while n != NIL && budget > 0 {
            let next = self.next_of(n);
            if node_dir(n) == Direction::Original && self.get(node_slot(n)).is_some_and(&doomed) {
                if let Some(c) = self.remove(node_slot(n)) {
                    gone(node_slot(n), c.netns);
                }
                removed = removed.saturating_add(1);
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

    /// The arena size to grow to: twice the current one (at least
    /// [`GROW_MIN`], at most [`MAX_ENTRIES`]) once connections fill half of
    /// it, `None` while they fill less or the arena is as large as it can
    /// be. The kernel allocates each connection from its slab; rnf's arena
    /// grows ahead of its connections, by whole arrays the caller
    /// allocates in process context (see [`ConnTable::grow`]).
    pub fn growth_target(&self) -> Option<u32> {
        let cap = self.capacity();
        let max = MAX_ENTRIES as u32;
        (u64::from(self.count) * 2 >= u64::from(cap) && cap < max).then(|| cap.saturating_mul(2).clamp(GROW_MIN, max))
    }

    /// Moves the table onto a larger arena `slots` and returns the old one
    /// for the caller to free outside its lock. Every slot keeps its index,
    /// so the chains, the by-source index and whatever names a connection
    /// by its slot stay valid; the new slots (up to [`MAX_ENTRIES`]) are
    /// added to the free list. An arena no larger than the current one
    /// comes back as the error, the table unchanged.
    pub fn grow(&mut self, mut slots: S) -> Result<S, S> {
        let (old_cap, new_cap) = (self.capacity(), slots.len().min(MAX_ENTRIES) as u32);
        if new_cap <= old_cap {
            return Err(slots);
        }
        let (Some(to), Some(from)) = (slots.get_mut(..old_cap as usize), self.slots.get(..old_cap as usize)) else {
            return Err(slots);
        };
        to.copy_from_slice(from);
        // The new slots, in order, then whatever was free before.
        free_run(&mut slots, old_cap, new_cap, self.free);
        self.free = old_cap;
        Ok(core::mem::replace(&mut self.slots, slots))
    }

    /// Moves every connection onto new bucket arrays, `buckets` for the
    /// tuple hash and `src_buckets` for the by-source index (the kernel's
    /// `nf_conntrack_hash_resize()`), and returns the old ones for the
    /// caller to free outside its lock. Either array empty: nothing
    /// changes, and the new arrays come back as the error. Slots, and so
    /// connections' indices, stay where they are; only the chains are
    /// rebuilt.
    pub fn rehash(&mut self, mut buckets: B, mut src_buckets: B) -> Result<(B, B), (B, B)> {
        if buckets.is_empty() || src_buckets.is_empty() {
            return Err((buckets, src_buckets));
        }
        for b in buckets.iter_mut().chain(src_buckets.iter_mut()) {
            *b = NIL;
        }
        let old = core::mem::replace(&mut self.buckets, buckets);
        let old_src = core::mem::replace(&mut self.src_buckets, src_buckets);
        for i in 0..self.capacity() {
            let Some(Slot { conn: Some(conn), hashed, bysrc, .. }) = self.slot(i).copied() else { continue };
            if hashed {
                for dir in [Direction::Original, Direction::Reply] {
                    let b = self.bucket_of_node(&conn, dir) as usize;
                    let head = self.buckets.get(b).copied().unwrap_or(NIL);
                    self.set_next(node(i, dir), head);
                    if let Some(h) = self.buckets.get_mut(b) {
                        *h = node(i, dir);
                    }
                }
            }
            if bysrc {
                let b = self.src_bucket_of_conn(&conn) as usize;
                let head = self.src_buckets.get(b).copied().unwrap_or(NIL);
                self.set_src_next(i, head);
                if let Some(h) = self.src_buckets.get_mut(b) {
                    *h = i;
                }
            }
        }
        Ok((old, old_src))
    }

    /// Every confirmed connection with its slot index, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Conn)> + '_ {
        // Walked by slot number rather than `enumerate()` or `zip()`,
        // whose counters carry overflow checks; a `u32` range has none.
        (0..self.capacity()).filter_map(move |i| {
            let s = self.slot(i).filter(|s| s.hashed)?;
            s.conn.as_ref().map(|c| (i, c))
        })
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

/// The bucket count the kernel makes of a requested `n`
/// (`nf_ct_alloc_hashtable()`): rounded up to a whole page of bucket heads,
/// `per_page` of them (`PAGE_SIZE / sizeof(struct hlist_nulls_head)`).
/// `None` for 0 (`EINVAL` in `nf_conntrack_hash_resize()`) and for more
/// than `INT_MAX / 8` (the kernel's limit; `ENOMEM`).
pub fn round_buckets(n: u32, per_page: u32) -> Option<u32> {
    const LIMIT: u32 = i32::MAX as u32 / 8;
    if n == 0 || n > LIMIT {
        return None;
    }
    let per_page = per_page.max(1);
    let rounded = n.div_ceil(per_page).checked_mul(per_page)?;
    (rounded <= LIMIT).then_some(rounded)
}

#[cfg(test)]
mod tests {
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::conntrack::conn::ProtoTrack;
    use crate::packet::IPPROTO_UDP;

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[..4].copy_from_slice(&a);
        x
    }

    const CLIENT: [u8; 4] = [10, 0, 1, 3];

    /// A UDP connection from `src:sport` to `dst:dport` in `netns`.
    fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, netns: u32) -> Conn {
        let t = Tuple { src: v4(src), dst: v4(dst), src_id: sport, dst_id: dport, proto: IPPROTO_UDP, l3: L3Proto::Ipv4 };
        Conn { tuple: [t, t.invert()], status: 0, expires: 1000, netns, zone: Zone::DEFAULT, proto: ProtoTrack::Udp { stream_ts: 0 } }
    }

    struct Arena {
        slots: Vec<Slot>,
        buckets: Vec<u32>,
        src_buckets: Vec<u32>,
    }

    impl Arena {
        fn new(cap: usize, buckets: usize) -> Self {
            Arena { slots: vec![Slot::EMPTY; cap], buckets: vec![0; buckets], src_buckets: vec![0; buckets] }
        }
        fn table(&mut self) -> ConnTable<&mut [Slot], &mut [u32]> {
            ConnTable::new(&mut self.slots[..], &mut self.buckets[..], &mut self.src_buckets[..], 0x5eed)
        }
    }

    /// The slots the by-source walk reports for `CLIENT:sport` in `netns`.
    fn same_src<S, B>(t: &ConnTable<S, B>, netns: u32, sport: u16) -> Vec<u32>
    where
        S: DerefMut<Target = [Slot]>,
        B: DerefMut<Target = [u32]>,
    {
        let mut found = Vec::new();
        t.for_each_same_src(netns, IPPROTO_UDP, L3Proto::Ipv4, &v4(CLIENT), sport, |i, c| {
            assert_eq!(c.tuple[0].src_id, sport);
            found.push(i);
            false
        });
        found.sort_unstable();
        found
    }

    #[test]
    fn linked_connections_are_found_by_source() {
        let mut a = Arena::new(8, 4);
        let mut t = a.table();
        let c1 = t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 9999, 1)).unwrap();
        let c2 = t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 9998, 1)).unwrap();
        let other_port = t.insert(udp(CLIENT, 101, [192, 0, 2, 1], 9999, 1)).unwrap();
        let other_host = t.insert(udp([10, 0, 1, 4], 100, [192, 0, 2, 1], 9999, 1)).unwrap();
        assert!(same_src(&t, 1, 100).is_empty(), "nothing linked yet");
        for i in [c1, c2, other_port, other_host] {
            assert!(t.link_bysource(i));
        }
        assert!(t.link_bysource(c1), "linking twice is harmless");
        assert_eq!(same_src(&t, 1, 100), vec![c1, c2]);
        assert_eq!(same_src(&t, 1, 101), vec![other_port]);
        // The walk stops when the callback says so.
        let mut calls = 0;
        t.for_each_same_src(1, IPPROTO_UDP, L3Proto::Ipv4, &v4(CLIENT), 100, |_, _| {
            calls += 1;
            true
        });
        assert_eq!(calls, 1);
        // Another protocol or family with the same address and port is not it.
        let mut any = false;
        t.for_each_same_src(1, 6, L3Proto::Ipv4, &v4(CLIENT), 100, |_, _| {
            any = true;
            false
        });
        t.for_each_same_src(1, IPPROTO_UDP, L3Proto::Ipv6, &v4(CLIENT), 100, |_, _| {
            any = true;
            false
        });
        assert!(!any);
    }

    /// Every part of the by-source key moves its bucket: the address
    /// (each of an IPv6 source's words), the port, the protocol, the
    /// family, the namespace and the zone. One million buckets, so that a
    /// change landing in the same one by chance is a one-in-a-million event
    /// (the seed is fixed: the outcome is too).
    #[test]
    fn bysource_buckets_move_with_every_part_of_the_key() {
        let (slots, mut b, mut sb) = (&mut [Slot::EMPTY; 1][..], vec![0u32; 1 << 20], vec![0u32; 1 << 20]);
        let t = ConnTable::new(slots, &mut b[..], &mut sb[..], 0x5eed);
        let z = |id| Zone { id, dir: 3 };
        let mut a6 = [0u8; 16];
        a6[..4].copy_from_slice(&CLIENT);
        let base = t.src_bucket_of(1, Zone::DEFAULT, IPPROTO_UDP, L3Proto::Ipv4, &v4(CLIENT), 100);
        let moved = [
            t.src_bucket_of(2, Zone::DEFAULT, IPPROTO_UDP, L3Proto::Ipv4, &v4(CLIENT), 100),
            t.src_bucket_of(1, z(1), IPPROTO_UDP, L3Proto::Ipv4, &v4(CLIENT), 100),
            t.src_bucket_of(1, Zone::DEFAULT, 6, L3Proto::Ipv4, &v4(CLIENT), 100),
            t.src_bucket_of(1, Zone::DEFAULT, IPPROTO_UDP, L3Proto::Ipv6, &a6, 100),
            t.src_bucket_of(1, Zone::DEFAULT, IPPROTO_UDP, L3Proto::Ipv4, &v4([10, 0, 1, 4]), 100),
            t.src_bucket_of(1, Zone::DEFAULT, IPPROTO_UDP, L3Proto::Ipv4, &v4(CLIENT), 101),
        ];
        for (k, m) in moved.iter().enumerate() {
            assert_ne!(*m, base, "key part {k}");
        }
        let base6 = t.src_bucket_of(1, Zone::DEFAULT, IPPROTO_UDP, L3Proto::Ipv6, &a6, 100);
        for byte in [0, 5, 10, 15] {
            let mut a = a6;
            a[byte] ^= 0x80;
            assert_ne!(t.src_bucket_of(1, Zone::DEFAULT, IPPROTO_UDP, L3Proto::Ipv6, &a, 100), base6, "byte {byte}");
        }
    }

    #[test]
    fn remove_unlinks_and_the_slot_comes_back_unlinked() {
        // One bucket: every connection shares the chain, so unlinking from
        // its head, middle and tail are all exercised.
        let mut a = Arena::new(4, 1);
        let mut t = a.table();
        let s: Vec<u32> = (0..4).map(|p| t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 9000 + p, 1)).unwrap()).collect();
        for &i in &s {
            assert!(t.link_bysource(i));
        }
        assert_eq!(same_src(&t, 1, 100), s);
        for (k, &i) in [s[1], s[3], s[0]].iter().enumerate() {
            assert!(t.remove(i).is_some());
            assert!(!t.is_bysource(i));
            assert_eq!(same_src(&t, 1, 100).len(), 3 - k);
        }
        assert_eq!(same_src(&t, 1, 100), vec![s[2]]);
        // A reused slot is not in the index until linked again.
        let again = t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 8000, 1)).unwrap();
        assert!(!t.is_bysource(again));
        assert_eq!(same_src(&t, 1, 100), vec![s[2]]);
        // Flush and GC go through remove too.
        assert!(t.link_bysource(again));
        assert_eq!(t.flush(Some(1), |_| {}), 2);
        assert!(same_src(&t, 1, 100).is_empty());
        assert!(!t.link_bysource(again), "a free slot cannot be linked");
        assert!(same_src(&t, 1, 100).is_empty());
    }

    #[test]
    fn unconfirmed_connections_can_be_linked() {
        let mut a = Arena::new(4, 3);
        let mut t = a.table();
        let confirmed = t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 9999, 1)).unwrap();
        let pending = t.alloc(udp(CLIENT, 100, [192, 0, 2, 1], 9998, 1)).unwrap();
        assert!(t.link_bysource(confirmed) && t.link_bysource(pending));
        assert!(!t.is_hashed(pending) && t.is_bysource(pending));
        assert_eq!(same_src(&t, 1, 100), vec![confirmed, pending]);
        // Confirming keeps it linked; an unconfirmed one freed by its owner
        // leaves the index.
        t.hash(pending).unwrap();
        assert!(t.is_bysource(pending));
        let loser = t.alloc(udp(CLIENT, 100, [192, 0, 2, 1], 9998, 1)).unwrap();
        assert!(t.link_bysource(loser));
        assert_eq!(same_src(&t, 1, 100).len(), 3);
        assert!(t.remove(loser).is_some());
        assert_eq!(same_src(&t, 1, 100), vec![confirmed, pending]);
    }

    #[test]
    fn other_namespaces_are_not_seen() {
        let mut a = Arena::new(4, 1);
        let mut t = a.table();
        let mine = t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 9999, 1)).unwrap();
        let theirs = t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 9999, 2)).unwrap();
        assert!(t.link_bysource(mine) && t.link_bysource(theirs));
        assert_eq!(same_src(&t, 1, 100), vec![mine]);
        assert_eq!(same_src(&t, 2, 100), vec![theirs]);
        assert!(same_src(&t, 3, 100).is_empty());
    }

    #[test]
    fn a_corrupted_chain_does_not_loop() {
        let mut a = Arena::new(2, 1);
        let mut t = a.table();
        let x = t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 9999, 1)).unwrap();
        assert!(t.link_bysource(x));
        // Make the chain a cycle through x.
        t.set_src_next(x, x);
        let mut calls = 0u32;
        t.for_each_same_src(1, IPPROTO_UDP, L3Proto::Ipv4, &v4(CLIENT), 100, |_, _| {
            calls += 1;
            false
        });
        assert!(calls <= 3, "bounded walk, {calls} calls");
        let y = t.alloc(udp(CLIENT, 101, [192, 0, 2, 1], 9999, 1)).unwrap();
        assert!(t.link_bysource(y));
        assert!(t.remove(x).is_some() && t.remove(y).is_some());
    }

    #[test]
    fn empty_bucket_arrays_do_not_panic() {
        let mut slots = [Slot::EMPTY; 2];
        let (mut b, mut sb) = ([0u32; 1], [0u32; 0]);
        let mut t = ConnTable::new(&mut slots[..], &mut b[..], &mut sb[..], 1);
        let x = t.insert(udp(CLIENT, 100, [192, 0, 2, 1], 9999, 1)).unwrap();
        assert!(!t.link_bysource(x));
        assert!(same_src(&t, 1, 100).is_empty());
        assert!(t.remove(x).is_some());
    }

    #[test]
    fn rehash_keeps_every_connection_findable() {
        let mut a = Arena::new(64, 4);
        let mut t = a.table();
        let mut slots = Vec::new();
        for p in 0..40u16 {
            let c = udp(CLIENT, 1000 + p % 10, [192, 0, 2, (p / 10) as u8], 53, 1 + u32::from(p % 2));
            let i = t.insert(c).unwrap();
            let linked = p % 3 == 0;
            if linked {
                assert!(t.link_bysource(i));
            }
            slots.push((i, c, linked));
        }
        // One unconfirmed connection stays unhashed and unlinked.
        let u = t.alloc(udp(CLIENT, 7, [192, 0, 2, 9], 53, 1)).unwrap();
        fn check(t: &ConnTable<&mut [Slot], &mut [u32]>, slots: &[(u32, Conn, bool)]) {
            for (i, c, _) in slots {
                assert_eq!(t.find(&c.tuple[0], c.netns), Some((*i, Direction::Original)));
                assert_eq!(t.find(&c.tuple[1], c.netns), Some((*i, Direction::Reply)));
            }
            assert_eq!(t.find(&udp(CLIENT, 7, [192, 0, 2, 9], 53, 1).tuple[0], 1), None);
            for sport in 1000..1010u16 {
                let mut want: Vec<u32> = slots
                    .iter()
                    .filter(|(_, c, linked)| *linked && c.tuple[0].src_id == sport && c.netns == 1)
                    .map(|(i, _, _)| *i)
                    .collect();
                let mut got = same_src(t, 1, sport);
                want.sort();
                got.sort();
                assert_eq!(got, want, "by-source chain of port {sport}");
            }
        }
        check(&t, &slots);
        let (mut b16, mut s16) = (vec![0u32; 16], vec![0u32; 16]);
        let (old_b, _) = t.rehash(&mut b16[..], &mut s16[..]).ok().unwrap();
        assert_eq!(old_b.len(), 4);
        assert_eq!(t.buckets(), 16);
        check(&t, &slots);
        let (mut b1, mut s1) = (vec![0u32; 1], vec![0u32; 1]);
        assert!(t.rehash(&mut b1[..], &mut s1[..]).is_ok());
        check(&t, &slots);
        // Removal and GC still walk the rebuilt chains.
        let (i0, c0, _) = slots.remove(0);
        assert!(t.remove(i0).is_some());
        assert_eq!(t.find(&c0.tuple[1], c0.netns), None);
        check(&t, &slots);
        assert!(t.hash(u).is_ok());
        let (removed, _) = t.gc(5000, 0, 1, |_, _| {});
        assert_eq!(removed as usize, slots.len() + 1);
        assert_eq!(t.count(), 0);
        // Empty arrays are refused and the table keeps its own.
        let (mut e, mut s2) = (vec![0u32; 0], vec![0u32; 2]);
        assert!(t.rehash(&mut e[..], &mut s2[..]).is_err());
        assert_eq!(t.buckets(), 1);
    }

    #[test]
    fn growth_keeps_every_connection_and_adds_free_slots() {
        let mut t = ConnTable::new(vec![Slot::EMPTY; 8], vec![0u32; 4], vec![0u32; 4], 0x5eed);
        let mut live = Vec::new();
        for p in 0..7u16 {
            // Asked for once half of the arena is taken: 4 of 8.
            assert_eq!(t.growth_target(), if p < 4 { None } else { Some(GROW_MIN) }, "{p} connections");
            let c = udp(CLIENT, 2000 + p, [192, 0, 2, 1], 53, 1);
            let i = t.insert(c).unwrap();
            if p % 2 == 0 {
                assert!(t.link_bysource(i));
            }
            live.push((i, c));
        }
        let u = t.alloc(udp(CLIENT, 7, [192, 0, 2, 9], 53, 1)).unwrap();
        assert_eq!(t.alloc(udp(CLIENT, 8, [192, 0, 2, 9], 53, 1)), Err(InsertError::Full));
        // No larger: refused, the table unchanged.
        assert_eq!(t.grow(vec![Slot::EMPTY; 8]).err().map(|s| s.len()), Some(8));
        assert_eq!(t.capacity(), 8);
        let old = t.grow(vec![Slot::EMPTY; 20]).ok().unwrap();
        assert_eq!((old.len(), t.capacity(), t.count()), (8, 20, 8));
        assert_eq!(t.growth_target(), None);
        for (i, c) in &live {
            assert_eq!(t.find(&c.tuple[0], 1), Some((*i, Direction::Original)));
            assert_eq!(t.find(&c.tuple[1], 1), Some((*i, Direction::Reply)));
            assert_eq!(same_src(&t, 1, c.tuple[0].src_id), if (c.tuple[0].src_id - 2000) % 2 == 0 { vec![*i] } else { vec![] });
        }
        // The unconfirmed connection kept its slot and can be confirmed.
        assert!(!t.is_hashed(u));
        assert!(t.hash(u).is_ok());
        // Twelve new slots, each handed out once, then full again.
        let mut got = Vec::new();
        for p in 0..12u16 {
            got.push(t.insert(udp(CLIENT, 3000 + p, [192, 0, 2, 2], 53, 1)).unwrap());
        }
        got.sort();
        assert_eq!(got, (8..20).collect::<Vec<u32>>());
        assert_eq!(t.insert(udp(CLIENT, 4000, [192, 0, 2, 2], 53, 1)), Err(InsertError::Full));
        assert_eq!(t.growth_target(), Some(GROW_MIN));
        // A slot freed before growing is handed out after the new ones.
        let mut t2 = ConnTable::new(vec![Slot::EMPTY; 2], vec![0u32; 1], vec![0u32; 1], 1);
        let a = t2.insert(udp(CLIENT, 1, [192, 0, 2, 1], 53, 1)).unwrap();
        assert!(t2.insert(udp(CLIENT, 2, [192, 0, 2, 1], 53, 1)).is_ok());
        assert!(t2.remove(a).is_some());
        assert!(t2.grow(vec![Slot::EMPTY; 3]).is_ok());
        let order: Vec<u32> = (0..2).map(|p| t2.alloc(udp(CLIENT, 10 + p, [192, 0, 2, 1], 53, 1)).unwrap()).collect();
        assert_eq!(order, vec![2, a]);
        assert_eq!(t2.alloc(udp(CLIENT, 20, [192, 0, 2, 1], 53, 1)), Err(InsertError::Full));
    }

    /// An empty arena grows too (to [`GROW_MIN`] slots when asked).
    #[test]
    fn an_empty_arena_asks_to_grow() {
        let mut t = ConnTable::new(vec![Slot::EMPTY; 0], vec![0u32; 1], vec![0u32; 1], 1);
        assert_eq!(t.growth_target(), Some(GROW_MIN));
        assert!(t.grow(vec![Slot::EMPTY; GROW_MIN as usize]).is_ok());
        assert!(t.insert(udp(CLIENT, 1, [192, 0, 2, 1], 53, 1)).is_ok());
    }

    /// Confirmation (`hash`, which works out each node's bucket once for
    /// the clash search and the link) refuses exactly what `find_in` finds
    /// of the connection's tuples, for every pair of zones, ids and
    /// directions, on a table holding the same flows in such zones.
    #[test]
    fn hash_clashes_as_find_in_finds_in_every_zone_combination() {
        use crate::conntrack::zone::{NF_CT_ZONE_DIR_ORIG, NF_CT_ZONE_DIR_REPL};
        let dirs = [NF_CT_ZONE_DIR_ORIG, NF_CT_ZONE_DIR_REPL, NF_CT_ZONE_DIR_ORIG | NF_CT_ZONE_DIR_REPL];
        let zones: std::vec::Vec<Zone> =
            [0u16, 1, 2].iter().flat_map(|&id| dirs.iter().map(move |&dir| Zone { id, dir })).collect();
        let f = udp(CLIENT, 100, [192, 0, 2, 1], 53, 1);
        // The flow, another one, and the flow seen from the other side
        // (its tuples swapped: it meets the first one's nodes in the other
        // direction, where a zone of one direction hashes another id).
        let flows = [f, udp(CLIENT, 101, [192, 0, 2, 1], 53, 1), Conn { tuple: [f.tuple[1], f.tuple[0]], ..f }];
        let mut seen = [0u32; 2];
        for (k, &held) in zones.iter().enumerate() {
            let mut a = Arena::new(8, 64);
            let mut t = a.table();
            t.insert(Conn { zone: held, ..flows[0] }).unwrap();
            t.insert(Conn { zone: zones[(k + 4) % zones.len()], ..flows[1] }).unwrap();
            for &zone in &zones {
                for f in flows {
                    let c = Conn { zone, ..f };
                    let want = t.find_in(&c.tuple[0], c.netns, zone).is_some() || t.find_in(&c.tuple[1], c.netns, zone).is_some();
                    let i = t.alloc(c).unwrap();
                    let got = t.hash(i);
                    assert_eq!(got == Err(InsertError::Clash), want, "held {held:?}, new {zone:?}");
                    seen[usize::from(want)] += 1;
                    assert!(t.remove(i).is_some());
                }
            }
        }
        assert!(seen[0] > 0 && seen[1] > 0, "both outcomes: {seen:?}");
    }

    #[test]
    fn identical_tuples_in_two_zones_coexist() {
        use crate::conntrack::zone::{NF_CT_ZONE_DIR_ORIG, NF_CT_ZONE_DIR_REPL};
        let mut a = Arena::new(8, 4);
        let mut t = a.table();
        let z = |id, dir| Zone { id, dir };
        let base = udp(CLIENT, 100, [192, 0, 2, 1], 53, 1);
        let default = t.insert(base).unwrap();
        assert_eq!(t.insert(base), Err(InsertError::Clash), "the same zone clashes");
        let one = t.insert(Conn { zone: z(1, 3), ..base }).unwrap();
        let two = t.insert(Conn { zone: z(2, 3), ..base }).unwrap();
        assert_eq!(t.insert(Conn { zone: z(1, 3), ..base }), Err(InsertError::Clash));
        for (zone, slot) in [(Zone::DEFAULT, default), (z(1, 3), one), (z(2, 3), two)] {
            assert_eq!(t.find_in(&base.tuple[0], 1, zone), Some((slot, Direction::Original)));
            assert_eq!(t.find_in(&base.tuple[1], 1, zone), Some((slot, Direction::Reply)));
        }
        assert_eq!(t.find(&base.tuple[0], 1), Some((default, Direction::Original)));
        assert_eq!(t.find_in(&base.tuple[0], 1, z(3, 3)), None);
        assert_eq!(t.find_in(&base.tuple[0], 2, z(1, 3)), None, "zones are per namespace");
        // Removing one leaves the others findable.
        assert!(t.remove(one).is_some());
        assert_eq!(t.find_in(&base.tuple[0], 1, z(1, 3)), None);
        assert_eq!(t.find_in(&base.tuple[1], 1, z(2, 3)), Some((two, Direction::Reply)));
        // A zone of one direction: the other direction's tuple is in the
        // default zone's key space, so it clashes with the default zone's
        // connection there, and a lookup in the default zone finds it.
        let other = udp(CLIENT, 101, [192, 0, 2, 1], 53, 1);
        let orig_only = t.insert(Conn { zone: z(5, NF_CT_ZONE_DIR_ORIG), ..other }).unwrap();
        assert_eq!(t.find_in(&other.tuple[0], 1, z(5, 3)), Some((orig_only, Direction::Original)));
        assert_eq!(t.find_in(&other.tuple[0], 1, Zone::DEFAULT), None);
        assert_eq!(t.find_in(&other.tuple[1], 1, Zone::DEFAULT), Some((orig_only, Direction::Reply)));
        assert_eq!(t.insert(Conn { zone: z(6, NF_CT_ZONE_DIR_ORIG), ..other }), Err(InsertError::Clash));
        let repl = t.insert(Conn { zone: z(6, NF_CT_ZONE_DIR_REPL), ..udp(CLIENT, 102, [192, 0, 2, 1], 53, 1) }).unwrap();
        let rt = t.get(repl).unwrap().tuple;
        assert_eq!(t.find_in(&rt[0], 1, Zone::DEFAULT), Some((repl, Direction::Original)));
        assert_eq!(t.find_in(&rt[1], 1, z(6, 3)), Some((repl, Direction::Reply)));
        assert_eq!(t.find_in(&rt[1], 1, Zone::DEFAULT), None);
        // The chains stay right through a rehash.
        let (mut b, mut sb) = (vec![0u32; 7], vec![0u32; 7]);
        assert!(t.rehash(&mut b[..], &mut sb[..]).is_ok());
        assert_eq!(t.find_in(&base.tuple[0], 1, z(2, 3)), Some((two, Direction::Original)));
        assert_eq!(t.find_in(&other.tuple[1], 1, Zone::DEFAULT), Some((orig_only, Direction::Reply)));
        assert_eq!(t.flush(Some(1), |_| {}), 4);
    }

    #[test]
    fn same_source_walk_stays_in_its_zone() {
        let mut a = Arena::new(8, 1);
        let mut t = a.table();
        let base = udp(CLIENT, 100, [192, 0, 2, 1], 53, 1);
        let d = t.insert(base).unwrap();
        let z1 = Zone { id: 1, dir: 3 };
        let one = t.insert(Conn { zone: z1, ..udp(CLIENT, 100, [192, 0, 2, 2], 53, 1) }).unwrap();
        let orig7 = Zone { id: 7, dir: crate::conntrack::zone::NF_CT_ZONE_DIR_ORIG };
        let seven = t.insert(Conn { zone: orig7, ..udp(CLIENT, 100, [192, 0, 2, 3], 53, 1) }).unwrap();
        for i in [d, one, seven] {
            assert!(t.link_bysource(i));
        }
        let walk = |t: &ConnTable<&mut [Slot], &mut [u32]>, zone| {
            let mut v = Vec::new();
            t.for_each_same_src_in(1, zone, IPPROTO_UDP, L3Proto::Ipv4, &v4(CLIENT), 100, |i, _| {
                v.push(i);
                false
            });
            v
        };
        assert_eq!(walk(&t, Zone::DEFAULT), vec![d]);
        assert_eq!(walk(&t, z1), vec![one]);
        assert_eq!(walk(&t, orig7), vec![seven]);
        assert_eq!(same_src(&t, 1, 100), vec![d]);
        assert!(t.remove(seven).is_some());
        assert!(walk(&t, orig7).is_empty());
    }

    #[test]
    fn buckets_round_up_to_a_page_of_heads() {
        assert_eq!(round_buckets(1, 512), Some(512));
        assert_eq!(round_buckets(512, 512), Some(512));
        assert_eq!(round_buckets(1000, 512), Some(1024));
        assert_eq!(round_buckets(7812, 512), Some(8192));
        assert_eq!(round_buckets(0, 512), None);
        assert_eq!(round_buckets(i32::MAX as u32 / 8 + 1, 512), None);
        assert_eq!(round_buckets(u32::MAX, 512), None);
        assert_eq!(round_buckets(5, 0), Some(5));
    }
}
