// SPDX-License-Identifier: GPL-2.0
//! A tracked connection and what one packet does to it.
//!
//! Status bits, directions and `ctinfo` values follow
//! include/uapi/linux/netfilter/nf_conntrack_common.h; the per-protocol rules
//! follow net/netfilter/nf_conntrack_proto_{tcp,udp,icmp,icmpv6,generic}.c.
//! Times are in jiffies (`u64`, the kernel's `jiffies_64`); timeouts are
//! configured in seconds and converted with the kernel's `HZ`.

use crate::packet::{PacketInfo, TcpFlags, L4};
use crate::conntrack::tcp::{TcpIndex, TcpSegment, TcpSettings, TcpState, TcpTrack, TcpVerdict, TimeoutCaps};
use crate::conntrack::tuple::{icmp_type_is_query, Tuple};
use crate::conntrack::zone::Zone;

/// Direction of a packet relative to the connection (`enum ip_conntrack_dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Direction {
    /// Same direction as the packet that opened the connection.
    Original = 0,
    /// The opposite direction.
    Reply = 1,
}

/// `IPS_SEEN_REPLY`: a packet was seen in the reply direction.
pub const IPS_SEEN_REPLY: u32 = 1 << 1;
/// `IPS_ASSURED`: the connection is established enough not to be early-dropped.
pub const IPS_ASSURED: u32 = 1 << 2;
/// `IPS_CONFIRMED`: the entry is in the table.
pub const IPS_CONFIRMED: u32 = 1 << 3;
/// `IPS_DYING`: the entry is being removed.
pub const IPS_DYING: u32 = 1 << 9;

/// `enum ip_conntrack_info`: the packet's relation to its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CtInfo {
    /// Part of an established connection, original direction.
    Established = 0,
    /// Related to a connection (an ICMP error), original direction.
    Related = 1,
    /// Opens a new connection (or the original side before any reply).
    New = 2,
    /// Part of an established connection, reply direction.
    EstablishedReply = 3,
    /// Related, reply direction.
    RelatedReply = 4,
}

/// Timeouts in seconds, per protocol and TCP state; the kernel's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Per TCP state, indexed by `TcpState as usize`.
    pub tcp: [u32; crate::conntrack::tcp::TCP_STATES],
    /// TCP connection picked up mid-stream or with unacknowledged data
    /// (`TCP_CONNTRACK_UNACK`, 300).
    pub tcp_unack: u32,
    /// TCP connection after `tcp_max_retrans` retransmissions or a zero
    /// window (`TCP_CONNTRACK_RETRANS`, 300).
    pub tcp_retrans: u32,
    /// UDP before a reply (`UDP_CT_UNREPLIED`, 30).
    pub udp_unreplied: u32,
    /// UDP stream, replied and still active after two seconds (`UDP_CT_REPLIED`, 120).
    pub udp_replied: u32,
    /// ICMP echo (30).
    pub icmp: u32,
    /// ICMPv6 echo (30).
    pub icmpv6: u32,
    /// Protocols tracked by address only (600).
    pub generic: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        let mut tcp = [0; crate::conntrack::tcp::TCP_STATES];
        for s in TcpState::ALL {
            if let Some(slot) = tcp.get_mut(s as usize) {
                *slot = s.default_timeout_secs();
            }
        }
        Timeouts {
            tcp,
            tcp_unack: 300,
            tcp_retrans: 300,
            udp_unreplied: 30,
            udp_replied: 120,
            icmp: 30,
            icmpv6: 30,
            generic: 600,
        }
    }
}

impl Timeouts {
    /// The timeout `which`, seconds.
    pub fn get(&self, which: Timeout) -> u32 {
        match which {
            Timeout::Tcp(state) => tcp_timeout(self, state),
            Timeout::TcpUnack => self.tcp_unack,
            Timeout::TcpRetrans => self.tcp_retrans,
            Timeout::UdpUnreplied => self.udp_unreplied,
            Timeout::UdpReplied => self.udp_replied,
            Timeout::Icmp => self.icmp,
            Timeout::Icmpv6 => self.icmpv6,
            Timeout::Generic => self.generic,
        }
    }
}

/// One of the timeouts the trackers apply (the entries of the kernel's
/// per-protocol timeout arrays, `nf_tcp_net.timeouts[]`,
/// `nf_udp_net.timeouts[]`, and the ICMP, ICMPv6 and generic ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// A TCP state's.
    Tcp(TcpState),
    /// `TCP_CONNTRACK_UNACK`.
    TcpUnack,
    /// `TCP_CONNTRACK_RETRANS`.
    TcpRetrans,
    /// `UDP_CT_UNREPLIED`.
    UdpUnreplied,
    /// `UDP_CT_REPLIED`.
    UdpReplied,
    /// ICMP echo.
    Icmp,
    /// ICMPv6 echo.
    Icmpv6,
    /// Protocols tracked by address only.
    Generic,
}

/// Where tracking reads a namespace's settings from, one value at a time
/// (a packet reads only the one or two it needs): [`Settings`], or the
/// namespace's live sysctl variables in the module.
pub trait Config {
    /// The timeout `which`, seconds.
    fn timeout(&self, which: Timeout) -> u32;
    /// The TCP switches (`nf_conntrack_tcp_loose`, ...).
    fn tcp(&self) -> TcpSettings;
}

impl Config for Settings {
    fn timeout(&self, which: Timeout) -> u32 {
        self.timeouts.get(which)
    }

    fn tcp(&self) -> TcpSettings {
        self.tcp
    }
}

/// The timeout of a TCP connection now in `state` after a segment with
/// `caps`, seconds: the first of `nf_conntrack_tcp_packet()`'s conditions
/// that holds and whose timeout is shorter than the state's picks that
/// timeout (too many retransmissions: `max_retrans`; a RST that left it
/// ESTABLISHED: `unacknowledged`; unacknowledged data: `unacknowledged`; a
/// zero window: `max_retrans`), else the state's.
pub fn tcp_timeout_for(cfg: &(impl Config + ?Sized), state: TcpState, caps: TimeoutCaps) -> u32 {
    let own = cfg.timeout(Timeout::Tcp(state));
    let chain = [
        (caps.retrans, Timeout::TcpRetrans),
        (caps.rst_established, Timeout::TcpUnack),
        (caps.unacked, Timeout::TcpUnack),
        (caps.zero_window, Timeout::TcpRetrans),
    ];
    for (hit, which) in chain {
        if hit {
            let cap = cfg.timeout(which);
            if own > cap {
                return cap;
            }
        }
    }
    own
}

/// What a namespace's settings say about tracking (the per-protocol parts
/// of `struct netns_ct` and `struct nf_conntrack_net` that drive it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Settings {
    /// Timeouts, seconds.
    pub timeouts: Timeouts,
    /// The TCP switches.
    pub tcp: TcpSettings,
}

/// Protocol-specific tracking state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoTrack {
    /// TCP state machine.
    Tcp(TcpTrack),
    /// UDP: jiffies after which a replied flow counts as a stream.
    Udp {
        /// `stream_ts`: creation time plus two seconds, in jiffies.
        stream_ts: u64,
    },
    /// ICMP or ICMPv6 echo-like query.
    Icmp,
    /// Tracked by addresses only.
    Generic,
}

/// Why a packet was not tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// This packet cannot open a connection (e.g. a TCP segment without SYN
    /// when pickup is off, an ICMP echo reply with no request).
    CannotOpen,
    /// The packet does not fit the connection's state.
    State,
}

/// The outcome for a packet of an existing connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Tracked, the timeout renewed (the kernel's `nf_ct_refresh_acct()`,
    /// where accounting counts the packet); the packet has this ctinfo.
    Accept(CtInfo),
    /// Accepted with this ctinfo but the connection's timeout left alone and
    /// the packet not counted: a TCP segment the state table or the window
    /// check ignores, or a SYN retransmitted before any reply.
    Ignored(CtInfo),
    /// INVALID; the connection is unchanged.
    Invalid,
    /// The connection is over (a RST before any reply): delete it (the
    /// packet is counted first, `nf_ct_kill_acct()`).
    Kill(CtInfo),
    /// A SYN reopens a closed connection: delete it and track anew.
    Reopen,
}

/// One tracked connection (the part of `struct nf_conn` rnf keeps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conn {
    /// Tuples of the original and the reply direction.
    pub tuple: [Tuple; 2],
    /// `IPS_*` status bits.
    pub status: u32,
    /// When the connection expires, in jiffies.
    pub expires: u64,
    /// Network namespace identifier (the netns inode number).
    pub netns: u32,
    /// The conntrack zone (`nf_conn.zone`): part of the lookup key, with
    /// the tuple and the namespace. [`Conn::new`] gives the default zone;
    /// the tracker sets the packet's.
    pub zone: Zone,
    /// Protocol state.
    pub proto: ProtoTrack,
}

/// Converts seconds to jiffies at `hz` ticks per second, saturating.
pub fn secs_to_jiffies(secs: u32, hz: u32) -> u64 {
    u64::from(secs).saturating_mul(u64::from(hz))
}

impl Conn {
    /// A new, unconfirmed connection for the first packet `p` with tuple `t`,
    /// at time `now` (jiffies), under the namespace's settings `cfg`. Errors
    /// with [`Invalid::CannotOpen`] if this packet cannot open a connection.
    pub fn new(
        t: &Tuple,
        p: &PacketInfo,
        netns: u32,
        now: u64,
        hz: u32,
        cfg: &(impl Config + ?Sized),
    ) -> Result<Conn, Invalid> {
        let (proto, secs) = match p.l4 {
            L4::Tcp { .. } => {
                let seg = tcp_segment(&p.l4).ok_or(Invalid::CannotOpen)?;
                let tcp = cfg.tcp();
                let mut track = TcpTrack::new(&seg, tcp.loose).ok_or(Invalid::CannotOpen)?;
                match track.packet(Direction::Original, &seg, false, false, &tcp) {
                    TcpVerdict::Accept { state, caps, .. } => {
                        let secs = tcp_timeout_for(cfg, state, caps);
                        // A connection picked up mid-stream gets the short timeout.
                        let secs = if state == TcpState::Established { secs.min(cfg.timeout(Timeout::TcpUnack)) } else { secs };
                        (ProtoTrack::Tcp(track), secs)
                    }
                    _ => return Err(Invalid::CannotOpen),
                }
            }
            L4::Udp { .. } => {
                (ProtoTrack::Udp { stream_ts: now.saturating_add(secs_to_jiffies(2, hz)) }, cfg.timeout(Timeout::UdpUnreplied))
            }
            L4::Icmp { icmp_type, .. } => {
                if !icmp_type_is_query(p.l3, icmp_type) {
                    return Err(Invalid::CannotOpen);
                }
                (ProtoTrack::Icmp, cfg.timeout(icmp_timeout(p.l3)))
            }
            L4::Other => (ProtoTrack::Generic, cfg.timeout(Timeout::Generic)),
        };
        Ok(Conn {
            tuple: [*t, t.invert()],
            status: 0,
            expires: now.saturating_add(secs_to_jiffies(secs, hz)),
            netns,
            zone: Zone::DEFAULT,
            proto,
        })
    }

    /// Whether the connection has expired at `now`.
    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires
    }

    /// Whole seconds left before expiry at `now` (what `/proc` prints).
    pub fn remaining_secs(&self, now: u64, hz: u32) -> u64 {
        self.expires.saturating_sub(now) / u64::from(hz.max(1))
    }

    /// Tracks one packet `p` of this connection seen in direction `dir`,
    /// under the namespace's settings `cfg`.
    ///
    /// As in the kernel's `nf_conntrack_in`, the protocol handler sees the
    /// status from before this packet; `IPS_SEEN_REPLY` is set afterwards.
    ///
    /// Inlined into the tracking hook: the UDP, ICMP and generic updates
    /// are a few instructions, less than the frame TCP's needs, which is
    /// a function of its own ([`Conn::packet_tcp`]).
    #[inline(always)]
    pub fn packet(&mut self, dir: Direction, p: &PacketInfo, now: u64, hz: u32, cfg: &(impl Config + ?Sized)) -> Outcome {
        let seen_reply = self.status & IPS_SEEN_REPLY != 0;
        let secs = match (&mut self.proto, p.l4) {
            (ProtoTrack::Tcp(_), L4::Tcp { .. }) => return self.packet_tcp(dir, p, now, hz, cfg),
            (ProtoTrack::Udp { stream_ts }, L4::Udp { .. }) => {
                if seen_reply && now > *stream_ts {
                    // Replied and still active after two seconds: a stream.
                    self.status |= IPS_ASSURED;
                    cfg.timeout(Timeout::UdpReplied)
                } else {
                    cfg.timeout(Timeout::UdpUnreplied)
                }
            }
            (ProtoTrack::Icmp, L4::Icmp { .. }) => cfg.timeout(icmp_timeout(p.l3)),
            (ProtoTrack::Generic, _) => cfg.timeout(Timeout::Generic),
            // The tuple matched but the header kind differs: cannot happen for
            // a well-formed table, so treat it as invalid rather than guess.
            _ => return Outcome::Invalid,
        };
        self.accepted(dir, now, secs, hz)
    }

    /// [`Conn::packet`] for a TCP segment of a TCP connection (`p.l4` is
    /// [`L4::Tcp`]; anything else is [`Outcome::Invalid`]).
    #[inline(never)]
    fn packet_tcp(&mut self, dir: Direction, p: &PacketInfo, now: u64, hz: u32, cfg: &(impl Config + ?Sized)) -> Outcome {
        let seen_reply = self.status & IPS_SEEN_REPLY != 0;
        let ctinfo = self.ctinfo(dir);
        let (ProtoTrack::Tcp(track), L4::Tcp { flags, .. }) = (&mut self.proto, p.l4) else { return Outcome::Invalid };
        let Some(seg) = tcp_segment(&p.l4) else { return Outcome::Invalid };
        let old = track.state;
        let assured = self.status & IPS_ASSURED != 0;
        let secs = match track.packet(dir, &seg, seen_reply, assured, &cfg.tcp()) {
            TcpVerdict::Invalid => return Outcome::Invalid,
            TcpVerdict::Reopen => return Outcome::Reopen,
            TcpVerdict::Ignore => {
                // Accepted all the same: nf_conntrack_in sets
                // SEEN_REPLY for it like for any accepted reply.
                self.mark_reply(dir);
                return Outcome::Ignored(ctinfo);
            }
            TcpVerdict::Accept { state, assured: handshake_done, caps } => {
                let secs = tcp_timeout_for(cfg, state, caps);
                if !seen_reply {
                    if flags.has(TcpFlags::RST) {
                        // The only reply is a RST: no connection.
                        return Outcome::Kill(ctinfo);
                    }
                    if TcpIndex::of(flags) == TcpIndex::Syn && old == TcpState::SynSent {
                        // A SYN retransmit does not renew the timeout.
                        self.mark_reply(dir);
                        return Outcome::Ignored(ctinfo);
                    }
                    if state == TcpState::Established {
                        secs.min(cfg.timeout(Timeout::TcpUnack))
                    } else {
                        secs
                    }
                } else {
                    if handshake_done {
                        self.status |= IPS_ASSURED;
                    }
                    secs
                }
            }
        };
        self.accepted(dir, now, secs, hz)
    }

    /// The end of an accepted packet: the timeout renewed to `secs`
    /// seconds from `now` (jiffies), the reply seen, the packet's ctinfo
    /// (taken from the status before the reply bit, as the kernel's).
    #[inline(always)]
    fn accepted(&mut self, dir: Direction, now: u64, secs: u32, hz: u32) -> Outcome {
        let ctinfo = self.ctinfo(dir);
        self.expires = now.saturating_add(secs_to_jiffies(secs, hz));
        self.mark_reply(dir);
        Outcome::Accept(ctinfo)
    }

    /// The ctinfo of a packet of this connection seen in direction `dir`:
    /// NEW in the original direction until a reply was seen, ESTABLISHED
    /// after, ESTABLISHED reply in the reply direction.
    pub fn ctinfo(&self, dir: Direction) -> CtInfo {
        match dir {
            Direction::Reply => CtInfo::EstablishedReply,
            Direction::Original if self.status & IPS_SEEN_REPLY != 0 => CtInfo::Established,
            Direction::Original => CtInfo::New,
        }
    }

    fn mark_reply(&mut self, dir: Direction) {
        if dir == Direction::Reply {
            self.status |= IPS_SEEN_REPLY;
        }
    }

    /// `nf_conntrack_tcp_set_closing()`: the host answered this TCP
    /// connection with a reset (a REJECT), so it moves to CLOSE with that
    /// state's timeout; one already in CLOSE, or another protocol, is left
    /// as it is.
    pub fn set_closing(&mut self, now: u64, hz: u32, cfg: &(impl Config + ?Sized)) {
        if let ProtoTrack::Tcp(track) = &mut self.proto {
            if track.state != TcpState::Close {
                track.state = TcpState::Close;
                self.expires = now.saturating_add(secs_to_jiffies(cfg.timeout(Timeout::Tcp(TcpState::Close)), hz));
            }
        }
    }

    /// The TCP state, if this is a TCP connection.
    pub fn tcp_state(&self) -> Option<TcpState> {
        match self.proto {
            ProtoTrack::Tcp(t) => Some(t.state),
            _ => None,
        }
    }
}

fn icmp_timeout(l3: crate::packet::L3Proto) -> Timeout {
    match l3 {
        crate::packet::L3Proto::Ipv4 => Timeout::Icmp,
        crate::packet::L3Proto::Ipv6 => Timeout::Icmpv6,
    }
}

/// The TCP segment of a parsed TCP header.
fn tcp_segment(l4: &L4) -> Option<TcpSegment> {
    match *l4 {
        L4::Tcp { seq, ack, flags, window, payload_len, opts, .. } => {
            Some(TcpSegment { seq, ack, window, flags, payload_len, opts })
        }
        _ => None,
    }
}

fn tcp_timeout(tmo: &Timeouts, s: TcpState) -> u32 {
    tmo.tcp.get(s as usize).copied().unwrap_or(0)
}
