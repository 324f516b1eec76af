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

use crate::conn::Direction;
use crate::packet::TcpFlags;

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

/// Per-connection TCP tracking state (a subset of `struct ip_ct_tcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpTrack {
    /// Current state.
    pub state: TcpState,
    /// Class of the last in-window segment.
    pub last_index: TcpIndex,
    /// Direction of the last in-window segment.
    pub last_dir: Direction,
    /// `IP_CT_TCP_FLAG_CLOSE_INIT` per direction: this side sent the first FIN.
    pub close_init: [bool; 2],
    /// Simultaneous open seen (`IP_CT_TCP_SIMULTANEOUS_OPEN`).
    pub simultaneous_open: bool,
}

/// What tracking a TCP segment decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpVerdict {
    /// Accepted; the connection is now in `state`.
    Accept {
        /// The new state.
        state: TcpState,
        /// The handshake just completed: mark the connection ASSURED.
        assured: bool,
    },
    /// Accepted without changing the state (`sIG`).
    Ignore,
    /// INVALID: the state does not change.
    Invalid,
    /// A SYN re-opens a closed or aborted connection: delete the old entry
    /// and track the packet as new (`-NF_REPEAT` in the kernel).
    Reopen,
}

impl TcpTrack {
    /// The state of a new connection whose first segment has `flags`, or
    /// `None` if such a segment cannot open one (`tcp_new`). A SYN opens in
    /// SYN_SENT; with `loose` (the kernel's `nf_conntrack_tcp_loose`, default
    /// on) an ACK picks up an established connection mid-stream.
    pub fn new(flags: TcpFlags, loose: bool) -> Option<TcpTrack> {
        let index = TcpIndex::of(flags);
        let state = match transition(Direction::Original, index, TcpState::None) {
            To(TcpState::SynSent) => TcpState::SynSent,
            To(_) if loose => TcpState::Established,
            _ => return None,
        };
        Some(TcpTrack {
            state,
            last_index: index,
            last_dir: Direction::Original,
            close_init: [false; 2],
            simultaneous_open: false,
        })
    }

    /// Tracks one segment of an existing connection seen in direction `dir`
    /// (the body of `nf_conntrack_tcp_packet` without window tracking).
    pub fn packet(&mut self, dir: Direction, flags: TcpFlags, assured: bool) -> TcpVerdict {
        let old = self.state;
        let index = TcpIndex::of(flags);
        let mut new = match transition(dir, index, old) {
            IV => return TcpVerdict::Invalid,
            IG => return TcpVerdict::Ignore,
            To(s) => s,
        };
        match new {
            TcpState::SynSent if old >= TcpState::TimeWait => {
                let closing = self.close_init[0] || self.close_init[1];
                let aborted = self.last_dir == dir && self.last_index == TcpIndex::Rst;
                if closing || aborted {
                    return TcpVerdict::Reopen;
                }
                return TcpVerdict::Ignore;
            }
            TcpState::SynSent => {}
            TcpState::SynSent2 => self.simultaneous_open = true,
            TcpState::SynRecv if dir == Direction::Reply && index == TcpIndex::Ack && self.simultaneous_open => {
                new = TcpState::Established;
            }
            _ => {}
        }
        self.last_index = index;
        self.last_dir = dir;
        self.state = new;
        if old != new && new == TcpState::FinWait {
            self.close_init[dir as usize & 1] = true;
        }
        let handshake_done = !assured
            && matches!(old, TcpState::SynRecv | TcpState::Established)
            && new == TcpState::Established;
        TcpVerdict::Accept { state: new, assured: handshake_done }
    }
}
