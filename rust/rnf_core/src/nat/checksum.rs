// SPDX-License-Identifier: GPL-2.0
//! NAT arithmetic: incremental Internet checksum updates.
//!
//! When NAT rewrites an address or port, the IP, TCP and UDP checksums are
//! updated incrementally by RFC 1624 equation 3, `HC' = ~(~HC + ~m + m')`,
//! as the kernel's `csum_replace4`/`inet_proto_csum_replace*` do
//! (include/net/checksum.h). Checksums and fields are given as the 16-bit
//! words they are on the wire, read big-endian.
//!
//! [`inet_proto_csum_replace`] also keeps the skb's checksum state
//! ([`Summed`]) right (net/core/utils.c). This file depends on nothing else
//! in the crate: rnf_tables mounts it alone for its packet-editing targets.

/// One's-complement sum of `a` and `b` (16-bit values) with end-around
/// carry.
fn add1c(a: u32, b: u32) -> u32 {
    let s = a + b;
    (s & 0xffff) + (s >> 16)
}

/// Folds a one's-complement accumulator of 16-bit words to 16 bits (end-
/// around carry). The result is 0 only when `s` is: a sum of words that
/// are not all zero folds to 0xffff for zero, as adding them one at a time
/// with end-around carry does.
fn fold(mut s: u64) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The checksum `check` after the 16-bit words `from` were replaced by `to`
/// (equal lengths; extra words in the longer slice are ignored): RFC 1624
/// equation 3, the words summed in 64 bits and folded once (a thousand
/// words could not carry out of it), which equals adding them one at a
/// time with end-around carry.
pub fn csum_replace(check: u16, from: &[u16], to: &[u16]) -> u16 {
    let s = from
        .iter()
        .zip(to.iter())
        .fold(u64::from(!check), |s, (&m, &m2)| s.wrapping_add(u64::from(!m)).wrapping_add(u64::from(m2)));
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
    let mut s = u32::from(fold(u64::from(seed)));
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
    !fold(u64::from(sum(data, 0)))
}

/// The packet's checksum state, `skb->ip_summed` with `skb->csum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Summed {
    /// `CHECKSUM_NONE`: checksums are in the packet and must be kept valid.
    None,
    /// `CHECKSUM_UNNECESSARY`: verified by the device; kept valid as `None`.
    Unnecessary,
    /// `CHECKSUM_COMPLETE`: `skb->csum` is the 32-bit one's-complement sum
    /// of the packet (native-endian words, as `csum_partial` computes it).
    Complete(u32),
    /// `CHECKSUM_PARTIAL`: the transport checksum field holds the pseudo-header
    /// sum and the device completes it.
    Partial,
}

/// The big-endian 16-bit word at `off`, 0 when out of range.
pub(crate) fn get16(pkt: &[u8], off: usize) -> u16 {
    pkt.get(off..).and_then(<[u8]>::first_chunk).map_or(0, |w| u16::from_be_bytes(*w))
}

/// Stores `v` big-endian at `off`; nothing when out of range.
pub(crate) fn put16(pkt: &mut [u8], off: usize, v: u16) {
    if let Some(d) = pkt.get_mut(off..).and_then(<[u8]>::first_chunk_mut) {
        *d = v.to_be_bytes();
    }
}

/// 32-bit one's-complement add (`csum_add`).
pub(crate) fn wadd(a: u32, b: u32) -> u32 {
    let (s, c) = a.overflowing_add(b);
    s.wrapping_add(u32::from(c))
}

/// 16-bit one's-complement fold without complement (`~csum_fold`).
pub(crate) fn fold16(mut s: u32) -> u16 {
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s as u16
}

/// `inet_proto_csum_replace{2,4,16}` for a field of `N` bytes (2, 4 or 16;
/// an odd last byte is ignored): the transport checksum at `check_off` in
/// `pkt` after the field `from` (wire order) became `to`. `pseudohdr` says
/// whether the field is in the pseudo-header (an address or the length)
/// rather than in the transport header (a port, an option). With
/// `CHECKSUM_PARTIAL` only a pseudo-header change touches the field (which
/// holds the pseudo-header sum); with `CHECKSUM_COMPLETE` a pseudo-header
/// change of 2 or 4 bytes also goes into `skb->csum`
/// (`inet_proto_csum_replace2` is `..._replace4` of the zero-extended
/// `__be16`), a 16-byte one does not (net/core/utils.c says why). The
/// length is a constant so that the packet path's 4-byte IPv4 case is a few
/// additions, no loop.
pub fn inet_proto_csum_replace<const N: usize>(
    pkt: &mut [u8],
    check_off: usize,
    summed: &mut Summed,
    from: &[u8; N],
    to: &[u8; N],
    pseudohdr: bool,
) {
    let words = || from.as_chunks::<2>().0.iter().zip(to.as_chunks::<2>().0).map(|(m, m2)| (u16::from_be_bytes(*m), u16::from_be_bytes(*m2)));
    let check = get16(pkt, check_off);
    if *summed == Summed::Partial {
        if pseudohdr {
            // The field holds the pseudo-header sum, not complemented.
            let s = words().fold(u32::from(check), |s, (m, m2)| wadd(wadd(s, u32::from(!m)), u32::from(m2)));
            put16(pkt, check_off, fold16(s));
        }
        return;
    }
    let s = words().fold(u64::from(!check), |s, (m, m2)| s.wrapping_add(u64::from(!m)).wrapping_add(u64::from(m2)));
    put16(pkt, check_off, !fold(s));
    if let (Summed::Complete(csum), true) = (*summed, pseudohdr) {
        // `(__force __wsum)from`: the field's bytes as a native u32, a
        // __be16 zero-extended (its bytes in the low half).
        let native = |b: &[u8; N]| match *b.as_slice() {
            [x, y] => Some(u32::from(u16::from_ne_bytes([x, y]))),
            [w, x, y, z] => Some(u32::from_ne_bytes([w, x, y, z])),
            _ => None,
        };
        if let (Some(f), Some(t)) = (native(from), native(to)) {
            *summed = Summed::Complete(!wadd(wadd(!csum, !f), t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slice-and-loop form this file had before the constant-length
    /// one (session 20): the model the fast form must agree with.
    fn model(pkt: &mut [u8], check_off: usize, summed: &mut Summed, from: &[u8], to: &[u8], pseudohdr: bool) {
        let w = |b: &[u8]| b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect::<Vec<_>>();
        let (f, t) = (w(from), w(to));
        let check = get16(pkt, check_off);
        if *summed == Summed::Partial {
            if pseudohdr {
                let mut s = u32::from(check);
                for (m, m2) in f.iter().zip(&t) {
                    s = wadd(wadd(s, u32::from(!m)), u32::from(*m2));
                }
                put16(pkt, check_off, fold16(s));
            }
            return;
        }
        put16(pkt, check_off, model_replace(check, &f, &t));
        if let (Summed::Complete(csum), true) = (*summed, pseudohdr) {
            let native = match from.len() {
                2 => Some((u32::from(u16::from_ne_bytes([from[0], from[1]])), u32::from(u16::from_ne_bytes([to[0], to[1]])))),
                4 => Some((u32::from_ne_bytes([from[0], from[1], from[2], from[3]]), u32::from_ne_bytes([to[0], to[1], to[2], to[3]]))),
                _ => None,
            };
            if let Some((f, t)) = native {
                *summed = Summed::Complete(!wadd(wadd(!csum, !f), t));
            }
        }
    }

    /// RFC 1624 equation 3 one word at a time with end-around carry: the
    /// `csum_replace` this file had before session 21.
    fn model_replace(check: u16, from: &[u16], to: &[u16]) -> u16 {
        let mut s = u32::from(!check);
        for (&m, &m2) in from.iter().zip(to.iter()) {
            s = add1c(s, u32::from(!m));
            s = add1c(s, u32::from(m2));
        }
        !fold(u64::from(s))
    }

    #[test]
    fn csum_replace_agrees_with_the_word_at_a_time_sum() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for round in 0..50_000 {
            let n = 1 + round % 8;
            let mut words = |k: usize| (0..k).map(|_| next(&mut x) as u16).collect::<Vec<u16>>();
            let (mut from, mut to) = (words(n), words(n));
            let mut check = next(&mut x) as u16;
            // Zero and all-ones words and checks, where the two forms of
            // zero (0x0000, 0xffff) could part.
            match round % 6 {
                0 => from.iter_mut().for_each(|w| *w = 0xffff),
                1 => to.iter_mut().for_each(|w| *w = 0),
                2 => {
                    from.iter_mut().for_each(|w| *w = 0xffff);
                    to.iter_mut().for_each(|w| *w = 0);
                    check = 0xffff;
                }
                3 => check = 0,
                _ => {}
            }
            assert_eq!(csum_replace(check, &from, &to), model_replace(check, &from, &to), "{check:04x} {from:04x?} -> {to:04x?}");
        }
    }

    /// A small deterministic generator (xorshift), so the cases repeat.
    fn next(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    #[test]
    fn constant_length_replace_agrees_with_the_loop_it_replaced() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20_000 {
            let n = [2usize, 4, 16][round % 3];
            let mut bytes = |k: usize| (0..k).map(|_| next(&mut x) as u8).collect::<Vec<u8>>();
            let (from, to) = (bytes(n), bytes(n));
            // The edge words too: all-zero and all-one fields and checks.
            let (from, to) = match round % 7 {
                0 => (vec![0; n], to),
                1 => (from, vec![0xff; n]),
                _ => (from, to),
            };
            let mut pkt = bytes(8);
            if round % 11 == 0 {
                pkt[6] = 0;
                pkt[7] = 0;
            }
            let csum = next(&mut x) as u32;
            let summed = [Summed::None, Summed::Unnecessary, Summed::Complete(csum), Summed::Partial][round % 4];
            let pseudohdr = round % 5 < 3;
            let (mut p1, mut s1) = (pkt.clone(), summed);
            let (mut p2, mut s2) = (pkt.clone(), summed);
            model(&mut p1, 6, &mut s1, &from, &to, pseudohdr);
            match n {
                2 => inet_proto_csum_replace::<2>(&mut p2, 6, &mut s2, (&*from).try_into().unwrap(), (&*to).try_into().unwrap(), pseudohdr),
                4 => inet_proto_csum_replace::<4>(&mut p2, 6, &mut s2, (&*from).try_into().unwrap(), (&*to).try_into().unwrap(), pseudohdr),
                _ => inet_proto_csum_replace::<16>(&mut p2, 6, &mut s2, (&*from).try_into().unwrap(), (&*to).try_into().unwrap(), pseudohdr),
            }
            assert_eq!((p1, s1), (p2, s2), "round {round}: {n} bytes {from:02x?} -> {to:02x?}, {summed:?}, pseudohdr {pseudohdr}");
        }
    }
}
