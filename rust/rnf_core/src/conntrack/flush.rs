// SPDX-License-Identifier: GPL-2.0
//! Writes to `/proc/net/nf_conntrack`: OpenWrt's flush.
//!
//! Mainline `nf_conntrack` has no write handler on that file; OpenWrt (and
//! the vendor firmware built from it) carries "netfilter: add support for
//! flushing conntrack via /proc" (target/linux/generic/pending-6.12/
//! 600-netfilter_conntrack_flush.patch), which firmware scripts rely on:
//!
//! - the write is cut to `INET6_ADDRSTRLEN - 1` (45) bytes;
//! - if those contain a `:`, they must be an IPv6 address (`in6_pton()`
//!   with `'\n'` as the delimiter), else if they contain a `.`, an IPv4
//!   address (`in4_pton()`); a malformed one is `EINVAL`;
//! - anything else (`f`, a bare newline, any word without `.` or `:`)
//!   flushes every connection of the namespace;
//! - an address flushes the namespace's connections of that family whose
//!   original or reply tuple has it as source or destination
//!   (`kill_matching()`).
//!
//! The parsers are ports of `in4_pton()` and `in6_pton()`
//! (net/core/utils.c), so exactly what the kernel accepts is accepted here.

use crate::conntrack::conn::Conn;
use crate::packet::L3Proto;

/// `INET6_ADDRSTRLEN` (include/linux/inet.h): the patch looks at one byte
/// less than this of what was written.
pub const INET6_ADDRSTRLEN: usize = 48;

/// What a write asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushRequest {
    /// Every connection of the namespace.
    All,
    /// The connections of family `l3` with `addr` (network order, IPv4 in
    /// the first 4 bytes, the rest 0) in either tuple, as source or
    /// destination.
    Addr {
        /// The address family.
        l3: L3Proto,
        /// The address.
        addr: [u8; 16],
    },
}

/// A write that looked like an address but is not one (`EINVAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAddress;

impl FlushRequest {
    /// Parses the bytes of one write (`ct_file_write()`: `buf` is what the
    /// writer gave, at least one byte; the caller refuses empty writes with
    /// `EINVAL` as `proc_simple_write()` does).
    pub fn parse(buf: &[u8]) -> Result<FlushRequest, BadAddress> {
        let buf = buf.get(..INET6_ADDRSTRLEN - 1).unwrap_or(buf);
        // strnchr() stops at a NUL as well as at the count.
        let text = buf.iter().position(|&b| b == 0).map_or(buf, |n| buf.get(..n).unwrap_or(buf));
        if text.contains(&b':') {
            let a = in6_pton(buf, b'\n').ok_or(BadAddress)?;
            Ok(FlushRequest::Addr { l3: L3Proto::Ipv6, addr: a })
        } else if text.contains(&b'.') {
            let a = in4_pton(buf, b'\n').ok_or(BadAddress)?;
            let mut addr = [0u8; 16];
            if let Some(d) = addr.get_mut(..4) {
                d.copy_from_slice(&a);
            }
            Ok(FlushRequest::Addr { l3: L3Proto::Ipv4, addr })
        } else {
            Ok(FlushRequest::All)
        }
    }

    /// Whether connection `c` goes (`kill_matching()`).
    pub fn matches(&self, c: &Conn) -> bool {
        match self {
            FlushRequest::All => true,
            FlushRequest::Addr { l3, addr } => {
                let [o, r] = &c.tuple;
                o.l3 == *l3 && (o.src == *addr || o.dst == *addr || r.src == *addr || r.dst == *addr)
            }
        }
    }
}

// The classes xdigit2bin() returns (net/core/utils.c), flags or'ed onto a
// hex digit's value.
const XDIGIT: u32 = 0x0001_0000;
const DIGIT: u32 = 0x0002_0000;
const COLON_MASK: u32 = 0x0070_0000;
const COLON_1: u32 = 0x0010_0000;
const COLON_2: u32 = 0x0020_0000;
const COLON_1_2: u32 = 0x0040_0000;
const DOT: u32 = 0x0080_0000;
const DELIM: u32 = 0x1000_0000;
const NULL: u32 = 0x2000_0000;
const UNKNOWN: u32 = 0x4000_0000;

/// `xdigit2bin()`: the class of byte `c` with the delimiter `delim`.
fn xdigit2bin(c: u8, delim: u8) -> u32 {
    if c == delim || c == 0 {
        return DELIM;
    }
    match c {
        b':' => COLON_MASK,
        b'.' => DOT,
        b'0'..=b'9' => u32::from(c - b'0') | XDIGIT | DIGIT,
        b'a'..=b'f' => u32::from(c - b'a' + 10) | XDIGIT,
        b'A'..=b'F' => u32::from(c - b'A' + 10) | XDIGIT,
        _ => UNKNOWN,
    }
}

/// The byte at `i` of `src`, NUL past its end (the kernel reads `'\0'`
/// once `srclen` is used up).
fn at(src: &[u8], i: usize) -> u8 {
    src.get(i).copied().unwrap_or(0)
}

/// `in4_pton(src, srclen, dst, delim, &end)`: four decimal parts of at
/// most 255 (leading zeros allowed) separated by dots and ended by `delim`,
/// a NUL, a colon or the end of `src`. Returns the address and the index
/// where parsing stopped, or `None`.
fn in4_pton_at(src: &[u8], delim: u8) -> Option<([u8; 4], usize)> {
    let mut dbuf = [0u8; 4];
    let mut i = 0usize;
    let mut w: u32 = 0;
    let mut s = 0usize;
    loop {
        let c = xdigit2bin(at(src, s), delim);
        if c & (DIGIT | DOT | DELIM | COLON_MASK) == 0 {
            return None;
        }
        if c & (DOT | DELIM | COLON_MASK) != 0 {
            // `w` carries the class bits of the digits, so it is 0 only when
            // the part had no digit.
            if w == 0 {
                return None;
            }
            *dbuf.get_mut(i)? = (w & 0xff) as u8;
            w = 0;
            i += 1;
            if c & (DELIM | COLON_MASK) != 0 {
                if i != 4 {
                    return None;
                }
                return Some((dbuf, s));
            }
        } else {
            w = w.wrapping_mul(10).wrapping_add(c);
            if w & 0xffff > 255 {
                return None;
            }
        }
        if i >= 4 {
            return None;
        }
        s += 1;
    }
}

/// `in4_pton()`: see [`in4_pton_at`].
pub fn in4_pton(src: &[u8], delim: u8) -> Option<[u8; 4]> {
    in4_pton_at(src, delim).map(|(a, _)| a)
}

/// `in6_pton()`: eight groups of up to four hex digits, one `::` standing
/// for zero groups, the last 32 bits possibly as a dotted IPv4 address,
/// ended by `delim`, a NUL or the end of `src`. Returns the address in
/// network order, or `None`.
pub fn in6_pton(src: &[u8], delim: u8) -> Option<[u8; 16]> {
    const LEN: usize = 16;
    let mut dbuf = [0u8; LEN];
    // `d` and `dc` are indices into dbuf (`dc`: where "::" stood).
    let mut d = 0usize;
    let mut dc: Option<usize> = None;
    let mut tok: Option<usize> = None;
    let mut state = COLON_1_2 | XDIGIT | NULL;
    let mut w: u32 = 0;
    let mut s = 0usize;
    loop {
        let c = xdigit2bin(at(src, s), delim);
        if c & state == 0 {
            return None;
        }
        if c & (DELIM | COLON_MASK) != 0 {
            // One 16-bit word.
            if state & NULL == 0 {
                *dbuf.get_mut(d)? = (w >> 8) as u8;
                *dbuf.get_mut(d + 1)? = w as u8;
                d += 2;
            }
            w = 0;
            if c & DELIM != 0 {
                break;
            }
            state = match state & COLON_MASK {
                COLON_2 => {
                    dc = Some(d);
                    if d >= LEN {
                        XDIGIT | DELIM | NULL
                    } else {
                        XDIGIT | DELIM
                    }
                }
                x if x == COLON_1 | COLON_1_2 => XDIGIT | COLON_2,
                COLON_1 => XDIGIT,
                COLON_1_2 => COLON_2,
                _ => 0,
            };
            tok = Some(s.checked_add(1)?);
        } else if c & DOT != 0 {
            // The rest is an IPv4 address: from the start of this group.
            let from = tok?;
            let (v4, _) = in4_pton_at(src.get(from..).unwrap_or(&[]), delim)?;
            *dbuf.get_mut(d..)?.first_chunk_mut()? = v4;
            d += 4;
            break;
        } else {
            w = (w << 4) | (c & 0xff);
            state = COLON_1 | DELIM;
            if w & 0xf000 == 0 {
                state |= XDIGIT;
            }
            if dc.is_none() && d < LEN - 2 {
                state |= COLON_1_2;
                state &= !DELIM;
            }
            if d >= LEN - 2 {
                state &= !(COLON_1 | COLON_1_2);
            }
        }
        // cont:
        if (dc.is_some() && d < LEN - 4) || d == LEN - 4 {
            state |= DOT;
        }
        if d >= LEN {
            state &= !(XDIGIT | COLON_MASK);
        }
        // `at` reads NUL past the end of `src`, which ends the loop: no wrap.
        s = s.checked_add(1)?;
    }
    let Some(dc) = dc else { return Some(dbuf) };
    // Move the groups after "::" to the end and zero the gap.
    let mut dst = [0u8; LEN];
    let tail = d.checked_sub(dc)?;
    dst.get_mut(..dc)?.copy_from_slice(dbuf.get(..dc)?);
    dst.get_mut(LEN.checked_sub(tail)?..)?.copy_from_slice(dbuf.get(dc..d)?);
    Some(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Option<[u8; 4]> {
        in4_pton(s.as_bytes(), b'\n')
    }

    fn v6(s: &str) -> Option<[u8; 16]> {
        in6_pton(s.as_bytes(), b'\n')
    }

    fn words(a: [u8; 16]) -> [u16; 8] {
        let mut w = [0u16; 8];
        for (i, x) in w.iter_mut().enumerate() {
            *x = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
        }
        w
    }

    #[test]
    fn in4_accepts_what_the_kernel_accepts() {
        assert_eq!(v4("10.1.0.2"), Some([10, 1, 0, 2]));
        assert_eq!(v4("10.1.0.2\n"), Some([10, 1, 0, 2]));
        assert_eq!(v4("10.1.0.2\ntrailing"), Some([10, 1, 0, 2]));
        assert_eq!(v4("255.255.255.255"), Some([255; 4]));
        assert_eq!(v4("010.001.000.002"), Some([10, 1, 0, 2]));
        assert_eq!(v4("0000000000000000001.2.3.4"), Some([1, 2, 3, 4]));
        assert_eq!(v4("1.2.3.4:80"), Some([1, 2, 3, 4]));
    }

    #[test]
    fn in4_refuses_what_the_kernel_refuses() {
        for bad in ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", "a.b.c.d", "1.2.3.4x", ""] {
            assert_eq!(v4(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn in6_accepts_what_the_kernel_accepts() {
        assert_eq!(words(v6("fd01::2").unwrap()), [0xfd01, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(words(v6("fd01::2\n").unwrap()), [0xfd01, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(words(v6("::").unwrap()), [0; 8]);
        assert_eq!(words(v6("::1").unwrap()), [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(words(v6("fe80::").unwrap()), [0xfe80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(words(v6("1:2:3:4:5:6:7:8").unwrap()), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(words(v6("1:2:3::7:8").unwrap()), [1, 2, 3, 0, 0, 0, 7, 8]);
        assert_eq!(
            words(v6("fd01:0000:0000:0000:0000:0000:0000:0002").unwrap()),
            [0xfd01, 0, 0, 0, 0, 0, 0, 2]
        );
        assert_eq!(words(v6("FD02::ABCD").unwrap()), [0xfd02, 0, 0, 0, 0, 0, 0, 0xabcd]);
        assert_eq!(words(v6("::ffff:10.1.0.2").unwrap()), [0, 0, 0, 0, 0, 0xffff, 0x0a01, 2]);
        assert_eq!(words(v6("1:2:3:4:5:6:1.2.3.4").unwrap()), [1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
    }

    #[test]
    fn in6_refuses_what_the_kernel_refuses() {
        for bad in [
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "12345::",
            ":1::",
            "1:2:3:4:5:6:7",
            "fd01::2 ",
            "g::1",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::1.2.3",
            ":::",
            "",
        ] {
            assert_eq!(v6(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn in6_edges_of_the_buffer_and_the_dotted_tail() {
        // The dotted tail exactly filling the last 4 bytes, and one group too
        // many before it.
        assert_eq!(words(v6("::1.2.3.4").unwrap()), [0, 0, 0, 0, 0, 0, 0x0102, 0x0304]);
        assert_eq!(v6("1:2:3:4:5:6:7::1.2.3.4"), None);
        assert_eq!(v6("1:2:3:4:5:6:7:8::"), None);
        // Long runs of digits, colons and dots: refused, never read past.
        for bad in [[b'1'; 64], [b':'; 64], [b'.'; 64]] {
            assert_eq!(in6_pton(&bad, b'\n'), None);
        }
        // An address ending at the end of the buffer, without delimiter.
        assert_eq!(words(in6_pton(b"1:2:3:4:5:6:7:8", 0).unwrap()), [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn parse_follows_openwrt() {
        assert_eq!(FlushRequest::parse(b"f\n"), Ok(FlushRequest::All));
        assert_eq!(FlushRequest::parse(b"f"), Ok(FlushRequest::All));
        assert_eq!(FlushRequest::parse(b"\n"), Ok(FlushRequest::All));
        assert_eq!(FlushRequest::parse(b"flush everything\n"), Ok(FlushRequest::All));
        let mut a4 = [0u8; 16];
        a4[..4].copy_from_slice(&[10, 1, 0, 2]);
        assert_eq!(FlushRequest::parse(b"10.1.0.2\n"), Ok(FlushRequest::Addr { l3: L3Proto::Ipv4, addr: a4 }));
        let Ok(FlushRequest::Addr { l3: L3Proto::Ipv6, addr }) = FlushRequest::parse(b"fd01::2\n") else {
            panic!("IPv6 address")
        };
        assert_eq!(words(addr), [0xfd01, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(FlushRequest::parse(b"10.1.0.300\n"), Err(BadAddress));
        assert_eq!(FlushRequest::parse(b"fd01::2::3\n"), Err(BadAddress));
        assert_eq!(FlushRequest::parse(b"host.example\n"), Err(BadAddress));
        // Only the first 45 bytes count: a dot after them is not seen.
        let mut long = [b'x'; 60];
        long[50] = b'.';
        assert_eq!(FlushRequest::parse(&long), Ok(FlushRequest::All));
        // Nor after a NUL.
        assert_eq!(FlushRequest::parse(b"f\0.1"), Ok(FlushRequest::All));
    }
}
