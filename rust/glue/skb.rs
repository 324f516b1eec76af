// SPDX-License-Identifier: GPL-2.0
//! Access to a socket buffer's packet bytes: reading them (rnf_tables'
//! targets that change packets edit them through `glue/tables/`).
//!
//! C header: [include/linux/skbuff.h](srctree/include/linux/skbuff.h)

use core::marker::PhantomData;
use core::mem::MaybeUninit;

use super::bindings;

/// Headers this many bytes long are read into a stack buffer when they are
/// not in the skb's linear area. Enough for IPv4 (60) plus TCP's fixed
/// header, or IPv6 with a few extension headers; parsing reports longer
/// headers as truncated rather than reading further.
pub const HEADER_BYTES: usize = 192;

/// Stack space for [`Skb::network_bytes`]' copy of headers that are not in
/// the skb's linear area, left uninitialised: the packet path does not
/// zero [`HEADER_BYTES`] bytes per hook for a copy it seldom makes, and
/// only the bytes a copy wrote are ever read.
pub struct HeaderBuf(MaybeUninit<[u8; HEADER_BYTES]>);

impl HeaderBuf {
    /// An uninitialised buffer (costs nothing).
    #[inline(always)]
    pub const fn new() -> Self {
        HeaderBuf(MaybeUninit::uninit())
    }

    /// Where a helper may write the buffer's [`HEADER_BYTES`] bytes.
    #[inline(always)]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr().cast::<u8>()
    }
}

/// A socket buffer borrowed for the duration of a hook call.
///
/// # Invariants
///
/// `raw` points to a valid `struct sk_buff` for the lifetime `'a`.
pub struct Skb<'a> {
    raw: *mut bindings::sk_buff,
    _p: PhantomData<&'a bindings::sk_buff>,
}

impl<'a> Skb<'a> {
    /// Wraps a raw skb.
    ///
    /// # Safety
    ///
    /// `raw` must point to a valid skb that outlives `'a` and is not freed
    /// or modified by others while borrowed.
    pub unsafe fn from_raw(raw: *mut bindings::sk_buff) -> Self {
        // INVARIANT: guaranteed by the caller.
        Skb { raw, _p: PhantomData }
    }

    /// The raw pointer, for handing the skb to another module's C ABI.
    pub fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.raw
    }

    /// The packet's length in bytes (`skb->len`, from the network header on
    /// at the IP hooks).
    pub fn len(&self) -> u32 {
        // SAFETY: `self.raw` is valid (type invariant).
        unsafe { bindings::rnf_skb_len(self.raw) }
    }

    /// The first bytes of the packet from its network header on: at most
    /// [`HEADER_BYTES`], fewer if the packet is shorter. Points into the skb
    /// when those bytes are linear (`skb_header_pointer`'s rule), otherwise
    /// into `buf`, which only then is written.
    #[inline]
    pub fn network_bytes<'b>(&'b self, buf: &'b mut HeaderBuf) -> Option<&'b [u8]> {
        self.network_bytes_len(buf).0
    }

    /// [`Skb::network_bytes`] and the packet's length ([`Skb::len`]),
    /// with one helper call for the two.
    #[inline]
    pub fn network_bytes_len<'b>(&'b self, buf: &'b mut HeaderBuf) -> (Option<&'b [u8]>, u32) {
        let (mut len, mut skb_len) = (HEADER_BYTES as u32, 0u32);
        // SAFETY: `self.raw` is valid (type invariant); `buf` has `len` bytes
        // of writable space (uninitialised memory may be written through a
        // raw pointer); `len` and `skb_len` are valid out-pointers.
        let p = unsafe {
            bindings::rnf_skb_network_bytes(self.raw, buf.0.as_mut_ptr().cast::<u8>(), &mut len, &mut skb_len)
        };
        if p.is_null() {
            return (None, skb_len);
        }
        // SAFETY: the helper returns a pointer to `len` readable, initialised
        // bytes that stay valid while the skb is borrowed (its linear data)
        // or while `buf` is (the first `len` bytes of `buf`, which
        // `skb_header_pointer` has just written); both outlive `'b`.
        (Some(unsafe { core::slice::from_raw_parts(p, len as usize) }), skb_len)
    }
}
