// SPDX-License-Identifier: GPL-2.0
//! The control path: the ip_tables / ip6_tables socket options, as
//! `do_ipt_set_ctl` and `do_ipt_get_ctl` in net/ipv4/netfilter/ip_tables.c
//! (and ip6_tables.c) answer them: the same option numbers, length checks
//! and errnos, so the unmodified `iptables-legacy` tools drive the tables.
//!
//! User memory is copied into kernel buffers first; the engine parses and
//! validates the bytes; a new table is built in full before it replaces the
//! one in force, under [`crate::Shared::lock`] (the kernel's xt mutex).
//!
//! A request names its table: `filter`, or one another module registered
//! (`registry.rs`), which comes into the caller's namespace with the first
//! request that names it (`netns::instantiate`); any other name is ENOENT,
//! as for a table that is not loaded.

use core::sync::atomic::{AtomicBool, Ordering};

use kernel::prelude::*;

use crate::glue::bindings;
use crate::glue::rcu::{BhDisabled, RcuReadGuard};
use crate::glue::sockopt::{Caller, SetArg, SockoptHandler, SockoptRange, UserPtr};
use crate::glue::{self};
use crate::instance::{Instance, MAX_TABLE_BYTES};
use crate::netns::{self, Fam, IPV4, IPV6};
use crate::xt::{self, ReplaceHeader, TableDef, GET_ENTRIES_SIZE, GET_REVISION_SIZE};

/// Whether every namespace has its tables: set at the end of module init,
/// after the pernet registration; the options are registered before it.
static READY: AtomicBool = AtomicBool::new(false);

/// Opens (or closes) the options to callers.
pub(crate) fn set_ready(ready: bool) {
    READY.store(ready, Ordering::Release);
}

/// ENOENT, as for a table not loaded yet, while the module is still loading.
fn ready() -> Result {
    if READY.load(Ordering::Acquire) {
        Ok(())
    } else {
        Err(ENOENT)
    }
}

/// An engine error as the errno the socket call returns.
fn errno(e: xt::Error) -> Error {
    // Engine errnos are small positive constants: the negation never wraps.
    Error::from_errno(e.errno.wrapping_neg())
}

/// The NUL-terminated name in a fixed-size field, without the NUL.
fn name_in(field: &[u8]) -> &[u8] {
    let n = field.iter().position(|&c| c == 0).unwrap_or(field.len());
    field.get(..n).unwrap_or(&[])
}

/// The definition of the table of `fam` named `name` (from a request):
/// `filter` or a registered table; `None` (ENOENT) for any other name.
fn def_of(fam: &Fam, name: &[u8]) -> Option<&'static TableDef> {
    let name = name_in(name);
    if name == fam.filter.name.as_bytes() {
        Some(fam.filter)
    } else {
        crate::registry::find(fam, name).map(|(_, def)| def)
    }
}

/// `SET_REPLACE`: validates the new table in full, swaps it in, waits for a
/// grace period, and hands the old table's counters back through
/// `ipt_replace.counters`. Errors: EINVAL (lengths, a malformed blob, wrong
/// `valid_hooks`), ENOMEM, EFAULT, ENOENT (another table's name), EAGAIN
/// (`num_counters` is not the current table's number of entries), and the
/// engine's ELOOP, EPROTONOSUPPORT, ...
fn replace(fam: &Fam, caller: &Caller, arg: &SetArg, len: u32) -> Result {
    let len = len as usize;
    let mut hb = [0u8; ReplaceHeader::SIZE];
    if len < hb.len() {
        return Err(EINVAL);
    }
    arg.read(0, &mut hb)?;
    let hdr = ReplaceHeader::parse_header(&hb).map_err(errno)?;
    // do_replace's checks, in its order, before anything is allocated.
    if hdr.num_counters >= (i32::MAX as u32) / 16 {
        return Err(ENOMEM);
    }
    if hdr.num_counters == 0 {
        return Err(EINVAL);
    }
    let size = hdr.size as usize;
    if (len as u64) < hdr.size as u64 + hb.len() as u64 {
        return Err(EINVAL);
    }
    if size.saturating_add(hb.len()) >= MAX_TABLE_BYTES {
        return Err(ENOMEM);
    }
    let mut blob = KVVec::from_elem(0u8, size, GFP_KERNEL)?;
    arg.read(hb.len(), &mut blob)?;
    // A name the namespace has no table of is checked against `filter`'s
    // definition, which refuses it (ENOENT) after the blob's own checks.
    let def = def_of(fam, &hdr.name).unwrap_or(fam.filter);
    let new = Instance::build(def, &hdr, blob, Some((caller.net(), fam))).map_err(|e| {
        if glue::net_ratelimit() {
            pr_info!("{}: table {} refused: {} (errno {})\n", fam.tool, def.name, e.reason, e.errno);
        }
        errno(e)
    })?;
    if name_in(&hdr.name) != def.name.as_bytes() {
        return Err(ENOENT);
    }
    if hdr.valid_hooks != def.valid_hooks {
        return Err(EINVAL);
    }
    let n = hdr.num_counters as usize;
    let mut counters = KVVec::from_elem(0u8, n.checked_mul(16).ok_or(ENOMEM)?, GFP_KERNEL)?;
    // A valid table replaces the one in force, which comes into the
    // namespace now if it was not there (`xt_request_find_table_lock`).
    netns::instantiate(fam, caller.net(), def.name.as_bytes())?;

    let shared = crate::shared().ok_or(ENODEV)?;
    let tables = netns::tables(caller.net());
    let guard = shared.lock.lock();
    // Under the lock the table cannot come or go (registration fills and
    // empties the slots under it too): it must still be the one `def` was
    // taken from.
    let (id, current) = {
        let rcu = RcuReadGuard::new();
        match tables.find(fam, def.name.as_bytes(), &rcu) {
            Some((id, inst)) if core::ptr::eq(inst.def, def) => (id, inst.table.num_entries()),
            _ => return Err(ENOENT),
        }
    };
    if current != hdr.num_counters {
        return Err(EAGAIN);
    }
    // `id` came from `find` under the same lock: in range.
    let slot = tables.slots(fam).get(id).ok_or(ENOENT)?;
    // Publish, wait until no hook walks the old table, then read its
    // counters: nothing adds to them any more.
    let old = slot.replace(Some(new));
    drop(guard);
    if let Some(old) = old {
        for (i, out) in counters.chunks_exact_mut(16).enumerate() {
            let (packets, bytes) = old.counters.sum(i);
            out[..8].copy_from_slice(&packets.to_ne_bytes());
            out[8..].copy_from_slice(&bytes.to_ne_bytes());
        }
    }
    if UserPtr::from_addr(hdr.counters_ptr).write(0, &counters).is_err() && glue::net_ratelimit() {
        // As the kernel: the new table is in force, the call succeeds.
        pr_warn!("{}: counters copy to user failed while replacing table\n", fam.tool);
    }
    Ok(())
}

/// `SET_ADD_COUNTERS`: adds user-given (packets, bytes) to each rule of the
/// current table (`iptables-restore --counters`). Errors: EINVAL (lengths,
/// `num_counters` not the table's number of entries), ENOENT, ENOMEM, EFAULT.
fn add_counters(fam: &Fam, caller: &Caller, arg: &SetArg, len: u32) -> Result {
    let len = len as usize;
    if len <= xt::COUNTERS_INFO_SIZE {
        return Err(EINVAL);
    }
    if len >= MAX_TABLE_BYTES {
        return Err(ENOMEM);
    }
    let mut buf = KVVec::from_elem(0u8, len, GFP_KERNEL)?;
    arg.read(0, &mut buf)?;
    let add = xt::parse_add_counters(&buf).map_err(errno)?;
    netns::instantiate(fam, caller.net(), name_in(&add.name))?;
    let shared = crate::shared().ok_or(ENODEV)?;
    let _guard = shared.lock.lock();
    let rcu = RcuReadGuard::new();
    let (_, inst) = netns::tables(caller.net()).find(fam, name_in(&add.name), &rcu).ok_or(ENOENT)?;
    if inst.table.num_entries() != add.num_counters {
        return Err(EINVAL);
    }
    let bh = BhDisabled::new();
    for (i, (packets, bytes)) in add.iter().enumerate() {
        inst.counters.add(&bh, i, packets, bytes);
    }
    Ok(())
}

/// `GET_INFO`: `ipt_getinfo` of the table named in the request.
fn get_info(fam: &Fam, caller: &Caller, user: UserPtr, len: i32) -> Result<i32> {
    if len as usize != xt::Info::SIZE || len < 0 {
        return Err(EINVAL);
    }
    let mut name = [0u8; 32];
    user.read(0, &mut name)?;
    netns::instantiate(fam, caller.net(), name_in(&name[..31]))?;
    let info = {
        let rcu = RcuReadGuard::new();
        let (_, inst) = netns::tables(caller.net()).find(fam, name_in(&name[..31]), &rcu).ok_or(ENOENT)?;
        inst.table.info().to_bytes()
    };
    user.write(0, &info)?;
    Ok(0)
}

/// `GET_ENTRIES`: the entries as user space sent them, with each rule's
/// counters summed over the CPUs. EINVAL if `len` is not the header plus the
/// size asked for, EAGAIN if that size is not the table's (it changed).
fn get_entries(fam: &Fam, caller: &Caller, user: UserPtr, len: i32) -> Result<i32> {
    let len = usize::try_from(len).map_err(|_| EINVAL)?;
    let mut hb = [0u8; GET_ENTRIES_SIZE];
    if len < hb.len() {
        return Err(EINVAL);
    }
    user.read(0, &mut hb)?;
    // ipt_get_entries: name[32], then size (host endian).
    let size = hb.get(32..36).and_then(|b| b.try_into().ok()).map(u32::from_ne_bytes).ok_or(EINVAL)?;
    if len as u64 != GET_ENTRIES_SIZE as u64 + u64::from(size) {
        return Err(EINVAL);
    }
    if def_of(fam, &hb[..31]).is_none() {
        return Err(ENOENT);
    }
    netns::instantiate(fam, caller.net(), name_in(&hb[..31]))?;
    let mut out = KVVec::from_elem(0u8, size as usize, GFP_KERNEL)?;
    {
        let rcu = RcuReadGuard::new();
        let (_, inst) = netns::tables(caller.net()).find(fam, name_in(&hb[..31]), &rcu).ok_or(ENOENT)?;
        if inst.table.size() != size {
            return Err(EAGAIN);
        }
        inst.table.copy_entries(&mut out, |i| inst.counters.sum(i)).map_err(errno)?;
    }
    user.write(GET_ENTRIES_SIZE, &out)?;
    Ok(0)
}

/// `GET_REVISION_MATCH` / `GET_REVISION_TARGET`: the best revision of an
/// extension (returned as the call's positive result), EPROTONOSUPPORT if
/// the one asked for is missing, ENOENT if the name is unknown.
fn get_revision(fam: &Fam, user: UserPtr, len: i32, target: bool) -> Result<i32> {
    let mut rb = [0u8; GET_REVISION_SIZE];
    if len as usize != rb.len() || len < 0 {
        return Err(EINVAL);
    }
    user.read(0, &mut rb)?;
    let (name, rev) = rb.split_at(GET_REVISION_SIZE - 1);
    let rev = rev.first().copied().unwrap_or(0);
    xt::find_revision(fam.filter.family, target, name_in(name), rev).map_err(errno)
}

fn set(fam: &Fam, caller: &Caller, cmd: i32, arg: &SetArg, len: u32) -> Result {
    if !caller.net_admin() {
        return Err(EPERM);
    }
    ready()?;
    match cmd as u32 {
        bindings::IPT_SO_SET_REPLACE => replace(fam, caller, arg, len),
        bindings::IPT_SO_SET_ADD_COUNTERS => add_counters(fam, caller, arg, len),
        _ => Err(EINVAL),
    }
}

fn get(fam: &Fam, caller: &Caller, cmd: i32, user: UserPtr, len: &mut i32) -> Result<i32> {
    if !caller.net_admin() {
        return Err(EPERM);
    }
    ready()?;
    // INFO and ENTRIES have the same numbers in both families; the revision
    // queries do not (IPT_SO_GET_REVISION_* 66/67, IP6T_SO_* 68/69).
    let (rev_match, rev_target) = if fam.ipv6 {
        (bindings::IP6T_SO_GET_REVISION_MATCH, bindings::IP6T_SO_GET_REVISION_TARGET)
    } else {
        (bindings::IPT_SO_GET_REVISION_MATCH, bindings::IPT_SO_GET_REVISION_TARGET)
    };
    match cmd as u32 {
        bindings::IPT_SO_GET_INFO => get_info(fam, caller, user, *len),
        bindings::IPT_SO_GET_ENTRIES => get_entries(fam, caller, user, *len),
        c if c == rev_match => get_revision(fam, user, *len, false),
        c if c == rev_target => get_revision(fam, user, *len, true),
        _ => Err(EINVAL),
    }
}

/// The IPv4 options (`IPT_SO_*`, `PF_INET`).
pub(crate) struct Ipv4Opts;
impl SockoptHandler for Ipv4Opts {
    fn set(caller: &Caller, cmd: i32, arg: &SetArg, len: u32) -> Result {
        set(&IPV4, caller, cmd, arg, len)
    }
    fn get(caller: &Caller, cmd: i32, user: UserPtr, len: &mut i32) -> Result<i32> {
        get(&IPV4, caller, cmd, user, len)
    }
}

/// The IPv6 options (`IP6T_SO_*`, `PF_INET6`): the same numbers and
/// structures as IPv4 (ip6_tables.h), on IPv6 sockets.
pub(crate) struct Ipv6Opts;
impl SockoptHandler for Ipv6Opts {
    fn set(caller: &Caller, cmd: i32, arg: &SetArg, len: u32) -> Result {
        set(&IPV6, caller, cmd, arg, len)
    }
    fn get(caller: &Caller, cmd: i32, user: UserPtr, len: &mut i32) -> Result<i32> {
        get(&IPV6, caller, cmd, user, len)
    }
}

/// The option ranges of a family (`[BASE_CTL, SO_*_MAX]`).
pub(crate) fn range(ipv6: bool) -> SockoptRange {
    let (pf, base, set_max, get_max) = if ipv6 {
        (bindings::PF_INET6, bindings::IP6T_BASE_CTL, bindings::IP6T_SO_SET_MAX, bindings::IP6T_SO_GET_MAX)
    } else {
        (bindings::PF_INET, bindings::IPT_BASE_CTL, bindings::IPT_SO_SET_MAX, bindings::IPT_SO_GET_MAX)
    };
    SockoptRange {
        pf: pf as u8,
        set: base as i32..set_max as i32 + 1,
        get: base as i32..get_max as i32 + 1,
    }
}
