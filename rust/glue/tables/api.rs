// SPDX-License-Identifier: GPL-2.0
//! The entry points rnf_tables exports to the modules that register tables
//! of their own (`EXPORT_SYMBOL_GPL` in rust/rnf_tables_glue.c; contract in
//! rust/glue/rnf_tables_api.h), as x_tables offers `xt_register_table` and
//! `ipt_do_table` to iptable_nat.c.
//!
//! They call three safe functions of the crate: `crate::registry::register`
//! and `unregister`, and `crate::packet_path::table_walk`.
//!
//! C headers: rust/glue/rnf_tables_api.h, rust/glue/rnf_nat_api.h

use core::ffi::{c_char, c_int, c_uint};

use kernel::error::code::EINVAL;

use crate::glue::bindings;
use crate::glue::hook::HookState;
use crate::glue::skb::Skb;
use crate::glue::Verdict;
use crate::packet_path::Outcome;
use crate::xt::{NatKind, NatTarget};

/// A NAT target as `struct rnf_nat_target` (rnf_nat_api.h).
fn nat_target_raw(t: &NatTarget) -> bindings::rnf_nat_target {
    let kind = match t.kind {
        NatKind::Snat => bindings::rnf_nat_kind_RNF_NAT_SNAT,
        NatKind::Dnat => bindings::rnf_nat_kind_RNF_NAT_DNAT,
        NatKind::Masquerade => bindings::rnf_nat_kind_RNF_NAT_MASQUERADE,
        NatKind::Redirect => bindings::rnf_nat_kind_RNF_NAT_REDIRECT,
        NatKind::Netmap => bindings::rnf_nat_kind_RNF_NAT_NETMAP,
    };
    let r = &t.range;
    bindings::rnf_nat_target {
        kind,
        flags: r.flags,
        min_addr: r.min_addr,
        max_addr: r.max_addr,
        min_proto: r.min_proto,
        max_proto: r.max_proto,
        base_proto: r.base_proto,
        pad: 0,
    }
}

/// No NAT target (`RNF_NAT_NONE`, all zero).
fn no_target() -> bindings::rnf_nat_target {
    // SAFETY: `struct rnf_nat_target` is integers and byte arrays, for
    // which all-zero is valid (and is `RNF_NAT_NONE`).
    unsafe { core::mem::zeroed() }
}

/// `rnf_tables_register_table()`: the new table's id, or a negative errno.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string valid for the call.
#[no_mangle]
pub unsafe extern "C" fn rnf_tables_register_table(pf: u8, name: *const c_char, valid_hooks: c_uint) -> c_int {
    if name.is_null() {
        return EINVAL.to_errno();
    }
    // The name's bytes, at most XT_TABLE_MAXNAMELEN: every known name is
    // shorter, so a longer one is refused (ENOENT) as before. Read byte by
    // byte rather than by CStr::from_ptr, whose strlen + 1 carries an
    // overflow check (a panic path) into the module.
    let mut buf = [0u8; 32];
    let mut n = 0usize;
    for i in 0..buf.len() {
        // SAFETY: `name` is NUL-terminated (the caller's guarantee) and no
        // byte after its NUL is read: the loop stops at it.
        let c = unsafe { *name.add(i) } as u8;
        let Some(b) = buf.get_mut(i) else { break };
        if c == 0 {
            break;
        }
        *b = c;
        n = i + 1;
    }
    match crate::registry::register(pf, buf.get(..n).unwrap_or(&[]), valid_hooks) {
        // Ids are below `netns::MAX_TABLES`.
        Ok(id) => id as c_int,
        Err(e) => e.to_errno(),
    }
}

/// `rnf_tables_unregister_table()`. Process context (waits for grace
/// periods).
#[no_mangle]
pub extern "C" fn rnf_tables_unregister_table(pf: u8, id: c_int) {
    crate::registry::unregister(pf, id);
}

/// `rnf_tables_walk()`: `NF_ACCEPT` or `NF_DROP`; `*target` is the NAT
/// target the walk ended in, or `RNF_NAT_NONE`.
///
/// # Safety
///
/// Called from a netfilter hook: `skb` and `state` must be that hook
/// call's, `target` NULL or valid for writing.
#[no_mangle]
pub unsafe extern "C" fn rnf_tables_walk(
    pf: u8,
    id: c_int,
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
    target: *mut bindings::rnf_nat_target,
) -> c_uint {
    // SAFETY: guaranteed by the caller for the duration of the call.
    let (skb, state) = unsafe { (Skb::from_raw(skb), HookState::from_raw(state)) };
    let (verdict, t) = match crate::packet_path::table_walk(pf, id, &skb, &state) {
        Outcome::Verdict(v) => (v, no_target()),
        Outcome::Nat(t) => (Verdict::Accept, nat_target_raw(&t)),
    };
    if !target.is_null() {
        // SAFETY: non-null, so writable by the caller's guarantee.
        unsafe { target.write(t) };
    }
    verdict.as_raw()
}
