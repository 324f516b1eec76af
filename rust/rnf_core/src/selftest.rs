// SPDX-License-Identifier: GPL-2.0
//! Checks shared by the host tests and the in-kernel KUnit suites.
//!
//! Each [`Case`] is a function that returns `Err(reason)` on failure. The
//! kernel modules turn every suite here into a KUnit suite (the module's
//! `kunit` glue), and `cargo test` runs the same suites, so the golden-packet
//! checks run on the target's own compiler, endianness and alignment rules.

use core::ffi::CStr;
use core::fmt::Write;

use crate::conntrack::conn::{Conn, CtInfo, Direction, Outcome, Timeouts, IPS_ASSURED, IPS_SEEN_REPLY};
use crate::packet::{self, L3Proto, ParseError, TcpFlags, L4};
use crate::conntrack::procfmt::{self, FixedBuf};
use crate::conntrack::table::{ConnTable, InsertError, Slot};
use crate::conntrack::tcp::{transition, TcpIndex, TcpState, Transition};
use crate::conntrack::tuple::{jhash2, NoTuple, Tuple};

/// One named check.
pub struct Case {
    /// KUnit case name: what it checks.
    pub name: &'static CStr,
    /// Returns `Err(reason)` when the check fails.
    pub run: fn() -> Result<(), &'static str>,
}

/// One named group of checks (a KUnit suite).
pub struct Suite {
    /// Suite name, `rnf_<area>`.
    pub name: &'static CStr,
    /// Its cases.
    pub cases: &'static [Case],
}

fn ensure(cond: bool, why: &'static str) -> Result<(), &'static str> {
    if cond {
        Ok(())
    } else {
        Err(why)
    }
}

/// Golden packets (network header onward), also used by the host tests.
pub mod golden {
    /// IPv4 TCP SYN 10.1.0.2:40000 -> 10.2.0.2:80, 20 bytes of options.
    pub const IPV4_TCP_SYN: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 1, 0, 2, 10, 2, 0, 2,
        0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];
    /// IPv4 ICMP echo request 10.1.0.2 -> 10.2.0.2, id 0x1234, seq 1.
    pub const IPV4_ICMP_ECHO: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 10, 1, 0, 2, 10, 2, 0, 2,
        0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01,
    ];
    /// IPv6 UDP fd01::2:5000 -> fd02::2:53, 8 bytes of payload.
    pub const IPV6_UDP: [u8; 56] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 17, 64, //
        0xfd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        0xfd, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        0x13, 0x88, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8,
    ];
    /// IPv6 first fragment (offset 0, more fragments) of a UDP datagram
    /// fd01::2:5000 -> fd02::2:53.
    pub const IPV6_FRAG_FIRST: [u8; 56] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 44, 64, //
        0xfd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        0xfd, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        17, 0, 0x00, 0x01, 0xca, 0xfe, 0xba, 0xbe, //
        0x13, 0x88, 0x00, 0x35, 0x05, 0xd0, 0x00, 0x00,
    ];
    /// IPv6 later fragment (offset 1480) of the same datagram.
    pub const IPV6_FRAG_LATER: [u8; 56] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 44, 64, //
        0xfd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        0xfd, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        17, 0, 0x05, 0xc8, 0xca, 0xfe, 0xba, 0xbe, //
        0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
    ];
    /// IPv6 ICMPv6 echo request fd01::2 -> fd02::2 behind a hop-by-hop
    /// options header, id 0x0042.
    pub const IPV6_HBH_ECHO: [u8; 56] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0, 64, //
        0xfd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        0xfd, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        58, 0, 1, 4, 0, 0, 0, 0, //
        0x80, 0x00, 0x00, 0x00, 0x00, 0x42, 0x00, 0x01,
    ];
}

/// The golden SYN turned into a segment of direction `dir` (client
/// 10.1.0.2:40000 is the original side) with the given flags, sequence and
/// acknowledgment numbers and `payload` bytes of payload (counted in the IP
/// total length only: parsing does not read payload).
fn tcp_pkt(dir: Direction, flags: u8, seq: u32, ack: u32, payload: u16) -> [u8; 60] {
    let mut p = golden::IPV4_TCP_SYN;
    if dir == Direction::Reply {
        for i in 0..4 {
            p.swap(12 + i, 16 + i);
        }
        p.swap(20, 22);
        p.swap(21, 23);
    }
    p[2..4].copy_from_slice(&(60 + payload).to_be_bytes());
    p[24..28].copy_from_slice(&seq.to_be_bytes());
    p[28..32].copy_from_slice(&ack.to_be_bytes());
    p[33] = flags;
    p
}

/// Client and server initial sequence numbers of the test connections.
const CISN: u32 = 1000;
const SISN: u32 = 0xffff_fff0; // wraps during the test: sequence space arithmetic

fn parse4(b: &[u8]) -> Result<packet::PacketInfo, &'static str> {
    packet::parse(L3Proto::Ipv4, b).map_err(|_| "golden IPv4 packet did not parse")
}

fn parse6(b: &[u8]) -> Result<packet::PacketInfo, &'static str> {
    packet::parse(L3Proto::Ipv6, b).map_err(|_| "golden IPv6 packet did not parse")
}

fn ipv4_tcp_syn_parses() -> Result<(), &'static str> {
    let p = parse4(&golden::IPV4_TCP_SYN)?;
    ensure(p.src[..4] == [10, 1, 0, 2] && p.dst[..4] == [10, 2, 0, 2], "addresses")?;
    ensure(p.l4_offset == 20 && p.len == 60, "offsets")?;
    match p.l4 {
        L4::Tcp { sport: 40000, dport: 80, seq: 1, ack: 0, flags, payload_len: 0, opts, .. } => {
            ensure(flags == TcpFlags(TcpFlags::SYN), "flags")?;
            ensure(opts.wscale == Some(7) && opts.sack_perm, "options: MSS, SACK-permitted, timestamp, window scale 7")
        }
        _ => Err("TCP header fields"),
    }
}

fn ipv6_udp_parses() -> Result<(), &'static str> {
    let p = parse6(&golden::IPV6_UDP)?;
    ensure(p.src[0] == 0xfd && p.src[15] == 2 && p.dst[1] == 2, "addresses")?;
    ensure(p.l4 == L4::Udp { sport: 5000, dport: 53 }, "UDP ports")
}

fn ipv6_first_fragment_has_ports() -> Result<(), &'static str> {
    let p = parse6(&golden::IPV6_FRAG_FIRST)?;
    ensure(!p.later_fragment && p.l4_offset == 48, "fragment header skipped")?;
    ensure(p.l4 == L4::Udp { sport: 5000, dport: 53 }, "UDP ports after fragment header")
}

fn ipv6_later_fragment_has_no_tuple() -> Result<(), &'static str> {
    let p = parse6(&golden::IPV6_FRAG_LATER)?;
    ensure(p.later_fragment && p.l4 == L4::Other, "later fragment")?;
    ensure(Tuple::from_packet(&p) == Err(NoTuple::Fragment), "no tuple")
}

fn ipv6_hop_by_hop_skipped() -> Result<(), &'static str> {
    let p = parse6(&golden::IPV6_HBH_ECHO)?;
    ensure(p.proto == 58 && p.l4_offset == 48, "extension header walk")?;
    ensure(matches!(p.l4, L4::Icmp { icmp_type: 128, id: 0x42, .. }), "ICMPv6 echo")
}

fn truncated_packets_are_errors() -> Result<(), &'static str> {
    // Every strict prefix shorter than the headers must fail cleanly.
    for n in 0..40 {
        ensure(packet::parse(L3Proto::Ipv4, &golden::IPV4_TCP_SYN[..n]).is_err(), "IPv4 TCP prefix")?;
    }
    for n in 0..48 {
        ensure(packet::parse(L3Proto::Ipv6, &golden::IPV6_UDP[..n]).is_err(), "IPv6 UDP prefix")?;
        ensure(packet::parse(L3Proto::Ipv6, &golden::IPV6_HBH_ECHO[..n]).is_err(), "IPv6 HBH prefix")?;
    }
    Ok(())
}

fn malformed_headers_are_errors() -> Result<(), &'static str> {
    let mut p = golden::IPV4_TCP_SYN;
    p[0] = 0x44; // IHL 4 words
    ensure(packet::parse(L3Proto::Ipv4, &p) == Err(ParseError::BadHeaderLength), "IHL < 5")?;
    p[0] = 0x65;
    ensure(packet::parse(L3Proto::Ipv4, &p) == Err(ParseError::BadVersion), "version 6 on IPv4 hook")?;
    let mut p = golden::IPV4_TCP_SYN;
    p[32] = 0x40; // data offset 4 words
    ensure(packet::parse(L3Proto::Ipv4, &p) == Err(ParseError::BadTcpOffset), "TCP doff < 5")?;
    let mut p = golden::IPV4_TCP_SYN;
    p[3] = 10; // total length below the header
    ensure(packet::parse(L3Proto::Ipv4, &p) == Err(ParseError::BadTotalLength), "total length")?;
    let mut p = golden::IPV6_UDP;
    p[5] = 4; // payload too short for UDP
    ensure(packet::parse(L3Proto::Ipv6, &p) == Err(ParseError::BadTotalLength), "UDP length")
}

/// Packet parsing suite.
pub const PACKET: Suite = Suite {
    name: c"rnf_packet",
    cases: &[
        Case { name: c"ipv4_tcp_syn_parses", run: ipv4_tcp_syn_parses },
        Case { name: c"ipv6_udp_parses", run: ipv6_udp_parses },
        Case { name: c"ipv6_first_fragment_has_ports", run: ipv6_first_fragment_has_ports },
        Case { name: c"ipv6_later_fragment_has_no_tuple", run: ipv6_later_fragment_has_no_tuple },
        Case { name: c"ipv6_hop_by_hop_skipped", run: ipv6_hop_by_hop_skipped },
        Case { name: c"truncated_packets_are_errors", run: truncated_packets_are_errors },
        Case { name: c"malformed_headers_are_errors", run: malformed_headers_are_errors },
    ],
};

fn tuple_invert_swaps_ports() -> Result<(), &'static str> {
    let t = Tuple::from_packet(&parse4(&golden::IPV4_TCP_SYN)?).map_err(|_| "tuple")?;
    let r = t.invert();
    ensure(r.src == t.dst && r.dst == t.src && r.src_id == 80 && r.dst_id == 40000, "inverted")?;
    ensure(r.invert() == t, "double inversion is identity")
}

fn icmp_echo_inverts_to_reply() -> Result<(), &'static str> {
    let t = Tuple::from_packet(&parse4(&golden::IPV4_ICMP_ECHO)?).map_err(|_| "tuple")?;
    ensure(t.icmp_type() == 8 && t.src_id == 0x1234, "echo tuple")?;
    let r = t.invert();
    ensure(r.icmp_type() == 0 && r.src_id == 0x1234, "echo reply tuple")?;
    let t6 = Tuple::from_packet(&parse6(&golden::IPV6_HBH_ECHO)?).map_err(|_| "tuple6")?;
    ensure(t6.invert().icmp_type() == 129, "ICMPv6 echo reply type")
}

fn jhash2_matches_kernel() -> Result<(), &'static str> {
    // Values computed with include/linux/jhash.h from the reference kernel.
    ensure(jhash2(&[], 0) == 0xdead_beef, "empty")?;
    ensure(jhash2(&[1], 0) == 0x72a8_2a9b, "one word")?;
    ensure(jhash2(&[1, 2, 3], 7) == 0xfbd6_12ad, "three words")?;
    ensure(jhash2(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0x1234_5678) == 0x4852_49db, "eleven words")
}

fn hash_depends_on_netns() -> Result<(), &'static str> {
    let t = Tuple::from_packet(&parse4(&golden::IPV4_TCP_SYN)?).map_err(|_| "tuple")?;
    ensure(t.hash(1, 99) == t.hash(1, 99), "deterministic")?;
    ensure(t.hash(1, 99) != t.hash(2, 99), "netns in hash")
}

/// Tuple suite.
pub const TUPLE: Suite = Suite {
    name: c"rnf_tuple",
    cases: &[
        Case { name: c"tuple_invert_swaps_ports", run: tuple_invert_swaps_ports },
        Case { name: c"icmp_echo_inverts_to_reply", run: icmp_echo_inverts_to_reply },
        Case { name: c"jhash2_matches_kernel", run: jhash2_matches_kernel },
        Case { name: c"hash_depends_on_netns", run: hash_depends_on_netns },
    ],
};

const HZ: u32 = 100;

struct Flow {
    conn: Conn,
    now: u64,
}

impl Flow {
    fn open(first: &[u8]) -> Result<Flow, &'static str> {
        let p = parse4(first)?;
        let t = Tuple::from_packet(&p).map_err(|_| "tuple")?;
        let conn = Conn::new(&t, &p, 1, 1000, HZ, &Timeouts::default()).map_err(|_| "cannot open")?;
        Ok(Flow { conn, now: 1000 })
    }

    fn pkt(&mut self, dir: Direction, b: &[u8]) -> Result<Outcome, &'static str> {
        let p = parse4(b)?;
        self.now += 1;
        Ok(self.conn.packet(dir, &p, self.now, HZ, &Timeouts::default()))
    }

    fn seg(&mut self, dir: Direction, flags: u8, seq: u32, ack: u32, payload: u16) -> Result<Outcome, &'static str> {
        self.pkt(dir, &tcp_pkt(dir, flags, seq, ack, payload))
    }

    /// SYN, SYN/ACK, ACK: an established, assured connection.
    fn established() -> Result<Flow, &'static str> {
        let mut f = Flow::open(&tcp_pkt(Direction::Original, SYN, CISN, 0, 0))?;
        f.seg(Direction::Reply, SYNACK, SISN, CISN + 1, 0)?;
        f.seg(Direction::Original, ACK, CISN + 1, SISN.wrapping_add(1), 0)?;
        ensure(f.conn.tcp_state() == Some(TcpState::Established), "handshake")?;
        Ok(f)
    }
}

const SYN: u8 = TcpFlags::SYN;
const SYNACK: u8 = TcpFlags::SYN | TcpFlags::ACK;
const ACK: u8 = TcpFlags::ACK;
const FIN: u8 = TcpFlags::FIN | TcpFlags::ACK;
const RST: u8 = TcpFlags::RST;

fn tcp_handshake_establishes_and_assures() -> Result<(), &'static str> {
    let mut f = Flow::open(&tcp_pkt(Direction::Original, SYN, CISN, 0, 0))?;
    ensure(f.conn.tcp_state() == Some(TcpState::SynSent), "SYN -> SYN_SENT")?;
    let o = f.seg(Direction::Reply, SYNACK, SISN, CISN + 1, 0)?;
    ensure(o == Outcome::Accept(CtInfo::EstablishedReply), "SYN/ACK is ESTABLISHED reply")?;
    ensure(f.conn.tcp_state() == Some(TcpState::SynRecv), "SYN/ACK -> SYN_RECV")?;
    ensure(f.conn.status & IPS_SEEN_REPLY != 0, "SEEN_REPLY")?;
    let o = f.seg(Direction::Original, ACK, CISN + 1, SISN.wrapping_add(1), 0)?;
    ensure(o == Outcome::Accept(CtInfo::Established), "ACK is ESTABLISHED")?;
    ensure(f.conn.tcp_state() == Some(TcpState::Established), "ACK -> ESTABLISHED")?;
    ensure(f.conn.status & IPS_ASSURED != 0, "ASSURED after handshake")?;
    // Data both ways across the server's sequence wrap.
    let o = f.seg(Direction::Original, ACK, CISN + 1, SISN.wrapping_add(1), 100)?;
    ensure(o == Outcome::Accept(CtInfo::Established), "client data in window")?;
    let o = f.seg(Direction::Reply, ACK, SISN.wrapping_add(1), CISN + 101, 1000)?;
    ensure(o == Outcome::Accept(CtInfo::EstablishedReply), "server data across the wrap")
}

fn tcp_fin_sequence_reaches_time_wait() -> Result<(), &'static str> {
    let mut f = Flow::established()?;
    let s1 = SISN.wrapping_add(1);
    let steps = [
        (Direction::Original, FIN, CISN + 1, s1, TcpState::FinWait),
        (Direction::Reply, ACK, s1, CISN + 2, TcpState::CloseWait),
        (Direction::Reply, FIN, s1, CISN + 2, TcpState::LastAck),
        (Direction::Original, ACK, CISN + 2, s1.wrapping_add(1), TcpState::TimeWait),
    ];
    for (dir, flags, seq, ack, want) in steps {
        let o = f.seg(dir, flags, seq, ack, 0)?;
        ensure(matches!(o, Outcome::Accept(_)), "close sequence accepted")?;
        ensure(f.conn.tcp_state() == Some(want), "close sequence state")?;
    }
    let left = f.conn.remaining_secs(f.now, HZ);
    ensure(left == 119 || left == 120, "TIME_WAIT timeout is 120 s")
}

fn tcp_rst_as_only_reply_kills() -> Result<(), &'static str> {
    let mut f = Flow::open(&tcp_pkt(Direction::Original, SYN, CISN, 0, 0))?;
    let o = f.seg(Direction::Reply, RST | ACK, 0, CISN + 1, 0)?;
    ensure(matches!(o, Outcome::Kill(_)), "RST before any other reply kills the entry")
}

fn tcp_invalid_does_not_change_state() -> Result<(), &'static str> {
    let mut f = Flow::open(&tcp_pkt(Direction::Original, SYN, CISN, 0, 0))?;
    // A SYN/ACK in the original direction is invalid in SYN_SENT.
    let o = f.seg(Direction::Original, SYNACK, CISN, 1, 0)?;
    ensure(o == Outcome::Invalid, "SYN/ACK in original direction is INVALID")?;
    ensure(f.conn.tcp_state() == Some(TcpState::SynSent), "state unchanged")
}

fn tcp_segment_beyond_window_is_invalid() -> Result<(), &'static str> {
    let mut f = Flow::established()?;
    // 64240 << 7 bytes of window: a segment starting 16 MiB ahead is outside.
    let o = f.seg(Direction::Original, ACK, CISN + 1 + (16 << 20), SISN.wrapping_add(1), 10)?;
    ensure(o == Outcome::Invalid, "sequence above the receiver's window is INVALID")?;
    let o = f.seg(Direction::Original, ACK, CISN + 1, SISN.wrapping_add(100_000), 0)?;
    ensure(o == Outcome::Invalid, "ACK of data never sent is INVALID")?;
    ensure(f.conn.tcp_state() == Some(TcpState::Established), "state unchanged")
}

fn tcp_inexact_rst_keeps_established() -> Result<(), &'static str> {
    let mut f = Flow::established()?;
    let s1 = SISN.wrapping_add(1);
    // A RST from the server below what the client acknowledged: INVALID.
    let o = f.seg(Direction::Reply, RST, s1.wrapping_sub(10), 0, 0)?;
    ensure(o == Outcome::Invalid, "RST below the acknowledged sequence is INVALID")?;
    // In the window but not exact: state kept (the peer sends a challenge ACK).
    let o = f.seg(Direction::Reply, RST, s1.wrapping_add(5000), 0, 0)?;
    ensure(matches!(o, Outcome::Accept(_)), "in-window inexact RST accepted")?;
    ensure(f.conn.tcp_state() == Some(TcpState::Established), "inexact RST leaves ESTABLISHED")?;
    // Far outside the window: INVALID.
    let o = f.seg(Direction::Reply, RST, s1.wrapping_add(1 << 30), 0, 0)?;
    ensure(o == Outcome::Invalid, "RST outside the window is INVALID")?;
    ensure(f.conn.tcp_state() == Some(TcpState::Established), "still ESTABLISHED")?;
    // Exactly at the client's last ACK: CLOSE.
    let o = f.seg(Direction::Reply, RST, s1, 0, 0)?;
    ensure(matches!(o, Outcome::Accept(_)), "exact RST accepted")?;
    ensure(f.conn.tcp_state() == Some(TcpState::Close), "exact RST closes")?;
    let left = f.conn.remaining_secs(f.now, HZ);
    ensure(left == 9 || left == 10, "CLOSE timeout is 10 s")
}

fn tcp_syn_reopens_time_wait() -> Result<(), &'static str> {
    let mut f = Flow::established()?;
    let s1 = SISN.wrapping_add(1);
    f.seg(Direction::Original, FIN, CISN + 1, s1, 0)?;
    f.seg(Direction::Reply, FIN, s1, CISN + 2, 0)?;
    f.seg(Direction::Original, ACK, CISN + 2, s1.wrapping_add(1), 0)?;
    ensure(f.conn.tcp_state() == Some(TcpState::TimeWait), "TIME_WAIT")?;
    let o = f.seg(Direction::Original, SYN, CISN + 100_000, 0, 0)?;
    ensure(o == Outcome::Reopen, "a new SYN in TIME_WAIT reopens the connection")
}

fn tcp_table_spot_checks() -> Result<(), &'static str> {
    use Direction::{Original as O, Reply as R};
    let cases = [
        (O, TcpIndex::Syn, TcpState::None, Transition::To(TcpState::SynSent)),
        (R, TcpIndex::Syn, TcpState::SynSent, Transition::To(TcpState::SynSent2)),
        (R, TcpIndex::SynAck, TcpState::Established, Transition::Ignore),
        (O, TcpIndex::Ack, TcpState::LastAck, Transition::To(TcpState::TimeWait)),
        (R, TcpIndex::Ack, TcpState::SynSent, Transition::Ignore),
        (O, TcpIndex::None, TcpState::Established, Transition::Invalid),
        (R, TcpIndex::Rst, TcpState::SynSent2, Transition::To(TcpState::Close)),
        (O, TcpIndex::Fin, TcpState::SynSent2, Transition::Invalid),
    ];
    for (dir, idx, old, want) in cases {
        ensure(transition(dir, idx, old) == want, "transition differs from tcp_conntracks")?;
    }
    Ok(())
}

fn tcp_options_parse_like_the_kernel() -> Result<(), &'static str> {
    use crate::packet::TcpOptions;
    let o = TcpOptions::parse(&[1, 1, 3, 3, 20, 4, 2, 0, 3, 3, 1]);
    ensure(o.present && o.wscale == Some(14) && o.sack_perm, "scale capped at 14, EOL ends the walk")?;
    let o = TcpOptions::parse(&[5, 18, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 20, 0, 0, 0, 30]);
    ensure(o.sack_right == Some(30), "largest SACK right edge")?;
    let o = TcpOptions::parse(&[3, 9, 7]);
    ensure(o.wscale.is_none(), "an option longer than the bytes left ends the walk")?;
    ensure(!TcpOptions::parse(&[]).present, "no options")
}

fn udp_reply_then_later_packet_assures() -> Result<(), &'static str> {
    let p = parse6(&golden::IPV6_UDP)?;
    let t = Tuple::from_packet(&p).map_err(|_| "tuple")?;
    let tmo = Timeouts::default();
    let mut c = Conn::new(&t, &p, 1, 1000, HZ, &tmo).map_err(|_| "open")?;
    ensure(c.remaining_secs(1000, HZ) == 30, "unreplied timeout 30 s")?;
    c.packet(Direction::Reply, &p, 1010, HZ, &tmo);
    ensure(c.status & IPS_SEEN_REPLY != 0 && c.status & IPS_ASSURED == 0, "replied, not yet assured")?;
    // Within two seconds of creation: still the unreplied timeout.
    c.packet(Direction::Original, &p, 1100, HZ, &tmo);
    ensure(c.status & IPS_ASSURED == 0, "not assured within 2 s")?;
    c.packet(Direction::Original, &p, 1300, HZ, &tmo);
    ensure(c.status & IPS_ASSURED != 0, "assured as a stream")?;
    ensure(c.remaining_secs(1300, HZ) == 120, "stream timeout 120 s")?;
    ensure(c.expired(1300 + 120 * 100), "expires after its timeout")
}

fn icmp_echo_reply_cannot_open() -> Result<(), &'static str> {
    let mut b = golden::IPV4_ICMP_ECHO;
    b[20] = 0; // echo reply
    let p = parse4(&b)?;
    let t = Tuple::from_packet(&p).map_err(|_| "tuple")?;
    ensure(Conn::new(&t, &p, 1, 0, HZ, &Timeouts::default()).is_err(), "reply cannot open")
}

/// Connection state suite.
pub const CONN: Suite = Suite {
    name: c"rnf_conntrack_state",
    cases: &[
        Case { name: c"tcp_handshake_establishes_and_assures", run: tcp_handshake_establishes_and_assures },
        Case { name: c"tcp_fin_sequence_reaches_time_wait", run: tcp_fin_sequence_reaches_time_wait },
        Case { name: c"tcp_rst_as_only_reply_kills", run: tcp_rst_as_only_reply_kills },
        Case { name: c"tcp_invalid_does_not_change_state", run: tcp_invalid_does_not_change_state },
        Case { name: c"tcp_segment_beyond_window_is_invalid", run: tcp_segment_beyond_window_is_invalid },
        Case { name: c"tcp_inexact_rst_keeps_established", run: tcp_inexact_rst_keeps_established },
        Case { name: c"tcp_syn_reopens_time_wait", run: tcp_syn_reopens_time_wait },
        Case { name: c"tcp_table_spot_checks", run: tcp_table_spot_checks },
        Case { name: c"tcp_options_parse_like_the_kernel", run: tcp_options_parse_like_the_kernel },
        Case { name: c"udp_reply_then_later_packet_assures", run: udp_reply_then_later_packet_assures },
        Case { name: c"icmp_echo_reply_cannot_open", run: icmp_echo_reply_cannot_open },
    ],
};

fn conn_for_port(port: u16, netns: u32) -> Result<Conn, &'static str> {
    let mut b = golden::IPV6_UDP;
    b[40..42].copy_from_slice(&port.to_be_bytes());
    let p = parse6(&b)?;
    let t = Tuple::from_packet(&p).map_err(|_| "tuple")?;
    Conn::new(&t, &p, netns, 0, HZ, &Timeouts::default()).map_err(|_| "open")
}

fn table_finds_both_directions() -> Result<(), &'static str> {
    let mut slots = [Slot::EMPTY; 4];
    let mut buckets = [0u32; 3];
    let mut t = ConnTable::new(&mut slots[..], &mut buckets[..], 7);
    let c = conn_for_port(1000, 1)?;
    let i = t.insert(c).map_err(|_| "insert")?;
    ensure(t.find(&c.tuple[0], 1) == Some((i, Direction::Original)), "original")?;
    ensure(t.find(&c.tuple[1], 1) == Some((i, Direction::Reply)), "reply")?;
    ensure(t.find(&c.tuple[0], 2).is_none(), "other netns does not see it")?;
    ensure(t.insert(c) == Err(InsertError::Clash), "duplicate insert is a clash")?;
    ensure(t.remove(i).is_some() && t.count() == 0, "remove")?;
    ensure(t.find(&c.tuple[1], 1).is_none(), "gone after remove")
}

fn table_full_then_early_drop() -> Result<(), &'static str> {
    let mut slots = [Slot::EMPTY; 4];
    let mut buckets = [0u32; 2];
    let mut t = ConnTable::new(&mut slots[..], &mut buckets[..], 7);
    for port in 0..4 {
        t.insert(conn_for_port(port, 1)?).map_err(|_| "fill")?;
    }
    ensure(t.insert(conn_for_port(9, 1)?) == Err(InsertError::Full), "full")?;
    // Assure all but port 2: early drop must pick that one.
    for port in [0u16, 1, 3] {
        let c = conn_for_port(port, 1)?;
        let (i, _) = t.find(&c.tuple[0], 1).ok_or("find")?;
        if let Some(c) = t.get_mut(i) {
            c.status |= IPS_ASSURED;
        }
    }
    ensure(!t.early_drop(0, 0, 2), "another namespace's entries are never early-dropped")?;
    ensure(t.early_drop(0, 0, 1), "early drop found a victim")?;
    ensure(t.find(&conn_for_port(2, 1)?.tuple[0], 1).is_none(), "victim was the unassured one")?;
    ensure(!t.early_drop(0, 0, 1), "assured entries are never early-dropped")?;
    ensure(t.insert(conn_for_port(9, 1)?).is_ok(), "insert after early drop")
}

fn table_gc_and_flush() -> Result<(), &'static str> {
    let mut slots = [Slot::EMPTY; 8];
    let mut buckets = [0u32; 5];
    let mut t = ConnTable::new(&mut slots[..], &mut buckets[..], 3);
    for port in 0..6 {
        t.insert(conn_for_port(port, if port < 3 { 1 } else { 2 })?).map_err(|_| "fill")?;
    }
    let mut gone = [0u32; 3];
    let (removed, _) = t.gc(10, 0, 5, |_| {});
    ensure(removed == 0, "nothing expired yet")?;
    ensure(t.flush(Some(2)) == 3 && t.count() == 3, "flush one netns")?;
    let (removed, _) = t.gc(31 * 100, 0, 5, |n| {
        if let Some(g) = gone.get_mut(n as usize) {
            *g += 1;
        }
    });
    ensure(removed == 3 && t.count() == 0, "expired entries reclaimed")?;
    ensure(gone == [0, 3, 0], "each removal reported with its namespace")
}

fn proc_line_matches_nf_conntrack() -> Result<(), &'static str> {
    let f = Flow::established()?;
    let mut buf = FixedBuf::<512>::new();
    procfmt::write_conn(&mut buf, &f.conn, f.now, HZ, 1).map_err(|_| "format")?;
    ensure(
        buf.as_str()
            == "ipv4     2 tcp      6 432000 ESTABLISHED src=10.1.0.2 dst=10.2.0.2 sport=40000 dport=80 \
                src=10.2.0.2 dst=10.1.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1\n",
        "TCP line",
    )?;
    let c = conn_for_port(5000, 1)?;
    let mut buf = FixedBuf::<512>::new();
    procfmt::write_conn(&mut buf, &c, 0, HZ, 1).map_err(|_| "format")?;
    let mut want = FixedBuf::<512>::new();
    let _ = writeln!(
        want,
        "ipv6     10 udp      17 30 src={a} dst={b} sport=5000 dport=53 [UNREPLIED] src={b} dst={a} \
         sport=53 dport=5000 mark=0 use=1",
        a = "fd01:0000:0000:0000:0000:0000:0000:0002",
        b = "fd02:0000:0000:0000:0000:0000:0000:0002"
    );
    ensure(buf.as_str() == want.as_str(), "UDP over IPv6 line")
}

/// An ICMP(v6) destination-unreachable/port-unreachable from `outer_src` to
/// `outer_dst` about the golden UDP datagram of family `l3` (IPv4: the IPv6
/// golden datagram's ports over 10.1.0.2 -> 10.2.0.2). Returns the bytes and
/// their length in a fixed buffer.
fn port_unreachable(l3: L3Proto, outer_src: &[u8], outer_dst: &[u8]) -> ([u8; 128], usize) {
    let mut b = [0u8; 128];
    let udp = &golden::IPV6_UDP[40..48];
    match l3 {
        L3Proto::Ipv4 => {
            let n = 20 + 8 + 20 + 8;
            b[..20].copy_from_slice(&[0x45, 0, 0, n as u8, 0, 3, 0, 0, 64, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            b[12..16].copy_from_slice(outer_src);
            b[16..20].copy_from_slice(outer_dst);
            b[20..28].copy_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
            b[28..48].copy_from_slice(&[0x45, 0, 0, 36, 0, 4, 0, 0, 64, 17, 0, 0, 10, 1, 0, 2, 10, 2, 0, 2]);
            b[48..56].copy_from_slice(udp);
            (b, n)
        }
        L3Proto::Ipv6 => {
            let n = 40 + 8 + 48;
            b[..8].copy_from_slice(&[0x60, 0, 0, 0, 0, 56, 58, 64]);
            b[8..24].copy_from_slice(outer_src);
            b[24..40].copy_from_slice(outer_dst);
            b[40..48].copy_from_slice(&[1, 4, 0, 0, 0, 0, 0, 0]);
            b[48..96].copy_from_slice(&golden::IPV6_UDP[..48]);
            (b, n)
        }
    }
}

const V4_CLIENT: [u8; 4] = [10, 1, 0, 2];
const V4_SERVER: [u8; 4] = [10, 2, 0, 2];
const V4_ELSEWHERE: [u8; 4] = [10, 9, 9, 9];

/// Looks an error up as the conntrack hook does: the inverted inner tuple
/// names the connection; `Some(dir)` if it is RELATED in that direction.
fn related_dir(table_conn: &Conn, err: &[u8], l3: L3Proto) -> Result<Option<Direction>, &'static str> {
    let p = packet::parse(l3, err).map_err(|_| "error message did not parse")?;
    let inner = crate::conntrack::icmp::inner_tuple(&p, err).map_err(|_| "no inner tuple")?;
    let want = inner.invert();
    let dir = if table_conn.tuple[0] == want {
        Direction::Original
    } else if table_conn.tuple[1] == want {
        Direction::Reply
    } else {
        return Ok(None);
    };
    Ok(crate::conntrack::icmp::outer_fits(&p, &table_conn.tuple[dir as usize].dst).then_some(dir))
}

fn icmp_port_unreachable_is_related_reply() -> Result<(), &'static str> {
    // The UDP flow 10.1.0.2:5000 -> 10.2.0.2:53 over IPv4.
    let mut pkt = [0u8; 28];
    pkt[..20].copy_from_slice(&[0x45, 0, 0, 28, 0, 4, 0, 0, 64, 17, 0, 0, 10, 1, 0, 2, 10, 2, 0, 2]);
    pkt[20..28].copy_from_slice(&golden::IPV6_UDP[40..48]);
    pkt[24..26].copy_from_slice(&8u16.to_be_bytes());
    let p = parse4(&pkt)?;
    let t = Tuple::from_packet(&p).map_err(|_| "tuple")?;
    let c = Conn::new(&t, &p, 1, 0, HZ, &Timeouts::default()).map_err(|_| "open")?;
    let (err, n) = port_unreachable(L3Proto::Ipv4, &V4_SERVER, &V4_CLIENT);
    ensure(
        Tuple::from_packet(&parse4(&err[..n])?) == Err(NoTuple::IcmpNotQuery),
        "an error has no tuple of its own",
    )?;
    ensure(related_dir(&c, &err[..n], L3Proto::Ipv4)? == Some(Direction::Reply), "RELATED, reply direction")?;
    let (forged, n) = port_unreachable(L3Proto::Ipv4, &V4_SERVER, &V4_ELSEWHERE);
    ensure(related_dir(&c, &forged[..n], L3Proto::Ipv4)?.is_none(), "outer daddr != connection: not RELATED")
}

fn icmpv6_port_unreachable_is_related_reply() -> Result<(), &'static str> {
    let p = parse6(&golden::IPV6_UDP)?;
    let t = Tuple::from_packet(&p).map_err(|_| "tuple")?;
    let c = Conn::new(&t, &p, 1, 0, HZ, &Timeouts::default()).map_err(|_| "open")?;
    let (err, n) = port_unreachable(L3Proto::Ipv6, &golden::IPV6_UDP[24..40], &golden::IPV6_UDP[8..24]);
    ensure(crate::conntrack::icmp::is_error(L3Proto::Ipv6, 1), "type 1 is an error")?;
    ensure(related_dir(&c, &err[..n], L3Proto::Ipv6)? == Some(Direction::Reply), "RELATED, reply direction")?;
    let mut elsewhere = [0u8; 16];
    elsewhere.copy_from_slice(&golden::IPV6_UDP[8..24]);
    elsewhere[15] = 0x99;
    let (forged, n) = port_unreachable(L3Proto::Ipv6, &golden::IPV6_UDP[24..40], &elsewhere);
    ensure(related_dir(&c, &forged[..n], L3Proto::Ipv6)?.is_none(), "forged destination: not RELATED")
}

fn icmp_error_about_error_relates_to_nothing() -> Result<(), &'static str> {
    let (mut err, n) = port_unreachable(L3Proto::Ipv4, &V4_SERVER, &V4_CLIENT);
    // Make the embedded packet itself an ICMP port unreachable.
    err[37] = 1;
    err[48] = 3;
    err[49] = 3;
    let p = parse4(&err[..n])?;
    ensure(
        crate::conntrack::icmp::inner_tuple(&p, &err[..n]) == Err(crate::conntrack::icmp::InnerError::NoTuple),
        "error about an error",
    )?;
    // Cut inside the embedded transport header: a parse error, not a panic.
    let p = parse4(&err[..n])?;
    ensure(crate::conntrack::icmp::inner_tuple(&p, &err[..50]).is_err(), "truncated embedded header")
}

/// ICMP error suite.
pub const ICMP: Suite = Suite {
    name: c"rnf_conntrack_icmp",
    cases: &[
        Case { name: c"icmp_port_unreachable_is_related_reply", run: icmp_port_unreachable_is_related_reply },
        Case { name: c"icmpv6_port_unreachable_is_related_reply", run: icmpv6_port_unreachable_is_related_reply },
        Case { name: c"icmp_error_about_error_relates_to_nothing", run: icmp_error_about_error_relates_to_nothing },
    ],
};

/// Connection table suite.
pub const TABLE: Suite = Suite {
    name: c"rnf_conntrack_table",
    cases: &[
        Case { name: c"table_finds_both_directions", run: table_finds_both_directions },
        Case { name: c"table_full_then_early_drop", run: table_full_then_early_drop },
        Case { name: c"table_gc_and_flush", run: table_gc_and_flush },
        Case { name: c"proc_line_matches_nf_conntrack", run: proc_line_matches_nf_conntrack },
    ],
};

/// Every suite, in the order KUnit runs them.
pub const ALL: [&Suite; 5] = [&PACKET, &TUPLE, &CONN, &ICMP, &TABLE];

#[cfg(test)]
mod tests {
    #[test]
    fn every_selftest_case_passes() {
        let mut failed = std::vec::Vec::new();
        for s in super::ALL {
            for c in s.cases {
                if let Err(why) = (c.run)() {
                    failed.push(std::format!("{:?}.{:?}: {}", s.name, c.name, why));
                }
            }
        }
        assert!(failed.is_empty(), "failed: {failed:#?}");
    }
}

fn incremental_update_matches_full_checksum() -> Result<(), &'static str> {
    use crate::nat::{checksum, csum_replace2, csum_replace4};
    // IPv4 header of the golden SYN with its checksum computed.
    let mut h = [0u8; 20];
    h.copy_from_slice(&golden::IPV4_TCP_SYN[..20]);
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    ensure(checksum(&h) == 0, "a header with its checksum sums to zero")?;
    // SNAT 10.1.0.2 -> 192.0.2.77, incrementally and from scratch.
    let from = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
    let to = u32::from_be_bytes([192, 0, 2, 77]);
    let inc = csum_replace4(c, from, to);
    h[12..16].copy_from_slice(&to.to_be_bytes());
    h[10..12].copy_from_slice(&[0, 0]);
    ensure(inc == checksum(&h), "address rewrite: RFC 1624 update equals recomputation")?;
    ensure(csum_replace2(csum_replace2(0x1234, 80, 8080), 8080, 80) == 0x1234, "port rewrite round trip")
}

/// NAT arithmetic suite.
pub const NAT: Suite = Suite {
    name: c"rnf_nat_csum",
    cases: &[Case { name: c"incremental_update_matches_full_checksum", run: incremental_update_matches_full_checksum }],
};

#[cfg(test)]
mod nat_tests {
    #[test]
    fn nat_suite_passes() {
        for c in super::NAT.cases {
            assert_eq!((c.run)(), Ok(()), "{:?}", c.name);
        }
    }
}

/// Table-engine checks (rnf_core::xt), run by cargo test and by rnf_tables' KUnit.
mod xt_cases {
    use super::{ensure, golden};
    use crate::xt::build::{Builder, IpSpec, TargetSpec};
    use crate::xt::*;

    struct NoEnv(u32);
    impl Env for NoEnv {
        fn count(&mut self, _: usize) {
            self.0 += 1;
        }
        fn conntrack(&mut self) -> CtState {
            CtState::Invalid
        }
        fn log(&mut self, _: u8, _: &[u8]) {}
        fn jiffies(&mut self) -> u64 {
            0
        }
        fn hz(&self) -> u32 {
            250
        }
    }

    const N: usize = 8;

    fn table(buf: &[u8]) -> Result<Table<&[u8], [Rule; N], [Match; 0]>, Error> {
        let (h, e) = ReplaceHeader::parse(buf)?;
        let s = measure(&FILTER_IPV4, &h, e)?;
        if s.rules != N || s.matches != 0 {
            return Err(Error { errno: errno::E2BIG, reason: "test storage" });
        }
        let _ = s;
        Table::translate(&FILTER_IPV4, &h, e, Default::default(), [])
    }

    /// INPUT: -p icmp -j DROP, jump "c", policy ACCEPT; FORWARD/OUTPUT ACCEPT; c: RETURN.
    fn blob(out: &mut [u8; 1536], loop_back: bool) -> usize {
        let mut b = Builder::new(Family::Ipv4, &mut out[96..]);
        let any = IpSpec::default();
        let i0 = b.entry(&IpSpec { proto: 1, ..any }, &[], TargetSpec::Standard(-NF_DROP - 1));
        let j = b.entry(&any, &[], TargetSpec::Standard(1));
        let p = b.entry(&any, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
        let f = b.entry(&any, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
        let o = b.entry(&any, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
        b.entry(&any, &[], TargetSpec::Error(b"c"));
        let c = b.offset();
        let r = b.entry(&any, &[], TargetSpec::Standard(XT_RETURN));
        b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
        b.set_verdict(j, c as i32);
        if loop_back {
            b.set_verdict(r, j as i32);
        }
        let h = b.filter_header(&FILTER_IPV4, [i0, f, o], [p, f, o]);
        out[..96].copy_from_slice(&h.to_bytes());
        96 + h.size as usize
    }

    pub(super) fn xt_abi_sizes() -> Result<(), &'static str> {
        ensure(ReplaceHeader::SIZE == 96 && Info::SIZE == 84 && GET_ENTRIES_SIZE == 40, "header sizes")?;
        ensure(IPT_ENTRY_SIZE == 112 && IP6T_ENTRY_SIZE == 168, "entry sizes")?;
        ensure(find_revision(Family::Ipv4, false, b"conntrack", 1) == Ok(3), "conntrack best revision 3")?;
        ensure(find_revision(Family::Ipv4, true, b"REJECT", 1).map_err(|e| e.errno) == Err(errno::EPROTONOSUPPORT), "REJECT rev 1")
    }

    pub(super) fn xt_loop_refused_eloop() -> Result<(), &'static str> {
        let mut buf = [0u8; 1536];
        let n = blob(&mut buf, true);
        let r = table(&buf[..n]).err();
        ensure(r.map(|e| e.errno) == Some(errno::ELOOP), "loop → ELOOP")?;
        ensure(ReplaceHeader::parse(&buf[..n - 1]).is_err(), "truncated → error")
    }

    pub(super) fn xt_jump_return_policy() -> Result<(), &'static str> {
        let mut buf = [0u8; 1536];
        let n = blob(&mut buf, false);
        let t = table(&buf[..n]).map_err(|e| e.reason)?;
        let pk = |h: &'static [u8]| Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: 60, headers: h, mac: &[] };
        let mut env = NoEnv(0);
        ensure(t.evaluate(&pk(&golden::IPV4_ICMP_ECHO), &mut env) == Action::Drop && env.0 == 1, "icmp dropped by rule 0")?;
        let mut env = NoEnv(0);
        ensure(t.evaluate(&pk(&golden::IPV4_TCP_SYN), &mut env) == Action::Accept && env.0 == 3, "tcp: jump, return, policy")
    }
}

/// Table engine suite.
pub const XT_CORE: Suite = Suite {
    name: c"rnf_tables_core",
    cases: &[
        Case { name: c"xt_abi_sizes", run: xt_cases::xt_abi_sizes },
        Case { name: c"xt_loop_refused_eloop", run: xt_cases::xt_loop_refused_eloop },
        Case { name: c"xt_jump_return_policy", run: xt_cases::xt_jump_return_policy },
    ],
};

/// Per-area table-engine checks (validation errnos, matches, LOG, the
/// classifier), run by cargo test and by rnf_tables' KUnit. No allocation:
/// fixed buffers on the stack (about 4 KiB per case).
mod xt_area_cases {
    use super::{ensure, golden};
    use crate::xt::build::{Builder, IpSpec, TargetSpec};
    use crate::xt::*;

    const ACCEPT: i32 = -NF_ACCEPT - 1;
    const DROP: i32 = -NF_DROP - 1;

    /// Records counted rules, answers a fixed conntrack state, keeps the last LOG line.
    struct Rec {
        counted: [u32; 8],
        n: usize,
        ct: CtState,
        ct_calls: u32,
        line: [u8; 200],
        line_len: usize,
        now: u64,
    }

    impl Rec {
        fn new() -> Self {
            Self { counted: [u32::MAX; 8], n: 0, ct: CtState::Invalid, ct_calls: 0, line: [0; 200], line_len: 0, now: 1000 }
        }
        fn counted(&self) -> &[u32] {
            self.counted.get(..self.n.min(8)).unwrap_or(&[])
        }
    }

    impl Env for Rec {
        fn count(&mut self, i: usize) {
            if let Some(c) = self.counted.get_mut(self.n) {
                *c = i as u32;
            }
            self.n += 1;
        }
        fn conntrack(&mut self) -> CtState {
            self.ct_calls += 1;
            self.ct
        }
        fn log(&mut self, _: u8, line: &[u8]) {
            let n = line.len().min(self.line.len());
            if let (Some(d), Some(s)) = (self.line.get_mut(..n), line.get(..n)) {
                d.copy_from_slice(s);
            }
            self.line_len = n;
        }
        fn jiffies(&mut self) -> u64 {
            self.now
        }
        fn hz(&self) -> u32 {
            250
        }
    }

    type Rules = [Rule; 8];
    type Matches = [Match; 4];
    /// One rule for [`blob`]: ip part, matches (name, revision, data), target.
    type Spec<'a> = (IpSpec, &'a [(&'a [u8], u8, &'a [u8])], TargetSpec<'a>);
    /// A table over borrowed storage.
    type T<'a> = Table<&'a [u8], &'a mut [Rule], &'a mut [Match]>;

    /// Writes a filter SET_REPLACE buffer: INPUT = `rules` then policy ACCEPT,
    /// FORWARD, OUTPUT, ERROR. Returns its length.
    fn blob(family: Family, rules: &[Spec<'_>], out: &mut [u8; 2048]) -> usize {
        let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
        let (head, body) = out.split_at_mut(ReplaceHeader::SIZE);
        let mut b = Builder::new(family, body);
        let any = IpSpec::default();
        for (ip, ms, t) in rules {
            b.entry(ip, ms, *t);
        }
        let pol = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
        let f = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
        let o = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
        b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
        if !b.ok {
            return 0;
        }
        let mut h = ReplaceHeader { valid_hooks: def.valid_hooks, num_entries: b.entries, size: b.offset(), num_counters: 1, ..Default::default() };
        if let Some(n) = h.name.get_mut(..6) {
            n.copy_from_slice(b"filter");
        }
        h.hook_entry = [0, 0, f, o, 0];
        h.underflow = [0, pol, f, o, 0];
        head.copy_from_slice(&h.to_bytes());
        ReplaceHeader::SIZE + b.offset() as usize
    }

    fn load<'a>(family: Family, buf: &'a [u8], rs: &'a mut Rules, ms: &'a mut Matches) -> Result<T<'a>, Error> {
        let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
        let (h, e) = ReplaceHeader::parse(buf)?;
        let s = measure(&def, &h, e)?;
        let rs = rs.get_mut(..s.rules).ok_or(Error { errno: errno::E2BIG, reason: "test storage" })?;
        let ms = ms.get_mut(..s.matches).ok_or(Error { errno: errno::E2BIG, reason: "test storage" })?;
        Table::translate(&def, &h, e, rs, ms)
    }

    /// The errno translating one INPUT rule gives (0 when accepted).
    #[inline(never)]
    fn errno_of(family: Family, ip: IpSpec, ms: &[(&[u8], u8, &[u8])], t: TargetSpec<'_>) -> i32 {
        let mut buf = [0u8; 2048];
        let n = blob(family, &[(ip, ms, t)], &mut buf);
        let (mut rs, mut mm): (Rules, Matches) = Default::default();
        match load(family, buf.get(..n).unwrap_or(&[]), &mut rs, &mut mm) {
            Ok(_) => 0,
            Err(e) => e.errno,
        }
    }

    #[inline(never)]
    /// Evaluates `pkt` on INPUT with one rule (DROP): Some(true) when the
    /// rule matched, Some(false) when the policy decided, None on a hotdrop.
    fn hit(family: Family, ip: IpSpec, ms: &[(&[u8], u8, &[u8])], pkt: &[u8], env: &mut Rec) -> Result<Option<bool>, &'static str> {
        let mut buf = [0u8; 2048];
        let n = blob(family, &[(ip, ms, TargetSpec::Standard(DROP))], &mut buf);
        let (mut rs, mut mm): (Rules, Matches) = Default::default();
        let t = load(family, buf.get(..n).unwrap_or(&[]), &mut rs, &mut mm).map_err(|e| e.reason)?;
        let p = Packet { hook: NF_INET_LOCAL_IN, in_dev: &[0; 16], out_dev: &[0; 16], len: pkt.len() as u32, headers: pkt, mac: &[] };
        let before = env.n;
        let a = t.evaluate(&p, env);
        let first = env.counted.get(before).copied();
        Ok(match (a, first) {
            (Action::Drop, Some(0)) => Some(true),
            (Action::Accept, Some(1)) => Some(false),
            (Action::Drop, None) => None,
            _ => return Err("unexpected verdict"),
        })
    }

    fn tcp_data(dlo: u16, dhi: u16, option: u8, mask: u8, cmp: u8, inv: u8) -> [u8; 12] {
        let mut d = [0u8; 12];
        let f = [0u16, 65535, dlo, dhi];
        for (i, v) in f.iter().enumerate() {
            if let Some(x) = d.get_mut(2 * i..2 * i + 2) {
                x.copy_from_slice(&v.to_ne_bytes());
            }
        }
        if let Some(x) = d.get_mut(8..12) {
            x.copy_from_slice(&[option, mask, cmp, inv]);
        }
        d
    }

    const TCP: IpSpec = IpSpec { proto: 6, ..IpSpec::ANY };
    const ANY: IpSpec = IpSpec::ANY;

    pub(super) fn xt_validate_errnos() -> Result<(), &'static str> {
        let st = TargetSpec::Standard(ACCEPT);
        let tcp = tcp_data(80, 80, 0, 0, 0, 0);
        ensure(errno_of(Family::Ipv4, TCP, &[(b"tcp", 0, &tcp)], st) == 0, "tcp rule accepted")?;
        ensure(errno_of(Family::Ipv4, ANY, &[(b"tcp", 0, &tcp)], st) == errno::EINVAL, "tcp without -p tcp: EINVAL")?;
        ensure(errno_of(Family::Ipv4, IpSpec { invflags: 0x40, ..TCP }, &[(b"tcp", 0, &tcp)], st) == errno::EINVAL, "tcp with ! -p tcp: EINVAL")?;
        ensure(errno_of(Family::Ipv4, TCP, &[(b"tcp", 0, &tcp_data(0, 0, 0, 0, 0, 0x10))], st) == errno::EINVAL, "tcp invflags: EINVAL")?;
        ensure(errno_of(Family::Ipv4, TCP, &[(b"nosuch", 0, &tcp)], st) == errno::ENOENT, "unknown match: ENOENT")?;
        ensure(errno_of(Family::Ipv4, TCP, &[(b"tcp", 1, &tcp)], st) == errno::ENOENT, "tcp rev 1: ENOENT (per-family)")?;
        let c = [0u8; 256];
        ensure(errno_of(Family::Ipv4, ANY, &[(b"comment", 1, &c)], st) == errno::EPROTOTYPE, "comment rev 1: EPROTOTYPE (UNSPEC)")?;
        ensure(errno_of(Family::Ipv6, ANY, &[], TargetSpec::Other(b"LOG", 1, &[0; 32])) == errno::ENOENT, "LOG rev 1: ENOENT")?;
        ensure(errno_of(Family::Ipv4, TCP, &[(b"tcp", 0, &[0; 24])], st) == errno::EINVAL, "tcp data size: EINVAL")?;
        let mut lim = [0u8; 40];
        if let Some(x) = lim.get_mut(..4) {
            x.copy_from_slice(&2000u32.to_ne_bytes());
        }
        ensure(errno_of(Family::Ipv4, ANY, &[(b"limit", 0, &lim)], st) == errno::ERANGE, "limit burst 0: ERANGE")?;
        let mut ct = [0u8; 164];
        if let Some(x) = ct.get_mut(146..148) {
            x.copy_from_slice(&0x0004u16.to_ne_bytes()); // --ctorigsrc: not supported
        }
        ensure(errno_of(Family::Ipv4, ANY, &[(b"conntrack", 3, &ct)], st) == errno::EINVAL, "conntrack ORIGSRC: EINVAL")?;
        ensure(errno_of(Family::Ipv4, ANY, &[], TargetSpec::Standard(-7)) == errno::EINVAL, "verdict out of range: EINVAL")?;
        ensure(errno_of(Family::Ipv4, ANY, &[], TargetSpec::Other(b"REJECT", 0, &[7, 0, 0, 0, 0, 0, 0, 0])) == errno::EINVAL, "tcp-reset without -p tcp")?;
        ensure(errno_of(Family::Ipv6, IpSpec { flags: 0x01, proto: 1, ..ANY }, &[(b"icmp", 0, &[8, 0, 255, 0])], st) == errno::ENOENT, "icmp in ip6tables: ENOENT")?;
        ensure(errno_of(Family::Ipv4, IpSpec { flags: 0x04, ..ANY }, &[], st) == errno::EINVAL, "IPT_F bit 2: EINVAL")
    }

    pub(super) fn xt_eval_ip_part() -> Result<(), &'static str> {
        let syn = &golden::IPV4_TCP_SYN;
        let mut e = Rec::new();
        let mut net = IpSpec { ..ANY };
        net.src[..2].copy_from_slice(&[10, 1]);
        net.smsk[..2].copy_from_slice(&[255, 255]);
        ensure(hit(Family::Ipv4, net, &[], syn, &mut e)? == Some(true), "-s 10.1.0.0/16")?;
        ensure(hit(Family::Ipv4, IpSpec { invflags: 0x08, ..net }, &[], syn, &mut e)? == Some(false), "! -s 10.1.0.0/16")?;
        ensure(hit(Family::Ipv4, IpSpec { proto: 17, invflags: 0x40, ..ANY }, &[], syn, &mut e)? == Some(true), "! -p udp")?;
        ensure(hit(Family::Ipv4, IpSpec { flags: 0x01, ..ANY }, &[], syn, &mut e)? == Some(false), "-f on a whole packet")?;
        let mut ifc = ANY;
        ifc.iniface[..3].copy_from_slice(b"eth");
        ifc.iniface_mask[..3].copy_from_slice(&[0xff; 3]);
        ensure(hit(Family::Ipv4, ifc, &[], syn, &mut e)? == Some(false), "-i eth+ without input device")?;
        // IPv6: the protocol behind hop-by-hop; a later fragment never matches udp ports.
        let p6 = IpSpec { proto: 58, flags: 0x01, ..ANY };
        ensure(hit(Family::Ipv6, p6, &[(b"icmp6", 0, &[128, 0, 255, 0])], &golden::IPV6_HBH_ECHO, &mut e)? == Some(true), "icmp6 echo behind HBH")?;
        let u6 = IpSpec { proto: 17, flags: 0x01, ..ANY };
        let mut udp = [0u8; 10];
        udp[..8].copy_from_slice(&tcp_data(53, 53, 0, 0, 0, 0)[..8]);
        ensure(hit(Family::Ipv6, u6, &[(b"udp", 0, &udp)], &golden::IPV6_FRAG_FIRST, &mut e)? == Some(true), "udp dport 53, first fragment")?;
        ensure(hit(Family::Ipv6, u6, &[(b"udp", 0, &udp)], &golden::IPV6_FRAG_LATER, &mut e)? == Some(false), "udp, later fragment")
    }

    pub(super) fn xt_eval_tcp_state_multiport() -> Result<(), &'static str> {
        let syn = &golden::IPV4_TCP_SYN; // dport 80, SYN, MSS option
        let mut e = Rec::new();
        let t = |d: [u8; 12], e: &mut Rec| hit(Family::Ipv4, TCP, &[(b"tcp", 0, &d)], syn, e);
        ensure(t(tcp_data(80, 80, 0, 0x17, 0x02, 0), &mut e)? == Some(true), "--dport 80 --syn")?;
        ensure(t(tcp_data(81, 90, 0, 0, 0, 0), &mut e)? == Some(false), "--dport 81:90")?;
        ensure(t(tcp_data(81, 90, 0, 0, 0, 0x02), &mut e)? == Some(true), "! --dport 81:90")?;
        ensure(t(tcp_data(0, 65535, 2, 0, 0, 0), &mut e)? == Some(true), "--tcp-option 2")?;
        ensure(t(tcp_data(0, 65535, 5, 0, 0, 0), &mut e)? == Some(false), "--tcp-option 5")?;
        ensure(t(tcp_data(0, 65535, 0, 0x12, 0x12, 0), &mut e)? == Some(false), "SYN,ACK SYN,ACK")?;
        ensure(e.ct_calls == 0, "no conntrack lookup without ct matches")?;
        // state: ctinfo 2 (NEW) is bit 3; invalid bit 0; untracked bit 6.
        let st = |mask: u32, ct: CtState| {
            let mut e = Rec::new();
            e.ct = ct;
            hit(Family::Ipv4, ANY, &[(b"state", 0, &mask.to_ne_bytes())], syn, &mut e).map(|h| (h, e.ct_calls))
        };
        let new = CtState::Tracked { ctinfo: 2, status: 0, dir: 0, proto: 6 };
        let est_reply = CtState::Tracked { ctinfo: 3, status: 0, dir: 1, proto: 6 };
        ensure(st(1 << 3, new)? == (Some(true), 1), "state NEW")?;
        ensure(st(1 << 1, est_reply)? == (Some(true), 1), "state ESTABLISHED (reply)")?;
        ensure(st(1 << 1, new)? == (Some(false), 1), "NEW is not ESTABLISHED")?;
        ensure(st(1, CtState::Invalid)? == (Some(true), 1), "state INVALID")?;
        ensure(st(1 << 6, CtState::Untracked)? == (Some(true), 1), "state UNTRACKED")?;
        // multiport rev 1: --dports 22,79:81 and inverted.
        let mut mp = [0u8; 48];
        mp[0] = 1;
        mp[1] = 3;
        for (i, p) in [22u16, 79, 81].iter().enumerate() {
            if let Some(x) = mp.get_mut(2 + 2 * i..4 + 2 * i) {
                x.copy_from_slice(&p.to_ne_bytes());
            }
        }
        mp[33] = 1;
        ensure(hit(Family::Ipv4, TCP, &[(b"multiport", 1, &mp)], syn, &mut e)? == Some(true), "multiport 22,79:81")?;
        mp[47] = 1;
        ensure(hit(Family::Ipv4, TCP, &[(b"multiport", 1, &mp)], syn, &mut e)? == Some(false), "! multiport 22,79:81")
    }

    pub(super) fn xt_eval_limit_and_log() -> Result<(), &'static str> {
        eval_limit()?;
        eval_log()
    }

    // Separate frames keep each case's stack use near 4 KiB.
    #[inline(never)]
    fn eval_limit() -> Result<(), &'static str> {
        // --limit 5/s --limit-burst 3 at HZ 250: 3 packets, then one per 50 jiffies.
        let mut lim = [0u8; 40];
        lim[..4].copy_from_slice(&2000u32.to_ne_bytes());
        lim[4..8].copy_from_slice(&3u32.to_ne_bytes());
        let mut buf = [0u8; 2048];
        let n = blob(Family::Ipv4, &[(ANY, &[(b"limit", 0, &lim)], TargetSpec::Standard(DROP))], &mut buf);
        let (mut rs, mut mm): (Rules, Matches) = Default::default();
        let t = load(Family::Ipv4, buf.get(..n).unwrap_or(&[]), &mut rs, &mut mm).map_err(|e| e.reason)?;
        let pkt = &golden::IPV4_ICMP_ECHO;
        let p = Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: 28, headers: pkt, mac: &[] };
        let mut got = [Action::Accept; 7];
        for (g, now) in got.iter_mut().zip([1000u64, 1000, 1000, 1000, 1049, 1050, 1050]) {
            let mut e = Rec::new();
            e.now = now;
            *g = t.evaluate(&p, &mut e);
        }
        let (d, a) = (Action::Drop, Action::Accept);
        ensure(got == [d, d, d, a, a, d, a], "limit: burst 3 then 1 per 50 jiffies")
    }

    #[inline(never)]
    fn eval_log() -> Result<(), &'static str> {
        let pkt = &golden::IPV4_ICMP_ECHO;
        // LOG with prefix, ICMP echo, continue to the policy.
        let mut lg = [0u8; 32];
        lg[0] = 4;
        lg[2..6].copy_from_slice(b"fw: ");
        let mut buf = [0u8; 2048];
        let n = blob(Family::Ipv4, &[(ANY, &[], TargetSpec::Other(b"LOG", 0, &lg))], &mut buf);
        let (mut rs, mut mm): (Rules, Matches) = Default::default();
        let t = load(Family::Ipv4, buf.get(..n).unwrap_or(&[]), &mut rs, &mut mm).map_err(|e| e.reason)?;
        let mut e = Rec::new();
        let p = Packet { hook: 1, in_dev: b"eth0\0\0\0\0\0\0\0\0\0\0\0\0", out_dev: &[0; 16], len: 28, headers: pkt, mac: &[2, 0, 0, 0, 0, 1] };
        ensure(t.evaluate(&p, &mut e) == Action::Accept && e.counted() == [0, 1], "LOG continues")?;
        let want: &[u8] = b"fw: IN=eth0 OUT= MAC=02:00:00:00:00:01 SRC=10.1.0.2 DST=10.2.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=2 DF PROTO=ICMP TYPE=8 CODE=0 ID=4660 SEQ=1 ";
        ensure(e.line.get(..e.line_len) == Some(want), "LOG line as nf_log_syslog")
    }

    pub(super) fn xt_eval_classifier_exact() -> Result<(), &'static str> {
        // INPUT: -p tcp --dport 22/80/22/443 (ACCEPT except a LOG-free DROP on the
        // third), -p udp --dport 80; a packet to 80 must be counted on rule 1 only.
        let d22 = tcp_data(22, 22, 0, 0, 0, 0);
        let d80 = tcp_data(80, 80, 0, 0x3f, 0x3f, 0); // all flags: SYN alone fails
        let d443 = tcp_data(443, 443, 0, 0, 0, 0);
        let d80b = tcp_data(80, 80, 0, 0, 0, 0);
        let a = TargetSpec::Standard(ACCEPT);
        let mut buf = [0u8; 2048];
        let rules: [Spec<'_>; 5] = [
            (TCP, &[(b"tcp", 0, &d22)], a),
            (TCP, &[(b"tcp", 0, &d80)], a),
            (TCP, &[(b"tcp", 0, &d443)], a),
            (TCP, &[(b"tcp", 0, &d80b)], TargetSpec::Standard(DROP)),
            (IpSpec { proto: 17, ..ANY }, &[], a),
        ];
        let n = blob(Family::Ipv4, &rules, &mut buf);
        let mut rs: [Rule; 9] = Default::default();
        let mut mm: Matches = Default::default();
        let (h, e) = ReplaceHeader::parse(buf.get(..n).unwrap_or(&[])).map_err(|e| e.reason)?;
        let t = Table::translate(&FILTER_IPV4, &h, e, &mut rs[..], &mut mm[..]).map_err(|e| e.reason)?;
        let mut scratch = [[0u64; 2]; 24];
        let plan = Plan::new(&t, &mut scratch).map_err(|e| e.reason)?;
        // Protocol and destination port: the two dimensions this table constrains.
        ensure(plan.dimensions() == 2 && Plan::scratch_len(&t) <= scratch.len(), "classifier: 2 dimensions")?;
        let mut store = [0u64; 64];
        let cls = Classifier::build(&t, &plan, &mut scratch, &mut store[..]).map_err(|e| e.reason)?;
        let p = Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: 60, headers: &golden::IPV4_TCP_SYN, mac: &[] };
        for on in [true, false] {
            let eval = |p: &Packet<'_>, e: &mut Rec| if on { t.evaluate_classified(&cls, p, e) } else { t.evaluate(p, e) };
            let mut e = Rec::new();
            ensure(eval(&p, &mut e) == Action::Drop && e.counted() == [3], "dport 80 SYN: rule 3 drops")?;
            let mut short = golden::IPV4_TCP_SYN;
            short[22..24].copy_from_slice(&23u16.to_be_bytes());
            let p2 = Packet { headers: &short, ..p };
            let mut e = Rec::new();
            ensure(eval(&p2, &mut e) == Action::Accept && e.counted() == [5], "dport 23: policy")?;
            // Truncated TCP header: the first tcp match hot-drops, never skipped.
            let p3 = Packet { headers: golden::IPV4_TCP_SYN.get(..30).unwrap_or(&[]), ..p };
            let mut e = Rec::new();
            ensure(eval(&p3, &mut e) == Action::Drop && e.n == 0, "truncated TCP: hotdrop")?;
        }
        Ok(())
    }
}

/// Table engine: checkentry errnos.
pub const XT_VALIDATE: Suite = Suite {
    name: c"rnf_tables_validate",
    cases: &[Case { name: c"xt_validate_errnos", run: xt_area_cases::xt_validate_errnos }],
};

/// Table engine: matches, LOG and the classifier.
pub const XT_EVAL: Suite = Suite {
    name: c"rnf_tables_eval",
    cases: &[
        Case { name: c"xt_eval_ip_part", run: xt_area_cases::xt_eval_ip_part },
        Case { name: c"xt_eval_tcp_state_multiport", run: xt_area_cases::xt_eval_tcp_state_multiport },
        Case { name: c"xt_eval_limit_and_log", run: xt_area_cases::xt_eval_limit_and_log },
        Case { name: c"xt_eval_classifier_exact", run: xt_area_cases::xt_eval_classifier_exact },
    ],
};

/// The table-engine suites, for rnf_tables' KUnit list.
pub const XT: [&Suite; 3] = [&XT_CORE, &XT_VALIDATE, &XT_EVAL];

#[cfg(test)]
mod xt_suite_tests {
    #[test]
    fn xt_suites_pass() {
        for s in super::XT {
            for c in s.cases {
                assert_eq!((c.run)(), Ok(()), "{:?}", c.name);
            }
        }
    }
}
