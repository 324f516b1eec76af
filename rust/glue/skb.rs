// SPDX-License-Identifier: GPL-2.0
//! Read-only access to a socket buffer's packet bytes.
//!
//! C header: [include/linux/skbuff.h](srctree/include/linux/skbuff.h)

use core::marker::PhantomData;

use super::bindings;

/// Headers this many bytes long are read into a stack buffer when they are
/// not in the skb's linear area. Enough for IPv4 (60) plus TCP's fixed
/// header, or IPv6 with a few extension headers; parsing reports longer
/// headers as truncated rather than reading further.
pub const HEADER_BYTES: usize = 192;

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

    /// The link-layer header (`MAC=` of the LOG target): the input
    /// device's `hard_header_len` bytes at the MAC header, empty if there
    /// is none. Points into the skb's head.
    pub fn mac_header(&self) -> &'a [u8] {
        let mut len = 0u32;
        // SAFETY: `self.raw` is valid (type invariant); `len` is a valid out-pointer.
        let p = unsafe { bindings::rnf_skb_mac_header(self.raw, &mut len) };
        if p.is_null() {
            return &[];
        }
        // SAFETY: the helper returns `len` bytes of the skb's head before the
        // network header, which stay valid and unchanged while the skb is
        // borrowed (netfilter does not modify it during our hook call).
        unsafe { core::slice::from_raw_parts(p, len as usize) }
    }

    /// The first bytes of the packet from its network header on: at most
    /// [`HEADER_BYTES`], fewer if the packet is shorter. Points into the skb
    /// when those bytes are linear, otherwise into `buf`.
    pub fn network_bytes<'b>(&'b self, buf: &'b mut [u8; HEADER_BYTES]) -> Option<&'b [u8]> {
        let mut len = HEADER_BYTES as u32;
        // SAFETY: `self.raw` is valid (type invariant); `buf` has `len` bytes
        // of writable space; `len` is a valid out-pointer.
        let p = unsafe { bindings::rnf_skb_network_bytes(self.raw, buf.as_mut_ptr(), &mut len) };
        if p.is_null() {
            return None;
        }
        // SAFETY: the helper returns a pointer to `len` readable bytes that
        // stay valid while the skb is borrowed (its linear data) or while
        // `buf` is (the copy); both outlive `'b`.
        Some(unsafe { core::slice::from_raw_parts(p, len as usize) })
    }
}
