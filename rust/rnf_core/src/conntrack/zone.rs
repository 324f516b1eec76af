// SPDX-License-Identifier: GPL-2.0
//! Conntrack zones: a number that keeps connections with identical tuples
//! apart (two networks with overlapping addresses behind one router).
//!
//! C header: include/net/netfilter/nf_conntrack_zones.h (`struct
//! nf_conntrack_zone`, `nf_ct_zone_id()`, `nf_ct_zone_equal()`,
//! `nf_ct_zone_tmpl()`); uapi include/uapi/linux/netfilter/nf_conntrack_tuple_common.h
//! for the direction bits.
//!
//! A zone has an id and the directions it applies to: a connection's tuple
//! of a direction the zone does not cover is looked up in the default zone
//! (id 0). The raw table's `CT` target gives the packet a template
//! ([`ZoneTemplate`]) whose zone the tracker takes, from the template or,
//! with `XT_CT_ZONE_MARK`, from the packet's mark.

use crate::conntrack::conn::Direction;

/// `NF_CT_DEFAULT_ZONE_ID`.
pub const NF_CT_DEFAULT_ZONE_ID: u16 = 0;
/// `NF_CT_ZONE_DIR_ORIG`: the zone applies to the original direction.
pub const NF_CT_ZONE_DIR_ORIG: u8 = 1 << 0;
/// `NF_CT_ZONE_DIR_REPL`: the zone applies to the reply direction.
pub const NF_CT_ZONE_DIR_REPL: u8 = 1 << 1;
/// `NF_CT_DEFAULT_ZONE_DIR`: both directions (the default zone's).
pub const NF_CT_DEFAULT_ZONE_DIR: u8 = NF_CT_ZONE_DIR_ORIG | NF_CT_ZONE_DIR_REPL;

/// A connection's zone (`struct nf_conntrack_zone`: `id` and `dir`; the
/// `flags` of a template are [`ZoneTemplate::from_mark`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Zone {
    /// Zone number (host order).
    pub id: u16,
    /// `NF_CT_ZONE_DIR_*` bits: which directions it applies to.
    pub dir: u8,
}

impl Default for Zone {
    /// [`Zone::DEFAULT`].
    fn default() -> Self {
        Zone::DEFAULT
    }
}

impl Zone {
    /// `nf_ct_zone_dflt`: id 0, both directions.
    pub const DEFAULT: Zone = Zone { id: NF_CT_DEFAULT_ZONE_ID, dir: NF_CT_DEFAULT_ZONE_DIR };

    /// `nf_ct_zone_id()`: the zone id that keys the tuple of direction
    /// `dir`, 0 when the zone does not apply to that direction.
    pub fn id_in(self, dir: Direction) -> u16 {
        if self.dir & (1 << dir as u8) != 0 {
            self.id
        } else {
            NF_CT_DEFAULT_ZONE_ID
        }
    }

    /// `nf_ct_zone_equal()` / `nf_ct_zone_equal_any()` for the tuple of
    /// direction `dir`: whether a connection in zone `self` matches a
    /// lookup in zone `other` by that tuple.
    pub fn equal_in(self, other: Zone, dir: Direction) -> bool {
        self.id_in(dir) == other.id_in(dir)
    }

    /// The zone id the NAT by-source hash mixes in (`hash_by_src()`): the
    /// id when the zone covers both directions, else 0.
    pub fn bysource_id(self) -> u16 {
        if self.dir == NF_CT_DEFAULT_ZONE_DIR {
            self.id
        } else {
            NF_CT_DEFAULT_ZONE_ID
        }
    }
}

/// What a `CT` template says about the zone (the template's `struct
/// nf_conntrack_zone`, `NF_CT_FLAG_MARK` in its flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ZoneTemplate {
    /// The zone (id and directions).
    pub zone: Zone,
    /// `NF_CT_FLAG_MARK` (`CT --zone-mark`, XT_CT_ZONE_MARK): the id is
    /// the packet's mark when it is tracked.
    pub from_mark: bool,
}

impl ZoneTemplate {
    /// `nf_ct_zone_tmpl()`: the zone a packet carrying this template is
    /// tracked in, `skb_mark` its `skb->mark` (truncated to the 16-bit id,
    /// as `nf_ct_zone_init()` stores it).
    pub fn resolve(self, skb_mark: u32) -> Zone {
        if self.from_mark {
            Zone { id: skb_mark as u16, dir: self.zone.dir }
        } else {
            self.zone
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Original, Reply};

    #[test]
    fn id_by_direction_as_nf_ct_zone_id() {
        let both = Zone { id: 7, dir: NF_CT_DEFAULT_ZONE_DIR };
        let orig = Zone { id: 7, dir: NF_CT_ZONE_DIR_ORIG };
        let repl = Zone { id: 7, dir: NF_CT_ZONE_DIR_REPL };
        assert_eq!((both.id_in(Original), both.id_in(Reply)), (7, 7));
        assert_eq!((orig.id_in(Original), orig.id_in(Reply)), (7, 0));
        assert_eq!((repl.id_in(Original), repl.id_in(Reply)), (0, 7));
        assert_eq!(Zone::default(), Zone::DEFAULT);
        assert_eq!((Zone::DEFAULT.id_in(Original), Zone::DEFAULT.id_in(Reply)), (0, 0));
    }

    #[test]
    fn equality_per_direction() {
        let orig = Zone { id: 7, dir: NF_CT_ZONE_DIR_ORIG };
        // A zone of the original direction only: its reply tuple is in the
        // default zone's key space.
        assert!(orig.equal_in(Zone::DEFAULT, Reply));
        assert!(!orig.equal_in(Zone::DEFAULT, Original));
        assert!(orig.equal_in(Zone { id: 7, dir: NF_CT_DEFAULT_ZONE_DIR }, Original));
        assert!(!Zone { id: 1, dir: 3 }.equal_in(Zone { id: 2, dir: 3 }, Reply));
    }

    #[test]
    fn bysource_id_only_for_both_directions() {
        assert_eq!(Zone { id: 9, dir: NF_CT_DEFAULT_ZONE_DIR }.bysource_id(), 9);
        assert_eq!(Zone { id: 9, dir: NF_CT_ZONE_DIR_ORIG }.bysource_id(), 0);
        assert_eq!(Zone { id: 9, dir: NF_CT_ZONE_DIR_REPL }.bysource_id(), 0);
    }

    #[test]
    fn template_from_mark_takes_the_low_16_bits() {
        let t = ZoneTemplate { zone: Zone { id: 3, dir: NF_CT_ZONE_DIR_REPL }, from_mark: true };
        assert_eq!(t.resolve(0x0001_0005), Zone { id: 5, dir: NF_CT_ZONE_DIR_REPL });
        let fixed = ZoneTemplate { zone: Zone { id: 3, dir: NF_CT_DEFAULT_ZONE_DIR }, from_mark: false };
        assert_eq!(fixed.resolve(99), fixed.zone);
    }
}
