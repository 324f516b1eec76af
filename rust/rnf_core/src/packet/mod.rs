// SPDX-License-Identifier: GPL-2.0
//! Checked views of IPv4 and IPv6 packets and the transport headers that
//! connection tracking reads.
//!
//! Everything here works on untrusted bytes: a packet handed in by a netfilter
//! hook. [`parse`] validates lengths before reading any field, so no accessor
//! can index out of bounds, and every defect is a typed [`ParseError`].
//! Multi-byte fields are read big-endian (network byte order) through
//! `from_be_bytes`, never through unaligned loads.
//!
//! Follows RFC 791 (IPv4), RFC 8200 (IPv6 and its extension headers), RFC 9293
//! (TCP), RFC 768 (UDP), RFC 792 (ICMP) and RFC 4443 (ICMPv6), with the
//! kernel's header layouts: include/uapi/linux/ip.h, ipv6.h, tcp.h, udp.h,
//! icmp.h, icmpv6.h; sequence arithmetic as include/net/tcp.h.
//!
//! The bottom layer: it imports from no other engine.

/// `IPPROTO_ICMP` (include/uapi/linux/in.h).
pub const IPPROTO_ICMP: u8 = 1;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u8 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u8 = 17;
/// `IPPROTO_ICMPV6` (include/uapi/linux/in6.h).
pub const IPPROTO_ICMPV6: u8 = 58;

/// IPv6 extension header numbers walked by [`parse`] (RFC 8200 section 4).
const NEXTHDR_HOP: u8 = 0;
const NEXTHDR_ROUTING: u8 = 43;
const NEXTHDR_FRAGMENT: u8 = 44;
const NEXTHDR_AUTH: u8 = 51;
const NEXTHDR_DEST: u8 = 60;
/// How many IPv6 extension headers we follow before giving up. The kernel's
/// `ipv6_skip_exthdr()` has no limit: it walks until a header that is not
/// an extension header. Each header takes at least 8 bytes, so this bound
/// only stops inputs longer than 552 bytes of headers (a hook reads fewer).
const MAX_EXT_HEADERS: usize = 64;
/// `NEXTHDR_NONE`: no header follows.
pub const NEXTHDR_NONE: u8 = 59;

/// The network-layer protocol of a packet, as netfilter names families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum L3Proto {
    /// IPv4, `NFPROTO_IPV4` (2).
    Ipv4 = 2,
    /// IPv6, `NFPROTO_IPV6` (10).
    Ipv6 = 10,
}

impl L3Proto {
    /// The `NFPROTO_*` number (include/uapi/linux/netfilter.h).
    pub fn nfproto(self) -> u8 {
        self as u8
    }

    /// The family from an `NFPROTO_*` number, if it is IPv4 or IPv6.
    pub fn from_nfproto(pf: u8) -> Option<Self> {
        match pf {
            2 => Some(Self::Ipv4),
            10 => Some(Self::Ipv6),
            _ => None,
        }
    }

    /// The name `/proc/net/nf_conntrack` prints: `ipv4` or `ipv6`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
        }
    }

    /// Address length in bytes.
    pub fn addr_len(self) -> usize {
        match self {
            Self::Ipv4 => 4,
            Self::Ipv6 => 16,
        }
    }
}

/// Why a packet could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Fewer bytes than the header being read needs.
    Truncated,
    /// The IP version field does not match the hook's family.
    BadVersion,
    /// IPv4 IHL below 5, or a header longer than the packet.
    BadHeaderLength,
    /// IPv4 total length or IPv6 payload length inconsistent with the header.
    BadTotalLength,
    /// TCP data offset below 5 words.
    BadTcpOffset,
    /// More IPv6 extension headers than we are willing to walk.
    TooManyExtHeaders,
}

/// TCP flags byte (RFC 9293 section 3.1), as in byte 13 of the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: no more data from sender.
    pub const FIN: u8 = 0x01;
    /// SYN: synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// RST: reset the connection.
    pub const RST: u8 = 0x04;
    /// PSH: push function.
    pub const PSH: u8 = 0x08;
    /// ACK: acknowledgment field significant.
    pub const ACK: u8 = 0x10;

    /// Whether all bits of `mask` are set.
    pub fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
}

/// `before(seq1, seq2)` (include/net/tcp.h): `seq1` precedes `seq2` in sequence space (RFC 1982).
pub fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `after(seq2, seq1)`: `a` follows `b` in sequence space.
pub fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

/// TCP options that window tracking uses (RFC 7323 window scale, RFC 2018
/// SACK), as the kernel's `tcp_options()` and `tcp_sack()` read them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// The segment had option bytes at all (`doff > 5`).
    pub present: bool,
    /// Window scale shift, capped at 14 (`TCP_MAX_WSCALE`), if present.
    pub wscale: Option<u8>,
    /// SACK-permitted seen.
    pub sack_perm: bool,
    /// The largest right edge of the SACK blocks, if any (host order).
    pub sack_right: Option<u32>,
}

impl TcpOptions {
    /// Parses the option bytes after the fixed header. Malformed options end
    /// the walk (what was read so far counts), as in the kernel.
    pub fn parse(mut b: &[u8]) -> TcpOptions {
        const EOL: u8 = 0;
        const NOP: u8 = 1;
        const WINDOW: u8 = 3;
        const SACK_PERM: u8 = 4;
        const SACK: u8 = 5;
        let mut o = TcpOptions { present: !b.is_empty(), ..TcpOptions::default() };
        while let [kind, rest @ ..] = b {
            match *kind {
                EOL => break,
                NOP => b = rest,
                _ => {
                    let Some(&size) = rest.first() else { break };
                    let size = usize::from(size);
                    if size < 2 || size > b.len() {
                        break;
                    }
                    let body = b.get(2..size).unwrap_or(&[]);
                    match (*kind, body) {
                        (WINDOW, [shift]) => o.wscale = Some((*shift).min(14)),
                        (SACK_PERM, []) => o.sack_perm = true,
                        (SACK, blocks) if blocks.len() % 8 == 0 => {
                            for blk in blocks.chunks_exact(8) {
                                if let [_, _, _, _, a, c, d, e] = *blk {
                                    let right = u32::from_be_bytes([a, c, d, e]);
                                    let better = o.sack_right.is_none_or(|cur| after(right, cur));
                                    if better {
                                        o.sack_right = Some(right);
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                    b = b.get(size..).unwrap_or(&[]);
                }
            }
        }
        o
    }
}

/// The transport header fields connection tracking needs. Ports and
/// identifiers are in host byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4 {
    /// TCP header.
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// Flags byte.
        flags: TcpFlags,
        /// Window field, unscaled.
        window: u16,
        /// Payload bytes after the TCP header.
        payload_len: u32,
        /// The options conntrack reads (window scale, SACK).
        opts: TcpOptions,
    },
    /// UDP header.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// The length field (header and data, bytes), which
        /// [`udp_length_ok`] checks as `udp_error()` does.
        len: u16,
        /// The checksum field as on the wire (read big-endian); 0 means
        /// the sender computed none, which `udp_error()` does not check.
        check: u16,
    },
    /// ICMP or ICMPv6 header (which one follows from the packet's protocol).
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
        /// Identifier (bytes 4..6); only meaningful for echo-like types.
        id: u16,
        /// Offset of the embedded packet of an error message (header + 8).
        inner_offset: usize,
    },
    /// Any other protocol, or a non-first fragment: no transport header read.
    Other,
}

/// A parsed packet: network-layer addresses and the transport header.
///
/// `repr(C)` with the addresses first, at 8-byte aligned offsets:
/// [`parse_into`] writes each with whole-word stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct PacketInfo {
    /// Source address, network byte order; IPv4 in the first 4 bytes, rest zero.
    pub src: [u8; 16],
    /// Destination address, same layout as `src`.
    pub dst: [u8; 16],
    /// Offset of the transport header from the start of the network header.
    pub l4_offset: usize,
    /// Length of the L3 packet in bytes, from its header.
    pub len: u32,
    /// Family.
    pub l3: L3Proto,
    /// Upper-layer protocol (`IPPROTO_*`), after any IPv6 extension headers.
    pub proto: u8,
    /// This is a fragment other than the first: ports are not available.
    pub later_fragment: bool,
    /// The transport header.
    pub l4: L4,
}

/// The `N` bytes at `off`; [`ParseError::Truncated`] if `b` ends before
/// them (any `off`, even near `usize::MAX`: no end offset is computed).
fn bytes<const N: usize>(b: &[u8], off: usize) -> Result<&[u8; N], ParseError> {
    b.get(off..).and_then(<[u8]>::first_chunk).ok_or(ParseError::Truncated)
}

fn be16(b: &[u8], off: usize) -> Result<u16, ParseError> {
    bytes(b, off).map(|x| u16::from_be_bytes(*x))
}

fn be32(b: &[u8], off: usize) -> Result<u32, ParseError> {
    bytes(b, off).map(|x| u32::from_be_bytes(*x))
}

fn byte(b: &[u8], off: usize) -> Result<u8, ParseError> {
    b.get(off).copied().ok_or(ParseError::Truncated)
}

/// Copies `N` address bytes at `off` into the start of a 16-byte address.
fn addr<const N: usize>(b: &[u8], off: usize) -> Result<[u8; 16], ParseError> {
    let src: &[u8; N] = bytes(b, off)?;
    let mut a = [0u8; 16];
    if let Some(head) = a.first_chunk_mut::<N>() {
        *head = *src;
    }
    Ok(a)
}

impl PacketInfo {
    /// A packet with nothing parsed yet (IPv4, no addresses, no transport
    /// header): what [`parse_into`] is given to fill.
    pub const EMPTY: PacketInfo = PacketInfo {
        src: [0; 16],
        dst: [0; 16],
        l4_offset: 0,
        len: 0,
        l3: L3Proto::Ipv4,
        proto: 0,
        later_fragment: false,
        l4: L4::Other,
    };
}

/// Parses the packet `data`, which starts at the network header.
///
/// `data` may be shorter than the whole packet (only the headers need to be
/// present); the length fields are checked against `data` only where a field
/// is read. Returns [`ParseError`] for a truncated or malformed header.
pub fn parse(l3: L3Proto, data: &[u8]) -> Result<PacketInfo, ParseError> {
    let mut info = PacketInfo::EMPTY;
    parse_into(l3, data, &mut info)?;
    Ok(info)
}

/// [`parse`], writing the result into `info` (every field), where the
/// caller keeps it: the packet path's form. A parse result returned by
/// value was built on the stack and copied, some hundred bytes a packet.
/// After an error `info` holds what was parsed before it.
pub fn parse_into(l3: L3Proto, data: &[u8], info: &mut PacketInfo) -> Result<(), ParseError> {
    parse_l3_into(l3, data, info)?;
    if info.later_fragment {
        info.l4 = L4::Other;
        return Ok(());
    }
    let l4 = data.get(info.l4_offset..).ok_or(ParseError::Truncated)?;
    let l4_len = info.len.saturating_sub(info.l4_offset as u32);
    parse_l4(info.proto, l4, l4_len, info.l4_offset, &mut info.l4)
}

/// Parses only the network header (and IPv6 extension headers) of `data`;
/// `l4` is left as [`L4::Other`]. Used for the packet embedded in an ICMP
/// error, whose transport header is cut short.
pub fn parse_l3(l3: L3Proto, data: &[u8]) -> Result<PacketInfo, ParseError> {
    let mut info = PacketInfo::EMPTY;
    parse_l3_into(l3, data, &mut info)?;
    Ok(info)
}

/// The network header (and IPv6 extension headers) of `data` into
/// `info`'s network fields, by family: [`parse_into`]'s and
/// [`parse_l3`]'s first step.
#[inline(always)]
fn parse_l3_into(l3: L3Proto, data: &[u8], info: &mut PacketInfo) -> Result<(), ParseError> {
    match l3 {
        L3Proto::Ipv4 => parse_ipv4(data, info)?,
        L3Proto::Ipv6 => parse_ipv6(data, info)?,
    }
    Ok(())
}

/// The IPv4 header at the start of `data` into `info`'s network fields.
#[inline(always)]
fn parse_ipv4(data: &[u8], info: &mut PacketInfo) -> Result<(), ParseError> {
    let vihl = byte(data, 0)?;
    if vihl >> 4 != 4 {
        return Err(ParseError::BadVersion);
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    if ihl < 20 {
        return Err(ParseError::BadHeaderLength);
    }
    if data.len() < ihl {
        return Err(ParseError::Truncated);
    }
    let total = be16(data, 2)?;
    if usize::from(total) < ihl {
        return Err(ParseError::BadTotalLength);
    }
    // Within the 20 bytes the checks above found.
    let frag = be16(data, 6)?;
    info.l3 = L3Proto::Ipv4;
    info.src = addr::<4>(data, 12)?;
    info.dst = addr::<4>(data, 16)?;
    info.proto = byte(data, 9)?;
    info.l4_offset = ihl;
    info.len = u32::from(total);
    info.later_fragment = frag & 0x1fff != 0;
    Ok(())
}

/// The IPv6 header and extension headers at the start of `data` into
/// `info`'s network fields (`ipv6_skip_exthdr()`'s walk).
#[inline(always)]
fn parse_ipv6(data: &[u8], info: &mut PacketInfo) -> Result<(), ParseError> {
    if data.len() < 40 {
        return Err(ParseError::Truncated);
    }
    if byte(data, 0)? >> 4 != 6 {
        return Err(ParseError::BadVersion);
    }
    let payload = u32::from(be16(data, 4)?);
    let mut next = byte(data, 6)?;
    let mut off = 40usize;
    let mut later_fragment = false;
    let mut walked = 0;
    loop {
        match next {
            NEXTHDR_HOP | NEXTHDR_ROUTING | NEXTHDR_DEST | NEXTHDR_AUTH => {
                let &[nh, hlen] = bytes(data, off)?;
                let hlen = usize::from(hlen);
                let len = if next == NEXTHDR_AUTH { (hlen + 2) * 4 } else { (hlen + 1) * 8 };
                next = nh;
                // Within `data` (at most isize::MAX) plus at most 2,048.
                off = off.checked_add(len).ok_or(ParseError::BadTotalLength)?;
            }
            NEXTHDR_FRAGMENT => {
                let &[nh, _, fo_hi, fo_lo] = bytes(data, off)?;
                let frag_off = u16::from_be_bytes([fo_hi, fo_lo]) & 0xfff8;
                next = nh;
                off = off.checked_add(8).ok_or(ParseError::BadTotalLength)?;
                if frag_off != 0 {
                    // The fragment header must lie within the payload too.
                    if off as u32 > payload + 40 {
                        return Err(ParseError::BadTotalLength);
                    }
                    later_fragment = true;
                    break;
                }
            }
            _ => break,
        }
        walked += 1;
        if walked > MAX_EXT_HEADERS {
            return Err(ParseError::TooManyExtHeaders);
        }
        if off as u32 > payload + 40 {
            return Err(ParseError::BadTotalLength);
        }
    }
    info.l3 = L3Proto::Ipv6;
    info.src = addr::<16>(data, 8)?;
    info.dst = addr::<16>(data, 24)?;
    info.proto = next;
    info.l4_offset = off;
    info.len = payload + 40;
    info.later_fragment = later_fragment;
    Ok(())
}

/// Parses the transport header at the start of `l4`. `l4_len` is its length
/// according to the IP header (the bytes in `l4` may be fewer). `base` is the
/// offset of `l4` from the network header, used for ICMP inner offsets.
#[inline(always)]
fn parse_l4(proto: u8, l4: &[u8], l4_len: u32, base: usize, out: &mut L4) -> Result<(), ParseError> {
    // Each arm stores its own variant: returned as one value, the variants
    // were merged into one store sequence (39 instructions for UDP).
    match proto {
        IPPROTO_TCP => {
            let off_flags = be16(l4, 12)?;
            let doff = u32::from(off_flags >> 12) * 4;
            if doff < 20 {
                return Err(ParseError::BadTcpOffset);
            }
            if l4_len < doff {
                return Err(ParseError::BadTotalLength);
            }
            // The fixed 20-byte header must be present; options may be cut.
            be16(l4, 18)?;
            *out = L4::Tcp {
                sport: be16(l4, 0)?,
                dport: be16(l4, 2)?,
                seq: be32(l4, 4)?,
                ack: be32(l4, 8)?,
                flags: TcpFlags(byte(l4, 13)?),
                window: be16(l4, 14)?,
                payload_len: l4_len - doff,
                opts: TcpOptions::parse(l4.get(20..doff as usize).unwrap_or(&[])),
            };
        }
        IPPROTO_UDP => {
            if l4_len < 8 {
                return Err(ParseError::BadTotalLength);
            }
            // One bounds check covers the header.
            let &[s0, s1, d0, d1, l0, l1, c0, c1] = bytes(l4, 0)?;
            *out = L4::Udp {
                sport: u16::from_be_bytes([s0, s1]),
                dport: u16::from_be_bytes([d0, d1]),
                len: u16::from_be_bytes([l0, l1]),
                check: u16::from_be_bytes([c0, c1]),
            };
        }
        IPPROTO_ICMP | IPPROTO_ICMPV6 => {
            if l4_len < 8 {
                return Err(ParseError::BadTotalLength);
            }
            let &[icmp_type, code, _, _, i0, i1, _, _] = bytes(l4, 0)?;
            *out = L4::Icmp {
                icmp_type,
                code,
                id: u16::from_be_bytes([i0, i1]),
                inner_offset: base.checked_add(8).ok_or(ParseError::Truncated)?,
            };
        }
        _ => *out = L4::Other,
    }
    Ok(())
}

/// Whether the UDP length field of UDP packet `p` is consistent with the
/// packet, as the kernel's `udp_error()` checks: at least the 8-byte
/// header and at most the bytes after the IP headers (`skb->len -
/// dataoff`, the IP length saying how many). `false` for a packet that is
/// not UDP.
pub fn udp_length_ok(p: &PacketInfo) -> bool {
    let L4::Udp { len, .. } = p.l4 else { return false };
    let avail = p.len.saturating_sub(p.l4_offset as u32);
    len >= 8 && u32::from(len) <= avail
}

/// Whether IPv6 packet `p` ends its header chain with "no next header"
/// (59), which the kernel's `ipv6_skip_exthdr()` refuses (-1): connection
/// tracking counts such a packet invalid.
pub fn ipv6_no_next_header(p: &PacketInfo) -> bool {
    p.l3 == L3Proto::Ipv6 && p.proto == NEXTHDR_NONE && !p.later_fragment
}

#[cfg(test)]
mod tests;
