// SPDX-License-Identifier: GPL-2.0
//! The lookup other modules ask for: `rnf_ct_lookup()`
//! (rust/glue/rnf_conntrack_api.h), exported by the glue, answered here as
//! the kernel's `nf_ct_get()` would for the packet.

use kernel::prelude::*;

use crate::classify::{classify, Class, Untracked};
use crate::conntrack::conn::{Conn, CtInfo, Direction};
use crate::ct_glue::CtNet;
use crate::glue::{self, bindings};
use crate::glue::hook::Net;
use crate::glue::skb::Skb;
use crate::netns::timeouts_of;
use crate::tracker::{tracker, Tracker};

impl Tracker {
    /// Looks a packet up for another module (see `rnf_ct_lookup`). A packet
    /// that would open a connection not yet confirmed is NEW with a status
    /// lacking `IPS_CONFIRMED`, as the kernel's unconfirmed conntrack is; an
    /// ICMP error about a connection is RELATED to it.
    fn lookup(&self, net: Net, pf: u8, skb: &Skb<'_>) -> Result<bindings::rnf_ct_lookup> {
        let pn = CtNet::of(net).ok_or(ENOENT)?;
        let netns = net.id();
        let now = glue::jiffies();
        let (p, t) = match classify(skb, pf) {
            Ok(Class::Tuple(p, t)) => (p, t),
            Ok(Class::Error(p, inner)) => {
                let g = self.state.lock();
                let (c, ctinfo, dir) = g.related(&p, &inner, netns, now).ok_or(ENOENT)?;
                return Ok(bindings::rnf_ct_lookup {
                    status: c.status,
                    ctinfo: ctinfo as u8,
                    dir: dir as u8,
                    proto: inner.proto,
                    pad: 0,
                });
            }
            Err(Untracked::Malformed) => return Err(EINVAL),
            Err(Untracked::NoTuple) => return Err(ENOENT),
        };
        let g = self.state.lock();
        let found = g.table.find(&t, netns).and_then(|(i, dir)| g.table.get(i).map(|c| (c, dir)));
        let (status, ctinfo, dir) = match found {
            Some((c, dir)) if !c.expired(now) => (c.status, c.ctinfo(dir), dir),
            _ => {
                drop(g);
                Conn::new(&t, &p, netns, now, self.hz, &timeouts_of(pn)).map_err(|_| ENOENT)?;
                (0, CtInfo::New, Direction::Original)
            }
        };
        Ok(bindings::rnf_ct_lookup { status, ctinfo: ctinfo as u8, dir: dir as u8, proto: t.proto, pad: 0 })
    }
}

/// Looks `skb` (of protocol family `pf`, `NFPROTO_*`) up in namespace
/// `net` for another module: what `rnf_ct_lookup` (rnf_conntrack_api.h,
/// exported by `ct_glue`) returns. Errors: `ENOENT` (no connection),
/// `EINVAL` (unparsable headers), `ENODEV` (no tracker).
pub(crate) fn ct_lookup(net: Net, pf: u8, skb: &Skb<'_>) -> Result<bindings::rnf_ct_lookup> {
    tracker().ok_or(ENODEV)?.lookup(net, pf, skb)
}
