// SPDX-License-Identifier: GPL-2.0
//! TCP connection states and transitions.
//!
//! The transition table is the kernel's `tcp_conntracks` from
//! net/netfilter/nf_conntrack_proto_tcp.c (6.12), with the same state order
//! as `enum tcp_conntrack` (include/uapi/linux/netfilter/nf_conntrack_tcp.h),
//! so state numbers and names match `/proc/net/nf_conntrack`.
//!
//! Not yet here (see issue "Connection tracking with the semantics of
//! nf_conntrack"): window tracking (`tcp_in_window`), the RST sequence check,
//! and resynchronisation from ignored packets. Until then a packet the table
//! marks "ignore" is accepted without changing the state.

use crate::conntrack::conn::Direction;
use crate::packet::{after, before, TcpFlags, TcpOptions};

/// Whether a segment's flags are a combination the kernel's `tcp_error()`
/// accepts (`tcp_valid_flags`, with ECE, CWR and PSH ignored): SYN,
/// SYN+URG, SYN+ACK, RST, RST+ACK, FIN+ACK, FIN+ACK+URG, ACK, ACK+URG.
/// Any other (SYN+FIN, no flags, FIN alone, ...) is INVALID, for a new
/// connection and an existing one alike, and changes no state.
pub fn valid_flags(flags: TcpFlags) -> bool {
    const FIN: u8 = TcpFlags::FIN;
    const SYN: u8 = TcpFlags::SYN;
    const RST: u8 = TcpFlags::RST;
    const ACK: u8 = TcpFlags::ACK;
    const URG: u8 = 0x20;
    const IGNORED: u8 = 0x40 | 0x80 | TcpFlags::PSH;
    const VALID: [u8; 9] = [SYN, SYN | URG, SYN | ACK, RST, RST | ACK, FIN | ACK, FIN | ACK | URG, ACK, ACK | URG];
    VALID.contains(&(flags.0 & !IGNORED))
}

/// `enum tcp_conntrack`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum TcpState {
    None = 0,
    SynSent = 1,
    SynRecv = 2,
    Established = 3,
    FinWait = 4,
    CloseWait = 5,
    LastAck = 6,
    TimeWait = 7,
    Close = 8,
    SynSent2 = 9,
}

/// Number of real TCP states (`TCP_CONNTRACK_MAX`).
pub const TCP_STATES: usize = 10;

impl TcpState {
    /// All states in numeric order.
    pub const ALL: [TcpState; TCP_STATES] = [
        TcpState::None,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::Established,
        TcpState::FinWait,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::SynSent2,
    ];

    /// The name `/proc/net/nf_conntrack` prints (`tcp_conntrack_names`).
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }

    /// Default timeout of the state in seconds (`tcp_timeouts`).
    pub fn default_timeout_secs(self) -> u32 {
        match self {
            TcpState::None => 0,
            TcpState::SynSent | TcpState::SynSent2 => 120,
            TcpState::SynRecv => 60,
            TcpState::Established => 5 * 24 * 3600,
            TcpState::FinWait | TcpState::TimeWait => 120,
            TcpState::CloseWait => 60,
            TcpState::LastAck => 30,
            TcpState::Close => 10,
        }
    }
}

/// The row of the transition table a segment selects (`get_conntrack_index`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum TcpIndex {
    Syn = 0,
    SynAck = 1,
    Fin = 2,
    Ack = 3,
    Rst = 4,
    None = 5,
}

impl TcpIndex {
    /// Classifies a segment by its flags, RST first, as the kernel does.
    pub fn of(flags: TcpFlags) -> TcpIndex {
        if flags.has(TcpFlags::RST) {
            TcpIndex::Rst
        } else if flags.has(TcpFlags::SYN) {
            if flags.has(TcpFlags::ACK) {
                TcpIndex::SynAck
            } else {
                TcpIndex::Syn
            }
        } else if flags.has(TcpFlags::FIN) {
            TcpIndex::Fin
        } else if flags.has(TcpFlags::ACK) {
            TcpIndex::Ack
        } else {
            TcpIndex::None
        }
    }
}

/// An entry of the transition table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Move to this state.
    To(TcpState),
    /// `sIG`: the packet may be valid but we are out of sync; accept it
    /// without changing state.
    Ignore,
    /// `sIV`: invalid in this state.
    Invalid,
}

use TcpState::{
    Close as CL, CloseWait as CW, Established as ES, FinWait as FW, LastAck as LA,
    SynRecv as SR, SynSent as SS, SynSent2 as S2, TimeWait as TW,
};
use Transition::{Ignore as IG, Invalid as IV, To};

const fn t(s: TcpState) -> Transition {
    To(s)
}

/// `tcp_conntracks[dir][index][state]`, transcribed from the kernel.
/// Columns: sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2.
#[rustfmt::skip]
static TABLE: [[[Transition; TCP_STATES]; 6]; 2] = [
    // ORIGINAL
    [
        /*syn*/    [t(SS), t(SS), IG,    IG,    IG,    IG,    IG,    t(SS), t(SS), t(S2)],
        /*synack*/ [IV,    IV,    t(SR), IV,    IV,    IV,    IV,    IV,    IV,    t(SR)],
        /*fin*/    [IV,    IV,    t(FW), t(FW), t(LA), t(LA), t(LA), t(TW), t(CL), IV   ],
        /*ack*/    [t(ES), IV,    t(ES), t(ES), t(CW), t(CW), t(TW), t(TW), t(CL), IV   ],
        /*rst*/    [IV,    t(CL), t(CL), t(CL), t(CL), t(CL), t(CL), t(CL), t(CL), t(CL)],
        /*none*/   [IV,    IV,    IV,    IV,    IV,    IV,    IV,    IV,    IV,    IV   ],
    ],
    // REPLY
    [
        /*syn*/    [IV,    t(S2), IV,    IV,    IV,    IV,    IV,    t(SS), IV,    t(S2)],
        /*synack*/ [IV,    t(SR), IG,    IG,    IG,    IG,    IG,    IG,    IG,    t(SR)],
        /*fin*/    [IV,    IV,    t(FW), t(FW), t(LA), t(LA), t(LA), t(TW), t(CL), IV   ],
        /*ack*/    [IV,    IG,    t(SR), t(ES), t(CW), t(CW), t(TW), t(TW), t(CL), IG   ],
        /*rst*/    [IV,    t(CL), t(CL), t(CL), t(CL), t(CL), t(CL), t(CL), t(CL), t(CL)],
        /*none*/   [IV,    IV,    IV,    IV,    IV,    IV,    IV,    IV,    IV,    IV   ],
    ],
];

/// Looks up the table: the transition for a segment of class `index` seen in
/// direction `dir` while the connection is in state `old`.
pub fn transition(dir: Direction, index: TcpIndex, old: TcpState) -> Transition {
    // All three indices are enums whose values are below the array sizes;
    // `get` keeps that a checked fact rather than a promise.
    TABLE
        .get(dir as usize)
        .and_then(|d| d.get(index as usize))
        .and_then(|r| r.get(old as usize))
        .copied()
        .unwrap_or(IV)
}

/// `IP_CT_TCP_FLAG_*` bits of a [`TcpPeer`] (nf_conntrack_tcp.h).
pub mod peer_flags {
    /// The peer sent the window scale option.
    pub const WINDOW_SCALE: u8 = 0x01;
    /// The peer sent SACK-permitted.
    pub const SACK_PERM: u8 = 0x02;
    /// The peer sent the first FIN.
    pub const CLOSE_INIT: u8 = 0x04;
    /// Do not check this peer's segments against the window.
    pub const BE_LIBERAL: u8 = 0x08;
    /// The peer has data not yet acknowledged.
    pub const DATA_UNACKNOWLEDGED: u8 = 0x10;
    /// `td_maxack` holds a value.
    pub const MAXACK_SET: u8 = 0x20;
}
use peer_flags::*;

/// `IP_CT_EXP_CHALLENGE_ACK`: a SYN in LAST_ACK may draw an RFC 5961 ACK.
const EXP_CHALLENGE_ACK: u8 = 0x40;
/// `IP_CT_TCP_SIMULTANEOUS_OPEN`.
const SIMULTANEOUS_OPEN: u8 = 0x80;
/// `MAXACKWINCONST`: the least window the ACK lower bound allows, bytes.
const MAXACKWINCONST: u32 = 66000;
/// The per-namespace TCP settings (`struct nf_tcp_net` in
/// include/net/netns/conntrack.h besides the timeouts), as the
/// `net.netfilter.nf_conntrack_tcp_*` sysctls set them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSettings {
    /// `nf_conntrack_tcp_loose` (default on): a segment other than a SYN
    /// may open a connection, picked up mid-stream with liberal window
    /// checks.
    pub loose: bool,
    /// `nf_conntrack_tcp_be_liberal` (default off): segments outside the
    /// window are accepted, not INVALID (only the RST checks remain).
    pub be_liberal: bool,
    /// `nf_conntrack_tcp_ignore_invalid_rst` (default off): a RST below the
    /// peer's highest ACK is not INVALID.
    pub ignore_invalid_rst: bool,
    /// `nf_conntrack_tcp_max_retrans` (default 3): identical ACKs in a row
    /// after which the connection gets the `max_retrans` timeout.
    pub max_retrans: u8,
}

impl Default for TcpSettings {
    /// The kernel's defaults (`nf_tcp_init_net()`).
    fn default() -> Self {
        TcpSettings { loose: true, be_liberal: false, ignore_invalid_rst: false, max_retrans: 3 }
    }
}

/// Why an accepted segment may shorten the connection's timeout: the
/// conditions `nf_conntrack_tcp_packet()` tests, in its order, before it
/// settles on the state's own timeout (see
/// [`crate::conntrack::conn::tcp_timeout_for`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TimeoutCaps {
    /// `retrans >= tcp_max_retrans`: capped by `tcp_timeout_max_retrans`.
    pub retrans: bool,
    /// A RST that left the connection ESTABLISHED: capped by
    /// `tcp_timeout_unacknowledged`.
    pub rst_established: bool,
    /// Data not yet acknowledged: capped by `tcp_timeout_unacknowledged`.
    pub unacked: bool,
    /// The last segment advertised a zero window: capped by
    /// `tcp_timeout_max_retrans`.
    pub zero_window: bool,
}

/// Window tracking state of one direction (`struct ip_ct_tcp_state`).
/// Sequence numbers in host order; windows in bytes after scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpPeer {
    /// Highest sequence number sent plus one (`td_end`).
    pub td_end: u32,
    /// Highest acceptable right edge of the peer's sends (`td_maxend`).
    pub td_maxend: u32,
    /// Largest window the peer advertised (`td_maxwin`).
    pub td_maxwin: u32,
    /// Highest ACK the peer sent (`td_maxack`, valid with `MAXACK_SET`).
    pub td_maxack: u32,
    /// Window scale shift.
    pub td_scale: u8,
    /// [`peer_flags`] bits.
    pub flags: u8,
}

impl TcpPeer {
    /// `nf_ct_tcp_state_reset()`.
    fn reset(&mut self) {
        *self = TcpPeer { flags: self.flags & BE_LIBERAL, ..TcpPeer::default() };
    }

    /// `tcp_options()`: window scale and SACK-permitted from a segment.
    fn take_options(&mut self, o: &TcpOptions) {
        if !o.present {
            return;
        }
        self.td_scale = 0;
        self.flags &= BE_LIBERAL;
        if o.sack_perm {
            self.flags |= SACK_PERM;
        }
        if let Some(s) = o.wscale {
            self.td_scale = s;
            self.flags |= WINDOW_SCALE;
        }
    }

    /// `MAXACKWINDOW()`.
    fn max_ack_window(&self) -> u32 {
        self.td_maxwin.max(MAXACKWINCONST)
    }
}

/// A TCP segment as tracking sees it (host order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Window field, unscaled.
    pub window: u16,
    /// Flags.
    pub flags: TcpFlags,
    /// Payload length in bytes.
    pub payload_len: u32,
    /// Options.
    pub opts: TcpOptions,
}

impl TcpSegment {
    /// `segment_seq_plus_len()`: the sequence number after this segment
    /// (SYN and FIN count one each).
    pub fn end(&self) -> u32 {
        let syn = u32::from(self.flags.has(TcpFlags::SYN));
        let fin = u32::from(self.flags.has(TcpFlags::FIN));
        self.seq.wrapping_add(self.payload_len).wrapping_add(syn).wrapping_add(fin)
    }

    fn has(&self, f: u8) -> bool {
        self.flags.has(f)
    }
}

/// Per-connection TCP tracking state (`struct ip_ct_tcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpTrack {
    /// Current state.
    pub state: TcpState,
    /// Window state of the original and the reply direction.
    pub seen: [TcpPeer; 2],
    /// Class of the last in-window (or annotated) segment.
    pub last_index: TcpIndex,
    /// Its direction.
    pub last_dir: Direction,
    /// Its sequence number.
    pub last_seq: u32,
    /// Its acknowledgment number.
    pub last_ack: u32,
    /// Its end (`segment_seq_plus_len`).
    pub last_end: u32,
    /// Its raw window.
    pub last_win: u16,
    /// Window scale of an ignored SYN, for resynchronisation.
    pub last_wscale: u8,
    /// Flags of an ignored SYN plus `EXP_CHALLENGE_ACK`/`SIMULTANEOUS_OPEN`.
    pub last_flags: u8,
    /// Identical ACKs seen in a row.
    pub retrans: u8,
}

/// What tracking a TCP segment decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpVerdict {
    /// Accepted; the connection is now in `state`.
    Accept {
        /// The new state.
        state: TcpState,
        /// The handshake just completed: mark the connection ASSURED (the
        /// caller does, if a reply has been seen).
        assured: bool,
        /// What may shorten the timeout of `state`.
        caps: TimeoutCaps,
    },
    /// Accepted without changing the state (`sIG`, or outside the window
    /// in a way the kernel tolerates).
    Ignore,
    /// INVALID: the state does not change.
    Invalid,
    /// A SYN re-opens a closed or aborted connection: delete the old entry
    /// and track the packet as new (`-NF_REPEAT` in the kernel).
    Reopen,
}

enum WindowCheck {
    Accept,
    Ignore,
    Invalid,
}

impl TcpTrack {
    /// The tracking state of a new connection whose first segment is `seg`,
    /// or `None` if it cannot open one (`tcp_new`): a SYN, or with `loose`
    /// (`nf_conntrack_tcp_loose`, default on) another segment picking up an
    /// established connection with liberal window checks. The state is
    /// still NONE: run `seg` through [`TcpTrack::packet`] next, as the kernel
    /// runs `tcp_packet` for the first segment too.
    pub fn new(seg: &TcpSegment, loose: bool) -> Option<TcpTrack> {
        let index = TcpIndex::of(seg.flags);
        let mut t = TcpTrack {
            state: TcpState::None,
            seen: [TcpPeer::default(); 2],
            last_index: TcpIndex::None,
            last_dir: Direction::Original,
            last_seq: 0,
            last_ack: 0,
            last_end: 0,
            last_win: 0,
            last_wscale: 0,
            last_flags: 0,
            retrans: 0,
        };
        let end = seg.end();
        let win = u32::from(seg.window).max(1);
        match transition(Direction::Original, index, TcpState::None) {
            To(TcpState::SynSent) => {
                t.seen[0] = TcpPeer { td_end: end, td_maxend: end, td_maxwin: win, ..TcpPeer::default() };
                t.seen[0].take_options(&seg.opts);
            }
            To(_) if loose => {
                t.seen[0] = TcpPeer {
                    td_end: end,
                    td_maxend: end.wrapping_add(win),
                    td_maxwin: win,
                    flags: SACK_PERM | BE_LIBERAL,
                    ..TcpPeer::default()
                };
                t.seen[1].flags = SACK_PERM | BE_LIBERAL;
            }
            _ => return None,
        }
        Some(t)
    }

    fn is_established(&self, assured: bool) -> bool {
        self.state == TcpState::Established && assured
    }

    /// `tcp_can_early_drop()`: closing states.
    fn closing(&self) -> bool {
        matches!(
            self.state,
            TcpState::FinWait | TcpState::LastAck | TcpState::TimeWait | TcpState::Close | TcpState::CloseWait
        )
    }

    /// Tracks one segment seen in direction `dir` (`nf_conntrack_tcp_packet`)
    /// under the namespace's settings `cfg`. `seen_reply` and `assured` are
    /// the connection's status before it.
    pub fn packet(
        &mut self,
        dir: Direction,
        seg: &TcpSegment,
        seen_reply: bool,
        assured: bool,
        cfg: &TcpSettings,
    ) -> TcpVerdict {
        let d = dir as usize & 1;
        let od = d ^ 1;
        let index = TcpIndex::of(seg.flags);
        let mut old = self.state;
        let mut check_window = true;
        let new = match transition(dir, index, old) {
            IV => return TcpVerdict::Invalid,
            IG => match self.ignored(dir, index, seg, old) {
                Some(resynced) => {
                    old = TcpState::SynSent;
                    resynced
                }
                None => return TcpVerdict::Ignore,
            },
            To(TcpState::SynSent) if old >= TcpState::TimeWait => {
                let closing = (self.seen[d].flags | self.seen[od].flags) & CLOSE_INIT != 0;
                let aborted = self.last_dir == dir && self.last_index == TcpIndex::Rst;
                if closing || aborted {
                    return TcpVerdict::Reopen;
                }
                // The kernel falls through to the "ignore" handling; a SYN
                // cannot resynchronise, so this only annotates.
                let _ = self.ignored(dir, index, seg, old);
                return TcpVerdict::Ignore;
            }
            To(TcpState::TimeWait)
                if old == TcpState::LastAck
                    && index == TcpIndex::Ack
                    && self.last_dir != dir
                    && self.last_index == TcpIndex::Syn
                    && self.last_flags & EXP_CHALLENGE_ACK != 0 =>
            {
                // An RFC 5961 challenge ACK does not acknowledge the last FIN.
                self.last_flags &= !EXP_CHALLENGE_ACK;
                return TcpVerdict::Ignore;
            }
            To(TcpState::SynSent2) => {
                self.last_flags |= SIMULTANEOUS_OPEN;
                TcpState::SynSent2
            }
            To(TcpState::SynRecv)
                if dir == Direction::Reply && index == TcpIndex::Ack && self.last_flags & SIMULTANEOUS_OPEN != 0 =>
            {
                TcpState::Established
            }
            To(TcpState::Close) if index == TcpIndex::Rst => {
                if self.closing() {
                    check_window = false;
                } else {
                    let mut new = TcpState::Close;
                    if self.seen[od].flags & MAXACK_SET != 0 && self.last_index != TcpIndex::Syn {
                        let seq = seg.seq;
                        let maxack = self.seen[od].td_maxack;
                        if seq == 0 && !self.is_established(assured) {
                            // Probably the answer to a SYN we let through.
                        } else if before(seq, maxack) && !cfg.ignore_invalid_rst {
                            return TcpVerdict::Invalid;
                        } else if !self.is_established(assured) || seq == maxack {
                            // The exact RST: close.
                        } else if self.last_index == TcpIndex::Ack && self.last_dir == dir && seq == self.last_end {
                            // A RST right after data in the same direction.
                        } else {
                            // Not exact: keep the state for a challenge ACK
                            // (the timeout is capped: a RST in ESTABLISHED).
                            new = old;
                        }
                    }
                    let rst_to_let_through = ((seen_reply
                        && self.last_index == TcpIndex::Syn
                        && self.last_dir != dir)
                        || (!assured && self.last_index == TcpIndex::Ack))
                        && seg.ack == self.last_end;
                    let rst_to_challenge = old == TcpState::SynSent
                        && self.last_index == TcpIndex::Ack
                        && self.last_dir == Direction::Reply
                        && seg.seq == self.last_ack;
                    if rst_to_let_through || rst_to_challenge {
                        check_window = false;
                    }
                    return self.finish(dir, index, seg, old, new, assured, check_window, cfg);
                }
                TcpState::Close
            }
            To(s) => s,
        };
        self.finish(dir, index, seg, old, new, assured, check_window, cfg)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        dir: Direction,
        index: TcpIndex,
        seg: &TcpSegment,
        old: TcpState,
        new: TcpState,
        assured: bool,
        check_window: bool,
        cfg: &TcpSettings,
    ) -> TcpVerdict {
        if check_window {
            match self.in_window(dir, index, seg, cfg.be_liberal) {
                WindowCheck::Accept => {}
                WindowCheck::Ignore => return TcpVerdict::Ignore,
                WindowCheck::Invalid => return TcpVerdict::Invalid,
            }
        }
        let d = dir as usize & 1;
        self.last_index = index;
        self.last_dir = dir;
        self.state = new;
        if old != new && new == TcpState::FinWait {
            self.seen[d].flags |= CLOSE_INIT;
        }
        let unacked = (self.seen[0].flags | self.seen[1].flags) & DATA_UNACKNOWLEDGED != 0;
        let caps = TimeoutCaps {
            retrans: self.retrans >= cfg.max_retrans,
            rst_established: index == TcpIndex::Rst && new == TcpState::Established,
            unacked,
            zero_window: self.last_win == 0,
        };
        let handshake_done =
            !assured && matches!(old, TcpState::SynRecv | TcpState::Established) && new == TcpState::Established;
        TcpVerdict::Accept { state: new, assured: handshake_done, caps }
    }

    /// The "ignored packet" handling of `nf_conntrack_tcp_packet`: either
    /// resynchronises on a SYN/ACK that answers a SYN we ignored (returns the
    /// new state, SYN_RECV) or annotates the packet and returns `None`.
    fn ignored(&mut self, dir: Direction, index: TcpIndex, seg: &TcpSegment, old: TcpState) -> Option<TcpState> {
        let d = dir as usize & 1;
        let ld = self.last_dir as usize & 1;
        if index == TcpIndex::SynAck
            && self.last_index == TcpIndex::Syn
            && self.last_dir != dir
            && seg.ack == self.last_end
        {
            // Client and server are in sync; we get in sync from the SYN.
            let p = &mut self.seen[ld];
            p.td_end = self.last_end;
            p.td_maxend = self.last_end;
            p.td_maxwin = u32::from(self.last_win).max(1);
            p.td_scale = self.last_wscale;
            self.last_flags &= !EXP_CHALLENGE_ACK;
            p.flags = self.last_flags;
            self.seen[d].reset();
            return Some(TcpState::SynRecv);
        }
        self.last_index = index;
        self.last_dir = dir;
        self.last_seq = seg.seq;
        self.last_end = seg.end();
        self.last_win = seg.window;
        if index == TcpIndex::Syn && dir == Direction::Original {
            self.last_flags = 0;
            self.last_wscale = 0;
            if let Some(s) = seg.opts.wscale {
                self.last_flags |= WINDOW_SCALE;
                self.last_wscale = s;
            }
            if seg.opts.sack_perm {
                self.last_flags |= SACK_PERM;
            }
            if old == TcpState::LastAck {
                self.last_flags |= EXP_CHALLENGE_ACK;
            }
        }
        if old == TcpState::SynSent && index == TcpIndex::Ack && dir == Direction::Reply {
            self.last_ack = seg.ack;
        }
        None
    }

    /// `tcp_init_sender()`: a SYN (or SYN/ACK) sets the sender's window up.
    fn init_sender(&mut self, dir: Direction, seg: &TcpSegment, end: u32, win: u32) {
        let d = dir as usize & 1;
        let s = &mut self.seen[d];
        s.td_end = end;
        s.td_maxend = end;
        s.td_maxwin = win.max(1);
        s.take_options(&seg.opts);
        // RFC 7323: scaling only if both sides sent the option.
        let both = self.seen[0].flags & self.seen[1].flags & WINDOW_SCALE != 0;
        if dir == Direction::Reply && !both {
            self.seen[0].td_scale = 0;
            self.seen[1].td_scale = 0;
        }
    }

    /// `tcp_in_window()` without NAT sequence adjustment: whether the segment
    /// fits the windows seen so far; updates them when it does. With
    /// `be_liberal` (`nf_conntrack_tcp_be_liberal`), as for a peer flagged
    /// liberal, what would be ignored or invalid is accepted
    /// (`nf_tcp_store_invalid()`).
    fn in_window(&mut self, dir: Direction, index: TcpIndex, seg: &TcpSegment, be_liberal: bool) -> WindowCheck {
        let d = dir as usize & 1;
        let r = d ^ 1;
        let mut seq = seg.seq;
        let mut ack = seg.ack;
        let mut sack = ack;
        let mut win = u32::from(seg.window);
        let mut end = seg.end();
        if self.seen[r].flags & SACK_PERM != 0 {
            if let Some(right) = seg.opts.sack_right {
                if after(right, sack) {
                    sack = right;
                }
            }
        }
        if self.seen[d].td_maxwin == 0 {
            // First segment in this direction.
            if seg.has(TcpFlags::SYN) {
                self.init_sender(dir, seg, end, win);
                if !seg.has(TcpFlags::ACK) {
                    return WindowCheck::Accept; // simultaneous open
                }
            } else {
                // Picked up mid-stream or a lost SYN/ACK: trust this segment.
                let s = &mut self.seen[d];
                s.td_end = end;
                let swin = win.wrapping_shl(u32::from(s.td_scale));
                s.td_maxwin = swin.max(1);
                s.td_maxend = end.wrapping_add(s.td_maxwin);
                let rcv = &mut self.seen[r];
                if rcv.td_maxwin == 0 {
                    rcv.td_end = sack;
                    rcv.td_maxend = sack;
                } else if sack == rcv.td_end.wrapping_add(1) {
                    rcv.td_end = rcv.td_end.wrapping_add(1); // keepalive reply
                }
            }
        } else if seg.has(TcpFlags::SYN)
            && after(end, self.seen[d].td_end)
            && matches!(self.state, TcpState::SynSent | TcpState::SynRecv)
        {
            // A SYN retransmitted with a new sequence number.
            self.init_sender(dir, seg, end, win);
            if dir == Direction::Reply && !seg.has(TcpFlags::ACK) {
                return WindowCheck::Accept;
            }
        }
        if !seg.has(TcpFlags::ACK) || (seg.has(TcpFlags::ACK | TcpFlags::RST) && ack == 0) {
            ack = self.seen[r].td_end;
            sack = ack;
        }
        if seg.has(TcpFlags::RST) && seq == 0 && self.state == TcpState::SynSent {
            // RST answering a SYN: the sequence number is the ACK.
            seq = self.seen[d].td_end;
            end = seq;
        }
        let liberal = self.seen[d].flags & BE_LIBERAL != 0 || be_liberal;
        let verdict = |v: WindowCheck| if liberal { WindowCheck::Accept } else { v };
        let (snd, rcv) = (self.seen[d], self.seen[r]);
        if !before(seq, snd.td_maxend.wrapping_add(1)) {
            let overshot = end.wrapping_sub(snd.td_maxend).wrapping_add(1);
            let ack_ok = after(sack, rcv.td_end.wrapping_sub(snd.max_ack_window()).wrapping_sub(1));
            let in_recv_win =
                rcv.td_maxwin != 0 && after(end, snd.td_end.wrapping_sub(rcv.td_maxwin).wrapping_sub(1));
            if in_recv_win && ack_ok && overshot <= rcv.td_maxwin && before(sack, rcv.td_end.wrapping_add(1)) {
                // Peers that send more than the window allows.
                self.seen[d].td_end = end;
                self.seen[d].flags |= DATA_UNACKNOWLEDGED;
                return verdict(WindowCheck::Ignore);
            }
            return verdict(WindowCheck::Invalid); // SEQ over the receiver's window
        }
        if !before(sack, rcv.td_end.wrapping_add(1)) {
            return verdict(WindowCheck::Invalid); // ACK for data not seen
        }
        let in_recv_win =
            rcv.td_maxwin == 0 || after(end, snd.td_end.wrapping_sub(rcv.td_maxwin).wrapping_sub(1));
        if !in_recv_win {
            return verdict(WindowCheck::Ignore); // retransmission of acked data
        }
        if !after(sack, rcv.td_end.wrapping_sub(snd.max_ack_window()).wrapping_sub(1)) {
            return verdict(WindowCheck::Ignore); // ACK far below the window
        }
        if !seg.has(TcpFlags::SYN) {
            win = win.wrapping_shl(u32::from(snd.td_scale));
        }
        let swin = win.wrapping_add(sack.wrapping_sub(ack));
        let s = &mut self.seen[d];
        if s.td_maxwin < swin {
            s.td_maxwin = swin;
        }
        if after(end, s.td_end) {
            s.td_end = end;
            s.flags |= DATA_UNACKNOWLEDGED;
        }
        if seg.has(TcpFlags::ACK) {
            if s.flags & MAXACK_SET == 0 {
                s.td_maxack = ack;
                s.flags |= MAXACK_SET;
            } else if after(ack, s.td_maxack) {
                s.td_maxack = ack;
            }
        }
        let s_maxend = s.td_maxend;
        let rv = &mut self.seen[r];
        if rv.td_maxwin != 0 && after(end, s_maxend) {
            rv.td_maxwin = rv.td_maxwin.wrapping_add(end.wrapping_sub(s_maxend));
        }
        if after(sack.wrapping_add(win), rv.td_maxend.wrapping_sub(1)) {
            rv.td_maxend = sack.wrapping_add(win);
            if win == 0 {
                rv.td_maxend = rv.td_maxend.wrapping_add(1);
            }
        }
        if ack == rv.td_end {
            rv.flags &= !DATA_UNACKNOWLEDGED;
        }
        if index == TcpIndex::Ack {
            let same = self.last_dir == dir
                && self.last_seq == seq
                && self.last_ack == ack
                && self.last_end == end
                && self.last_win == seg.window;
            if same {
                self.retrans = self.retrans.saturating_add(1);
            } else {
                self.last_dir = dir;
                self.last_seq = seq;
                self.last_ack = ack;
                self.last_end = end;
                self.last_win = seg.window;
                self.retrans = 0;
            }
        }
        WindowCheck::Accept
    }
}

#[cfg(test)]
mod flag_tests {
    use super::*;

    #[test]
    fn valid_flags_are_tcp_valid_flags() {
        // The kernel's table, every combination of FIN SYN RST ACK URG.
        let valid = [0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30];
        for f in 0u8..0x40 {
            // ECE, CWR and PSH (0x08) change nothing.
            let want = valid.contains(&(f & !0x08));
            assert_eq!(valid_flags(TcpFlags(f)), want, "flags {f:#x}");
            assert_eq!(valid_flags(TcpFlags(f | 0xc8)), want, "flags {f:#x}");
        }
        // The corpus cases tcp-syn-fin, tcp-no-flags, tcp-xmas.
        assert!(!valid_flags(TcpFlags(0x03)) && !valid_flags(TcpFlags(0)) && !valid_flags(TcpFlags(0x3f)));
    }
}
