// SPDX-License-Identifier: GPL-2.0
//! Safe handles on the connection objects an skb carries (`skb->_nfct`):
//! `struct rnf_ct` of rust/glue/conntrack/nfct.c, a `struct nf_conn` plus
//! the table slot of the connection.
//!
//! C headers: rust/glue/rnf_conntrack_api.h,
//! [include/net/netfilter/nf_conntrack.h](srctree/include/net/netfilter/nf_conntrack.h)
//!
//! [`CtRef`] owns one reference (dropping it puts it: the object is freed,
//! and an unconfirmed connection's slot released through
//! `rnf_ct_release_slot`, when the last one goes); [`SkbCt`] borrows the
//! object of an skb for as long as the skb is borrowed.

use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use kernel::error::{code::EBUSY, to_result, Result};

use crate::conntrack::tuple::Tuple;
use crate::glue::bindings;
use crate::glue::hook::Net;
use crate::glue::skb::Skb;

/// The slot of an object that has left the table (`RNF_CT_NO_SLOT`).
pub const NO_SLOT: u32 = bindings::RNF_CT_NO_SLOT;

/// One counted reference to a connection object.
///
/// # Invariants
///
/// `raw` points to a live `struct rnf_ct` on which this value holds one
/// reference.
pub struct CtRef {
    raw: NonNull<bindings::rnf_ct>,
}

// SAFETY: the object is reference counted with atomics and its fields are
// read and written with READ_ONCE/WRITE_ONCE by the C helpers; a reference
// may be held and dropped on any CPU, as skbs carry them.
unsafe impl Send for CtRef {}
// SAFETY: as above; `&CtRef` only reads or writes through those helpers.
unsafe impl Sync for CtRef {}

impl CtRef {
    /// A new object for namespace `net`, in table slot `slot`, with status
    /// `status` (`IPS_*`): `GFP_ATOMIC`, `None` when out of memory.
    pub fn alloc(net: Net, slot: u32, status: u32) -> Option<CtRef> {
        // SAFETY: `net` is live (invariant of `Net`); the object keeps the
        // pointer as nf_conn's ct_net, as the kernel's do, for the life of
        // connections of a namespace that waits for them at exit.
        let raw = unsafe { bindings::rnf_nfct_alloc(net.as_ptr(), slot, status) };
        // INVARIANT: a new object comes with one reference, ours.
        NonNull::new(raw).map(|raw| CtRef { raw })
    }

    fn ptr(&self) -> *mut bindings::rnf_ct {
        self.raw.as_ptr()
    }

    /// The table slot, [`NO_SLOT`] once the connection left the table.
    pub fn slot(&self) -> u32 {
        // SAFETY: `raw` is live (type invariant).
        unsafe { bindings::rnf_nfct_slot(self.ptr()) }
    }

    /// Sets the slot; under the table lock, which orders it with the
    /// table's own changes.
    pub fn set_slot(&self, slot: u32) {
        // SAFETY: `raw` is live (type invariant).
        unsafe { bindings::rnf_nfct_set_slot(self.ptr(), slot) }
    }

    /// Mirrors the connection's `IPS_*` status into `nf_conn.status`.
    pub fn set_status(&self, status: u32) {
        // SAFETY: `raw` is live (type invariant).
        unsafe { bindings::rnf_nfct_set_status(self.ptr(), status) }
    }

    /// Mirrors the connection's timeout into `nf_conn.timeout` (jiffies,
    /// truncated to 32 bits as `nfct_time_stamp`): relative while the
    /// connection is unconfirmed, absolute once it is, as
    /// `__nf_ct_refresh_acct` keeps it.
    pub fn set_timeout(&self, timeout: u64) {
        // SAFETY: `raw` is live (type invariant).
        unsafe { bindings::rnf_nfct_set_timeout(self.ptr(), timeout as u32) }
    }

    /// Mirrors tuple `t` of direction `dir` (0 original, 1 reply) into
    /// `nf_conn.tuplehash[dir].tuple`.
    pub fn set_tuple(&self, dir: u8, t: &Tuple) {
        // SAFETY: `raw` is live (type invariant); `src` and `dst` point to
        // 16 readable bytes each for the call.
        unsafe {
            bindings::rnf_nfct_set_tuple(
                self.ptr(),
                dir,
                t.src.as_ptr(),
                t.dst.as_ptr(),
                t.src_id,
                t.dst_id,
                t.proto,
                t.l3.nfproto(),
            )
        }
    }

    /// The reference count (`use=` of the listing).
    pub fn use_count(&self) -> u32 {
        // SAFETY: `raw` is live (type invariant).
        unsafe { bindings::rnf_nfct_use(self.ptr()) }
    }

    /// Attaches the object to `skb` with `ctinfo` (`enum ip_conntrack_info`),
    /// taking a reference for it. The skb must have no connection yet.
    pub fn attach(&self, skb: &Skb<'_>, ctinfo: u8) {
        // SAFETY: `raw` is live (type invariant); `skb` is the hook's own
        // skb, whose `_nfct` the hook may set (as nf_conntrack_in does).
        unsafe { bindings::rnf_nfct_attach(skb.as_ptr(), self.ptr(), ctinfo) }
    }

    /// The object's part of a tracked packet in one call
    /// (`nf_ct_refresh_acct()` and `nf_ct_set()`): mirrors `status`
    /// (`IPS_*`) and `timeout` as [`CtRef::set_status`] and
    /// [`CtRef::set_timeout`] do, counts `skb` (`skb->len` bytes) in
    /// direction `acct` (0 original, 1 reply; `None` counts nothing) as
    /// [`CtRef::acct_add`], and attaches the object to `skb` with `ctinfo`
    /// as [`CtRef::attach`]. The skb must have no connection yet.
    pub fn refresh_attach(&self, skb: &Skb<'_>, ctinfo: u8, status: u32, timeout: u64, acct: Option<u8>) {
        // SAFETY: `raw` is live (type invariant); `skb` is the hook's own
        // skb, whose `_nfct` the hook may set (as nf_conntrack_in does).
        unsafe {
            bindings::rnf_nfct_refresh_attach(
                skb.as_ptr(),
                self.ptr(),
                ctinfo,
                status,
                timeout as u32,
                acct.unwrap_or(u8::MAX),
            )
        }
    }

    /// Puts this reference on `skb` in place of the connection it carries,
    /// whose reference is dropped. Must not be called under the table lock
    /// (dropping an unconfirmed connection takes it).
    pub fn replace_on(self, skb: &Skb<'_>, ctinfo: u8) {
        let raw = self.ptr();
        core::mem::forget(self);
        // SAFETY: `raw` is live with the reference forgotten above, which
        // the skb now holds; `skb` is the caller's hook skb.
        unsafe { bindings::rnf_nfct_replace(skb.as_ptr(), raw, ctinfo) }
    }
}

impl Clone for CtRef {
    fn clone(&self) -> CtRef {
        // SAFETY: `raw` is live (type invariant) and holds a reference, so
        // the count is not zero.
        unsafe { bindings::rnf_nfct_get(self.ptr()) };
        // INVARIANT: the new value holds the reference just taken.
        CtRef { raw: self.raw }
    }
}

impl Drop for CtRef {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and this value holds one reference (type
        // invariant), given up here. If it was the last and the object
        // still has a slot, the C side calls `rnf_ct_release_slot`, which
        // takes the table lock: the owner never drops such a reference
        // under it (see `replace_on` and the tracker's release rule).
        unsafe { bindings::rnf_nfct_put(self.ptr()) }
    }
}

/// The connection object of an skb, borrowed with it.
///
/// # Invariants
///
/// `raw` points to the live object of an skb borrowed for `'a`, which holds
/// a reference to it.
pub struct SkbCt<'a> {
    raw: NonNull<bindings::rnf_ct>,
    _skb: PhantomData<&'a Skb<'a>>,
}

impl<'a> SkbCt<'a> {
    /// The object `skb` carries and its ctinfo (`enum ip_conntrack_info`);
    /// `None` when it carries none or is untracked.
    pub fn of(skb: &'a Skb<'_>) -> (Option<SkbCt<'a>>, u8) {
        let mut ctinfo = 0u8;
        // SAFETY: `skb` is valid while borrowed; `ctinfo` is writable.
        let raw = unsafe { bindings::rnf_nfct_of_skb(skb.as_ptr(), &mut ctinfo) };
        // INVARIANT: the skb holds a reference to its object while borrowed.
        (NonNull::new(raw).map(|raw| SkbCt { raw, _skb: PhantomData }), ctinfo)
    }

    /// The object `skb` carries and its ctinfo, only when this packet is
    /// to confirm it (`nf_confirm()`): not `IPS_CONFIRMED` yet, and the
    /// packet goes in the original direction (`CTINFO2DIR()`). Read in
    /// place, as `nf_ct_get()` and `nf_ct_is_confirmed()` do: the
    /// confirmation hook of nearly every packet ends here, and a helper
    /// call was most of its cost.
    #[inline(always)]
    pub fn unconfirmed(skb: &'a Skb<'_>) -> Option<(SkbCt<'a>, u8)> {
        let infomask = bindings::RNF_NFCT_INFOMASK as usize;
        // SAFETY: `skb` is a live skb while borrowed; its `_nfct`, an
        // `unsigned long` (aligned as `usize`), lies
        // `RNF_SKB_NFCT_OFFSET` bytes in (`offsetof`, from the kernel
        // built against). Only the hooks of the skb's own path write it,
        // and this one runs on that path: a plain read, as nf_ct_get().
        let nfct = unsafe { skb.as_ptr().cast::<u8>().add(bindings::RNF_SKB_NFCT_OFFSET as usize).cast::<usize>().read() };
        let ctinfo = (nfct & infomask) as u8;
        let raw = NonNull::new((nfct & !infomask) as *mut bindings::nf_conn)?;
        // SAFETY: a connection pointer in `_nfct` is live while the skb
        // holds it (its reference); its `status`, an aligned `unsigned
        // long`, is changed by other CPUs with atomic bit operations, so
        // it is read atomically (`test_bit()`'s plain load).
        let status = unsafe { AtomicUsize::from_ptr(core::ptr::addr_of_mut!((*raw.as_ptr()).status).cast::<usize>()) }
            .load(Ordering::Relaxed);
        if status & bindings::RNF_IPS_CONFIRMED as usize != 0 || u32::from(ctinfo) >= bindings::RNF_IP_CT_IS_REPLY {
            return None;
        }
        // INVARIANT: every connection an skb carries while rnf_conntrack
        // is loaded is one of its objects (the kernel's nf_conntrack is
        // refused, and the raw table's templates are taken off at the
        // tracking hook), whose `struct nf_conn` is its first member
        // (rust/glue/conntrack/object.h asserts it): the same address.
        // The skb holds a reference to it while borrowed.
        Some((SkbCt { raw: raw.cast(), _skb: PhantomData }, ctinfo))
    }

    /// The table slot, [`NO_SLOT`] once the connection left the table.
    pub fn slot(&self) -> u32 {
        // SAFETY: `raw` is live (type invariant).
        unsafe { bindings::rnf_nfct_slot(self.raw.as_ptr()) }
    }

    /// A reference of one's own.
    pub fn to_ref(&self) -> CtRef {
        // SAFETY: `raw` is live and the skb's reference keeps the count
        // above zero (type invariant).
        unsafe { bindings::rnf_nfct_get(self.raw.as_ptr()) };
        // INVARIANT: the new value holds the reference just taken.
        CtRef { raw: self.raw }
    }
}

/// Claims the kernel's `nf_ct_hook` for rnf's objects and starts refusing
/// the kernel's `nf_conntrack` module (`rnf_nfct_init()`). Errors: `EBUSY`
/// when the kernel's `nf_conntrack` is loaded (it owns the hook), `ENOMEM`.
/// Process context. Undone by dropping the value, which first waits until
/// no packet holds an object (sleeps).
pub struct NfctHook {
    _private: (),
}

impl NfctHook {
    /// Bytes one connection object takes in its slab (cache-aligned).
    pub fn object_size(&self) -> u32 {
        // SAFETY: the cache exists while the hook is claimed (`self`).
        unsafe { bindings::rnf_nfct_object_size() }
    }

    /// See the type.
    pub fn claim() -> Result<NfctHook> {
        // SAFETY: called once, from module init (the only caller), in
        // process context.
        to_result(unsafe { bindings::rnf_nfct_init() }).map_err(|e| if e == EBUSY { EBUSY } else { e })?;
        Ok(NfctHook { _private: () })
    }
}

impl Drop for NfctHook {
    fn drop(&mut self) {
        // SAFETY: claimed by `claim`; the owner drops this after the hooks
        // are unregistered everywhere and the table is empty, so objects
        // only go away from here on.
        unsafe { bindings::rnf_nfct_exit() }
    }
}

impl CtRef {
    /// The interface MASQUERADE mapped the connection for, 0 if none.
    pub fn masq_index(&self) -> i32 {
        // SAFETY: `raw` is live (type invariant).
        unsafe { bindings::rnf_nfct_masq_index(self.ptr()) }
    }

    /// `nf_conn.mark`; `None` on a kernel without `CONFIG_NF_CONNTRACK_MARK`.
    pub fn mark(&self) -> Option<u32> {
        let mut m = 0u32;
        // SAFETY: `raw` is live (type invariant); `m` is writable.
        unsafe { bindings::rnf_nfct_mark(self.ptr(), &mut m) }.then_some(m)
    }

    /// `nf_conn.zone` (its id and `NF_CT_ZONE_DIR_*` bits); `None` on a
    /// kernel without `CONFIG_NF_CONNTRACK_ZONES`.
    pub fn zone(&self) -> Option<(u16, u8)> {
        let (mut id, mut dir) = (0u16, 0u8);
        // SAFETY: `raw` is live (type invariant); both outputs are writable.
        unsafe { bindings::rnf_nfct_zone(self.ptr(), &mut id, &mut dir) }.then_some((id, dir))
    }

    /// Sets `nf_conn.zone` (id and `NF_CT_ZONE_DIR_*` bits) of a new,
    /// unconfirmed object; nothing on a kernel without
    /// `CONFIG_NF_CONNTRACK_ZONES`.
    pub fn set_zone(&self, id: u16, dir: u8) {
        // SAFETY: `raw` is live (type invariant); the zone is written
        // before the object is published to other packets (unconfirmed).
        unsafe { bindings::rnf_nfct_set_zone(self.ptr(), id, dir) }
    }

    /// Gives a new object, not yet confirmed (the skb holding it and the
    /// caller are its only users), the accounting extension
    /// (`nf_ct_acct_ext_add()`); false when out of memory (`GFP_ATOMIC`).
    pub fn acct_enable(&self) -> bool {
        // SAFETY: `raw` is live (type invariant); the caller guarantees
        // nobody else reads `nf_conn.ext` yet, as nf_ct_ext_add() requires
        // of an unconfirmed connection.
        unsafe { bindings::rnf_nfct_acct_enable(self.ptr()) }
    }

    /// Counts a packet of `len` bytes in direction `dir` (0 original, 1
    /// reply) if the object has the accounting extension
    /// (`nf_ct_acct_update()`).
    pub fn acct_add(&self, dir: u8, len: u32) {
        // SAFETY: `raw` is live (type invariant); atomic counters.
        unsafe { bindings::rnf_nfct_acct_add(self.ptr(), dir, len) }
    }

    /// The accounting counters, original packets and bytes then reply
    /// packets and bytes; `None` when the object has no extension.
    pub fn acct(&self) -> Option<[u64; 4]> {
        let mut v = [0u64; 4];
        // SAFETY: `raw` is live (type invariant); `v` has room for 4 values.
        unsafe { bindings::rnf_nfct_acct_read(self.ptr(), v.as_mut_ptr()) }.then_some(v)
    }
}
