// SPDX-License-Identifier: GPL-2.0
//! Glue only rnf_tables uses: calls into other modules (nf_reject_ipv4,
//! nf_reject_ipv6, rnf_conntrack) and the entry points it exports to the
//! modules that register tables (`api`). It is mounted by rnf_tables_main.rs
//! alone, not by `glue/mod.rs`, so that the other modules neither link these
//! symbols nor gain their `depends=`.
//!
//! C headers: [include/net/netfilter/ipv4/nf_reject.h](srctree/include/net/netfilter/ipv4/nf_reject.h),
//! [include/net/netfilter/ipv6/nf_reject.h](srctree/include/net/netfilter/ipv6/nf_reject.h),
//! rust/glue/rnf_conntrack_api.h

use crate::glue::bindings;
use crate::glue::hook::HookState;
use crate::glue::skb::Skb;

pub mod api;

/// What a REJECT target sends back before the packet is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// An ICMP (IPv4) or ICMPv6 destination unreachable with this code.
    Unreach(u8),
    /// A TCP RST (`nf_send_reset`, `nf_send_reset6`).
    TcpReset,
}

/// Sends the answer `r` to the packet `skb` at the hook of `state`, like
/// ipt_REJECT.c / ip6t_REJECT.c (the caller then drops the packet). IPv4 if
/// `ipv6` is false. Softirq or BH-disabled context; allocates atomically.
pub fn send_reject(skb: &Skb<'_>, state: &HookState<'_>, ipv6: bool, r: Reject) {
    let raw = state.as_raw();
    let hook = raw.hook as i32;
    // For every call below: netfilter guarantees that `skb`, `state->net`
    // and `state->sk` (possibly NULL, which the callees accept) are live for
    // the hook call; the callees only read the packet and build a new one.
    match (ipv6, r) {
        // SAFETY: see above.
        (false, Reject::Unreach(code)) => unsafe { bindings::nf_send_unreach(skb.as_ptr(), code.into(), hook) },
        // SAFETY: see above.
        (false, Reject::TcpReset) => unsafe { bindings::nf_send_reset(raw.net, raw.sk, skb.as_ptr(), hook) },
        // SAFETY: see above.
        (true, Reject::Unreach(code)) => unsafe { bindings::nf_send_unreach6(raw.net, skb.as_ptr(), code, raw.hook.into()) },
        // SAFETY: see above.
        (true, Reject::TcpReset) => unsafe { bindings::nf_send_reset6(raw.net, raw.sk, skb.as_ptr(), hook) },
    }
}

/// What rnf_conntrack says about a packet (`rnf_ct_lookup`).
pub enum CtLookup {
    /// Part of (or opening) a connection.
    Found(bindings::rnf_ct_lookup),
    /// No connection (`-ENOENT`): nothing trackable, or not a valid opener.
    NoConnection,
    /// Marked untracked (`IP_CT_UNTRACKED`: the raw table's `CT --notrack`).
    Untracked,
    /// Headers rnf_conntrack could not parse (`-EINVAL`, or any other error).
    Unparsable,
}

/// Asks rnf_conntrack about `skb` in the namespace of `state`.
pub fn ct_lookup(skb: &Skb<'_>, state: &HookState<'_>) -> CtLookup {
    let mut r = bindings::rnf_ct_lookup { status: 0, ctinfo: 0, dir: 0, proto: 0, pad: 0 };
    // SAFETY: the namespace and skb are live for the hook call; `r` is
    // writable. rnf_conntrack stays loaded while we are (we depend on it).
    let rc = unsafe { bindings::rnf_ct_lookup(state.net().as_ptr(), state.pf(), skb.as_ptr(), &mut r) };
    match rc {
        0 => CtLookup::Found(r),
        // SAFETY: reads one field of the live skb.
        e if e == -(bindings::ENOENT as i32) && unsafe { bindings::rnf_skb_untracked(skb.as_ptr()) } => {
            CtLookup::Untracked
        }
        e if e == -(bindings::ENOENT as i32) => CtLookup::NoConnection,
        _ => CtLookup::Unparsable,
    }
}
