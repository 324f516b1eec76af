// SPDX-License-Identifier: GPL-2.0
//! The kernel's TCP conntrack transition table, transcribed on its own from
//! `tcp_conntracks[2][6][TCP_CONNTRACK_MAX]` in
//! net/netfilter/nf_conntrack_proto_tcp.c (6.12), and the exceptions
//! `nf_conntrack_tcp_packet()` makes to it, as the oracle of the conntrack
//! fuzz target. Deliberately not rnf_core's table: a transcription error
//! there must show up here.

/// State numbers of `enum tcp_conntrack` (sNO .. sS2).
pub const NO: u8 = 0;
/// `TCP_CONNTRACK_SYN_SENT`.
pub const SS: u8 = 1;
/// `TCP_CONNTRACK_SYN_RECV`.
pub const SR: u8 = 2;
/// `TCP_CONNTRACK_ESTABLISHED`.
pub const ES: u8 = 3;
/// `TCP_CONNTRACK_FIN_WAIT`.
pub const FW: u8 = 4;
/// `TCP_CONNTRACK_CLOSE_WAIT`.
pub const CW: u8 = 5;
/// `TCP_CONNTRACK_LAST_ACK`.
pub const LA: u8 = 6;
/// `TCP_CONNTRACK_TIME_WAIT`.
pub const TW: u8 = 7;
/// `TCP_CONNTRACK_CLOSE`.
pub const CL: u8 = 8;
/// `TCP_CONNTRACK_SYN_SENT2`.
pub const S2: u8 = 9;
/// `sIV`: invalid.
pub const IV: u8 = 10;
/// `sIG`: ignore.
pub const IG: u8 = 11;

/// `get_conntrack_index()`: 0 syn, 1 synack, 2 fin, 3 ack, 4 rst, 5 none.
pub fn index(flags: u8) -> usize {
    let (fin, syn, rst, ack) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0, flags & 0x10 != 0);
    if rst {
        4
    } else if syn {
        if ack {
            1
        } else {
            0
        }
    } else if fin {
        2
    } else if ack {
        3
    } else {
        5
    }
}

/// `tcp_conntracks[dir][index][state]`, copied row by row from the C.
#[rustfmt::skip]
pub const TABLE: [[[u8; 10]; 6]; 2] = [
    [
        /* ORIGINAL  sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
        /*syn*/    [ SS,  SS,  IG,  IG,  IG,  IG,  IG,  SS,  SS,  S2 ],
        /*synack*/ [ IV,  IV,  SR,  IV,  IV,  IV,  IV,  IV,  IV,  SR ],
        /*fin*/    [ IV,  IV,  FW,  FW,  LA,  LA,  LA,  TW,  CL,  IV ],
        /*ack*/    [ ES,  IV,  ES,  ES,  CW,  CW,  TW,  TW,  CL,  IV ],
        /*rst*/    [ IV,  CL,  CL,  CL,  CL,  CL,  CL,  CL,  CL,  CL ],
        /*none*/   [ IV,  IV,  IV,  IV,  IV,  IV,  IV,  IV,  IV,  IV ],
    ],
    [
        /* REPLY     sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
        /*syn*/    [ IV,  S2,  IV,  IV,  IV,  IV,  IV,  SS,  IV,  S2 ],
        /*synack*/ [ IV,  SR,  IG,  IG,  IG,  IG,  IG,  IG,  IG,  SR ],
        /*fin*/    [ IV,  IV,  FW,  FW,  LA,  LA,  LA,  TW,  CL,  IV ],
        /*ack*/    [ IV,  IG,  SR,  ES,  CW,  CW,  TW,  TW,  CL,  IG ],
        /*rst*/    [ IV,  CL,  CL,  CL,  CL,  CL,  CL,  CL,  CL,  CL ],
        /*none*/   [ IV,  IV,  IV,  IV,  IV,  IV,  IV,  IV,  IV,  IV ],
    ],
];

/// Whether `nf_conntrack_tcp_packet()` can move a connection from `old` to
/// `new` on a segment with `flags` seen in direction `dir` (0 original,
/// 1 reply). Besides the table's own entries, the C allows:
///
/// - `sIG` and a SYN/ACK that answers a SYN it ignored: SYN_RECV
///   (resynchronisation, "b)" in the C);
/// - SYN_RECV by the table for an ACK in the reply direction after a
///   simultaneous open: ESTABLISHED;
/// - CLOSE by the table for a RST whose sequence number is in the window
///   but not exact: the state is kept (`new_state = old_state`) for an
///   RFC 5961 challenge ACK.
///
/// `new == old` is always allowed: every path that returns without
/// reaching the end (`sIG`, `sIV`, window checks) leaves the state alone.
pub fn allowed(dir: usize, flags: u8, old: u8, new: u8) -> bool {
    if new == old {
        return true;
    }
    let i = index(flags);
    let to = TABLE[dir & 1][i][usize::from(old)];
    to == new
        || (to == IG && i == 1 && new == SR)
        || (to == SR && dir == 1 && i == 3 && new == ES)
}
