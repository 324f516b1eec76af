// SPDX-License-Identifier: GPL-2.0
//! NAT arithmetic: incremental Internet checksum updates.
//!
//! When NAT rewrites an address or port, the IP, TCP and UDP checksums are
//! updated incrementally by RFC 1624 equation 3, `HC' = ~(~HC + ~m + m')`,
//! as the kernel's `csum_replace4`/`inet_proto_csum_replace*` do
//! (include/net/checksum.h). Checksums and fields are given as the 16-bit
//! words they are on the wire, read big-endian.

/// One's-complement sum of `a` and `b` with end-around carry.
fn add1c(a: u32, b: u32) -> u32 {
    let s = a + b;
    (s & 0xffff) + (s >> 16)
}

/// Folds a 32-bit one's-complement accumulator to 16 bits.
fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The checksum `check` after the 16-bit words `from` were replaced by `to`
/// (equal lengths; extra words in the longer slice are ignored).
pub fn csum_replace(check: u16, from: &[u16], to: &[u16]) -> u16 {
    let mut s = u32::from(!check);
    for (&m, &m2) in from.iter().zip(to.iter()) {
        s = add1c(s, u32::from(!m));
        s = add1c(s, u32::from(m2));
    }
    !fold(s)
}

/// `csum_replace4`: an IPv4 address (host-order `u32` of the wire bytes).
pub fn csum_replace4(check: u16, from: u32, to: u32) -> u16 {
    csum_replace(check, &[(from >> 16) as u16, from as u16], &[(to >> 16) as u16, to as u16])
}

/// `csum_replace2`: a port or other 16-bit field.
pub fn csum_replace2(check: u16, from: u16, to: u16) -> u16 {
    csum_replace(check, &[from], &[to])
}

/// The one's-complement sum (RFC 1071) of `data` read as big-endian 16-bit
/// words, added to `seed` (any 32-bit partial sum, such as a pseudo-header
/// sum); folded to 16 bits, not complemented. An odd final byte is padded
/// with zero.
pub fn sum(data: &[u8], seed: u32) -> u32 {
    let mut s = u32::from(fold(seed));
    let mut chunks = data.chunks_exact(2);
    for c in chunks.by_ref() {
        if let [a, b] = *c {
            s = add1c(s, u32::from(u16::from_be_bytes([a, b])));
        }
    }
    if let [last] = chunks.remainder() {
        s = add1c(s, u32::from(u16::from_be_bytes([*last, 0])));
    }
    s
}

/// The full Internet checksum (RFC 1071) of `data`: the complement of
/// [`sum`].
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data, 0))
}
