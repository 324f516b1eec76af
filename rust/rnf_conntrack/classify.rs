// SPDX-License-Identifier: GPL-2.0
//! What a packet is to connection tracking: the tuple it has, the tuple of
//! the packet an ICMP(v6) error embeds, or why it is not tracked (the
//! kernel's `nf_conntrack_in()` up to `resolve_normal_ct()`, and
//! `nf_conntrack_inet_error()`).

use crate::conntrack::icmp;
use crate::conntrack::tcp;
use crate::conntrack::tuple::{self, Tuple};
use crate::packet::{self, L3Proto, PacketInfo, ParseError, IPPROTO_ICMP, IPPROTO_ICMPV6};

/// What a packet is to connection tracking, with its parsed headers (a
/// reference into the caller's parse result: the headers are not moved,
/// a move of that size being a copy of some hundred bytes). The tuple is
/// where [`classify`] wrote it, in the caller's own `Tuple`: built inside
/// the enum, behind its tag, it was copied byte-shifted through a stack
/// temporary (`TrackHook::run` 219 instructions a packet, 214 since, on
/// x86_64).
pub(crate) enum Class<'p> {
    /// A packet with a tuple of its own.
    Tuple(&'p PacketInfo),
    /// An ICMP(v6) error about the packet whose tuple (the embedded one's)
    /// was written.
    Error(&'p PacketInfo),
}

/// Why a packet is not tracked.
pub(crate) enum Untracked {
    /// Malformed or truncated headers, or what the kernel's trackers refuse
    /// before any state (TCP flags `tcp_error()` rejects, a UDP length
    /// `udp_error()` rejects, IPv6 "no next header", an ICMP type with no
    /// connection to belong to): counted `invalid` (`-EINVAL` to other
    /// modules).
    Malformed,
    /// An ICMP(v6) message `nf_conntrack_handle_icmp()` refuses: a short
    /// header, an unknown IPv4 type, an error whose embedded packet is
    /// unreadable or has no tuple: counted `error`, not `invalid` (as
    /// `nf_conntrack_in()` does), `-EINVAL` to other modules.
    IcmpError,
    /// Well-formed but with nothing to track: a later fragment, neighbour
    /// discovery and MLD (`-ENOENT`).
    NoTuple,
}

fn is_icmp(l3: L3Proto, proto: u8) -> bool {
    matches!((l3, proto), (L3Proto::Ipv4, IPPROTO_ICMP) | (L3Proto::Ipv6, IPPROTO_ICMPV6))
}

/// The packet's tuple, or the tuple an ICMP error embeds, written to `t`,
/// from its network header on (`bytes`, of family `l3`) and what
/// [`packet::parse`] made of them (`parsed`). `t` is unchanged when the
/// packet is not tracked.
pub(crate) fn classify<'p>(
    l3: L3Proto,
    bytes: &[u8],
    parsed: core::result::Result<&'p PacketInfo, ParseError>,
    t: &mut Tuple,
) -> core::result::Result<Class<'p>, Untracked> {
    let p = match parsed {
        Ok(p) => p,
        // An ICMP(v6) header shorter than 8 bytes: "short packet", `error`.
        Err(_) => {
            return Err(match packet::parse_l3(l3, bytes) {
                Ok(h) if !h.later_fragment && is_icmp(l3, h.proto) => Untracked::IcmpError,
                _ => Untracked::Malformed,
            })
        }
    };
    match p.l4 {
        packet::L4::Tcp { flags, .. } if !tcp::valid_flags(flags) => return Err(Untracked::Malformed),
        packet::L4::Udp { .. } if !packet::udp_length_ok(p) => return Err(Untracked::Malformed),
        packet::L4::Icmp { icmp_type, .. } if !icmp::type_known(l3, icmp_type) => {
            return Err(Untracked::IcmpError)
        }
        // IPv6 "no next header" has no transport header (L4::Other): a
        // TCP, UDP or ICMP packet is not tested for it.
        packet::L4::Other if packet::ipv6_no_next_header(p) => return Err(Untracked::Malformed),
        _ => {}
    }
    match t.set_from_packet(p) {
        Ok(()) => Ok(Class::Tuple(p)),
        Err(tuple::NoTuple::IcmpNotQuery) => match p.l4 {
            // nf_conntrack_inet_error(): an embedded packet with no
            // tuple, or one that cannot be inverted, is `error`.
            packet::L4::Icmp { icmp_type, .. } if icmp::is_error(l3, icmp_type) => {
                match icmp::inner_tuple(p, bytes) {
                    Ok(inner) => {
                        *t = inner;
                        Ok(Class::Error(p))
                    }
                    Err(icmp::InnerError::Parse(_) | icmp::InnerError::NoTuple) => Err(Untracked::IcmpError),
                }
            }
            packet::L4::Icmp { icmp_type, .. } if icmp::untracked_type(l3, icmp_type) => Err(Untracked::NoTuple),
            // A type that is neither an error nor a query or reply:
            // init_conntrack() cannot invert its tuple, so `invalid`.
            _ => Err(Untracked::Malformed),
        },
        Err(tuple::NoTuple::Fragment) => Err(Untracked::NoTuple),
    }
}
