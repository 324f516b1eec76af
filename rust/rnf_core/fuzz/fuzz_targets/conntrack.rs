// SPDX-License-Identifier: GPL-2.0
//! The conntrack state machines fed a sequence of packets of one connection
//! (both directions), built from the fuzz input and run the way the hook
//! runs them: `packet::parse`, `Tuple::from_packet`, the direction found by
//! comparing with the connection's tuples, `Conn::new` for the first packet
//! and `Conn::packet` after; some packets are wrapped in an ICMP error and
//! go through `conntrack::icmp::inner_tuple` instead.
//!
//! Input (every read past the end is zero):
//! - byte 0: bit 0 IPv6; bits 1-2 protocol (TCP, UDP, ICMP echo, GRE as a
//!   generic protocol); bit 3 custom settings (then 17 big-endian u16
//!   timeouts: the ten TCP states, unacknowledged, max_retrans, UDP
//!   unreplied and replied, ICMP, ICMPv6, generic; and a byte of TCP
//!   switches: loose, be_liberal, ignore_invalid_rst, max_retrans); bits
//!   4-5 HZ (100, 250, 300, 1000);
//! - client and server addresses (4 or 16 bytes each), ports (u16 each),
//!   the start time (u32 jiffies);
//! - then records until the input ends (at most 64): a control byte
//!   (bit 0 reply direction; bit 1 wrap into an ICMP error; bits 2-3 time
//!   step none/u8/u16/u32 jiffies; bit 4 sequence numbers relative to what
//!   the tracker has seen; bit 5 TCP options; bit 6 REJECT the connection
//!   (`set_closing`) instead; bit 7 corrupt one byte of the packet), for TCP
//!   flags, seq, ack (u32, or i16 deltas when relative), window (u16) and
//!   an option byte, for all a payload length (u8), and for an error its
//!   length cut (u8) and destination choice.
//!
//! Oracles: no panic; the TCP state only moves as the kernel's
//! `tcp_conntracks` table allows, with the exceptions
//! `nf_conntrack_tcp_packet()` makes (see `rnf_core_fuzz::tcp_table`), and
//! a segment the table calls invalid is INVALID; an INVALID packet changes
//! nothing the hook keeps (state, status, timeout); status bits are only
//! ever set; SEEN_REPLY is set by every accepted reply-direction packet and
//! ASSURED never comes before it; the ctinfo is NEW / ESTABLISHED /
//! ESTABLISHED_REPLY as the kernel computes it; a connection's timeout is
//! one of the configured ones for its protocol and state, and a packet
//! accepted as ignored leaves it alone; without `tcp_loose` only a SYN
//! opens a TCP connection; a RST can only
//! kill a connection that has seen no reply; a reopening SYN opens a new
//! connection; the tuple of the packet inside an ICMP error is the tuple of
//! that packet, its inverse the connection's other tuple, and the forged
//! error check accepts exactly the errors sent to the packet's source.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnf_core::conntrack::conn::*;
use rnf_core::conntrack::icmp::{inner_tuple, outer_fits};
use rnf_core::conntrack::tcp::{TcpState, TCP_STATES};
use rnf_core::conntrack::tuple::Tuple;
use rnf_core::packet::*;
use rnf_core_fuzz::{ipv4, ipv6, tcp_table, Input};

const GRE: u8 = 47;

struct Flow {
    l3: L3Proto,
    proto: u8,
    addr: [[u8; 16]; 2],
    port: [u16; 2],
}

/// A TCP segment's fields.
struct Seg {
    flags: u8,
    seq: u32,
    ack: u32,
    window: u16,
    opts: Vec<u8>,
}

impl Flow {
    /// The network header and transport header of a packet from side `d`
    /// (0 client, 1 server) with `payload` bytes.
    fn build(&self, d: usize, seg: &Seg, payload: usize) -> Vec<u8> {
        let (s, t) = (d & 1, (d & 1) ^ 1);
        let mut l4 = match self.proto {
            IPPROTO_TCP => {
                let mut o = seg.opts.clone();
                while o.len() % 4 != 0 {
                    o.push(1);
                }
                o.truncate(40);
                let mut h = vec![0u8; 20];
                h[0..2].copy_from_slice(&self.port[s].to_be_bytes());
                h[2..4].copy_from_slice(&self.port[t].to_be_bytes());
                h[4..8].copy_from_slice(&seg.seq.to_be_bytes());
                h[8..12].copy_from_slice(&seg.ack.to_be_bytes());
                h[12] = ((5 + o.len() / 4) as u8) << 4;
                h[13] = seg.flags;
                h[14..16].copy_from_slice(&seg.window.to_be_bytes());
                h.extend_from_slice(&o);
                h
            }
            IPPROTO_UDP => {
                let mut h = vec![0u8; 8];
                h[0..2].copy_from_slice(&self.port[s].to_be_bytes());
                h[2..4].copy_from_slice(&self.port[t].to_be_bytes());
                h[4..6].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
                h
            }
            IPPROTO_ICMP | IPPROTO_ICMPV6 => {
                // Echo request from the client, echo reply from the server.
                let ty = match (self.l3, s) {
                    (L3Proto::Ipv4, 0) => 8,
                    (L3Proto::Ipv4, _) => 0,
                    (L3Proto::Ipv6, 0) => 128,
                    (L3Proto::Ipv6, _) => 129,
                };
                let mut h = vec![ty, 0, 0, 0, 0, 0, 0, 1];
                h[4..6].copy_from_slice(&self.port[0].to_be_bytes());
                h
            }
            _ => vec![0u8; 4],
        };
        l4.resize(l4.len() + payload, 0xa5);
        match self.l3 {
            L3Proto::Ipv4 => {
                let a = |x: &[u8; 16]| [x[0], x[1], x[2], x[3]];
                ipv4(self.proto, a(&self.addr[s]), a(&self.addr[t]), &[], &l4)
            }
            L3Proto::Ipv6 => ipv6(self.proto, self.addr[s], self.addr[t], &[], &l4),
        }
    }
}

/// An ICMP (v6) destination-unreachable error from `from` to `to` quoting
/// the first `cut` bytes of `inner`.
fn icmp_error(l3: L3Proto, from: [u8; 16], to: [u8; 16], inner: &[u8]) -> Vec<u8> {
    let (ty, proto) = match l3 {
        L3Proto::Ipv4 => (3, IPPROTO_ICMP),
        L3Proto::Ipv6 => (1, IPPROTO_ICMPV6),
    };
    let mut body = vec![ty, 1, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(inner);
    match l3 {
        L3Proto::Ipv4 => ipv4(proto, [from[0], from[1], from[2], from[3]], [to[0], to[1], to[2], to[3]], &[], &body),
        L3Proto::Ipv6 => ipv6(proto, from, to, &[], &body),
    }
}

fn settings(inp: &mut Input, custom: bool) -> Settings {
    let mut c = Settings::default();
    if custom {
        let t = &mut c.timeouts;
        for s in t.tcp.iter_mut() {
            *s = u32::from(inp.u16());
        }
        for v in [&mut t.tcp_unack, &mut t.tcp_retrans, &mut t.udp_unreplied, &mut t.udp_replied, &mut t.icmp, &mut t.icmpv6, &mut t.generic] {
            *v = u32::from(inp.u16());
        }
        let b = inp.u8();
        c.tcp.loose = b & 1 == 0;
        c.tcp.be_liberal = b & 2 != 0;
        c.tcp.ignore_invalid_rst = b & 4 != 0;
        c.tcp.max_retrans = b >> 4;
    }
    c
}

fn tcp_timeout(tmo: &Timeouts, s: TcpState) -> u32 {
    tmo.tcp[s as usize]
}

/// The timeouts (seconds) a connection may be given after a packet.
fn allowed_timeouts(c: &Conn, tmo: &Timeouts) -> Vec<u32> {
    match c.proto {
        ProtoTrack::Tcp(t) => {
            // The state's own, or a cap below it (max_retrans,
            // unacknowledged), then at most unacknowledged before a reply.
            let s = tcp_timeout(tmo, t.state);
            [s, s.min(tmo.tcp_unack), s.min(tmo.tcp_retrans)].iter().flat_map(|&x| [x, x.min(tmo.tcp_unack)]).collect()
        }
        ProtoTrack::Udp { .. } => vec![tmo.udp_unreplied, tmo.udp_replied],
        ProtoTrack::Icmp => vec![if c.tuple[0].l3 == L3Proto::Ipv4 { tmo.icmp } else { tmo.icmpv6 }],
        ProtoTrack::Generic => vec![tmo.generic],
    }
}

fn check_timeout(c: &Conn, before: Option<u64>, now: u64, hz: u32, tmo: &Timeouts) {
    if Some(c.expires) == before {
        return;
    }
    let ok = allowed_timeouts(c, tmo).iter().any(|&s| c.expires == now.saturating_add(secs_to_jiffies(s, hz)));
    assert!(ok, "timeout {} jiffies after {now} is none of {:?} s at HZ {hz} ({:?})", c.expires.wrapping_sub(now), allowed_timeouts(c, tmo), c.proto);
}

/// Whether the kernel relates an error quoting a packet with this tuple
/// (`nf_ct_invert_tuple` of the inner tuple succeeds: for ICMP, a type in
/// `invmap`).
fn relatable(t: &Tuple) -> bool {
    if !t.is_icmp() {
        return true;
    }
    let pairs: &[(u8, u8)] = match t.l3 {
        L3Proto::Ipv4 => &[(8, 0), (13, 14), (15, 16), (17, 18)],
        L3Proto::Ipv6 => &[(128, 129), (139, 140)],
    };
    pairs.iter().any(|&(a, b)| t.icmp_type() == a || t.icmp_type() == b)
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let cfg = inp.u8();
    let l3 = if cfg & 1 == 0 { L3Proto::Ipv4 } else { L3Proto::Ipv6 };
    let proto = match (cfg >> 1) & 3 {
        0 => IPPROTO_TCP,
        1 => IPPROTO_UDP,
        2 if l3 == L3Proto::Ipv4 => IPPROTO_ICMP,
        2 => IPPROTO_ICMPV6,
        _ => GRE,
    };
    let set = settings(&mut inp, cfg & 8 != 0);
    let tmo = set.timeouts;
    let hz = [100, 250, 300, 1000][usize::from((cfg >> 4) & 3)];
    let mut addr = [[0u8; 16]; 2];
    for a in addr.iter_mut() {
        for b in a.iter_mut().take(l3.addr_len()) {
            *b = inp.u8();
        }
    }
    let flow = Flow { l3, proto, addr, port: [inp.u16(), inp.u16()] };
    let mut now = u64::from(inp.u32());
    let mut conn: Option<Conn> = None;

    for _ in 0..64 {
        if inp.is_empty() {
            break;
        }
        let ctl = inp.u8();
        let d = usize::from(ctl & 1);
        now = now.saturating_add(match (ctl >> 2) & 3 {
            0 => 0,
            1 => u64::from(inp.u8()),
            2 => u64::from(inp.u16()),
            _ => u64::from(inp.u32()),
        });
        if ctl & 0x40 != 0 {
            // The host answered with a TCP reset (REJECT): CLOSE.
            if let Some(c) = conn.as_mut() {
                let before = *c;
                c.set_closing(now, hz, &set);
                if let Some(s) = c.tcp_state() {
                    assert_eq!(s, TcpState::Close);
                    if before.tcp_state() != Some(TcpState::Close) {
                        assert_eq!(c.expires, now.saturating_add(secs_to_jiffies(tcp_timeout(&tmo, TcpState::Close), hz)));
                    }
                } else {
                    assert_eq!(*c, before, "set_closing changes only TCP connections");
                }
            }
            continue;
        }
        let seg = if proto == IPPROTO_TCP {
            let flags = inp.u8();
            let (seq, ack) = if ctl & 0x10 != 0 {
                let seen = match conn.map(|c| c.proto) {
                    Some(ProtoTrack::Tcp(t)) => t.seen,
                    _ => Default::default(),
                };
                let ds = inp.u16() as i16 as i32 as u32;
                let da = inp.u16() as i16 as i32 as u32;
                (seen[d].td_end.wrapping_add(ds), seen[d ^ 1].td_end.wrapping_add(da))
            } else {
                (inp.u32(), inp.u32())
            };
            let window = inp.u16();
            let mut opts = Vec::new();
            if ctl & 0x20 != 0 {
                let o = inp.u8();
                if o & 0x10 != 0 {
                    opts.extend_from_slice(&[3, 3, o & 0x0f]);
                }
                if o & 0x20 != 0 {
                    opts.extend_from_slice(&[4, 2]);
                }
                if o & 0x40 != 0 {
                    let right = ack.wrapping_add(u32::from(inp.u16()));
                    opts.extend_from_slice(&[5, 10]);
                    opts.extend_from_slice(&ack.to_be_bytes());
                    opts.extend_from_slice(&right.to_be_bytes());
                }
                if o & 0x80 != 0 {
                    // A malformed option: length past the end.
                    opts.extend_from_slice(&[8, 40]);
                }
            }
            Seg { flags, seq, ack, window, opts }
        } else {
            Seg { flags: 0, seq: 0, ack: 0, window: 0, opts: Vec::new() }
        };
        let payload = usize::from(inp.u8());
        let mut pkt = flow.build(d, &seg, payload);
        if ctl & 0x80 != 0 {
            let at = usize::from(inp.u16()) % pkt.len();
            pkt[at] ^= inp.u8() | 1;
        }

        if ctl & 2 != 0 {
            // An ICMP error about this packet, sent back towards its source
            // (or, with the low bit of the cut byte, somewhere else).
            let cut = inp.u8();
            let inner = &pkt[..pkt.len().min(usize::from(cut >> 1) * 2)];
            let router = a16(&[192, 0, 2, 1]);
            let to = if cut & 1 == 0 { flow.addr[d] } else { router };
            let err = icmp_error(l3, router, to, inner);
            let outer = parse(l3, &err).expect("an error we built parses");
            let got = inner_tuple(&outer, &err);
            let Ok(p) = parse(l3, &pkt) else { continue };
            let Ok(t) = Tuple::from_packet(&p) else { continue };
            let l4_need = if t.is_icmp() { 8 } else { 4 };
            // ICMP numbers of the other family (a corrupted protocol byte)
            // are left out: the kernel tracks them with that family's
            // tracker, rnf with its own; see the report of issue 13.
            let cross = matches!(t.proto, IPPROTO_ICMP | IPPROTO_ICMPV6) && !t.is_icmp();
            if relatable(&t) && !cross && inner.len() >= p.l4_offset + l4_need && !p.later_fragment {
                assert_eq!(got, Ok(t), "the error's inner tuple is the quoted packet's");
            }
            if let (Ok(it), Some(c)) = (got, conn.as_ref()) {
                // The hook looks up the inverted inner tuple: the direction
                // the error travels.
                let inv = it.invert();
                for dir in [0usize, 1] {
                    if c.tuple[dir] == inv {
                        assert_eq!(c.tuple[dir ^ 1], it);
                        assert_eq!(outer_fits(&outer, &c.tuple[dir].dst), to == c.tuple[dir].dst);
                    }
                }
            }
            continue;
        }

        let Ok(p) = parse(l3, &pkt) else { continue };
        let Ok(t) = Tuple::from_packet(&p) else { continue };
        if conn.map_or(false, |c| c.expired(now)) {
            conn = None;
        }
        let Some(c) = conn.as_mut() else {
            match Conn::new(&t, &p, 1, now, hz, &set) {
                Ok(c) => {
                    assert_eq!(c.tuple[0], t);
                    assert_eq!(c.tuple[1], t.invert());
                    assert_eq!(c.status, 0);
                    if let (Some(s), L4::Tcp { flags, .. }) = (c.tcp_state(), p.l4) {
                        let flags = flags.0;
                        assert!(tcp_table::allowed(0, flags, tcp_table::NO, s as u8), "new connection in {s:?} on flags {flags:#x}");
                        assert_ne!(s, TcpState::None);
                        // Without nf_conntrack_tcp_loose only a SYN opens.
                        assert!(set.tcp.loose || s == TcpState::SynSent, "picked up {s:?} with tcp_loose off");
                    }
                    check_timeout(&c, None, now, hz, &tmo);
                    conn = Some(c);
                }
                Err(Invalid::CannotOpen) => {
                    if let L4::Tcp { flags, .. } = p.l4 {
                        let i = tcp_table::index(flags.0);
                        // The kernel's tcp_new: a SYN, or (loose) anything
                        // the table moves out of NONE.
                        assert!(i != 0, "a SYN could not open a connection");
                    }
                }
                Err(e) => panic!("Conn::new answered {e:?}"),
            }
            continue;
        };
        let dir = if t == c.tuple[0] {
            Direction::Original
        } else if t == c.tuple[1] {
            Direction::Reply
        } else {
            // A corrupted packet of another connection.
            continue;
        };
        let before = *c;
        let out = c.packet(dir, &p, now, hz, &set);
        let seen_before = before.status & IPS_SEEN_REPLY != 0;
        assert_eq!(before.status & !c.status, 0, "status bits are only ever set");
        if c.status & IPS_ASSURED != 0 {
            assert!(c.status & IPS_SEEN_REPLY != 0, "ASSURED before SEEN_REPLY");
        }
        let old = before.tcp_state();
        let new = c.tcp_state();
        if let (Some(o), Some(n), L4::Tcp { flags, .. }) = (old, new, p.l4) {
            let dn = dir as usize;
            assert!(
                tcp_table::allowed(dn, flags.0, o as u8, n as u8),
                "TCP {o:?} -> {n:?} on flags {:#x} in direction {dir:?} is not in the kernel's table",
                flags.0
            );
            if tcp_table::TABLE[dn][tcp_table::index(flags.0)][o as usize] == tcp_table::IV {
                assert_eq!(out, Outcome::Invalid, "the table says invalid for {o:?} flags {:#x} {dir:?}", flags.0);
            }
            assert!((n as usize) < TCP_STATES);
        }
        match out {
            Outcome::Invalid => {
                assert_eq!((c.status, c.expires, c.tcp_state()), (before.status, before.expires, old), "INVALID changed the connection");
            }
            Outcome::Accept(ci) | Outcome::Ignored(ci) => {
                let want = match dir {
                    Direction::Reply => CtInfo::EstablishedReply,
                    Direction::Original if seen_before => CtInfo::Established,
                    Direction::Original => CtInfo::New,
                };
                assert_eq!(ci, want);
                if dir == Direction::Reply {
                    assert!(c.status & IPS_SEEN_REPLY != 0, "an accepted reply-direction packet sets SEEN_REPLY ({old:?} -> {new:?})");
                }
                if matches!(out, Outcome::Ignored(_)) {
                    assert_eq!(c.expires, before.expires, "an ignored packet renewed the timeout");
                } else {
                    check_timeout(c, Some(before.expires), now, hz, &tmo);
                }
            }
            Outcome::Kill(_) => {
                assert!(matches!(p.l4, L4::Tcp { flags, .. } if flags.has(TcpFlags::RST)));
                assert!(!seen_before, "a RST killed a connection that had seen a reply");
                conn = None;
            }
            Outcome::Reopen => {
                assert!(matches!(p.l4, L4::Tcp { flags, .. } if tcp_table::index(flags.0) == 0));
                assert!(matches!(old, Some(TcpState::TimeWait | TcpState::Close)));
                let n = Conn::new(&t, &p, 1, now, hz, &set).expect("a reopening SYN opens a new connection");
                assert_eq!(n.tcp_state(), Some(TcpState::SynSent));
                conn = Some(n);
            }
        }
    }
});

fn a16(a: &[u8]) -> [u8; 16] {
    rnf_core_fuzz::a16(a)
}
