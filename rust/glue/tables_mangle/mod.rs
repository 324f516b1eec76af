// SPDX-License-Identifier: GPL-2.0
//! Glue only rnf_tables_mangle uses: its LOCAL_OUT walk, which re-routes
//! what a rule changed (defined in rust/rnf_tables_mangle_glue.c, so no
//! other module links it).
//!
//! C header: rust/glue/rnf_table_hooks.h

use crate::glue::bindings;
use crate::glue::hook::HookState;
use crate::glue::skb::Skb;
use crate::tables_reg::Family;

/// The mangle table's LOCAL_OUT walk, as `ipt_mangle_out` /
/// `ip6t_mangle_out`: walks table `id` and re-routes the packet
/// (`ip_route_me_harder` / `ip6_route_me_harder`) when a rule changed what
/// routing depends on (IPv4: addresses, mark, TOS; IPv6: addresses, mark,
/// hop limit, the first word with traffic class and flow label). Returns
/// `NF_ACCEPT`, or `NF_DROP` (the walk's, or a failed re-route's).
pub fn walk_mangle_out(family: Family, id: i32, skb: &Skb<'_>, state: &HookState<'_>) -> u32 {
    // SAFETY: `skb` and `state` are the running LOCAL_OUT hook call's;
    // rnf_mangle_out is this module's own C glue, and rnf_tables (whose
    // walk it calls) stays loaded while this module is (depends=).
    unsafe { bindings::rnf_mangle_out(family.pf(), id, skb.as_ptr(), state.as_raw()) }
}
