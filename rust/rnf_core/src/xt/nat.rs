// SPDX-License-Identifier: GPL-2.0
//! The NAT targets of the `nat` table: SNAT, DNAT, MASQUERADE, REDIRECT and
//! NETMAP, their payloads and their `checkentry` rules.
//!
//! C sources: net/netfilter/xt_nat.c (`xt_nat_checkentry_v0`,
//! `xt_nat_checkentry`, `xt_nat_convert_range`), xt_MASQUERADE.c
//! (`masquerade_tg_check`, `masquerade_tg6_checkentry`), xt_REDIRECT.c
//! (`redirect_tg4_check`, `redirect_tg6_checkentry`) and xt_NETMAP.c
//! (`netmap_tg4_check`, `netmap_tg6_checkentry`). Every refusal is EINVAL.
//! The flags are not checked against `NF_NAT_RANGE_MASK`, as in the kernel.

use super::{Error, Family};
use crate::nat::range::{NatRange, RangeError, MAP_IPS};

/// Which NAT target a rule uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatKind {
    /// `SNAT`: source NAT into the range (POSTROUTING, INPUT).
    Snat,
    /// `DNAT`: destination NAT into the range (PREROUTING, OUTPUT).
    Dnat,
    /// `MASQUERADE`: source NAT to the output interface's address
    /// (POSTROUTING); the range gives ports and flags only.
    Masquerade,
    /// `REDIRECT`: destination NAT to the input interface's address, or the
    /// loopback address in OUTPUT (PREROUTING, OUTPUT); ports and flags only.
    Redirect,
    /// `NETMAP`: maps the prefix `min_addr`/`~(min_addr ^ max_addr)` onto the
    /// destination (PREROUTING, OUTPUT) or source (POSTROUTING, INPUT).
    Netmap,
}

/// A decoded NAT target: its kind and range (an `nf_nat_range2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatTarget {
    /// The target.
    pub kind: NatKind,
    /// Its range, with `base_proto` zero below revision 2.
    pub range: NatRange,
}

/// Which payload a target revision carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Payload {
    /// `struct nf_nat_ipv4_multi_range_compat` (IPv4 revision 0).
    Compat,
    /// `struct nf_nat_range` (revision 1, and the IPv6 revision 0 targets).
    Range1,
    /// `struct nf_nat_range2` (revision 2).
    Range2,
}

fn decode(payload: Payload, data: &[u8]) -> Result<NatRange, Error> {
    let r = match payload {
        Payload::Compat => NatRange::from_compat_v4(data),
        Payload::Range1 => NatRange::from_range1(data),
        Payload::Range2 => NatRange::from_range2(data),
    };
    r.map_err(|e| match e {
        RangeError::Truncated => Error::inval("NAT target data truncated"),
        RangeError::RangeSize(_) => Error::inval("NAT: multiple ranges no longer supported (rangesize != 1)"),
    })
}

/// Decodes a NAT target's data and applies its `checkentry`. The generic
/// checks (size, table `nat`, hooks) come first, in `check_common`.
pub(crate) fn decode_nat_target(kind: NatKind, payload: Payload, family: Family, data: &[u8]) -> Result<NatTarget, Error> {
    // MASQUERADE and REDIRECT look at MAP_IPS before rangesize.
    if payload == Payload::Compat && matches!(kind, NatKind::Masquerade | NatKind::Redirect) {
        let (_, flags) = NatRange::compat_v4_flags(data).map_err(|_| Error::inval("NAT target data truncated"))?;
        if flags & MAP_IPS != 0 {
            return Err(Error::inval("MASQUERADE/REDIRECT: MAP_IPS is not allowed"));
        }
    }
    let range = decode(payload, data)?;
    match kind {
        // xt_nat_checkentry: the family must be IPv4, IPv6 or inet, which an
        // ip(6)_tables entry always is.
        NatKind::Snat | NatKind::Dnat => {
            let _ = family;
        }
        NatKind::Masquerade | NatKind::Redirect => {
            if range.flags & MAP_IPS != 0 {
                return Err(Error::inval("MASQUERADE/REDIRECT: MAP_IPS is not allowed"));
            }
        }
        NatKind::Netmap => {
            if range.flags & MAP_IPS == 0 {
                return Err(Error::inval("NETMAP: needs MAP_IPS"));
            }
        }
    }
    Ok(NatTarget { kind, range })
}
