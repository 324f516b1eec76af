// SPDX-License-Identifier: GPL-2.0
//! The LOG target's line, formatted like net/netfilter/nf_log_syslog.c
//! (`nf_log_dump_packet_common`, `dump_ipv4_packet`, `dump_ipv6_packet`)
//! with the `logflags` `TCPSEQ` (0x01), `TCPOPT` (0x02) and `IPOPT` (0x04)
//! (`UID`, `MACDECODE` and the `MARK=` field are not printed): IPv4/IPv6
//! header, TCP, UDP/UDPLITE, ICMP, ICMPv6, AH and ESP fields.
//! Written into a fixed stack buffer, truncated if it overflows; no allocation.

use super::abi::sub;
use core::fmt::Write;

use super::eval::{Env, Facts};
use super::Family;

/// `NF_LOG_TCPSEQ`: print TCP sequence numbers.
const NF_LOG_TCPSEQ: u8 = 0x01;
/// `NF_LOG_TCPOPT`: print TCP options.
const NF_LOG_TCPOPT: u8 = 0x02;
/// `NF_LOG_IPOPT`: print IP options / IPv6 extension headers.
const NF_LOG_IPOPT: u8 = 0x04;

/// Line buffer size (the kernel's `nf_log_buf` holds 1024).
const LOG_BUF: usize = 512;

struct Buf {
    b: [u8; LOG_BUF],
    n: usize,
}

impl Write for Buf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &c in s.as_bytes() {
            if let Some(d) = self.b.get_mut(self.n) {
                *d = c;
                // self.n indexed self.b: below LOG_BUF, never saturates.
                self.n = self.n.saturating_add(1);
            }
        }
        Ok(())
    }
}

fn name(n: &[u8; 16]) -> &str {
    let l = n.iter().position(|&c| c == 0).unwrap_or(16);
    core::str::from_utf8(n.get(..l).unwrap_or(&[])).unwrap_or("?")
}

fn be16(h: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*h.get(o)?, *h.get(o + 1)?]))
}
fn be32(h: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*h.get(o)?, *h.get(o + 1)?, *h.get(o + 2)?, *h.get(o + 3)?]))
}

/// Formats and hands the line for one packet to [`Env::log`].
pub(crate) fn log_packet<E: Env>(f: &Facts<'_>, level: u8, flags: u8, prefix: &[u8; 30], env: &mut E) {
    let mut w = Buf { b: [0; LOG_BUF], n: 0 };
    let plen = prefix.iter().position(|&c| c == 0).unwrap_or(30);
    let _ = w.write_str(core::str::from_utf8(prefix.get(..plen).unwrap_or(&[])).unwrap_or(""));
    let _ = write!(w, "IN={} OUT={} ", name(f.in_name), name(f.out_name));
    if *f.in_name != [0; 16] {
        let _ = w.write_str("MAC=");
        env.link_header(|mac| {
            for (i, b) in mac.iter().enumerate() {
                let _ = write!(w, "{}{:02x}", if i == 0 { "" } else { ":" }, b);
            }
        });
        let _ = w.write_str(" ");
    }
    let _ = match f.family {
        Family::Ipv4 => ipv4(&mut w, f.headers, 0, f.len, flags, true),
        Family::Ipv6 => ipv6(&mut w, f.headers, 0, f.len, flags, true),
    };
    env.log(level, w.b.get(..w.n).unwrap_or(&[]));
}

fn rest(len: u32, off: usize) -> u32 {
    len.saturating_sub(off as u32)
}

fn hex(w: &mut Buf, b: &[u8]) {
    for c in b {
        let _ = write!(w, "{:02X}", c);
    }
}

/// `nf_log_dump_tcp_header`; `None` where the kernel returns 1 (stop).
fn tcp(w: &mut Buf, h: &[u8], off: usize, fragment: bool, len: u32, flags: u8) -> Option<()> {
    let _ = w.write_str("PROTO=TCP ");
    if fragment {
        return Some(());
    }
    let Some(th) = sub(h, off, 20) else {
        let _ = write!(w, "INCOMPLETE [{} bytes] ", rest(len, off));
        return None;
    };
    let _ = write!(w, "SPT={} DPT={} ", be16(th, 0)?, be16(th, 2)?);
    if flags & NF_LOG_TCPSEQ != 0 {
        let _ = write!(w, "SEQ={} ACK={} ", be32(th, 4)?, be32(th, 8)?);
    }
    let _ = write!(w, "WINDOW={} ", be16(th, 14)?);
    let _ = write!(w, "RES=0x{:02x} ", (th[12] & 0x0f) << 2);
    let fl = th[13];
    for (bit, s) in [(0x80, "CWR "), (0x40, "ECE "), (0x20, "URG "), (0x10, "ACK "), (0x08, "PSH "), (0x04, "RST "), (0x02, "SYN "), (0x01, "FIN ")] {
        if fl & bit != 0 {
            let _ = w.write_str(s);
        }
    }
    let _ = write!(w, "URGP={} ", be16(th, 18)?);
    let doff = usize::from(th[12] >> 4) * 4;
    if flags & NF_LOG_TCPOPT != 0 && doff > 20 {
        let Some(op) = h.get(off..).and_then(|t| t.get(20..doff)) else {
            let _ = w.write_str("OPT (TRUNCATED)");
            return None;
        };
        let _ = w.write_str("OPT (");
        hex(w, op);
        let _ = w.write_str(") ");
    }
    Some(())
}

/// `nf_log_dump_udp_header` (UDP and UDPLITE).
fn udp(w: &mut Buf, h: &[u8], off: usize, fragment: bool, len: u32, proto: u8) -> Option<()> {
    let _ = w.write_str(if proto == 17 { "PROTO=UDP " } else { "PROTO=UDPLITE " });
    if fragment {
        return Some(());
    }
    match sub(h, off, 8) {
        Some(uh) => {
            let _ = write!(w, "SPT={} DPT={} LEN={} ", be16(uh, 0)?, be16(uh, 2)?, be16(uh, 4)?);
        }
        None => {
            let _ = write!(w, "INCOMPLETE [{} bytes] ", rest(len, off));
            return None;
        }
    }
    Some(())
}

/// `dump_ipv4_packet`; `outer` allows one level of recursion into an ICMP error.
fn ipv4(w: &mut Buf, h: &[u8], o: usize, len: u32, flags: u8, outer: bool) -> Option<()> {
    let ih = match sub(h, o, 20) {
        Some(ih) => ih,
        None => {
            let _ = write!(w, "TRUNCATED");
            return None;
        }
    };
    let _ = write!(w, "SRC={}.{}.{}.{} DST={}.{}.{}.{} ", ih[12], ih[13], ih[14], ih[15], ih[16], ih[17], ih[18], ih[19]);
    let fo = be16(ih, 6)?;
    let _ = write!(w, "LEN={} TOS=0x{:02X} PREC=0x{:02X} TTL={} ID={} ", be16(ih, 2)?, ih[1] & 0x1e, ih[1] & 0xe0, ih[8], be16(ih, 4)?);
    for (bit, s) in [(0x8000u16, "CE "), (0x4000, "DF "), (0x2000, "MF ")] {
        if fo & bit != 0 {
            let _ = w.write_str(s);
        }
    }
    if fo & 0x1fff != 0 {
        let _ = write!(w, "FRAG:{} ", fo & 0x1fff);
    }
    let ihl = usize::from(ih[0] & 0x0f) * 4;
    if flags & NF_LOG_IPOPT != 0 && ihl > 20 {
        let Some(op) = h.get(o..).and_then(|t| t.get(20..ihl)) else {
            let _ = w.write_str("TRUNCATED");
            return None;
        };
        let _ = w.write_str("OPT (");
        hex(w, op);
        let _ = w.write_str(") ");
    }
    // Past usize::MAX is past `h`: every read at `th` then fails.
    let th = o.saturating_add(ihl);
    let frag = fo & 0x1fff != 0;
    match ih[9] {
        6 => tcp(w, h, th, frag, len, flags)?,
        17 | 136 => udp(w, h, th, frag, len, ih[9])?,
        1 => {
            let _ = w.write_str("PROTO=ICMP ");
            if frag {
                return Some(());
            }
            let Some(ic) = sub(h, th, 8) else {
                let _ = write!(w, "INCOMPLETE [{} bytes] ", rest(len, th));
                return Some(());
            };
            let _ = write!(w, "TYPE={} CODE={} ", ic[0], ic[1]);
            let required: usize = match ic[0] {
                0 | 8 => 4,
                3 | 4 | 5 | 11 | 12 => 28,
                13 | 14 => 20,
                17 | 18 => 12,
                _ => 0,
            };
            if required != 0 && (rest(len, th) as usize) < required {
                let _ = write!(w, "INCOMPLETE [{} bytes] ", rest(len, th));
                return Some(());
            }
            match ic[0] {
                0 | 8 => {
                    let _ = write!(w, "ID={} SEQ={} ", be16(ic, 4)?, be16(ic, 6)?);
                }
                12 => {
                    let _ = write!(w, "PARAMETER={} ", be32(ic, 4)? >> 24);
                }
                5 | 3 | 4 | 11 => {
                    if ic[0] == 5 {
                        let _ = write!(w, "GATEWAY={}.{}.{}.{} ", ic[4], ic[5], ic[6], ic[7]);
                    }
                    if outer {
                        let _ = w.write_str("[");
                        let _ = ipv4(w, h, th + 8, len, flags, false);
                        let _ = w.write_str("] ");
                    }
                    if ic[0] == 3 && ic[1] == 4 {
                        let _ = write!(w, "MTU={} ", be16(ic, 6)?);
                    }
                }
                _ => {}
            }
        }
        51 => {
            // The kernel prints nothing at all for a non-first AH fragment.
            if frag {
                return Some(());
            }
            let _ = w.write_str("PROTO=AH ");
            match sub(h, th, 12) {
                Some(ah) => {
                    let _ = write!(w, "SPI=0x{:x} ", be32(ah, 4)?);
                }
                None => {
                    let _ = write!(w, "INCOMPLETE [{} bytes] ", rest(len, th));
                }
            }
        }
        50 => {
            let _ = w.write_str("PROTO=ESP ");
            if frag {
                return Some(());
            }
            match sub(h, th, 8) {
                Some(eh) => {
                    let _ = write!(w, "SPI=0x{:x} ", be32(eh, 0)?);
                }
                None => {
                    let _ = write!(w, "INCOMPLETE [{} bytes] ", rest(len, th));
                }
            }
        }
        p => {
            let _ = write!(w, "PROTO={} ", p);
        }
    }
    Some(())
}

fn addr6(w: &mut Buf, a: &[u8]) {
    for i in 0..8 {
        let g = be16(a, 2 * i).unwrap_or(0);
        let _ = write!(w, "{}{:04x}", if i == 0 { "" } else { ":" }, g);
    }
}

/// `dump_ipv6_packet`: extension headers walked (shown with IPOPT), fragments noted.
fn ipv6(w: &mut Buf, h: &[u8], o: usize, len: u32, flags: u8, outer: bool) -> Option<()> {
    let ipopt = flags & NF_LOG_IPOPT != 0;
    let Some(ih) = sub(h, o, 40) else {
        let _ = w.write_str("TRUNCATED");
        return None;
    };
    let _ = w.write_str("SRC=");
    addr6(w, ih.get(8..24)?);
    let _ = w.write_str(" DST=");
    addr6(w, ih.get(24..40)?);
    let first = be32(ih, 0)?;
    let _ = write!(w, " LEN={} TC={} HOPLIMIT={} FLOWLBL={} ", u32::from(be16(ih, 4)?) + 40, (first & 0x0ff0_0000) >> 20, ih[7], first & 0x000f_ffff);
    let mut fragment = false;
    let mut ptr = o + 40;
    let mut cur = ih[6];
    while matches!(cur, 0 | 43 | 44 | 50 | 51 | 60) {
        let Some(hp) = sub(h, ptr, 2) else {
            let _ = w.write_str("TRUNCATED");
            return None;
        };
        if ipopt {
            let _ = w.write_str("OPT ( ");
        }
        let hdrlen = match cur {
            44 => {
                let _ = w.write_str("FRAG:");
                let Some(fh) = sub(h, ptr, 8) else {
                    let _ = w.write_str("TRUNCATED ");
                    return None;
                };
                let fo = be16(fh, 2)?;
                let _ = write!(w, "{} ", fo & 0xfff8);
                if fo & 1 != 0 {
                    let _ = w.write_str("INCOMPLETE ");
                }
                let _ = write!(w, "ID:{:08x} ", be32(fh, 4)?);
                if fo & 0xfff8 != 0 {
                    fragment = true;
                }
                8
            }
            0 | 43 | 60 => {
                if fragment {
                    if ipopt {
                        let _ = w.write_str(")");
                    }
                    return None;
                }
                (usize::from(hp[1]) + 1) << 3
            }
            51 => {
                if ipopt {
                    let _ = w.write_str("AH ");
                    if fragment {
                        let _ = w.write_str(")");
                        return None;
                    }
                    let Some(ah) = sub(h, ptr, 12) else {
                        let _ = write!(w, "INCOMPLETE [{} bytes] )", rest(len, ptr));
                        return None;
                    };
                    let _ = write!(w, "SPI=0x{:x} ", be32(ah, 4)?);
                }
                (usize::from(hp[1]) + 2) << 2
            }
            _ => {
                // ESP: the rest is encrypted.
                if ipopt {
                    let _ = w.write_str("ESP ");
                    if fragment {
                        let _ = w.write_str(")");
                        return None;
                    }
                    let Some(eh) = sub(h, ptr, 8) else {
                        let _ = write!(w, "INCOMPLETE [{} bytes] )", rest(len, ptr));
                        return None;
                    };
                    let _ = write!(w, "SPI=0x{:x} )", be32(eh, 0)?);
                }
                return None;
            }
        };
        if ipopt {
            let _ = w.write_str(") ");
        }
        cur = hp[0];
        ptr = ptr.saturating_add(hdrlen);
    }
    match cur {
        6 => tcp(w, h, ptr, fragment, len, flags)?,
        17 | 136 => udp(w, h, ptr, fragment, len, cur)?,
        58 => {
            let _ = w.write_str("PROTO=ICMPv6 ");
            if fragment {
                return Some(());
            }
            let Some(ic) = sub(h, ptr, 8) else {
                let _ = write!(w, "INCOMPLETE [{} bytes] ", rest(len, ptr));
                return None;
            };
            let _ = write!(w, "TYPE={} CODE={} ", ic[0], ic[1]);
            match ic[0] {
                128 | 129 => {
                    let _ = write!(w, "ID={} SEQ={} ", be16(ic, 4)?, be16(ic, 6)?);
                }
                4 | 1 | 2 | 3 => {
                    if ic[0] == 4 {
                        let _ = write!(w, "POINTER={:08x} ", be32(ic, 4)?);
                    }
                    if outer {
                        let _ = w.write_str("[");
                        let _ = ipv6(w, h, ptr + 8, len, flags, false);
                        let _ = w.write_str("] ");
                    }
                    if ic[0] == 2 {
                        let _ = write!(w, "MTU={} ", be32(ic, 4)?);
                    }
                }
                _ => {}
            }
        }
        59 => {
            let _ = write!(w, "PROTO={} ", cur);
        }
        p => {
            let _ = write!(w, "PROTO={} ", p);
        }
    }
    Some(())
}
