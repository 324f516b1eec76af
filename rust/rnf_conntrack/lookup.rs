// SPDX-License-Identifier: GPL-2.0
//! The lookup other modules ask for: `rnf_ct_lookup()`
//! (rust/glue/rnf_conntrack_api.h), exported by the glue, answered as the
//! kernel's `nf_ct_get()` answers: from the connection the tracking hook
//! attached to the skb, without parsing the packet again or taking the
//! table lock.

use kernel::prelude::*;

use crate::ct_glue::nfct::SkbCt;
use crate::glue::bindings;
use crate::glue::hook::Net;
use crate::glue::skb::Skb;

/// `IP_CT_IS_REPLY` (include/uapi/linux/netfilter/nf_conntrack_common.h).
const IP_CT_IS_REPLY: u8 = 3;

/// What `rnf_ct_lookup` returns for `skb`: its connection's status
/// (`IPS_CONFIRMED` missing while it is unconfirmed, NEW), the ctinfo and
/// direction of this packet and the protocol. `ENOENT` when the skb carries
/// no connection (untracked, invalid, or not trackable). `_net` and `_pf`
/// are the caller's hook's, kept in the ABI for callers that have no skb
/// connection of their own.
pub(crate) fn ct_lookup(_net: Net, _pf: u8, skb: &Skb<'_>) -> Result<bindings::rnf_ct_lookup> {
    let (ct, ctinfo) = SkbCt::of(skb);
    let ct = ct.ok_or(ENOENT)?;
    Ok(bindings::rnf_ct_lookup {
        status: ct.status(),
        ctinfo,
        dir: u8::from(ctinfo >= IP_CT_IS_REPLY),
        proto: ct.proto(),
        pad: 0,
    })
}
