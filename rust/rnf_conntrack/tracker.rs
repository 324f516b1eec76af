// SPDX-License-Identifier: GPL-2.0
//! The tracker: the connection table under its lock, the live instance the
//! hooks, the `/proc` file, the lookups of other modules and the garbage
//! collector share, and the collector's batches.
//!
//! One table for all namespaces, keyed by namespace, behind one BH spinlock
//! (the kernel's `nf_conntrack_core.c` has per-bucket locks and RCU readers).
//!
//! Each connection also has an object the packets carry (`skb->_nfct`, a
//! [`CtRef`]): the table holds a reference to the object of every confirmed
//! connection (`refs`, by slot); an unconfirmed connection's object is held
//! by its packets only, and its slot is released when the last of them goes
//! ([`release_slot`]). Release rule: a reference that may be the last one of
//! an object that still has a slot is never dropped under the table lock;
//! the table clears the slot ([`NO_SLOT`]) before dropping its own.

use kernel::prelude::*;

use crate::conntrack::conn::{Conn, CtInfo, Direction};
use crate::conntrack::icmp;
use crate::conntrack::table::{self, ConnTable, Slot};
use crate::conntrack::tuple::Tuple;
use crate::conntrack::zone::Zone;
use crate::ct_glue;
use crate::ct_glue::nfct::{CtRef, NO_SLOT};
use crate::glue::{self, global::Global, hook::HookOps, sync::BhSpinLock};
use crate::hooks;
use crate::packet::PacketInfo;

/// The arena's size at load (or `conntrack_max`, if lower): 1024
/// connections, 184 KB on x86_64. It doubles as connections come
/// ([`grow`]).
pub(crate) const INITIAL_SLOTS: u32 = 1024;

/// Buckets the garbage collector visits per run at least, and runs per second.
const GC_MIN_BUCKETS: u32 = 64;
const GC_RUNS_PER_SEC: u32 = 10;

/// The connection table with its lock-protected state.
pub(crate) struct State {
    pub(crate) table: ConnTable<KVVec<Slot>, KVVec<u32>>,
    /// The table's reference to the object of each confirmed connection,
    /// by slot (`None` for free and unconfirmed slots).
    pub(crate) refs: KVVec<Option<CtRef>>,
    pub(crate) gc_next: u32,
    /// Whether the GC work was asked to grow the arena and has not yet
    /// ([`State::want_growth`], [`grow`]).
    pub(crate) grow_pending: bool,
}

/// Everything the hooks use; lives from init to exit.
pub(crate) struct Tracker {
    pub(crate) state: KBox<BhSpinLock<State>>,
    pub(crate) hooks: HookOps,
    pub(crate) hz: u32,
}

/// The live tracker, set at the end of init. Teardown rule (see
/// [`Global::get`]): it is taken in exit only after the hooks are
/// unregistered in every namespace and a grace period has passed, the GC
/// work is cancelled, the proc files are removed, and no module using
/// `rnf_ct_lookup` can still be loaded (they depend on this one).
pub(crate) static TRACKER: Global<Tracker> = Global::new();

/// The live tracker, if there is one (see [`TRACKER`]).
pub(crate) fn tracker() -> Option<&'static Tracker> {
    TRACKER.get()
}

impl Tracker {
    /// A tracker with an empty table of `max` entries to start with (it
    /// grows, [`grow`]) over `buckets` hash buckets (and as many for NAT's
    /// by-source index, as the kernel sizes `nf_nat_bysource`), allocated
    /// here (process context), and its hook set.
    pub(crate) fn new(buckets: u32, max: u32) -> Result<KBox<Tracker>> {
        let (slots, refs) = arena(max)?;
        let heads = KVVec::from_elem(table::NIL, buckets as usize, GFP_KERNEL)?;
        let src_heads = KVVec::from_elem(table::NIL, buckets as usize, GFP_KERNEL)?;
        let state =
            State { table: ConnTable::new(slots, heads, src_heads, glue::random_u32()), refs, gc_next: 0, grow_pending: false };
        Ok(KBox::new(
            Tracker { state: BhSpinLock::new_boxed(state, GFP_KERNEL)?, hooks: hooks::build_hooks()?, hz: glue::hz() },
            GFP_KERNEL,
        )?)
    }
}

impl State {
    /// Publishes the count over all namespaces (`net.rnf.conntrack_count_all`).
    pub(crate) fn publish_count(&self) {
        ct_glue::set_count_all(self.table.count());
    }

    /// Whether the caller, after dropping the lock, is to kick the GC work
    /// to grow the arena ([`ct_glue::gc_kick`]): true once when connections
    /// fill half of it ([`ConnTable::growth_target`]), until [`grow`] ran.
    pub(crate) fn want_growth(&mut self) -> bool {
        let want = !self.grow_pending && self.table.growth_target().is_some();
        self.grow_pending |= want;
        want
    }

    /// The table's reference to the object of the confirmed connection in
    /// slot `i`.
    pub(crate) fn obj(&self, i: u32) -> Option<&CtRef> {
        self.refs.get(i as usize).and_then(Option::as_ref)
    }

    /// Gives up the table's reference to the object of slot `i` (the
    /// connection left the table): its slot is cleared first, so dropping
    /// the reference here, under the lock, never re-enters the table.
    pub(crate) fn forget_obj(&mut self, i: u32) {
        forget(&mut self.refs, i);
    }

    /// Removes the confirmed connection of slot `i` and gives up its
    /// object; returns whether there was one.
    pub(crate) fn remove_confirmed(&mut self, i: u32) -> bool {
        let removed = self.table.remove(i).is_some();
        self.forget_obj(i);
        removed
    }

    /// The connection an ICMP error whose embedded tuple is `inner` is
    /// about, looked up in the error's zone `zone` (`nf_conntrack_inet_error()`
    /// takes it from the template), with the error's RELATED ctinfo and
    /// direction; `None` if it relates to no connection or fails the outer
    /// check.
    pub(crate) fn related(&self, p: &PacketInfo, inner: &Tuple, netns: u32, zone: Zone, now: u64) -> Option<(u32, &Conn, CtInfo)> {
        let (i, dir) = self.table.find_in(&inner.invert(), netns, zone)?;
        let c = self.table.get(i).filter(|c| !c.expired(now))?;
        if !icmp::outer_fits(p, &c.tuple[dir as usize].dst) {
            return None;
        }
        let ctinfo = match dir {
            Direction::Original => CtInfo::Related,
            Direction::Reply => CtInfo::RelatedReply,
        };
        Some((i, c, ctinfo))
    }
}

/// [`State::forget_obj`] on the references alone, for the table walks
/// that hold the table itself borrowed (GC, flush).
pub(crate) fn forget(refs: &mut KVVec<Option<CtRef>>, slot: u32) {
    if let Some(r) = refs.get_mut(slot as usize).and_then(Option::take) {
        r.set_slot(NO_SLOT);
        drop(r);
    }
}

/// Reclaims a batch of expired connections; returns jiffies until the next
/// batch, `None` without a tracker. Called by the GC delayed work (process
/// context) through `ct_glue::rnf_ct_gc_run`.
pub(crate) fn gc_run() -> Option<u32> {
    let t = tracker()?;
    grow(t);
    let now = glue::jiffies();
    let mut g = t.state.lock();
    let batch = (g.table.buckets() / (GC_RUNS_PER_SEC * 5)).max(GC_MIN_BUCKETS);
    let start = g.gc_next;
    // Under the table lock, as the count's other writers (an entry of a
    // namespace whose data is gone is not in the table: the namespace's exit
    // flushed them first).
    let st = &mut *g;
    let refs = &mut st.refs;
    let (removed, next) = st.table.gc(now, start, batch, |slot, netns| {
        ct_glue::count_sub_inum(netns, 1);
        forget(refs, slot);
    });
    g.gc_next = next;
    if removed > 0 {
        g.publish_count();
    }
    Some((t.hz / GC_RUNS_PER_SEC).max(1))
}

/// Grows the arena when the packet path asked for it
/// ([`State::want_growth`]): to [`ConnTable::growth_target`]'s size,
/// allocated here (process context, `GFP_KERNEL`), with the references by
/// slot moved along; the old arrays are freed after the lock. Until it
/// runs, a full table early-drops or drops new connections as it does at
/// `nf_conntrack_max`. An allocation that fails is logged (rate-limited)
/// and tried again at the next request.
fn grow(t: &Tracker) {
    let (cap, target) = {
        let mut g = t.state.lock();
        if !g.grow_pending {
            return;
        }
        match g.table.growth_target() {
            Some(n) => (g.table.capacity(), n),
            None => {
                g.grow_pending = false;
                return;
            }
        }
    };
    let (slots, mut refs) = match arena(target) {
        Ok(a) => a,
        Err(_) => {
            t.state.lock().grow_pending = false;
            if glue::net_ratelimit() {
                pr_warn!("cannot grow the table from {} to {} connections (no memory)\n", cap, target);
            }
            return;
        }
    };
    // Whatever comes out of the lock (the old arrays, or the new ones
    // unused) is freed after it: kvfree may sleep.
    let (grown, unused) = {
        let mut g = t.state.lock();
        g.grow_pending = false;
        if g.table.capacity() != cap {
            // Only this work grows the table; checked rather than trusted.
            (false, (slots, refs))
        } else {
            match g.table.grow(slots) {
                Ok(old) => {
                    for (from, to) in g.refs.iter_mut().zip(refs.iter_mut()) {
                        *to = from.take();
                    }
                    let old_refs = core::mem::replace(&mut g.refs, refs);
                    (true, (old, old_refs))
                }
                Err(back) => (false, (back, refs)),
            }
        }
    };
    drop(unused);
    if grown {
        let bytes = u64::from(target).saturating_mul(SLOT_BYTES as u64);
        pr_info!("table grown from {} to {} connections ({} bytes)\n", cap, target, bytes);
    }
}

/// An empty arena of `n` slots and the table's references by slot
/// (process context, `GFP_KERNEL`). Errors: `ENOMEM`.
fn arena(n: u32) -> Result<(KVVec<Slot>, KVVec<Option<CtRef>>)> {
    Ok((KVVec::from_elem(Slot::EMPTY, n as usize, GFP_KERNEL)?, KVVec::from_elem(None, n as usize, GFP_KERNEL)?))
}

/// What a connection takes in the table: its slot and the table's
/// reference to its object.
pub(crate) const SLOT_BYTES: usize = core::mem::size_of::<Slot>() + core::mem::size_of::<Option<CtRef>>();

/// Bucket heads per page (`PAGE_SIZE / sizeof(struct hlist_nulls_head)`):
/// the kernel sizes its hash in whole pages of heads.
pub(crate) const BUCKETS_PER_PAGE: u32 = (kernel::page::PAGE_SIZE / core::mem::size_of::<usize>()) as u32;

/// Resizes the hash to `n` buckets, rounded up as the kernel rounds them
/// (`nf_conntrack_hash_resize()`, for `nf_conntrack_buckets` and the
/// `hashsize` parameter). The new heads are allocated here (process
/// context, `GFP_KERNEL`), the connections relinked under the table lock,
/// the old heads freed after it. Errors: `ENODEV` (not set up), `EINVAL`
/// (0), `ENOMEM`.
pub(crate) fn resize(n: u32) -> Result {
    let t = tracker().ok_or(ENODEV)?;
    let n = match table::round_buckets(n, BUCKETS_PER_PAGE) {
        Some(n) => n,
        None if n == 0 => return Err(EINVAL),
        None => return Err(ENOMEM),
    };
    let heads = KVVec::from_elem(table::NIL, n as usize, GFP_KERNEL)?;
    let src_heads = KVVec::from_elem(table::NIL, n as usize, GFP_KERNEL)?;
    // Whatever arrays come out of the lock (the old ones, or the new ones
    // unused) are freed after it: kvfree may sleep.
    let (unused, result) = {
        let mut g = t.state.lock();
        if g.table.buckets() == n {
            ((heads, src_heads), Ok(()))
        } else {
            match g.table.rehash(heads, src_heads) {
                Ok(old) => {
                    ct_glue::set_buckets(n);
                    (old, Ok(()))
                }
                Err(back) => (back, Err(EINVAL)),
            }
        }
    };
    drop(unused);
    result
}

/// Frees the slot of an unconfirmed connection whose object's last
/// reference went (its packets were freed or dropped before confirmation).
/// Called from the object's destroy hook, never under the table lock (see
/// the release rule in the module documentation).
pub(crate) fn release_slot(slot: u32) {
    let Some(t) = tracker() else { return };
    let mut g = t.state.lock();
    // A confirmed connection keeps a table reference to its object, so a
    // slot reaching here is unconfirmed; check rather than trust.
    if g.table.is_hashed(slot) || g.obj(slot).is_some() {
        return;
    }
    if let Some(c) = g.table.remove(slot) {
        ct_glue::count_sub_inum(c.netns, 1);
        g.publish_count();
    }
}
