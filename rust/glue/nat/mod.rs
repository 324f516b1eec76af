// SPDX-License-Identifier: GPL-2.0
//! Glue only rnf_nat uses: the nat tables' lookups (rust/rnf_nat_glue.c),
//! rnf_conntrack's NAT calls (`rnf_ct_nat_info`, `rnf_ct_nat_setup`), and
//! the skb and routing operations of NAT (writable headers, checksum state,
//! re-routing, MASQUERADE's and REDIRECT's addresses). Mounted by
//! rnf_nat_main.rs alone.
//!
//! C headers: rust/glue/rnf_nat_api.h, rust/glue/rnf_conntrack_api.h,
//! [include/linux/skbuff.h](srctree/include/linux/skbuff.h),
//! [include/net/route.h](srctree/include/net/route.h)

use core::ffi::c_uint;

use kernel::error::{to_result, Result};

use crate::conntrack::tuple::Tuple;
use crate::glue::bindings;
use crate::glue::hook::HookState;
use crate::glue::skb::Skb;
use crate::nat::range::{ManipType, NatRange};
use crate::nat::rewrite::Summed;
use crate::packet::L3Proto;

/// What the nat table said about a connection's first packet at a hook.
pub enum Lookup {
    /// No nat table is registered for the family: no NAT at all.
    NoTable,
    /// A rule dropped the packet.
    Drop,
    /// The walk ended: in a NAT target (`kind` != `RNF_NAT_NONE`), or not.
    Target(bindings::rnf_nat_target),
}

/// Walks the nat table registered for the hook's family
/// (`rnf_nat_call_lookup`).
pub fn lookup(skb: &Skb<'_>, st: &HookState<'_>) -> Lookup {
    // SAFETY: all-zero is a valid `rnf_nat_target` (plain integers).
    let mut t: bindings::rnf_nat_target = unsafe { core::mem::zeroed() };
    // SAFETY: `skb` and the state are the hook's own, valid for the call;
    // hooks run under RCU, which the registered function needs; `t` is
    // writable.
    let v = unsafe { bindings::rnf_nat_call_lookup(st.pf(), skb.as_ptr(), st.as_raw(), &mut t) };
    match v {
        bindings::RNF_NAT_NO_TABLE => Lookup::NoTable,
        bindings::NF_ACCEPT => Lookup::Target(t),
        _ => Lookup::Drop,
    }
}

#[inline]
fn tuple_of(t: &bindings::rnf_tuple) -> Option<Tuple> {
    Some(Tuple {
        src: t.src,
        dst: t.dst,
        src_id: t.src_id,
        dst_id: t.dst_id,
        proto: t.proto,
        l3: L3Proto::from_nfproto(t.l3)?,
    })
}

/// The connection a packet carries, as NAT needs it.
pub struct CtNat {
    /// `IPS_*` bits.
    pub status: u32,
    /// The interface MASQUERADE mapped it for, 0 if none.
    pub masq_index: i32,
    /// `enum ip_conntrack_info` of this packet.
    pub ctinfo: u8,
    /// 0 original, 1 reply.
    pub dir: u8,
    /// Original and reply tuple.
    pub tuple: [Tuple; 2],
}

/// `rnf_ct_nat_info`: the connection `skb` carries, `None` without one.
pub fn ct_info(skb: &Skb<'_>) -> Option<CtNat> {
    // SAFETY: all-zero is a valid `rnf_ct_nat_info`.
    let mut out: bindings::rnf_ct_nat_info = unsafe { core::mem::zeroed() };
    // SAFETY: `skb` is valid while borrowed; `out` is writable.
    let rc = unsafe { bindings::rnf_ct_nat_info(skb.as_ptr(), &mut out) };
    if rc != 0 {
        return None;
    }
    Some(CtNat {
        status: out.status,
        masq_index: out.masq_index,
        ctinfo: out.ctinfo,
        dir: out.dir,
        tuple: [tuple_of(&out.tuple[0])?, tuple_of(&out.tuple[1])?],
    })
}

/// The direction of a packet with `enum ip_conntrack_info` `ctinfo`
/// (`CTINFO2DIR`: `IP_CT_IS_REPLY`, 3, and above are replies): 0 original,
/// 1 reply.
#[inline]
fn dir_of(ctinfo: u8) -> u8 {
    u8::from(ctinfo >= 3)
}

/// What NAT's hook reads first of a packet ([`with_pkt_start`]): its
/// connection's status, with the hook's output device and the skb's
/// checksum state. The C struct itself, read in place: the common packet,
/// which needs two or three of its fields, converts nothing.
#[repr(transparent)]
pub struct PktStart(bindings::rnf_nat_pkt);

impl PktStart {
    /// `IPS_*` bits.
    #[inline]
    pub fn status(&self) -> u32 {
        self.0.status
    }

    /// `enum ip_conntrack_info` of this packet.
    #[inline]
    pub fn ctinfo(&self) -> u8 {
        self.0.ctinfo
    }

    /// 0 original, 1 reply.
    #[inline]
    pub fn dir(&self) -> u8 {
        dir_of(self.0.ctinfo)
    }

    /// The interface MASQUERADE mapped the connection for, 0 if none.
    #[inline]
    pub fn masq_index(&self) -> i32 {
        self.0.masq_index
    }

    /// The hook's output device's ifindex, 0 without one.
    #[inline]
    pub fn out_ifindex(&self) -> i32 {
        self.0.out_ifindex
    }

    /// The skb's checksum state (`ip_summed`, `csum`).
    #[inline]
    pub fn summed(&self) -> Summed {
        summed_of(self.0.ip_summed, self.0.csum)
    }

    /// The packet's length (`skb->len`, bytes, from the network header on
    /// in a hook).
    #[inline]
    pub fn len(&self) -> u32 {
        self.0.len
    }
}

// `Tuple` is `repr(C)` with `struct rnf_tuple`'s fields at the same
// offsets, no larger and aligned alike, so a `struct rnf_tuple` whose
// family byte is valid is a `Tuple` ([`tuple_ref`]).
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    type C = bindings::rnf_tuple;
    assert!(offset_of!(Tuple, src) == offset_of!(C, src));
    assert!(offset_of!(Tuple, dst) == offset_of!(C, dst));
    assert!(offset_of!(Tuple, src_id) == offset_of!(C, src_id));
    assert!(offset_of!(Tuple, dst_id) == offset_of!(C, dst_id));
    assert!(offset_of!(Tuple, proto) == offset_of!(C, proto));
    assert!(offset_of!(Tuple, l3) == offset_of!(C, l3));
    assert!(size_of::<Tuple>() <= size_of::<C>());
    assert!(align_of::<Tuple>() == align_of::<C>());
    assert!(size_of::<L3Proto>() == 1);
};

/// `t` as a [`Tuple`], in place; `None` when its family is neither IPv4
/// nor IPv6.
#[inline]
fn tuple_ref(t: &bindings::rnf_tuple) -> Option<&Tuple> {
    L3Proto::from_nfproto(t.l3)?;
    // SAFETY: the layouts agree (the assertions above), every field but
    // `l3` is plain integers or bytes, valid at any value, and `l3` holds
    // a valid `L3Proto` (`repr(u8)`, checked just now); the reference
    // borrows `t`, so it lives no longer than the struct.
    Some(unsafe { &*core::ptr::from_ref(t).cast::<Tuple>() })
}

/// `rnf_nat_pkt_start`: the start of `nf_nat_inet_fn()` in one call; also
/// counts the packet in this CPU's counters of what the hooks saw
/// ([`seen_sum`]). `want[d]` are the status bits that make the glue read
/// the other direction's tuple for a packet of direction `d` (0 original,
/// 1 reply): those that say this hook rewrites it. Runs `f` on what it
/// read and that tuple (`None` when not read), where the glue wrote them:
/// returned, the struct was copied whole at every hook. `None` when `skb`
/// carries no connection.
#[inline(always)]
pub fn with_pkt_start<R>(
    skb: &Skb<'_>,
    st: &HookState<'_>,
    want: [u32; 2],
    f: impl FnOnce(&PktStart, Option<&Tuple>) -> R,
) -> Option<R> {
    let mut p = core::mem::MaybeUninit::<PktStart>::uninit();
    let mut other = core::mem::MaybeUninit::<bindings::rnf_tuple>::uninit();
    // SAFETY: `skb` and `st` are the hook's own, valid for the call; `p`
    // and `other` point to writable space for their structs (`PktStart`
    // is `repr(transparent)` over `rnf_nat_pkt`).
    let rc = unsafe {
        bindings::rnf_nat_pkt_start(skb.as_ptr(), st.as_raw(), want[0], want[1], p.as_mut_ptr().cast(), other.as_mut_ptr())
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success the helper wrote every field of `p`.
    let p = unsafe { p.assume_init_ref() };
    let other = if p.0.has_other != 0 {
        // SAFETY: `has_other` says the helper wrote the whole tuple.
        tuple_ref(unsafe { other.assume_init_ref() })
    } else {
        None
    };
    Some(f(p, other))
}

/// `rnf_ct_nat_tuple`: the tuple of direction `dir` (0 original, 1 reply)
/// of the connection `skb` carries; `None` without one.
#[inline]
pub fn ct_tuple(skb: &Skb<'_>, dir: u8) -> Option<Tuple> {
    let mut t = core::mem::MaybeUninit::<bindings::rnf_tuple>::uninit();
    // SAFETY: `skb` is valid while borrowed; `t` points to writable space
    // for the struct.
    let rc = unsafe { bindings::rnf_ct_nat_tuple(skb.as_ptr(), dir, t.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success the helper wrote the whole struct (it zeroes it
    // first).
    tuple_of(unsafe { &*t.as_ptr() })
}

/// What NAT reads first of a packet's connection: no tuples.
pub struct CtStatus {
    /// `IPS_*` bits.
    pub status: u32,
    /// `enum ip_conntrack_info` of this packet.
    pub ctinfo: u8,
    /// 0 original, 1 reply.
    pub dir: u8,
    /// The interface MASQUERADE mapped it for, 0 if none.
    pub masq_index: i32,
}

/// The status part of [`ct_info`] (`rnf_ct_nat_status`), `None` without a
/// connection: a few loads, no copies.
pub fn ct_status(skb: &Skb<'_>) -> Option<CtStatus> {
    let (mut status, mut ctinfo, mut masq) = (0u32, 0u8, 0i32);
    // SAFETY: `skb` is valid while borrowed; the out-pointers are writable.
    let rc = unsafe { bindings::rnf_ct_nat_status(skb.as_ptr(), &mut status, &mut ctinfo, &mut masq) };
    (rc == 0).then_some(CtStatus { status, ctinfo, dir: dir_of(ctinfo), masq_index: masq })
}

/// `rnf_ct_nat_setup`: maps the packet's unconfirmed connection for
/// `manip` into `range`. Errors: `ENOENT`, `EEXIST` (see the header).
pub fn ct_setup(skb: &Skb<'_>, range: &NatRange, manip: ManipType) -> Result {
    let r = bindings::rnf_nat_target {
        kind: 0,
        flags: range.flags,
        min_addr: range.min_addr,
        max_addr: range.max_addr,
        min_proto: range.min_proto,
        max_proto: range.max_proto,
        base_proto: range.base_proto,
        pad: 0,
    };
    let m = match manip {
        ManipType::Src => 0,
        ManipType::Dst => 1,
    };
    // SAFETY: `skb` is the hook's skb; `r` is valid for reading.
    to_result(unsafe { bindings::rnf_ct_nat_setup(skb.as_ptr(), &r, m) })
}

/// Runs `f` over the packet's writable bytes from the network header on
/// (at least `need` of them, linear) and its whole length (`skb->len`);
/// `None` when they cannot be made writable. The slice is valid only
/// inside `f`: making more bytes writable may move the data.
pub fn with_writable<R>(skb: &Skb<'_>, need: usize, f: impl FnOnce(&mut [u8], usize) -> R) -> Option<R> {
    let need = c_uint::try_from(need).ok()?;
    let (mut linear, mut len) = (0u32, 0u32);
    // SAFETY: `skb` is the hook's skb, which the hook may modify; the
    // out-pointers are valid.
    let p = unsafe { bindings::rnf_nat_writable(skb.as_ptr(), need, &mut linear, &mut len) };
    if p.is_null() {
        return None;
    }
    // SAFETY: skb_ensure_writable() made `linear` bytes at `p` (skb->data)
    // the skb's own, writable and linear; nothing else touches them during
    // this hook call, and the slice does not outlive `f`.
    let buf = unsafe { core::slice::from_raw_parts_mut(p, linear as usize) };
    Some(f(buf, len as usize))
}

/// The skb's checksum state.
pub fn summed(skb: &Skb<'_>) -> Summed {
    // SAFETY: `skb` is valid while borrowed.
    let (ip_summed, csum) = unsafe { (bindings::rnf_skb_ip_summed(skb.as_ptr()), bindings::rnf_skb_csum(skb.as_ptr())) };
    summed_of(ip_summed, csum)
}

/// The checksum state from `skb->ip_summed` (`CHECKSUM_*`) and `skb->csum`.
#[inline]
fn summed_of(ip_summed: u8, csum: u32) -> Summed {
    match ip_summed {
        1 => Summed::Unnecessary,
        2 => Summed::Complete(csum),
        3 => Summed::Partial,
        _ => Summed::None,
    }
}

/// Stores `skb->csum` back after a rewrite changed it.
pub fn set_summed(skb: &Skb<'_>, s: Summed) {
    if let Summed::Complete(csum) = s {
        // SAFETY: `skb` is the hook's skb.
        unsafe { bindings::rnf_skb_set_csum(skb.as_ptr(), csum) }
    }
}

/// Whether the transport checksum at `dataoff` is right (`nf_ip_checksum`
/// / `nf_ip6_checksum`, which trust a device-verified one).
pub fn l4_checksum_ok(skb: &Skb<'_>, st: &HookState<'_>, dataoff: usize, proto: u8) -> bool {
    let Ok(off) = c_uint::try_from(dataoff) else { return false };
    // SAFETY: `skb` is the hook's skb.
    unsafe { bindings::rnf_nat_l4_checksum(skb.as_ptr(), st.pf(), st.hook(), off, proto) == 0 }
}

/// `skb_dst_drop`: the packet is routed again (DNAT at PRE_ROUTING).
pub fn dst_drop(skb: &Skb<'_>) {
    // SAFETY: `skb` is the hook's skb; PRE_ROUTING routes after this hook.
    unsafe { bindings::rnf_nat_dst_drop(skb.as_ptr()) }
}

/// `ip_route_me_harder` / `ip6_route_me_harder` (DNAT at LOCAL_OUT).
pub fn route_me_harder(skb: &Skb<'_>, st: &HookState<'_>) -> Result {
    // SAFETY: `skb` and the state are the hook's own.
    to_result(unsafe { bindings::rnf_nat_route_me_harder(skb.as_ptr(), st.as_raw()) })
}

/// `skb_orphan` after SNAT at LOCAL_IN changed a demuxed packet's source.
pub fn local_in_orphan(skb: &Skb<'_>) {
    // SAFETY: `skb` is the hook's skb.
    unsafe { bindings::rnf_nat_local_in_orphan(skb.as_ptr()) }
}

/// MASQUERADE's new source address, `None` if the output device has none.
pub fn masq_addr(skb: &Skb<'_>, st: &HookState<'_>) -> Option<[u8; 16]> {
    let mut a = [0u8; 16];
    // SAFETY: the hook's skb and state; `a` has 16 writable bytes.
    let rc = unsafe { bindings::rnf_nat_masq_addr(skb.as_ptr(), st.as_raw(), a.as_mut_ptr()) };
    (rc == 0).then_some(a)
}

/// REDIRECT's new destination address, `None` if there is none.
pub fn redirect_addr(skb: &Skb<'_>, st: &HookState<'_>) -> Option<[u8; 16]> {
    let mut a = [0u8; 16];
    // SAFETY: the hook's skb and state (under RCU, as hooks run); `a` has
    // 16 writable bytes.
    let rc = unsafe { bindings::rnf_nat_redirect_addr(skb.as_ptr(), st.as_raw(), a.as_mut_ptr()) };
    (rc == 0).then_some(a)
}

/// The notifiers that delete MASQUERADE's connections of a device going
/// down or an address removed (`rnf_nat_masq_init`), registered while this
/// value lives.
pub struct MasqNotifiers {
    _private: (),
}

impl MasqNotifiers {
    /// Registers them (process context). Errors: those of the notifier
    /// registrations.
    pub fn register() -> Result<MasqNotifiers> {
        // SAFETY: called once from module init; undone in `drop`.
        to_result(unsafe { bindings::rnf_nat_masq_init() })?;
        Ok(MasqNotifiers { _private: () })
    }
}

impl Drop for MasqNotifiers {
    fn drop(&mut self) {
        // SAFETY: registered by `register`, the only way to get a value.
        unsafe { bindings::rnf_nat_masq_exit() }
    }
}

/// `nf_ct_kill()` of the packet's connection (`rnf_ct_kill`).
pub fn ct_kill(skb: &Skb<'_>) {
    // SAFETY: `skb` is the hook's skb.
    unsafe { bindings::rnf_ct_kill(skb.as_ptr()) }
}

/// Counters of [`seen_sum`]: packets without a connection.
pub const SEEN_UNTRACKED: u32 = bindings::RNF_NAT_SEEN_UNTRACKED;

/// Counter `i` of what the hooks saw (a packet's `enum ip_conntrack_info`,
/// 0 to 4, or [`SEEN_UNTRACKED`]; [`pkt_start`] counts each packet once),
/// summed over every possible CPU.
pub fn seen_sum(i: u32) -> u64 {
    // SAFETY: no preconditions; the C side checks `i`.
    unsafe { bindings::rnf_nat_seen_sum(i) }
}

/// Clears NAT from every connection as rnf_nat goes (`rnf_ct_nat_cleanup`):
/// NATed ones are deleted, null bindings forgotten. Returns how many were
/// deleted. Call after the hooks are unregistered.
pub fn ct_nat_cleanup() -> u32 {
    // SAFETY: no preconditions beyond process context, which module exit is.
    unsafe { bindings::rnf_ct_nat_cleanup() }
}
