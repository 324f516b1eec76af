// SPDX-License-Identifier: GPL-2.0
//! What a packet is to connection tracking: the tuple it has, the tuple of
//! the packet an ICMP(v6) error embeds, or why it is not tracked (the
//! kernel's `nf_conntrack_in()` up to `resolve_normal_ct()`, and
//! `nf_conntrack_inet_error()`).

use crate::conntrack::icmp;
use crate::conntrack::tuple::{self, Tuple};
use crate::glue::skb::{HeaderBuf, Skb};
use crate::packet::{self, L3Proto, PacketInfo};

fn l3_of(pf: u8) -> Option<L3Proto> {
    L3Proto::from_nfproto(pf)
}

/// What a packet is to connection tracking.
pub(crate) enum Class {
    /// A packet with a tuple of its own.
    Tuple(PacketInfo, Tuple),
    /// An ICMP(v6) error about the packet whose tuple is given.
    Error(PacketInfo, Tuple),
}

/// Why a packet is not tracked.
pub(crate) enum Untracked {
    /// Malformed or truncated headers (`-EINVAL` to other modules).
    Malformed,
    /// Well-formed but with nothing to track: a later fragment, an error
    /// about nothing trackable, neighbour discovery (`-ENOENT`).
    NoTuple,
}

/// Parses the packet: its tuple, or the tuple an ICMP error embeds.
pub(crate) fn classify(skb: &Skb<'_>, pf: u8) -> core::result::Result<Class, Untracked> {
    let l3 = l3_of(pf).ok_or(Untracked::NoTuple)?;
    let mut buf = HeaderBuf::new();
    let bytes = skb.network_bytes(&mut buf).ok_or(Untracked::Malformed)?;
    let p = packet::parse(l3, bytes).map_err(|_| Untracked::Malformed)?;
    match Tuple::from_packet(&p) {
        Ok(t) => Ok(Class::Tuple(p, t)),
        Err(tuple::NoTuple::IcmpNotQuery) => match p.l4 {
            packet::L4::Icmp { icmp_type, .. } if icmp::is_error(l3, icmp_type) => {
                match icmp::inner_tuple(&p, bytes) {
                    Ok(inner) => Ok(Class::Error(p, inner)),
                    Err(icmp::InnerError::Parse(_)) => Err(Untracked::Malformed),
                    Err(icmp::InnerError::NoTuple) => Err(Untracked::NoTuple),
                }
            }
            _ => Err(Untracked::NoTuple),
        },
        Err(tuple::NoTuple::Fragment) => Err(Untracked::NoTuple),
    }
}
