// SPDX-License-Identifier: GPL-2.0
//! NAT's part in the connection table: `nf_nat_setup_info()`
//! (net/netfilter/nf_nat_core.c) for the unconfirmed connection a packet
//! carries, exported to rnf_nat as `rnf_ct_nat_setup()`.
//!
//! Tuple selection (`crate::nat::select`, the kernel's `get_unique_tuple`)
//! runs here, under the table lock, because "is this tuple taken" is a
//! question about the table: one lock for the whole search instead of one
//! per candidate. The reply tuple can still change because the connection
//! is unconfirmed (not hashed); confirmation then hashes it by its NAT
//! tuples, and a clash that selection could not avoid drops the packet.
//!
//! Every source NAT setup, null bindings included, links the connection
//! into the table's by-source index (`nf_nat_bysource`), where the next
//! connection from the same source finds its mapping
//! (`find_appropriate_src`); the table unlinks it when it is removed.

use kernel::prelude::*;

use crate::conntrack::table::{ConnTable, Slot};
use crate::conntrack::tuple::Tuple;
use crate::conntrack::zone::Zone;
use crate::ct_glue::nfct::{SkbCt, NO_SLOT};
use crate::ct_glue;
use crate::glue::skb::Skb;
use crate::glue::{self, bindings, kvec};
use crate::nat::range::{ManipType, NatRange};
use crate::nat::rewrite::{IPS_DST_NAT, IPS_DST_NAT_DONE, IPS_SRC_NAT, IPS_SRC_NAT_DONE};
use crate::nat::select::{unique_tuple, NatSpace};
use crate::tracker::tracker;

/// The table as tuple selection sees it, for the connection of slot `slot`
/// whose original tuple is `orig` in namespace `netns` and zone `zone`.
struct TableSpace<'a> {
    table: &'a ConnTable<KVVec<Slot>, KVVec<u32>>,
    slot: u32,
    netns: u32,
    zone: Zone,
    orig: Tuple,
}

impl NatSpace for TableSpace<'_> {
    /// `nf_nat_used_tuple()` / `nf_conntrack_tuple_taken()`: the reply this
    /// candidate implies is a tuple of a confirmed connection in our zone
    /// (`nf_ct_key_equal()` with the zone of the connection being set up),
    /// other than one with our own original tuple (the same flow, resolved
    /// at confirm).
    /// A taken tuple is counted `found`, as only there the kernel counts it.
    fn used(&mut self, candidate: &Tuple) -> bool {
        let reply = candidate.invert();
        let taken = match self.table.find_in(&reply, self.netns, self.zone) {
            Some((j, _)) => self.table.get(j).is_none_or(|c| c.tuple[0] != self.orig),
            None => false,
        };
        if taken {
            ct_glue::stat_inum(self.netns, bindings::rnf_ct_stat_RNF_CT_STAT_FOUND);
        }
        taken
    }

    /// The by-source index's connections from the source of `orig` in our
    /// namespace and zone (`find_appropriate_src()`: `nf_ct_zone_equal()`
    /// in the original direction), confirmed or not, other than the one
    /// being set up.
    fn for_each_same_src(&mut self, orig: &Tuple, f: &mut dyn FnMut(&Tuple) -> bool) {
        let me = self.slot;
        self.table.for_each_same_src_in(self.netns, self.zone, orig.proto, orig.l3, &orig.src, orig.src_id, |i, c| {
            i != me && f(&c.tuple[1])
        });
    }

    fn random_u16(&mut self) -> u16 {
        glue::random_u32() as u16
    }
}

/// `nf_nat_setup_info()`: see `rnf_ct_nat_setup` in rnf_conntrack_api.h.
/// Errors: `ENOENT` (no connection, or it left the table), `EEXIST`
/// (confirmed, or this manip is decided already).
pub(crate) fn setup(skb: &Skb<'_>, range: &NatRange, manip: ManipType) -> Result {
    let t = tracker().ok_or(ENOENT)?;
    let (Some(ct), _) = SkbCt::of(skb) else { return Err(ENOENT) };
    let slot = ct.slot();
    if slot == NO_SLOT {
        return Err(ENOENT);
    }
    let (done, nat) = match manip {
        ManipType::Src => (IPS_SRC_NAT_DONE, IPS_SRC_NAT),
        ManipType::Dst => (IPS_DST_NAT_DONE, IPS_DST_NAT),
    };
    let mut g = t.state.lock();
    if g.table.is_hashed(slot) {
        return Err(EEXIST);
    }
    // The fields selection needs, not the whole connection (a copy of its
    // 160 bytes a new connection).
    let (status, netns, zone, orig, curr) = {
        let c = g.table.get(slot).ok_or(ENOENT)?;
        // What the connection looks like after the other manip, if any.
        (c.status, c.netns, c.zone, c.tuple[0], c.tuple[1].invert())
    };
    if status & done != 0 {
        return Err(EEXIST);
    }
    let mut space = TableSpace { table: &g.table, slot, netns, zone, orig };
    // find_best_ips_proto() mixes in the zone's id whatever its directions.
    let new = unique_tuple(&curr, range, manip, zone.id, &mut space);
    let mut status = status | done;
    let reply = new.invert();
    if new != curr {
        status |= nat;
    }
    if let Some(c) = g.table.get_mut(slot) {
        c.tuple[1] = reply;
        c.status = status;
    }
    // Step 4 of nf_nat_setup_info: every SRC manip, changed or not, so
    // that the source's next connection finds this mapping.
    if manip == ManipType::Src {
        g.table.link_bysource(slot);
    }
    drop(g);
    // The object mirrors what code outside reads (icmp_ndo_send reads the
    // status and the tuples); it belongs to this packet alone until it is
    // confirmed, which the caller's hook runs before.
    let obj = ct.to_ref();
    obj.set_tuple(1, &reply);
    obj.set_status(status);
    Ok(())
}

/// Deletes the confirmed connections of namespace `net` that MASQUERADE
/// mapped for interface `ifindex` and, with `addr`, whose reply goes to that
/// address of family `l3` (`NFPROTO_*`): the kernel's `device_cmp` and
/// `inet_cmp` (net/netfilter/nf_nat_masquerade.c). Returns how many.
pub(crate) fn flush_masq(net: crate::glue::hook::Net, ifindex: i32, addr: Option<[u8; 16]>, l3: u8) -> u32 {
    let Some(t) = tracker() else { return 0 };
    let netns = net.id();
    let pn = crate::ct_glue::CtNet::of(net);
    let mut g = t.state.lock();
    let mut doomed = KVec::new();
    for (i, c) in g.table.iter() {
        if c.netns != netns || g.obj(i).is_none_or(|o| o.masq_index() != ifindex || ifindex == 0) {
            continue;
        }
        if let Some(a) = addr {
            if c.tuple[1].l3.nfproto() != l3 || c.tuple[1].dst != a {
                continue;
            }
        }
        // A failed push leaves the rest for their timeouts, as the
        // kernel's worker does when it cannot allocate.
        if kvec::push(&mut doomed, i, GFP_ATOMIC).is_err() {
            break;
        }
    }
    let mut removed = 0u32;
    for &i in doomed.iter() {
        if g.remove_confirmed(i) {
            removed = removed.saturating_add(1);
        }
    }
    if let Some(pn) = pn {
        pn.count_add(-i32::try_from(removed).unwrap_or(i32::MAX));
    }
    g.publish_count();
    removed
}

/// `nf_ct_kill()` of the connection `skb` carries: it leaves the table (for
/// a masqueraded flow whose output interface changed).
pub(crate) fn kill(skb: &Skb<'_>) {
    let Some(t) = tracker() else { return };
    let (Some(ct), _) = SkbCt::of(skb) else { return };
    let slot = ct.slot();
    let mut g = t.state.lock();
    if !g.table.is_hashed(slot) {
        return;
    }
    let netns = g.table.get(slot).map(|c| c.netns);
    if g.remove_confirmed(slot) {
        if let Some(n) = netns {
            crate::ct_glue::count_sub_inum(n, 1);
        }
    }
    g.publish_count();
}

/// `nf_nat_cleanup()`'s walk (`nf_nat_proto_clean`), when rnf_nat goes
/// away: connections NAT changed (`IPS_NAT_MASK`) are deleted, so their next
/// packets start connections of their own; null and identity bindings only
/// lose their `IPS_*_NAT_DONE` bits and their by-source link. Returns how
/// many were deleted.
pub(crate) fn nat_cleanup() -> u32 {
    use crate::nat::rewrite::{IPS_NAT_DONE_MASK, IPS_NAT_MASK};
    let Some(t) = tracker() else { return 0 };
    let mut g = t.state.lock();
    let mut doomed = KVec::new();
    let mut cleared = KVec::new();
    for (i, c) in g.table.iter() {
        let list = if c.status & IPS_NAT_MASK != 0 {
            &mut doomed
        } else if c.status & IPS_NAT_DONE_MASK != 0 {
            &mut cleared
        } else {
            continue;
        };
        // Out of memory: the rest keep their bindings until they expire.
        if kvec::push(list, i, GFP_ATOMIC).is_err() {
            break;
        }
    }
    for &i in cleared.iter() {
        g.table.unlink_bysource_slot(i);
        let mut status = 0;
        if let Some(c) = g.table.get_mut(i) {
            c.status &= !IPS_NAT_DONE_MASK;
            status = c.status;
        }
        if let Some(o) = g.obj(i) {
            o.set_status(status);
        }
    }
    let mut removed = 0u32;
    for &i in doomed.iter() {
        let netns = g.table.get(i).map(|c| c.netns);
        if g.remove_confirmed(i) {
            removed = removed.saturating_add(1);
            if let Some(n) = netns {
                crate::ct_glue::count_sub_inum(n, 1);
            }
        }
    }
    g.publish_count();
    removed
}
