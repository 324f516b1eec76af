// SPDX-License-Identifier: GPL-2.0
//! Glue only rnf_conntrack uses: its C glue (rust/rnf_conntrack_glue.c:
//! parameters, per-namespace data, sysctls, GC work), the kernel's
//! nf_defrag_ipv4 / nf_defrag_ipv6, and the C entry points the C glue calls
//! (`rnf_ct_gc_run`, and those exported to other modules). It is
//! mounted by rnf_conntrack_main.rs alone, not by `glue/mod.rs`, so that no
//! other module defines these symbols or links nf_defrag.
//!
//! The entry points call safe functions of the crate root, such as
//! `crate::gc_run() -> Option<u32>` (jiffies until the next GC batch, `None`
//! when the module is not set up).
//!
//! C headers: rust/glue/rnf_conntrack_api.h,
//! [include/net/netfilter/ipv4/nf_defrag_ipv4.h](srctree/include/net/netfilter/ipv4/nf_defrag_ipv4.h),
//! [include/net/netfilter/ipv6/nf_defrag_ipv6.h](srctree/include/net/netfilter/ipv6/nf_defrag_ipv6.h)

use core::ffi::{c_char, c_int, c_ulong, CStr};
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::error::{code::EBUSY, to_result, Result};

use crate::glue::bindings;
use crate::glue::hook::{HookState, Net};
use crate::glue::proc::SeqFile;
use crate::glue::skb::{HeaderBuf, Skb, HEADER_BYTES};

pub mod nfct;

/// Number of timeouts a namespace has (`RNF_CT_TMO_MAX`), indexed by
/// `enum rnf_ct_timeout`.
pub const TIMEOUTS: usize = bindings::rnf_ct_timeout_RNF_CT_TMO_MAX as usize;

/// Number of switches a namespace has (`RNF_CT_SET_MAX`), indexed by
/// `enum rnf_ct_setting`.
pub const SETTINGS: usize = bindings::rnf_ct_setting_RNF_CT_SET_MAX as usize;

/// A namespace's data in the C glue (`struct rnf_ct_net`): its connection
/// count, timeouts and per-CPU statistics.
///
/// # Invariants
///
/// `raw` is non-null and is the data of a namespace in which rnf_conntrack
/// is set up. The C pernet operations that own it ([`Controls`]) are
/// registered before the hooks' (Rust) ones and torn down after them, so it
/// outlives every hook, proc read, GC batch and `rnf_ct_lookup` call that
/// can reach it from the namespace (see `rnf_conntrack_api.h`). Values of
/// this type live only within such a call.
#[derive(Clone, Copy)]
pub struct CtNet {
    raw: *mut bindings::rnf_ct_net,
}

impl CtNet {
    /// The data of `net` (`net_generic()`: no lock, callable from hooks);
    /// `None` if the namespace has none. Call only from a hook, proc read,
    /// pernet callback or lookup of `net` while [`Controls`] is registered.
    pub fn of(net: Net) -> Option<CtNet> {
        // SAFETY: `net` is live (invariant of `Net`); reads its generic
        // pointer array under RCU.
        let raw = unsafe { bindings::rnf_ct_net(net.as_ptr()) };
        // INVARIANT: callers hold `net` inside a hook, proc read, pernet
        // callback or lookup of a namespace where rnf_conntrack is set up.
        (!raw.is_null()).then_some(CtNet { raw })
    }

    /// Counts an event in this CPU's statistics of the namespace
    /// (`/proc/net/stat/rnf_conntrack`); a value past `RNF_CT_STAT_MAX` is
    /// ignored by the C glue.
    pub fn stat(self, which: bindings::rnf_ct_stat) {
        // SAFETY: `raw` is live (type invariant); a per-CPU increment.
        unsafe { bindings::rnf_ct_net_stat_inc(self.raw, which) }
    }

    /// The namespace's connection count (`net.rnf.conntrack_count`).
    pub fn count(self) -> u32 {
        // SAFETY: `raw` is live (type invariant); an atomic read.
        unsafe { bindings::rnf_ct_net_count(self.raw) }
    }

    /// Adds `delta` (may be negative) to the count; called with the table
    /// lock held.
    pub fn count_add(self, delta: i32) {
        // SAFETY: `raw` is live (type invariant); an atomic add.
        unsafe { bindings::rnf_ct_net_count_add(self.raw, delta) }
    }

    /// The namespace's timeouts and switches in force, read where its
    /// sysctls keep them, for as long as this value is borrowed (the
    /// namespace outlives it: type invariant).
    pub fn config(&self) -> NetConfig<'_> {
        let (mut tmo, mut set) = (core::ptr::null(), core::ptr::null());
        // SAFETY: `raw` is live (type invariant); the out-pointers are
        // writable. The helper only reads two pointers of `raw`.
        unsafe { bindings::rnf_ct_net_config(self.raw, &mut tmo, &mut set) };
        // INVARIANT: `tmo` and `set` are the namespace's RNF_CT_TMO_MAX and
        // RNF_CT_SET_MAX values, live as long as the namespace, so while
        // `self` is borrowed.
        NetConfig { tmo, set, _hook: core::marker::PhantomData }
    }
}

/// A namespace's timeouts and switches as they are in force: its live
/// variables, which its sysctls (in the initial namespace the module
/// parameters) write, each read when it is needed (`READ_ONCE`), so a
/// write takes effect on the next packet. Valid for `'a` (a hook call, or
/// a borrow of the namespace's [`CtNet`]), which the namespace outlives.
#[derive(Clone, Copy)]
pub struct NetConfig<'a> {
    /// `RNF_CT_TMO_MAX` values.
    tmo: *const core::ffi::c_uint,
    /// `RNF_CT_SET_MAX` values.
    set: *const core::ffi::c_uint,
    _hook: core::marker::PhantomData<&'a ()>,
}

impl NetConfig<'_> {
    /// Timeout `i` (`enum rnf_ct_timeout`), seconds; 0 for an `i` out of
    /// range.
    #[inline(always)]
    pub fn timeout(&self, i: bindings::rnf_ct_timeout) -> u32 {
        if (i as usize) >= TIMEOUTS {
            return 0;
        }
        // SAFETY: `tmo` points to the namespace's RNF_CT_TMO_MAX values,
        // live for `'a` (type invariant); `i` is below that. A volatile
        // read, as READ_ONCE(): a sysctl may write the value meanwhile.
        unsafe { self.tmo.add(i as usize).read_volatile() }
    }

    /// Switch `i` (`enum rnf_ct_setting`); 0 for an `i` out of range.
    pub fn setting(&self, i: bindings::rnf_ct_setting) -> u32 {
        if (i as usize) >= SETTINGS {
            return 0;
        }
        // SAFETY: as in `timeout`, for the RNF_CT_SET_MAX switches.
        unsafe { self.set.add(i as usize).read_volatile() }
    }
}

/// What the tracking hook needs of a packet it is to track, read in one
/// helper call before the packet itself is looked at (`struct rnf_ct_in`,
/// [`track_start`]), for the hook call `'a`; its first bytes are borrowed
/// for `'b` (from the skb or the caller's [`HeaderBuf`]).
pub struct TrackIn<'a, 'b> {
    /// The namespace's data.
    pub pn: CtNet,
    /// Jiffies at the start of the hook (`get_jiffies_64()`).
    pub now: u64,
    /// The namespace's inode number, the key the table uses for it.
    pub netns: u32,
    /// The raw table's CT template the skb carried, taken off it
    /// (`nf_conntrack_in()`: `skb->_nfct = 0`, the template's reference
    /// dropped): its zone id, `NF_CT_ZONE_DIR_*` bits, whether the id is
    /// the packet's mark (`NF_CT_FLAG_MARK`), and `skb->mark`.
    pub template: Option<(u16, u8, bool, u32)>,
    /// The namespace's timeouts and switches in force.
    pub config: NetConfig<'a>,
    /// The packet from its network header on, at most [`HEADER_BYTES`]
    /// ([`Skb::network_bytes`]); `None` when the skb holds no such bytes.
    pub bytes: Option<&'b [u8]>,
}

/// `nf_conntrack_in()`'s start for `skb` at the hook of `st`
/// (`rnf_ct_in_start()`): takes a CT template off the skb in any case,
/// then `None` when the packet is not to be tracked here (it carries a
/// connection or the untracked mark already, it came in on loopback at
/// PRE_ROUTING, or its namespace has no rnf_conntrack data), else what
/// tracking it needs, its first bytes included (what
/// [`Skb::network_bytes`] gives, in the same call).
#[inline]
pub fn track_start<'a, 'b>(st: &'a HookState<'_>, skb: &'b Skb<'_>, buf: &'b mut HeaderBuf) -> Option<TrackIn<'a, 'b>> {
    let mut raw = core::mem::MaybeUninit::<bindings::rnf_ct_in>::uninit();
    let p = raw.as_mut_ptr();
    // SAFETY: `st` and `skb` are the live state and skb of the hook call
    // the caller runs in, whose `_nfct` the hook may change; `p` points to
    // writable space for the struct, which the helper fills as it
    // documents (`pn`, `present`, `loopback_in`, `tmpl` always, the zone
    // and mark when `tmpl`, the rest when `pn` is not NULL); `buf` has
    // HEADER_BYTES bytes of writable space (uninitialised memory may be
    // written through a raw pointer).
    unsafe { bindings::rnf_ct_in_start(st.as_raw(), skb.as_ptr(), p, buf.as_mut_ptr(), HEADER_BYTES as u32) };
    // SAFETY: `pn` is always written by the helper.
    let pn = unsafe { core::ptr::addr_of!((*p).pn).read() };
    if pn.is_null() {
        return None;
    }
    // SAFETY: with `pn` not NULL every field but the template's is written;
    // those are read only when `tmpl` (written always) says so.
    unsafe {
        let template = core::ptr::addr_of!((*p).tmpl).read().then(|| {
            (
                core::ptr::addr_of!((*p).zone_id).read(),
                core::ptr::addr_of!((*p).zone_dir).read(),
                core::ptr::addr_of!((*p).from_mark).read(),
                core::ptr::addr_of!((*p).mark).read(),
            )
        });
        let data = core::ptr::addr_of!((*p).data).read();
        let len = core::ptr::addr_of!((*p).data_len).read();
        // SAFETY: as `rnf_skb_network_bytes()` documents, `data` is NULL or
        // points to `len` readable, initialised bytes that stay valid while
        // the skb is borrowed (its linear data) or while `buf` is (its
        // first `len` bytes, which `skb_header_pointer` has just written);
        // both outlive `'b`.
        let bytes = (!data.is_null()).then(|| core::slice::from_raw_parts(data, len as usize));
        // INVARIANT: `pn` is the data of the hook's namespace, as `CtNet::of`
        // returns it; `tmo` and `set` are its arrays of RNF_CT_TMO_MAX and
        // RNF_CT_SET_MAX values, which live as long as the namespace, so
        // for the hook call `'a`.
        Some(TrackIn {
            pn: CtNet { raw: pn },
            now: core::ptr::addr_of!((*p).now).read(),
            netns: core::ptr::addr_of!((*p).inum).read(),
            template,
            config: NetConfig {
                tmo: core::ptr::addr_of!((*p).tmo).read(),
                set: core::ptr::addr_of!((*p).set).read(),
                _hook: core::marker::PhantomData,
            },
            bytes,
        })
    }
}

/// `nf_l4proto_log_invalid()`: logs `skb` as an INVALID packet of protocol
/// `proto` with `msg` when the hook's namespace has
/// `nf_conntrack_log_invalid` set to `proto` or 255 (through its packet
/// logger, `nf_log_packet()`; nothing without one).
pub fn log_invalid(st: &HookState<'_>, skb: &Skb<'_>, proto: u8, msg: &CStr) {
    // SAFETY: `st` and `skb` are the live state and skb of the hook call
    // the caller runs in (the namespace is set up, see `CtNet`); `msg` is
    // NUL-terminated.
    unsafe { bindings::rnf_ct_log_invalid(st.as_raw(), skb.as_ptr(), proto, msg.as_ptr()) }
}

/// Whether `skb`'s `proto` header at `l4off` bytes from the network header
/// fails its checksum (TCP, UDP, ICMP, ICMPv6 at PRE_ROUTING of family `pf`;
/// see `rnf_ct_checksum_bad` in rnf_conntrack_api.h).
pub fn checksum_bad(skb: &Skb<'_>, hook: u32, l4off: u32, proto: u8, pf: u8) -> bool {
    // SAFETY: `skb` is the caller's hook skb, whose checksum state the
    // hook may update as the kernel's conntrack does.
    unsafe { bindings::rnf_ct_checksum_bad(skb.as_ptr(), hook, l4off, proto, pf) }
}

/// Publishes the number of hash buckets after a resize
/// (`nf_conntrack_buckets`, the `hashsize` parameter).
pub fn set_buckets(buckets: u32) {
    // SAFETY: a WRITE_ONCE of a setting; no preconditions.
    unsafe { bindings::rnf_ct_set_buckets(buckets) }
}

/// Counts `which` in this CPU's statistics of the namespace whose inode
/// number is `inum` (for code that knows a connection's namespace only by
/// that number); a namespace without data is ignored.
pub fn stat_inum(inum: u32, which: bindings::rnf_ct_stat) {
    // SAFETY: no preconditions: the C glue looks `inum` up in its xarray
    // (RCU-safe `xa_load`) and ignores a namespace that has no data.
    unsafe { bindings::rnf_ct_stat_inc_inum(inum, which) }
}

/// Subtracts `n` from the connection count of the namespace whose inode
/// number is `inum` (for the GC, which knows an entry's namespace only by
/// that number); a namespace without data is ignored. Call under the table
/// lock, as the count's other writers.
pub fn count_sub_inum(inum: u32, n: u32) {
    // SAFETY: no preconditions: the C glue looks `inum` up in its xarray
    // (RCU-safe `xa_load`) and ignores a namespace that has no data.
    unsafe { bindings::rnf_ct_count_sub_inum(inum, n) }
}

/// The `conntrack_max` in force (connections, at most the table's
/// ceiling, which 0 stands for): the limit of each namespace's count.
pub fn ct_max() -> u32 {
    // SAFETY: reads a setting with READ_ONCE; no preconditions.
    unsafe { bindings::rnf_ct_max() }
}

/// Publishes the number of connections of all namespaces together
/// (`net.rnf.conntrack_count_all`, initial namespace only).
pub fn set_count_all(count: u32) {
    // SAFETY: stores a value with WRITE_ONCE; no preconditions.
    unsafe { bindings::rnf_ct_set_count_all(count) }
}

/// The module parameters `hashsize` (buckets) and `conntrack_max`
/// (connections) as given at load; 0 means "derive the default".
pub fn params() -> (u32, u32) {
    // SAFETY: these read module parameters, set before init runs; no other
    // preconditions.
    unsafe { (bindings::rnf_ct_param_hashsize(), bindings::rnf_ct_param_max()) }
}

/// Total RAM in bytes (`totalram_pages() << PAGE_SHIFT`), for the kernel's
/// default table size.
pub fn totalram_bytes() -> u64 {
    // SAFETY: no preconditions.
    unsafe { bindings::rnf_totalram_bytes() }
}

/// Publishes the table chosen at load: `buckets` hash buckets, `ceiling`
/// connections the table can grow to (the largest `nf_conntrack_max`, and
/// the limit `nf_conntrack_max` 0 means) and the limit `max`
/// (`nf_conntrack_max`). Call in init, before [`Controls::register`]
/// (whose sysctls read these).
pub fn set_limits(buckets: u32, ceiling: u32, max: u32) {
    // SAFETY: plain stores of three integers; no preconditions. Before the
    // sysctls exist nothing reads them concurrently.
    unsafe { bindings::rnf_ct_set_limits(buckets, ceiling, max) }
}

/// Enables the kernel's IPv4 and IPv6 defragmentation in `net`
/// (`nf_defrag_ipv4_enable()`, `nf_defrag_ipv6_enable()`: reference
/// counted, may sleep). On error nothing stays enabled; errors are those of
/// the enable functions (e.g. `ENOMEM` from hook registration). Pair each
/// success with one [`defrag_disable`]. Process context.
pub fn defrag_enable(net: Net) -> Result {
    // SAFETY: `net` is live (invariant of `Net`); the call takes a mutex,
    // allowed in the process context this function requires.
    to_result(unsafe { bindings::nf_defrag_ipv4_enable(net.as_ptr()) })?;
    // SAFETY: as above.
    if let Err(e) = to_result(unsafe { bindings::nf_defrag_ipv6_enable(net.as_ptr()) }) {
        // SAFETY: `net` is live; IPv4 was enabled just above.
        unsafe { bindings::nf_defrag_ipv4_disable(net.as_ptr()) };
        return Err(e);
    }
    Ok(())
}

/// Drops the reference of one [`defrag_enable`] of `net` (IPv6, then
/// IPv4). Takes a mutex: process context, no spinlock held.
pub fn defrag_disable(net: Net) {
    // SAFETY: `net` is live (invariant of `Net`). The kernel ignores a
    // disable without users (`nf_defrag_ipv*_disable` test the count), so an
    // unpaired call cannot underflow it.
    unsafe {
        bindings::nf_defrag_ipv6_disable(net.as_ptr());
        bindings::nf_defrag_ipv4_disable(net.as_ptr());
    }
}

/// Whether [`Controls`] is registered (the C pernet operations exist once).
static CONTROLS_UP: AtomicBool = AtomicBool::new(false);

/// The per-namespace data, sysctls and statistics files of the C glue,
/// registered in every namespace (`rnf_ct_controls_init()`) while this value
/// lives; dropping it unregisters them (`rnf_ct_controls_exit()`, sleeps).
///
/// The owner drops it only after the hooks are unregistered in every
/// namespace, a grace period has passed and the [`GcWork`] is stopped:
/// [`CtNet`] values of hooks rely on it.
pub struct Controls {
    _private: (),
}

impl Controls {
    /// Registers the pernet operations. Process context. Errors: `EBUSY`
    /// if they are registered already, else those of
    /// `register_pernet_subsys()` (e.g. `ENOMEM`).
    pub fn register() -> Result<Controls> {
        if CONTROLS_UP.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: the flag above makes this the only registration of the
        // static pernet operations; undone once, in `drop`.
        if let Err(e) = to_result(unsafe { bindings::rnf_ct_controls_init() }) {
            CONTROLS_UP.store(false, Ordering::Release);
            return Err(e);
        }
        Ok(Controls { _private: () })
    }
}

impl Drop for Controls {
    fn drop(&mut self) {
        // SAFETY: registered by `register` (the only way to get a
        // `Controls`), unregistered only here. The owner drops it after the
        // hooks that read the data are gone (type documentation).
        unsafe { bindings::rnf_ct_controls_exit() };
        CONTROLS_UP.store(false, Ordering::Release);
    }
}

/// Whether the [`GcWork`] is started.
static GC_UP: AtomicBool = AtomicBool::new(false);

/// The GC delayed work of the C glue: runs `crate::gc_run()` in process
/// context from a second after `start` on, at the delay each run returns.
/// Dropping it cancels the work and waits for a running batch (sleeps).
pub struct GcWork {
    _private: (),
}

impl GcWork {
    /// Starts the GC work (`rnf_ct_gc_start()`). Errors: `EBUSY` if it is
    /// started already.
    pub fn start() -> Result<GcWork> {
        if GC_UP.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: the flag above ensures the static work is not pending or
        // running while it is initialised and scheduled here.
        unsafe { bindings::rnf_ct_gc_start() };
        Ok(GcWork { _private: () })
    }
}

/// Runs the GC work at once rather than at its next tick
/// (`rnf_ct_gc_kick()`, `mod_delayed_work()`): callable from any context,
/// the packet path included; nothing while the work is not started.
pub fn gc_kick() {
    if GC_UP.load(Ordering::Acquire) {
        // SAFETY: the work was initialised by `GcWork::start` (the flag),
        // and it is cancelled only after the hooks, the callers, are gone.
        unsafe { bindings::rnf_ct_gc_kick() };
    }
}

impl Drop for GcWork {
    fn drop(&mut self) {
        // SAFETY: started (initialised) by `start`, the only way to get a
        // `GcWork`; cancels it and waits for a running batch.
        unsafe { bindings::rnf_ct_gc_stop() };
        GC_UP.store(false, Ordering::Release);
    }
}

/// The listing of `/proc/net/nf_conntrack` and `/proc/net/rnf_conntrack`
/// (their show callback in glue/conntrack/names.c).
///
/// # Safety
///
/// `m` must be the seq_file of a show call in progress on one of those
/// files (a `single_open_net` file: its private data is the namespace).
#[no_mangle]
pub unsafe extern "C" fn rnf_ct_proc_show(m: *mut bindings::seq_file) {
    // SAFETY: the file was opened with single_open_net, which holds the
    // namespace for as long as it is open.
    let net = unsafe { Net::from_raw(bindings::rnf_seq_net(m)) };
    // SAFETY: guaranteed by the caller for the duration of this call.
    let mut seq = unsafe { SeqFile::from_raw(m) };
    crate::proc_show(net, &mut seq);
}

/// A write to `/proc/net/nf_conntrack` (after the C glue's capability
/// check): 0, or `-EINVAL` for a malformed address.
///
/// # Safety
///
/// `net` must be live for the call and `buf` valid for reading `len`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn rnf_ct_proc_flush(net: *mut bindings::net, buf: *const c_char, len: usize) -> c_int {
    // SAFETY: guaranteed by the caller.
    let (net, bytes) = unsafe { (Net::from_raw(net), core::slice::from_raw_parts(buf.cast::<u8>(), len)) };
    match crate::proc_flush(net, bytes) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Resizes the hash to `buckets` buckets (`nf_conntrack_buckets`, the
/// `hashsize` parameter): 0, or `-EINVAL` (0 buckets), `-ENOMEM`, `-ENODEV`
/// when the module is not set up. Process context.
#[no_mangle]
pub extern "C" fn rnf_ct_resize(buckets: core::ffi::c_uint) -> c_int {
    match crate::resize(buckets) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Reclaims a batch of expired connections; returns jiffies until the next
/// batch. Called by the GC delayed work of the C glue (process context).
#[no_mangle]
pub extern "C" fn rnf_ct_gc_run() -> c_ulong {
    crate::gc_run().map_or(c_ulong::MAX >> 1, c_ulong::from)
}

/// Frees the slot of an unconfirmed connection whose last reference went
/// (called by the object's destroy hook, any context but hard IRQ; takes
/// the table lock).
#[no_mangle]
pub extern "C" fn rnf_ct_release_slot(slot: u32) {
    crate::release_slot(slot);
}

/// `nf_ct_set_closing()` for a TCP connection (after a reset the host sent
/// for it): the connection in `slot` of namespace `net` moves to CLOSE.
///
/// # Safety
///
/// `net` must be live for the call (the connection's own namespace, which
/// waits for its connections at exit).
#[no_mangle]
pub unsafe extern "C" fn rnf_ct_closing(net: *mut bindings::net, slot: u32) {
    // SAFETY: guaranteed by the caller.
    let net = unsafe { Net::from_raw(net) };
    crate::closing(net, slot);
}

/// Confirms the connection of `skb` (br_netfilter, through `nf_ct_hook`);
/// returns the verdict (`NF_ACCEPT` or `NF_DROP`).
///
/// # Safety
///
/// `net` and `skb` must be live for the call.
#[no_mangle]
pub unsafe extern "C" fn rnf_ct_confirm_skb(net: *mut bindings::net, skb: *mut bindings::sk_buff) -> core::ffi::c_uint {
    // SAFETY: guaranteed by the caller.
    let (net, skb) = unsafe { (Net::from_raw(net), Skb::from_raw(skb)) };
    crate::confirm_skb(net, &skb).as_raw()
}

/// Exported to rnf_nat (`EXPORT_SYMBOL_GPL` in rnf_conntrack_glue.c;
/// contract in `rnf_conntrack_api.h`): `nf_nat_setup_info()` for the
/// connection `skb` carries. 0, or `-ENOENT`/`-EEXIST`.
///
/// # Safety
///
/// `skb` must be the caller's hook skb and `range` valid for reading.
#[no_mangle]
pub unsafe extern "C" fn rnf_ct_nat_setup(
    skb: *mut bindings::sk_buff,
    range: *const bindings::rnf_nat_target,
    manip: u8,
) -> c_int {
    // SAFETY: guaranteed by the caller for the duration of the call.
    let (skb, range) = unsafe { (Skb::from_raw(skb), &*range) };
    let range = crate::nat::range::NatRange {
        flags: range.flags,
        min_addr: range.min_addr,
        max_addr: range.max_addr,
        min_proto: range.min_proto,
        max_proto: range.max_proto,
        base_proto: range.base_proto,
    };
    let manip = if manip == 0 { crate::nat::range::ManipType::Src } else { crate::nat::range::ManipType::Dst };
    match crate::nat_setup(&skb, &range, manip) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Exported to rnf_nat (see `rnf_ct_flush_masq` in rnf_conntrack_api.h):
/// deletes MASQUERADE's connections of a lost interface or address.
///
/// # Safety
///
/// `net` must be live for the call; `addr` NULL or 16 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rnf_ct_flush_masq(net: *mut bindings::net, ifindex: c_int, addr: *const u8, l3: u8) -> core::ffi::c_uint {
    // SAFETY: guaranteed by the caller.
    let net = unsafe { Net::from_raw(net) };
    let addr = if addr.is_null() {
        None
    } else {
        let mut a = [0u8; 16];
        // SAFETY: the caller guarantees 16 readable bytes at `addr`.
        a.copy_from_slice(unsafe { core::slice::from_raw_parts(addr, 16) });
        Some(a)
    };
    crate::flush_masq(net, ifindex, addr, l3)
}

/// Exported to rnf_nat (see `rnf_ct_kill` in rnf_conntrack_api.h).
///
/// # Safety
///
/// `skb` must be the caller's hook skb.
#[no_mangle]
pub unsafe extern "C" fn rnf_ct_kill(skb: *mut bindings::sk_buff) {
    // SAFETY: guaranteed by the caller.
    let skb = unsafe { Skb::from_raw(skb) };
    crate::kill(&skb);
}

/// Exported to rnf_nat (see `rnf_ct_nat_cleanup` in rnf_conntrack_api.h).
#[no_mangle]
pub extern "C" fn rnf_ct_nat_cleanup() -> core::ffi::c_uint {
    crate::nat_cleanup()
}
