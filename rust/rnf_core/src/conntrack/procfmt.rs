// SPDX-License-Identifier: GPL-2.0
//! The `/proc/net/nf_conntrack` line format.
//!
//! Follows `ct_seq_show()` in net/netfilter/nf_conntrack_standalone.c (6.12)
//! field by field; what the kernel prints only with a config option or an
//! extension (`mark=` with `CONFIG_NF_CONNTRACK_MARK`, the zone with
//! `CONFIG_NF_CONNTRACK_ZONES`, `packets= bytes=` with the accounting
//! extension) comes in [`ConnExtras`], read from the connection's
//! `struct nf_conn`. A kernel with marks and zones prints, for a
//! connection in the default zone with accounting on:
//!
//! ```text
//! ipv4     2 tcp      6 431999 ESTABLISHED src=10.1.0.2 dst=10.2.0.2 sport=40000 dport=80 packets=3 bytes=164 src=10.2.0.2 dst=10.1.0.2 sport=80 dport=40000 packets=2 bytes=112 [ASSURED] mark=0 zone=0 use=2
//! ```
//!
//! Not printed because rnf has no such connections or the reference config
//! lacks the option: `[OFFLOAD]`/`[HW_OFFLOAD]` (flow offload),
//! `secctx=` (`CONFIG_NF_CONNTRACK_SECMARK`), `delta-time=`
//! (`CONFIG_NF_CONNTRACK_TIMESTAMP`), and the per-protocol state of SCTP
//! and DCCP, which rnf tracks as generic protocols.
//!
//! Addresses print as `%pI4` (dotted quad) and `%pI6` (eight groups of four
//! lowercase hex digits, not compressed), as the kernel prints them.

use core::fmt::{self, Write};

use crate::conntrack::conn::{Conn, IPS_ASSURED, IPS_SEEN_REPLY};
use crate::packet::{L3Proto, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
use crate::conntrack::tuple::Tuple;

/// The kernel's `l4proto_name()`.
pub fn l4proto_name(proto: u8) -> &'static str {
    match proto {
        IPPROTO_TCP => "tcp",
        IPPROTO_UDP => "udp",
        33 => "dccp",
        47 => "gre",
        132 => "sctp",
        136 => "udplite",
        IPPROTO_ICMP => "icmp",
        IPPROTO_ICMPV6 => "icmpv6",
        _ => "unknown",
    }
}

/// Writes an address of family `l3` as the kernel's `%pI4` or `%pI6`.
pub fn write_addr(w: &mut dyn Write, l3: L3Proto, a: &[u8; 16]) -> fmt::Result {
    match l3 {
        L3Proto::Ipv4 => write!(w, "{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
        L3Proto::Ipv6 => {
            for (i, pair) in a.chunks_exact(2).enumerate() {
                if i > 0 {
                    w.write_char(':')?;
                }
                if let [hi, lo] = *pair {
                    write!(w, "{hi:02x}{lo:02x}")?;
                }
            }
            Ok(())
        }
    }
}

/// Writes one tuple: `src=.. dst=..` then ports or ICMP fields, each item
/// followed by a space (`print_tuple()`).
pub fn write_tuple(w: &mut dyn Write, t: &Tuple) -> fmt::Result {
    w.write_str("src=")?;
    write_addr(w, t.l3, &t.src)?;
    w.write_str(" dst=")?;
    write_addr(w, t.l3, &t.dst)?;
    w.write_char(' ')?;
    if t.is_icmp() {
        write!(w, "type={} code={} id={} ", t.icmp_type(), t.icmp_code(), t.src_id)
    } else if matches!(t.proto, IPPROTO_TCP | IPPROTO_UDP) {
        write!(w, "sport={} dport={} ", t.src_id, t.dst_id)
    } else {
        Ok(())
    }
}

pub use super::zone::{Zone, NF_CT_DEFAULT_ZONE_DIR, NF_CT_ZONE_DIR_ORIG, NF_CT_ZONE_DIR_REPL};

/// One direction's accounting counters (`struct nf_conn_counter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Counter {
    /// Packets counted.
    pub packets: u64,
    /// Bytes counted (IP header included, as `skb->len` at the hook).
    pub bytes: u64,
}

/// What the listing prints besides rnf's own state of a connection, read
/// from its `struct nf_conn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ConnExtras {
    /// `nf_conn.mark`; `None` on a kernel without `CONFIG_NF_CONNTRACK_MARK`
    /// (no `mark=`).
    pub mark: Option<u32>,
    /// `nf_conn.zone`; `None` on a kernel without
    /// `CONFIG_NF_CONNTRACK_ZONES` (no zone fields).
    pub zone: Option<Zone>,
    /// The counters of the original and the reply direction; `None` when
    /// the connection has no accounting extension (no `packets=`).
    pub acct: Option<[Counter; 2]>,
    /// The reference count, `use=` (the kernel's listing holds one
    /// reference of its own while it prints).
    pub use_count: u32,
}

/// `ct_show_zone()`: the zone field of position `dir` (one of the
/// `NF_CT_ZONE_DIR_*` values) if the zone is the one of that position.
fn write_zone(w: &mut dyn Write, zone: Option<Zone>, dir: u8) -> fmt::Result {
    let Some(z) = zone.filter(|z| z.dir == dir) else { return Ok(()) };
    match dir {
        NF_CT_DEFAULT_ZONE_DIR => write!(w, "zone={} ", z.id),
        NF_CT_ZONE_DIR_ORIG => write!(w, "zone-orig={} ", z.id),
        NF_CT_ZONE_DIR_REPL => write!(w, "zone-reply={} ", z.id),
        _ => Ok(()),
    }
}

/// `seq_print_acct()`.
fn write_acct(w: &mut dyn Write, acct: Option<[Counter; 2]>, dir: usize) -> fmt::Result {
    match acct.as_ref().and_then(|a| a.get(dir)) {
        Some(c) => write!(w, "packets={} bytes={} ", c.packets, c.bytes),
        None => Ok(()),
    }
}

/// Writes the whole line of connection `c` at time `now` (jiffies) with the
/// kernel's `hz` and what its `struct nf_conn` holds (`x`).
pub fn write_conn(w: &mut dyn Write, c: &Conn, now: u64, hz: u32, x: &ConnExtras) -> fmt::Result {
    let t = &c.tuple[0];
    write!(
        w,
        "{:<8} {} {:<8} {} {} ",
        t.l3.name(),
        t.l3.nfproto(),
        l4proto_name(t.proto),
        t.proto,
        c.remaining_secs(now, hz)
    )?;
    if let Some(s) = c.tcp_state() {
        write!(w, "{} ", s.name())?;
    }
    write_tuple(w, &c.tuple[0])?;
    write_zone(w, x.zone, NF_CT_ZONE_DIR_ORIG)?;
    write_acct(w, x.acct, 0)?;
    if c.status & IPS_SEEN_REPLY == 0 {
        w.write_str("[UNREPLIED] ")?;
    }
    write_tuple(w, &c.tuple[1])?;
    write_zone(w, x.zone, NF_CT_ZONE_DIR_REPL)?;
    write_acct(w, x.acct, 1)?;
    if c.status & IPS_ASSURED != 0 {
        w.write_str("[ASSURED] ")?;
    }
    if let Some(m) = x.mark {
        write!(w, "mark={} ", m)?;
    }
    write_zone(w, x.zone, NF_CT_DEFAULT_ZONE_DIR)?;
    writeln!(w, "use={}", x.use_count)
}

/// A fixed-size text buffer implementing [`Write`], for formatting without
/// allocating (in a hook or under a lock). Output beyond `N` bytes is an error.
pub struct FixedBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> FixedBuf<N> {
    /// An empty buffer.
    pub fn new() -> Self {
        FixedBuf { buf: [0; N], len: 0 }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The text written so far (only `write_str` fills it, so it is UTF-8).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// Forgets what was written.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<const N: usize> Default for FixedBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Write for FixedBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
