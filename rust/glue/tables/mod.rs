// SPDX-License-Identifier: GPL-2.0
//! Glue only rnf_tables uses: calls into other modules (nf_reject_ipv4,
//! nf_reject_ipv6, rnf_conntrack), the hook's device names the walk
//! matches `-i`/`-o` against, what the xt matches and targets read and
//! write of a packet (marks, the connection's mark and tuples, the
//! untracked mark, the path MTU, the packet type, the Ethernet source and
//! link-layer header, address types, the edits of TCPMSS, DSCP and TOS, the
//! LOG target's log lines: C helpers in rust/rnf_tables_glue.c) and the
//! entry points it exports to the modules that register tables (`api`). It
//! is mounted by rnf_tables_main.rs alone, not by `glue/mod.rs`, so that
//! the other modules neither link these symbols nor gain their `depends=`.
//!
//! C headers: [include/net/netfilter/ipv4/nf_reject.h](srctree/include/net/netfilter/ipv4/nf_reject.h),
//! [include/net/netfilter/ipv6/nf_reject.h](srctree/include/net/netfilter/ipv6/nf_reject.h),
//! rust/glue/rnf_conntrack_api.h

use core::ffi::c_uint;

use crate::glue::bindings;
use crate::glue::hook::HookState;
use crate::glue::skb::Skb;

pub mod api;
pub mod procfile;

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

/// The name of a hook's missing device: all zeros (`nulldevname`).
static NO_DEV: [u8; 16] = [0; 16];

// The names are `IFNAMSIZ` bytes.
const _: () = assert!(bindings::IFNAMSIZ == 16);

/// The input and output devices' names of the hook call of `state` (what
/// ipt_do_table reads as indev and outdev): `IFNAMSIZ` bytes each, NUL
/// padded, borrowed where they lie (`dev->name`) for the hook call, all
/// zeros for a hook without that device (no input at LOCAL_OUT, no output
/// at LOCAL_IN). No call and no copy: a C call copying both cost some 25
/// instructions a walk.
pub fn dev_names<'a>(state: &'a HookState<'_>) -> (&'a [u8; 16], &'a [u8; 16]) {
    let raw = state.as_raw();
    // SAFETY: netfilter calls a hook with `in` and `out` NULL or devices
    // that stay registered through the call, which `'a` (a borrow of the
    // call's state) does not outlive.
    unsafe { (dev_name(raw.in_), dev_name(raw.out)) }
}

/// `dev->name`, or [`NO_DEV`] for NULL.
///
/// # Safety
///
/// `dev` is NULL or a live `struct net_device` for `'a`.
unsafe fn dev_name<'a>(dev: *const bindings::net_device) -> &'a [u8; 16] {
    if dev.is_null() {
        return &NO_DEV;
    }
    let off = bindings::RNF_NETDEV_NAME_OFFSET as usize;
    // SAFETY: `dev` is a live device (the caller's contract), and its
    // `name` field, `IFNAMSIZ` (16) `char`s with no alignment above 1,
    // lies `RNF_NETDEV_NAME_OFFSET` bytes in (`offsetof`, from the kernel
    // built against); `[u8; 16]` has the same size and alignment as that
    // array and every bit pattern is valid for it. The kernel renames a
    // device under RTNL and, but for `IFF_LIVE_RENAME_OK` devices, only
    // while it is down, when no packet passes its hooks; a live rename
    // races with this read as it does with ipt_do_table's, which reads the
    // name in place too (and the copy this replaced, in C, raced alike).
    unsafe { &*dev.cast::<u8>().add(off).cast::<[u8; 16]>() }
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

/// `skb->mark`.
pub fn skb_mark(skb: &Skb<'_>) -> u32 {
    // SAFETY: the skb is valid while borrowed (invariant of `Skb`).
    unsafe { bindings::rnf_skb_mark(skb.as_ptr()) }
}

/// Sets `skb->mark` (the `MARK` target, `CONNMARK --restore-mark`). Only
/// from a hook of the packet, which owns it for the call.
pub fn set_skb_mark(skb: &Skb<'_>, mark: u32) {
    // SAFETY: the skb is valid while borrowed, and the hook that borrowed
    // it may change its mark (netfilter hands it to the hook to judge).
    unsafe { bindings::rnf_skb_set_mark(skb.as_ptr(), mark) }
}

/// The mark of the connection `skb` carries (`READ_ONCE(ct->mark)` of the
/// `struct nf_conn` rnf_conntrack attached), `None` without one.
pub fn ct_mark(skb: &Skb<'_>) -> Option<u32> {
    let mut mark = 0u32;
    // SAFETY: the skb is valid while borrowed; `mark` is writable. The
    // connection `_nfct` points to is held by the skb's reference.
    let rc = unsafe { bindings::rnf_skb_ct_mark(skb.as_ptr(), &mut mark) };
    (rc == 0).then_some(mark)
}

/// The seconds the connection `skb` carries has left (`nf_ct_expires(ct) /
/// HZ`), `None` without one.
pub fn ct_expires(skb: &Skb<'_>) -> Option<u32> {
    let mut secs = 0u32;
    // SAFETY: the skb is valid while borrowed; `secs` is writable. The
    // connection `_nfct` points to is held by the skb's reference.
    let rc = unsafe { bindings::rnf_skb_ct_expires(skb.as_ptr(), &mut secs) };
    (rc == 0).then_some(secs)
}

/// Sets the mark of the connection `skb` carries (`WRITE_ONCE`); nothing
/// without one.
pub fn set_ct_mark(skb: &Skb<'_>, mark: u32) {
    // SAFETY: the skb and the connection it holds a reference to are valid
    // while borrowed; `ct->mark` is written with WRITE_ONCE, as by
    // xt_connmark.c, so concurrent readers see the old or the new value.
    unsafe { bindings::rnf_skb_set_ct_mark(skb.as_ptr(), mark) }
}

/// `NOTRACK` / `CT --notrack`: marks a packet that carries no conntrack
/// (`skb->_nfct == 0`) untracked (`IP_CT_UNTRACKED`, `rnf_skb_set_untracked`
/// as xt_CT.c); `true` when it did.
pub fn set_untracked(skb: &Skb<'_>) -> bool {
    // SAFETY: `skb` is the hook's skb (valid while borrowed), whose `_nfct`
    // the hook may set.
    unsafe { bindings::rnf_skb_set_untracked(skb.as_ptr()) }
}

/// The MTU `TCPMSS --clamp-mss-to-pmtu` clamps to (`rnf_skb_path_mtu`, as
/// xt_TCPMSS.c's `tcpmss_reverse_mtu`), in bytes: the smaller of the
/// packet's route's and the route back to its source in `net`, for family
/// `pf` (`NFPROTO_IPV4` / `NFPROTO_IPV6`); 0 when the packet has no route.
pub fn path_mtu(skb: &Skb<'_>, net: crate::glue::hook::Net, pf: u8) -> u32 {
    // SAFETY: `skb` is the hook's skb (valid while borrowed) with its
    // network header set; `net` is live for the hook call (its invariant).
    unsafe { bindings::rnf_skb_path_mtu(skb.as_ptr(), net.as_ptr(), pf) }
}

/// The checksum state of an skb: `skb->ip_summed` (`CHECKSUM_NONE` 0,
/// `UNNECESSARY` 1, `COMPLETE` 2, `PARTIAL` 3) and `skb->csum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Csum {
    /// `skb->ip_summed`.
    pub ip_summed: u8,
    /// `skb->csum` (meaningful for `CHECKSUM_COMPLETE`).
    pub csum: u32,
}

/// Copies the packet's first bytes from its network header (at most
/// `buf.len()`, fewer if the packet is shorter) into `buf` and returns how
/// many (`rnf_skb_copy_network`, `skb_copy_bits`): unlike
/// [`Skb::network_bytes`], never a view into the skb, so it stays right
/// while the packet is edited. `None` when the packet has no bytes there.
pub fn network_copy(skb: &Skb<'_>, buf: &mut [u8]) -> Option<usize> {
    let mut len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    // SAFETY: `skb` is valid while borrowed (invariant of `Skb`); `buf` has
    // `len` writable bytes; `len` is a valid out-pointer.
    let rc = unsafe { bindings::rnf_skb_copy_network(skb.as_ptr(), buf.as_mut_ptr(), &mut len) };
    (rc == 0).then_some(len as usize)
}

/// Edits the packet (`rnf_skb_edit`, as xt_TCPMSS.c, xt_DSCP.c): grows it
/// by `grow` bytes at its tail first when `grow` is not zero (only a linear
/// packet; `pskb_expand_head` when the tailroom is short, then `skb_put`),
/// makes its first `need` bytes from the network header linear, writable
/// and its own (`skb_ensure_writable`), then runs `f` over its writable
/// bytes from the network header on (at least `need`), its length in bytes
/// from there (`skb->len`) and its checksum state, whose `csum` is stored
/// back when `f` changed it. `None` when the packet cannot be grown or made
/// writable. Softirq context (`GFP_ATOMIC`).
///
/// The packet's data may move or be rewritten: a slice obtained before
/// from [`Skb::network_bytes`] or [`mac_header`] must not be used after
/// (the borrow checker does not see this: those slices borrow the skb
/// shared, as this does). Callers that may edit read the packet with
/// [`network_copy`] instead, and take [`mac_header`] afresh when they need
/// it. The link-layer header's bytes are not changed by an edit (the
/// headroom is kept, only moved with the data).
pub fn edit<R>(skb: &Skb<'_>, need: usize, grow: usize, f: impl FnOnce(&mut [u8], usize, &mut Csum) -> R) -> Option<R> {
    let need = c_uint::try_from(need).ok()?;
    let grow = c_uint::try_from(grow).ok()?;
    let raw = skb.as_ptr();
    let (mut linear, mut len) = (0u32, 0u32);
    // SAFETY: `skb` is the hook's skb (valid while borrowed), which the
    // hook may modify; the out-pointers are valid.
    let p = unsafe { bindings::rnf_skb_edit(raw, need, grow, &mut linear, &mut len) };
    if p.is_null() {
        return None;
    }
    // SAFETY: `skb` is valid while borrowed.
    let before = unsafe { Csum { ip_summed: bindings::rnf_skb_ip_summed(raw), csum: bindings::rnf_skb_csum(raw) } };
    let mut cs = before;
    // SAFETY: rnf_skb_edit made `linear` bytes at `p` (the network header)
    // linear, writable and the skb's own; nothing else touches them during
    // this hook call, no other Rust slice into them is in use (see above),
    // and this one does not outlive `f`.
    let buf = unsafe { core::slice::from_raw_parts_mut(p, linear as usize) };
    let r = f(buf, len as usize, &mut cs);
    if cs.csum != before.csum {
        // SAFETY: `skb` is the hook's skb, which the hook may modify.
        unsafe { bindings::rnf_skb_set_csum(raw, cs.csum) }
    }
    Some(r)
}

/// `skb->pkt_type` (`PACKET_*`).
pub fn pkt_type(skb: &Skb<'_>) -> u8 {
    // SAFETY: the skb is valid while borrowed.
    unsafe { bindings::rnf_skb_pkt_type(skb.as_ptr()) }
}

/// The Ethernet source address, as `mac_mt` reads it: `None` unless the
/// packet's device is an Ethernet one and the MAC header is complete.
pub fn eth_source(skb: &Skb<'_>) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    // SAFETY: the skb is valid while borrowed; `out` has 6 writable bytes.
    unsafe { bindings::rnf_skb_eth_source(skb.as_ptr(), out.as_mut_ptr()) }.then_some(out)
}

/// The link-layer header (`MAC=` of the LOG target, `rnf_skb_mac_header`
/// as nf_log_syslog.c's `dump_mac_header` reads it): the input device's
/// `hard_header_len` bytes at the MAC header, empty if there is none.
/// Points into the skb's head.
pub fn mac_header<'a>(skb: &Skb<'a>) -> &'a [u8] {
    let mut len = 0u32;
    // SAFETY: `skb` is valid for `'a` (invariant of `Skb`); `len` is a
    // valid out-pointer.
    let p = unsafe { bindings::rnf_skb_mac_header(skb.as_ptr(), &mut len) };
    if p.is_null() {
        return &[];
    }
    // SAFETY: the helper returns `len` bytes of the skb's head before the
    // network header, which stay valid and unchanged while the skb is
    // borrowed for `'a` (netfilter does not modify it during our hook call).
    unsafe { core::slice::from_raw_parts(p, len as usize) }
}

/// `xt_addrtype`'s lookup of `addr` (4 bytes IPv4, 16 IPv6, network order)
/// in the namespace of `state`, restricted to the hook's input or output
/// device as `dev` says (see `rnf_addr_type` in rnf_helpers.h); 0 for an
/// address of another length.
pub fn addr_type(state: &HookState<'_>, addr: &[u8], dev: crate::xt::AddrDev) -> u16 {
    let pf = match addr.len() {
        4 => bindings::NFPROTO_IPV4,
        16 => bindings::NFPROTO_IPV6,
        _ => return 0,
    };
    let raw = state.as_raw();
    let dev = match dev {
        crate::xt::AddrDev::Any => core::ptr::null(),
        crate::xt::AddrDev::In => raw.in_.cast_const(),
        crate::xt::AddrDev::Out => raw.out.cast_const(),
    };
    // SAFETY: `state->net` and its devices (or NULL) are live for the hook
    // call; `addr` holds the bytes the family needs. The lookups take RCU
    // read sections of their own and do not sleep.
    unsafe { bindings::rnf_addr_type(raw.net, dev, addr.as_ptr(), pf as u8) }
}

/// The original and reply tuples of the connection `skb` carries, read
/// from its `struct nf_conn` (`rnf_ct_nat_info`), `None` without one.
pub fn ct_tuples(skb: &Skb<'_>) -> Option<[bindings::rnf_tuple; 2]> {
    // SAFETY: all-zero is a valid `rnf_ct_nat_info` (integers and byte arrays).
    let mut out: bindings::rnf_ct_nat_info = unsafe { core::mem::zeroed() };
    // SAFETY: the skb is valid while borrowed; `out` is writable.
    // rnf_conntrack stays loaded while we are (we depend on it).
    let rc = unsafe { bindings::rnf_ct_nat_info(skb.as_ptr(), &mut out) };
    (rc == 0).then_some(out.tuple)
}

/// Prints `line` as one kernel log line at syslog `level` (0 emergency ..
/// 7 debug; higher values print at debug), at most 1024 bytes of it
/// (`rnf_printk`): the LOG target's lines, rnf_tables' warnings.
pub fn printk(level: u8, line: &[u8]) {
    // SAFETY: `line` is valid for `line.len()` bytes; printed with `%.*s`.
    unsafe { bindings::rnf_printk(level.into(), line.as_ptr().cast(), line.len() as _) }
}

/// `totalram_pages()` and `PAGE_SIZE`: the machine's RAM, for the
/// `hashlimit` match's default table size (`htable_create`).
pub fn totalram() -> (u64, u64) {
    // SAFETY: both read global values; no preconditions.
    unsafe { (bindings::rnf_totalram_pages() as u64, bindings::rnf_page_size() as u64) }
}

/// A `CT` rule's template, rnf_conntrack's object (`rnf_ct_tmpl_alloc`,
/// rust/glue/rnf_conntrack_api.h): the rule's reference, given up on drop
/// (`rnf_ct_tmpl_put`, as `xt_ct_tg_destroy()` puts the kernel's).
///
/// # Invariants
///
/// `raw` is a template rnf_conntrack allocated, on which this value holds
/// one reference.
pub struct CtTemplate {
    raw: core::ptr::NonNull<bindings::rnf_ct>,
}

// SAFETY: the template is reference counted atomically and never changes
// after allocation; attaching and putting it are safe from any CPU.
unsafe impl Send for CtTemplate {}
// SAFETY: as above; `attach` only takes a reference.
unsafe impl Sync for CtTemplate {}

impl CtTemplate {
    /// A template of zone `zone_id` in the directions `zone_dir`
    /// (`NF_CT_ZONE_DIR_*`), with `zone_mark` the id taken from the
    /// packet's mark, for namespace `net`. Process context. Errors: the
    /// negative errno (`-ENOMEM`, `-EOPNOTSUPP` for a zone on a kernel
    /// without `CONFIG_NF_CONNTRACK_ZONES`).
    pub fn alloc(net: crate::glue::hook::Net, zone_id: u16, zone_dir: u8, zone_mark: bool) -> Result<Self, i32> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: `net` is live for the call (the caller's namespace, which
        // outlives its tables); `raw` is writable.
        let err = unsafe { bindings::rnf_ct_tmpl_alloc(net.as_ptr(), zone_id, zone_dir, zone_mark, &mut raw) };
        if err != 0 {
            return Err(err);
        }
        // INVARIANT: on success `raw` holds a template with our reference.
        core::ptr::NonNull::new(raw).map(|raw| CtTemplate { raw }).ok_or(kernel::error::code::ENOMEM.to_errno())
    }

    /// `xt_ct_target()`: a packet without conntrack yet takes the
    /// template (with a reference of its own, `IP_CT_NEW`); returns
    /// whether it had none (so it took it).
    pub fn attach(&self, skb: &Skb<'_>) -> bool {
        // SAFETY: `raw` is live (type invariant); `skb` is valid while
        // borrowed and the hook owns it.
        unsafe { bindings::rnf_ct_tmpl_attach(skb.as_ptr(), self.raw.as_ptr()) }
    }
}

impl Drop for CtTemplate {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and this value's reference is given up
        // exactly once (type invariant).
        unsafe { bindings::rnf_ct_tmpl_put(self.raw.as_ptr()) }
    }
}
