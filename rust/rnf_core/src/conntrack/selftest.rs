// SPDX-License-Identifier: GPL-2.0
//! rnf_conntrack's self-test suites: packet parsing as connection tracking
//! reads it (`rnf_packet`), tuples, connection state, ICMP errors and the
//! connection table, on the golden packets.
//!
//! The `rnf_packet` suite is here rather than in `packet`, which must not
//! depend on conntrack, because one of its cases checks that a later
//! fragment has no tuple; rnf_conntrack is the module that runs it.

use core::fmt::Write;

use crate::conntrack::conn::{Conn, CtInfo, Direction, Outcome, Settings, IPS_ASSURED, IPS_SEEN_REPLY};
use crate::conntrack::procfmt::{self, FixedBuf};
use crate::conntrack::table::{ConnTable, InsertError, Slot, GROW_MIN};
use crate::conntrack::tcp::{transition, TcpIndex, TcpState, Transition};
use crate::conntrack::tuple::{jhash2, NoTuple, Tuple};
use crate::packet::{self, L3Proto, ParseError, TcpFlags, L4};
use crate::selftest::{ensure, golden, Case, Suite};

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
    ensure(matches!(p.l4, L4::Udp { sport: 5000, dport: 53, .. }), "UDP ports")
}

fn ipv6_first_fragment_has_ports() -> Result<(), &'static str> {
    let p = parse6(&golden::IPV6_FRAG_FIRST)?;
    ensure(!p.later_fragment && p.l4_offset == 48, "fragment header skipped")?;
    ensure(matches!(p.l4, L4::Udp { sport: 5000, dport: 53, .. }), "UDP ports after fragment header")
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
    /// The namespace's settings the flow is tracked under.
    cfg: Settings,
}

impl Flow {
    fn open(first: &[u8]) -> Result<Flow, &'static str> {
        Flow::open_with(first, Settings::default())
    }

    fn open_with(first: &[u8], cfg: Settings) -> Result<Flow, &'static str> {
        let p = parse4(first)?;
        let t = Tuple::from_packet(&p).map_err(|_| "tuple")?;
        let conn = Conn::new(&t, &p, 1, 1000, HZ, &cfg).map_err(|_| "cannot open")?;
        Ok(Flow { conn, now: 1000, cfg })
    }

    fn pkt(&mut self, dir: Direction, b: &[u8]) -> Result<Outcome, &'static str> {
        let p = parse4(b)?;
        self.now += 1;
        Ok(self.conn.packet(dir, &p, self.now, HZ, &self.cfg))
    }

    fn seg(&mut self, dir: Direction, flags: u8, seq: u32, ack: u32, payload: u16) -> Result<Outcome, &'static str> {
        self.pkt(dir, &tcp_pkt(dir, flags, seq, ack, payload))
    }

    /// SYN, SYN/ACK, ACK: an established, assured connection.
    fn established() -> Result<Flow, &'static str> {
        Flow::established_with(Settings::default())
    }

    /// [`Flow::established`] under settings `cfg`.
    fn established_with(cfg: Settings) -> Result<Flow, &'static str> {
        let mut f = Flow::open_with(&tcp_pkt(Direction::Original, SYN, CISN, 0, 0), cfg)?;
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

fn tcp_ignored_reply_sets_seen_reply() -> Result<(), &'static str> {
    // Found by the conntrack fuzz target: an ACK answering a SYN is
    // ignored (sIG) but accepted, and nf_conntrack_in marks the connection
    // SEEN_REPLY for every accepted reply-direction packet.
    let mut f = Flow::open(&tcp_pkt(Direction::Original, SYN, CISN, 0, 0))?;
    let o = f.seg(Direction::Reply, ACK, SISN, CISN + 1, 0)?;
    ensure(o == Outcome::Ignored(CtInfo::EstablishedReply), "ignored reply ACK accepted")?;
    ensure(f.conn.tcp_state() == Some(TcpState::SynSent), "state kept")?;
    ensure(f.conn.status & IPS_SEEN_REPLY != 0, "SEEN_REPLY")?;
    let o = f.seg(Direction::Original, SYN, CISN, 0, 0)?;
    ensure(o == Outcome::Accept(CtInfo::Established), "the client's next packet is ESTABLISHED")
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
    let tmo = Settings::default();
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
    ensure(Conn::new(&t, &p, 1, 0, HZ, &Settings::default()).is_err(), "reply cannot open")
}

/// Connection state suite.
pub const CONN: Suite = Suite {
    name: c"rnf_conntrack_state",
    cases: &[
        Case { name: c"tcp_handshake_establishes_and_assures", run: tcp_handshake_establishes_and_assures },
        Case { name: c"tcp_fin_sequence_reaches_time_wait", run: tcp_fin_sequence_reaches_time_wait },
        Case { name: c"tcp_rst_as_only_reply_kills", run: tcp_rst_as_only_reply_kills },
        Case { name: c"tcp_ignored_reply_sets_seen_reply", run: tcp_ignored_reply_sets_seen_reply },
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
    Conn::new(&t, &p, netns, 0, HZ, &Settings::default()).map_err(|_| "open")
}

fn table_finds_both_directions() -> Result<(), &'static str> {
    let mut slots = [Slot::EMPTY; 4];
    let (mut buckets, mut src_buckets) = ([0u32; 3], [0u32; 3]);
    let mut t = ConnTable::new(&mut slots[..], &mut buckets[..], &mut src_buckets[..], 7);
    let c = conn_for_port(1000, 1)?;
    let i = t.insert(c).map_err(|_| "insert")?;
    ensure(t.find(&c.tuple[0], 1) == Some((i, Direction::Original)), "original")?;
    ensure(t.find(&c.tuple[1], 1) == Some((i, Direction::Reply)), "reply")?;
    ensure(t.find(&c.tuple[0], 2).is_none(), "other netns does not see it")?;
    ensure(t.insert(c) == Err(InsertError::Clash), "duplicate insert is a clash")?;
    // The clash leaves the table as it was: the count, and the slot the
    // next connection gets.
    ensure(t.count() == 1, "a clash counts nothing")?;
    let other = conn_for_port(1001, 1)?;
    let j = t.insert(other).map_err(|_| "insert after a clash")?;
    ensure(j == i + 1 && t.remove(j).is_some(), "a clash hands out no slot")?;
    ensure(t.remove(i).is_some() && t.count() == 0, "remove")?;
    ensure(t.find(&c.tuple[1], 1).is_none(), "gone after remove")
}

fn table_full_then_early_drop() -> Result<(), &'static str> {
    let mut slots = [Slot::EMPTY; 4];
    let (mut buckets, mut src_buckets) = ([0u32; 2], [0u32; 2]);
    let mut t = ConnTable::new(&mut slots[..], &mut buckets[..], &mut src_buckets[..], 7);
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
    ensure(t.early_drop(0, 0, 2).is_none(), "another namespace's entries are never early-dropped")?;
    ensure(t.early_drop(0, 0, 1).is_some(), "early drop found a victim")?;
    ensure(t.find(&conn_for_port(2, 1)?.tuple[0], 1).is_none(), "victim was the unassured one")?;
    ensure(t.early_drop(0, 0, 1).is_none(), "assured entries are never early-dropped")?;
    ensure(t.insert(conn_for_port(9, 1)?).is_ok(), "insert after early drop")
}

fn table_gc_and_flush() -> Result<(), &'static str> {
    let mut slots = [Slot::EMPTY; 8];
    let (mut buckets, mut src_buckets) = ([0u32; 5], [0u32; 5]);
    let mut t = ConnTable::new(&mut slots[..], &mut buckets[..], &mut src_buckets[..], 3);
    for port in 0..6 {
        t.insert(conn_for_port(port, if port < 3 { 1 } else { 2 })?).map_err(|_| "fill")?;
    }
    let mut gone = [0u32; 3];
    let (removed, _) = t.gc(10, 0, 5, |_, _| {});
    ensure(removed == 0, "nothing expired yet")?;
    let mut flushed = 0u32;
    ensure(t.flush(Some(2), |_| flushed += 1) == 3 && t.count() == 3 && flushed == 3, "flush one netns")?;
    let (removed, _) = t.gc(31 * 100, 0, 5, |_, n| {
        if let Some(g) = gone.get_mut(n as usize) {
            *g += 1;
        }
    });
    ensure(removed == 3 && t.count() == 0, "expired entries reclaimed")?;
    ensure(gone == [0, 3, 0], "each removal reported with its namespace")
}

fn table_unconfirmed_entries_are_not_found_until_hashed() -> Result<(), &'static str> {
    let mut slots = [Slot::EMPTY; 4];
    let (mut buckets, mut src_buckets) = ([0u32; 3], [0u32; 3]);
    let mut t = ConnTable::new(&mut slots[..], &mut buckets[..], &mut src_buckets[..], 7);
    let c = conn_for_port(1000, 1)?;
    let i = t.alloc(c).map_err(|_| "alloc")?;
    ensure(t.count() == 1 && !t.is_hashed(i), "an unconfirmed entry holds a slot")?;
    ensure(t.find(&c.tuple[0], 1).is_none() && t.iter().count() == 0, "and is neither found nor listed")?;
    ensure(t.flush(None, |_| {}) == 0 && t.count() == 1, "nor flushed: its owner frees it")?;
    // A second unconfirmed entry of the same flow (another CPU's packet).
    let j = t.alloc(c).map_err(|_| "alloc 2")?;
    t.hash(i).map_err(|_| "hash")?;
    ensure(t.find(&c.tuple[1], 1) == Some((i, Direction::Reply)), "found once hashed")?;
    ensure(t.hash(j) == Err(InsertError::Clash) && !t.is_hashed(j), "the loser of the race stays unhashed")?;
    ensure(t.hash(i) == Err(InsertError::Full), "a hashed entry cannot be hashed twice")?;
    ensure(t.remove(j).is_some() && t.count() == 1, "the loser is freed")?;
    ensure(t.find(&c.tuple[0], 1) == Some((i, Direction::Original)), "the winner stays")?;
    ensure(t.iter().count() == 1, "listed")
}

/// Slot `i` as a bit of a mask (none past 31).
fn bit(i: u32) -> u32 {
    1u32.checked_shl(i).unwrap_or(0)
}

fn table_bysource_finds_same_source() -> Result<(), &'static str> {
    let mut slots = [Slot::EMPTY; 4];
    let (mut buckets, mut src_buckets) = ([0u32; 3], [0u32; 3]);
    let mut t = ConnTable::new(&mut slots[..], &mut buckets[..], &mut src_buckets[..], 7);
    // Two flows from the same source port to different ports of the
    // server (a confirmed and an unconfirmed one), one from another port,
    // and the first flow again in another namespace.
    let a = conn_for_port(1000, 1)?;
    let mut b = a;
    b.tuple[0].dst_id = 54;
    b.tuple[1] = b.tuple[0].invert();
    let ia = t.insert(a).map_err(|_| "insert a")?;
    let ib = t.alloc(b).map_err(|_| "alloc b")?;
    let ic = t.insert(conn_for_port(1001, 1)?).map_err(|_| "insert c")?;
    let id = t.insert(conn_for_port(1000, 2)?).map_err(|_| "insert d")?;
    let same_src = |t: &ConnTable<&mut [Slot], &mut [u32]>, netns: u32| {
        let (mut n, mut mask) = (0u32, 0u32);
        let s = &a.tuple[0];
        t.for_each_same_src(netns, s.proto, s.l3, &s.src, s.src_id, |i, _| {
            n = n.saturating_add(1);
            mask |= bit(i);
            false
        });
        (n, mask)
    };
    ensure(same_src(&t, 1) == (0, 0), "nothing linked yet")?;
    for i in [ia, ib, ic, id, ia] {
        ensure(t.link_bysource(i), "link (twice for the first)")?;
    }
    ensure(same_src(&t, 1) == (2, bit(ia) | bit(ib)), "both flows of the source, unconfirmed included, once each")?;
    ensure(same_src(&t, 2) == (1, bit(id)), "other namespaces are not seen")?;
    ensure(t.remove(ib).is_some() && !t.is_bysource(ib), "remove unlinks")?;
    ensure(same_src(&t, 1) == (1, bit(ia)), "gone from the index")?;
    let ie = t.alloc(conn_for_port(1000, 1)?).map_err(|_| "reuse")?;
    ensure(same_src(&t, 1) == (1, bit(ia)) && !t.is_bysource(ie), "a reused slot starts unlinked")
}

fn table_grows_keeping_its_connections() -> Result<(), &'static str> {
    let (mut small, mut large) = ([Slot::EMPTY; 2], [Slot::EMPTY; 4]);
    let (mut buckets, mut src_buckets) = ([0u32; 3], [0u32; 3]);
    let mut t = ConnTable::new(&mut small[..], &mut buckets[..], &mut src_buckets[..], 7);
    let a = conn_for_port(1000, 1)?;
    let ia = t.insert(a).map_err(|_| "insert a")?;
    ensure(t.link_bysource(ia), "link a")?;
    let ib = t.alloc(conn_for_port(1001, 1)?).map_err(|_| "alloc b")?;
    ensure(t.alloc(conn_for_port(1002, 1)?) == Err(InsertError::Full), "full at two")?;
    ensure(t.growth_target() == Some(GROW_MIN), "asks to grow")?;
    let old = t.grow(&mut large[..]).map_err(|_| "grow")?;
    ensure(old.len() == 2 && t.capacity() == 4 && t.count() == 2, "four slots, two taken")?;
    ensure(t.find(&a.tuple[1], 1) == Some((ia, Direction::Reply)) && t.is_bysource(ia), "a found and linked")?;
    ensure(!t.is_hashed(ib) && t.hash(ib).is_ok(), "b still unconfirmed, then confirmed")?;
    let ic = t.insert(conn_for_port(1002, 1)?).map_err(|_| "insert c")?;
    let id = t.insert(conn_for_port(1003, 1)?).map_err(|_| "insert d")?;
    ensure(ic == 2 && id == 3, "the new slots, in order")?;
    ensure(t.insert(conn_for_port(1004, 1)?) == Err(InsertError::Full), "full at four")
}

fn proc_line_matches_nf_conntrack() -> Result<(), &'static str> {
    let f = Flow::established()?;
    let mut buf = FixedBuf::<512>::new();
    // The default zone, a mark, counters: what a kernel with marks, zones
    // and nf_conntrack_acct=1 prints for them.
    let x = procfmt::ConnExtras {
        mark: Some(0x2a),
        zone: Some(procfmt::Zone { id: 0, dir: procfmt::NF_CT_DEFAULT_ZONE_DIR }),
        acct: Some([
            procfmt::Counter { packets: 3, bytes: 164 },
            procfmt::Counter { packets: 2, bytes: 112 },
        ]),
        use_count: 2,
    };
    procfmt::write_conn(&mut buf, &f.conn, f.now, HZ, &x).map_err(|_| "format")?;
    ensure(
        buf.as_str()
            == "ipv4     2 tcp      6 432000 ESTABLISHED src=10.1.0.2 dst=10.2.0.2 sport=40000 dport=80 \
                packets=3 bytes=164 src=10.2.0.2 dst=10.1.0.2 sport=80 dport=40000 packets=2 bytes=112 \
                [ASSURED] mark=42 zone=0 use=2\n",
        "TCP line",
    )?;
    // A zone of one direction prints after that direction's tuple; no mark
    // and no zone on a kernel without them.
    for (zone, want) in [
        (Some(procfmt::Zone { id: 7, dir: procfmt::NF_CT_ZONE_DIR_ORIG }), "dport=80 zone-orig=7 src="),
        (Some(procfmt::Zone { id: 7, dir: procfmt::NF_CT_ZONE_DIR_REPL }), "dport=40000 zone-reply=7 [ASSURED]"),
        (None, "dport=40000 [ASSURED] use=1"),
    ] {
        let x = procfmt::ConnExtras { zone, use_count: 1, ..procfmt::ConnExtras::default() };
        buf.clear();
        procfmt::write_conn(&mut buf, &f.conn, f.now, HZ, &x).map_err(|_| "format")?;
        // A window search, not str::contains: its two-way searcher brings
        // core's overflow checks (panic paths) into the module.
        let found = buf.as_str().as_bytes().windows(want.len()).any(|w| w == want.as_bytes());
        ensure(found, "zone field in its place")?;
    }
    let c = conn_for_port(5000, 1)?;
    let mut buf = FixedBuf::<512>::new();
    let x = procfmt::ConnExtras {
        mark: Some(0),
        zone: Some(procfmt::Zone { id: 0, dir: procfmt::NF_CT_DEFAULT_ZONE_DIR }),
        acct: None,
        use_count: 2,
    };
    procfmt::write_conn(&mut buf, &c, 0, HZ, &x).map_err(|_| "format")?;
    let mut want = FixedBuf::<512>::new();
    let _ = writeln!(
        want,
        "ipv6     10 udp      17 30 src={a} dst={b} sport=5000 dport=53 [UNREPLIED] src={b} dst={a} \
         sport=53 dport=5000 mark=0 zone=0 use=2",
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
    let c = Conn::new(&t, &p, 1, 0, HZ, &Settings::default()).map_err(|_| "open")?;
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
    let c = Conn::new(&t, &p, 1, 0, HZ, &Settings::default()).map_err(|_| "open")?;
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

fn icmp_error_about_echo_reply_is_related() -> Result<(), &'static str> {
    // Found by the conntrack fuzz target: the kernel relates an error about
    // any packet whose tuple inverts (invmap), echo replies included.
    let p = parse4(&golden::IPV4_ICMP_ECHO)?;
    let t = Tuple::from_packet(&p).map_err(|_| "tuple")?;
    let c = Conn::new(&t, &p, 1, 0, HZ, &Settings::default()).map_err(|_| "open")?;
    // The server's echo reply, quoted in an error a router sends back to it.
    let mut err = [0u8; 56];
    err[..20].copy_from_slice(&[0x45, 0, 0, 56, 0, 5, 0, 0, 64, 1, 0, 0, 10, 9, 9, 9, 10, 2, 0, 2]);
    err[20..28].copy_from_slice(&[11, 0, 0, 0, 0, 0, 0, 0]);
    err[28..56].copy_from_slice(&golden::IPV4_ICMP_ECHO);
    err[28 + 12..28 + 16].copy_from_slice(&V4_SERVER);
    err[28 + 16..28 + 20].copy_from_slice(&V4_CLIENT);
    err[48] = 0;
    ensure(related_dir(&c, &err, L3Proto::Ipv4)? == Some(Direction::Original), "RELATED, original direction")?;
    // icmp_pkt_to_tuple needs the whole 8-byte inner ICMP header.
    let p = parse4(&err[..55])?;
    ensure(crate::conntrack::icmp::inner_tuple(&p, &err[..55]).is_err(), "7 bytes of inner ICMP header")
}

/// ICMP error suite.
pub const ICMP: Suite = Suite {
    name: c"rnf_conntrack_icmp",
    cases: &[
        Case { name: c"icmp_port_unreachable_is_related_reply", run: icmp_port_unreachable_is_related_reply },
        Case { name: c"icmpv6_port_unreachable_is_related_reply", run: icmpv6_port_unreachable_is_related_reply },
        Case { name: c"icmp_error_about_error_relates_to_nothing", run: icmp_error_about_error_relates_to_nothing },
        Case { name: c"icmp_error_about_echo_reply_is_related", run: icmp_error_about_echo_reply_is_related },
    ],
};

/// Connection table suite.
pub const TABLE: Suite = Suite {
    name: c"rnf_conntrack_table",
    cases: &[
        Case { name: c"table_finds_both_directions", run: table_finds_both_directions },
        Case { name: c"table_full_then_early_drop", run: table_full_then_early_drop },
        Case { name: c"table_gc_and_flush", run: table_gc_and_flush },
        Case {
            name: c"table_unconfirmed_entries_are_not_found_until_hashed",
            run: table_unconfirmed_entries_are_not_found_until_hashed,
        },
        Case { name: c"table_bysource_finds_same_source", run: table_bysource_finds_same_source },
        Case { name: c"table_grows_keeping_its_connections", run: table_grows_keeping_its_connections },
        Case { name: c"proc_line_matches_nf_conntrack", run: proc_line_matches_nf_conntrack },
    ],
};

fn tcp_loose_off_refuses_pickup() -> Result<(), &'static str> {
    let ack = tcp_pkt(Direction::Original, ACK, CISN + 1, SISN.wrapping_add(1), 0);
    let f = Flow::open(&ack)?;
    ensure(f.conn.tcp_state() == Some(TcpState::Established), "loose: an ACK picks the connection up")?;
    // Picked up mid-stream: the unacknowledged timeout, not five days.
    ensure(f.conn.remaining_secs(f.now, HZ) == 300, "picked up with the unacknowledged timeout")?;
    let mut cfg = Settings::default();
    cfg.tcp.loose = false;
    ensure(Flow::open_with(&ack, cfg).is_err(), "tcp_loose=0: an ACK opens nothing")?;
    ensure(
        Flow::open_with(&tcp_pkt(Direction::Original, SYN, CISN, 0, 0), cfg).is_ok(),
        "tcp_loose=0: a SYN still opens",
    )
}

fn tcp_be_liberal_accepts_out_of_window() -> Result<(), &'static str> {
    let far = CISN.wrapping_add(50_000_000);
    let mut f = Flow::established()?;
    let o = f.seg(Direction::Original, ACK, far, SISN.wrapping_add(1), 100)?;
    ensure(o == Outcome::Invalid, "strict: far beyond the window is INVALID")?;
    let mut cfg = Settings::default();
    cfg.tcp.be_liberal = true;
    let mut f = Flow::established_with(cfg)?;
    let o = f.seg(Direction::Original, ACK, far, SISN.wrapping_add(1), 100)?;
    ensure(o == Outcome::Accept(CtInfo::Established), "tcp_be_liberal=1: accepted")
}

fn tcp_ignore_invalid_rst_keeps_state() -> Result<(), &'static str> {
    // The server has acknowledged up to CISN + 1; a client RST below that
    // is INVALID, or with the switch on a RST that keeps the connection
    // for a challenge ACK.
    let mut f = Flow::established()?;
    let o = f.seg(Direction::Original, RST, CISN, 0, 0)?;
    ensure(o == Outcome::Invalid, "RST below the peer's highest ACK is INVALID")?;
    let mut cfg = Settings::default();
    cfg.tcp.ignore_invalid_rst = true;
    let mut f = Flow::established_with(cfg)?;
    let o = f.seg(Direction::Original, RST, CISN, 0, 0)?;
    ensure(o == Outcome::Accept(CtInfo::Established), "tcp_ignore_invalid_rst=1: accepted")?;
    ensure(f.conn.tcp_state() == Some(TcpState::Established), "still ESTABLISHED")?;
    ensure(f.conn.remaining_secs(f.now, HZ) == 300, "with the unacknowledged timeout")
}

fn tcp_max_retrans_caps_timeout() -> Result<(), &'static str> {
    for (max_retrans, repeats, want) in [(3u8, 3u32, 77u64), (3, 2, 432000), (5, 4, 432000), (5, 5, 77)] {
        let mut cfg = Settings::default();
        cfg.tcp.max_retrans = max_retrans;
        cfg.timeouts.tcp_retrans = 77;
        let mut f = Flow::established_with(cfg)?;
        for _ in 0..repeats {
            f.seg(Direction::Original, ACK, CISN + 1, SISN.wrapping_add(1), 0)?;
        }
        ensure(f.conn.remaining_secs(f.now, HZ) == want, "timeout after identical ACKs")?;
    }
    Ok(())
}

fn tcp_timeout_chain_takes_first_shorter_cap() -> Result<(), &'static str> {
    use crate::conntrack::conn::{tcp_timeout_for, Settings, Timeouts};
    use crate::conntrack::tcp::TimeoutCaps;
    let mut s = Settings { timeouts: Timeouts { tcp_retrans: 200, tcp_unack: 100, ..Default::default() }, ..Default::default() };
    let all = TimeoutCaps { retrans: true, rst_established: true, unacked: true, zero_window: true };
    ensure(tcp_timeout_for(&s, TcpState::Established, all) == 200, "retransmissions first")?;
    ensure(tcp_timeout_for(&s, TcpState::Established, TimeoutCaps::default()) == 432000, "no cap")?;
    // A cap longer than the state's own timeout is passed over for the next.
    ensure(tcp_timeout_for(&s, TcpState::Close, all) == 10, "CLOSE keeps its 10 s")?;
    s.timeouts.tcp_retrans = 1000;
    ensure(tcp_timeout_for(&s, TcpState::SynSent, all) == 100, "SYN_SENT: retrans cap too long, unack next")?;
    let zero = TimeoutCaps { zero_window: true, ..TimeoutCaps::default() };
    ensure(tcp_timeout_for(&s, TcpState::Established, zero) == 1000, "zero window: the retrans timeout")
}

/// The namespace settings behind the net.netfilter.nf_conntrack_* sysctls.
pub const SETTINGS: Suite = Suite {
    name: c"rnf_conntrack_settings",
    cases: &[
        Case { name: c"tcp_loose_off_refuses_pickup", run: tcp_loose_off_refuses_pickup },
        Case { name: c"tcp_be_liberal_accepts_out_of_window", run: tcp_be_liberal_accepts_out_of_window },
        Case { name: c"tcp_ignore_invalid_rst_keeps_state", run: tcp_ignore_invalid_rst_keeps_state },
        Case { name: c"tcp_max_retrans_caps_timeout", run: tcp_max_retrans_caps_timeout },
        Case { name: c"tcp_timeout_chain_takes_first_shorter_cap", run: tcp_timeout_chain_takes_first_shorter_cap },
    ],
};

/// rnf_conntrack's suites, in the order KUnit runs them.
pub const SUITES: [&Suite; 6] = [&PACKET, &TUPLE, &CONN, &ICMP, &TABLE, &SETTINGS];
