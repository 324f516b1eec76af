// SPDX-License-Identifier: GPL-2.0
//! The `/proc/net/nf_conntrack` line format.
//!
//! Follows `ct_seq_show()` in net/netfilter/nf_conntrack_standalone.c (6.12)
//! for a kernel with `CONFIG_NF_CONNTRACK_MARK`, no zones and no accounting:
//!
//! ```text
//! ipv4     2 tcp      6 431999 ESTABLISHED src=10.1.0.2 dst=10.2.0.2 sport=40000 dport=80 src=10.2.0.2 dst=10.1.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1
//! ```
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

/// Writes the whole line of connection `c` at time `now` (jiffies) with the
/// kernel's `hz`; `use_count` is what the kernel prints as `use=`.
pub fn write_conn(w: &mut dyn Write, c: &Conn, now: u64, hz: u32, use_count: u32) -> fmt::Result {
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
    if c.status & IPS_SEEN_REPLY == 0 {
        w.write_str("[UNREPLIED] ")?;
    }
    write_tuple(w, &c.tuple[1])?;
    if c.status & IPS_ASSURED != 0 {
        w.write_str("[ASSURED] ")?;
    }
    writeln!(w, "mark=0 use={}", use_count)
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
