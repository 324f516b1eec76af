// SPDX-License-Identifier: GPL-2.0

//! What a packet looks like on the wire, for the tests of the targets that
//! edit packets (TCPMSS, DSCP, TOS): the guest has no tcpdump.
//!
//! ```text
//! rnf-udp sniff DEV [--count N] [--timeout SECS]
//! rnf-udp forge-syn --src S --dst D --sport P --dport Q [--mss N]
//! ```
//!
//! `sniff` prints one line for every IPv4 and IPv6 packet DEV receives or
//! sends (an AF_PACKET socket), until `N` packets (default: no limit) or
//! `SECS` seconds (default 10) have gone by:
//!
//! ```text
//! in v4 10.1.0.2 > 10.2.0.2 ds=0x00 len=60 ipcsum=ok tcp 40000 > 80 flags=S mss=1240 csum=ok
//! out v6 fd02::2 > fd01::2 ds=0xb8 len=72 udp 5000 > 40001
//! ```
//!
//! `ds` is the DS field (IPv4 TOS, IPv6 traffic class), `len` the IP
//! length field (IPv6: payload length plus 40), `mss` the TCP MSS option
//! (`none` without one), `csum` the TCP checksum recomputed over the
//! pseudo-header and segment (`ok`/`bad`), or for a packet whose checksum
//! the device is still to fill in (CHECKSUM_PARTIAL, the kernel's
//! TP_STATUS_CSUMNOTREADY) whether the field holds the pseudo-header sum
//! the device completes (`partial-ok`/`partial-bad`). The IPv6 line reads
//! the upper-layer header right after the fixed header (no extension
//! headers).
//!
//! `forge-syn` sends one TCP SYN `S:P -> D:Q` (window 64240) through a raw
//! socket, with an MSS option of `N` or, without `--mss`, no option at all
//! (what TCPMSS adds one to). Raw and packet sockets need CAP_NET_RAW.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::os::raw::{c_char, c_int, c_void};
use std::time::{Duration, Instant};

use crate::forge;
use crate::sys;
use crate::Error;

const AF_PACKET: c_int = 17;
const SOCK_DGRAM: c_int = 2;
const ETH_P_ALL: u16 = 0x0003;
const SOL_SOCKET: c_int = 1;
const SO_RCVTIMEO: c_int = 20; // SO_RCVTIMEO_OLD: a struct timeval of longs
pub(crate) const SOL_PACKET: c_int = 263;
pub(crate) const PACKET_AUXDATA: c_int = 8;
pub(crate) const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
pub(crate) const PACKET_OUTGOING: u8 = 4;

extern "C" {
    pub(crate) fn if_nametoindex(name: *const c_char) -> u32;
    fn bind(fd: c_int, addr: *const c_void, len: u32) -> c_int;
    pub(crate) fn recvmsg(fd: c_int, msg: *mut MsgHdr, flags: c_int) -> isize;
}

/// `struct sockaddr_ll`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct SockaddrLl {
    pub(crate) family: u16,
    pub(crate) protocol: u16,
    pub(crate) ifindex: c_int,
    pub(crate) hatype: u16,
    pub(crate) pkttype: u8,
    pub(crate) halen: u8,
    pub(crate) addr: [u8; 8],
}

/// `struct iovec`.
#[repr(C)]
pub(crate) struct IoVec {
    pub(crate) base: *mut c_void,
    pub(crate) len: usize,
}

/// `struct msghdr` as the kernel lays it out on LP64 (musl's int-plus-pad
/// fields are the low halves of these on little-endian x86_64 and arm64).
#[repr(C)]
pub(crate) struct MsgHdr {
    pub(crate) name: *mut c_void,
    pub(crate) namelen: u32,
    pub(crate) iov: *mut IoVec,
    pub(crate) iovlen: usize,
    pub(crate) control: *mut c_void,
    pub(crate) controllen: usize,
    pub(crate) flags: c_int,
}

/// Arguments of `rnf-udp sniff`.
#[derive(Debug, PartialEq)]
pub struct SniffArgs {
    pub dev: String,
    pub count: Option<u64>,
    pub timeout: Duration,
}

/// Arguments of `rnf-udp forge-syn`.
#[derive(Debug, PartialEq)]
pub struct SynArgs {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub mss: Option<u16>,
}

/// `--name value` pairs and positional words.
fn options<'a>(sub: &str, args: &'a [String], names: &[&str]) -> Result<(Vec<(&'a str, &'a str)>, Vec<&'a str>), Error> {
    let (mut values, mut positional) = (Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if names.contains(&arg.as_str()) {
            let Some(v) = it.next() else {
                return crate::usage(format!("{arg} needs a value"));
            };
            values.push((arg.as_str(), v.as_str()));
        } else if arg.starts_with('-') {
            return crate::usage(format!("{sub}: unknown option {arg}"));
        } else {
            positional.push(arg.as_str());
        }
    }
    Ok((values, positional))
}

fn value<'a>(values: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    values.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn num<T: std::str::FromStr>(values: &[(&str, &str)], name: &str) -> Result<Option<T>, Error> {
    match value(values, name) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).or_else(|_| crate::usage(format!("bad value for {name}: {t}"))),
    }
}

pub fn parse_sniff(args: &[String]) -> Result<SniffArgs, Error> {
    let (values, positional) = options("sniff", args, &["--count", "--timeout"])?;
    let [dev] = positional[..] else {
        return crate::usage("sniff needs one device name");
    };
    let secs: f64 = num(&values, "--timeout")?.unwrap_or(10.0);
    if !(secs.is_finite() && secs > 0.0) {
        return crate::usage("--timeout must be a positive number of seconds");
    }
    Ok(SniffArgs { dev: dev.to_string(), count: num(&values, "--count")?, timeout: Duration::from_secs_f64(secs) })
}

pub fn parse_syn(args: &[String]) -> Result<SynArgs, Error> {
    let names = ["--src", "--dst", "--sport", "--dport", "--mss"];
    let (values, positional) = options("forge-syn", args, &names)?;
    if !positional.is_empty() {
        return crate::usage("forge-syn takes no positional arguments");
    }
    let addr = |name: &str| -> Result<IpAddr, Error> {
        let t = value(&values, name).ok_or_else(|| Error::Usage(format!("forge-syn needs {name}")))?;
        t.trim_start_matches('[').trim_end_matches(']').parse().or_else(|_| crate::usage(format!("not an IP address: {t}")))
    };
    let port = |name: &str| -> Result<u16, Error> {
        num(&values, name)?.ok_or_else(|| Error::Usage(format!("forge-syn needs {name}")))
    };
    let (src, dst) = (addr("--src")?, addr("--dst")?);
    if src.is_ipv6() != dst.is_ipv6() {
        return crate::usage("--src and --dst of different families");
    }
    Ok(SynArgs { src: SocketAddr::new(src, port("--sport")?), dst: SocketAddr::new(dst, port("--dport")?), mss: num(&values, "--mss")? })
}

fn failed(what: &str, err: std::io::Error) -> Error {
    crate::io_failed(what, err)
}

pub fn sniff(a: &SniffArgs) -> Result<(), Error> {
    let fd = sys::new_socket(AF_PACKET, SOCK_DGRAM, c_int::from(ETH_P_ALL.to_be()))
        .map_err(|e| failed("packet socket", e))?;
    let name = std::ffi::CString::new(a.dev.as_str()).map_err(|_| Error::Usage("bad device name".into()))?;
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    let ifindex = unsafe { if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(failed(&format!("device {}", a.dev), std::io::Error::last_os_error()));
    }
    let sll = SockaddrLl { family: AF_PACKET as u16, protocol: ETH_P_ALL.to_be(), ifindex: ifindex as c_int, ..Default::default() };
    // SAFETY: `sll` is a sockaddr_ll of the given size, live for the call.
    if unsafe { bind(fd.as_raw_fd(), (&sll as *const SockaddrLl).cast(), std::mem::size_of::<SockaddrLl>() as u32) } < 0 {
        return Err(failed("bind", std::io::Error::last_os_error()));
    }
    sys::set_int(&fd, SOL_PACKET, PACKET_AUXDATA, 1).map_err(|e| failed("PACKET_AUXDATA", e))?;
    println!("sniff: listening on {}", a.dev);
    let end = Instant::now() + a.timeout;
    let mut seen = 0u64;
    let mut buf = vec![0u8; 65536];
    while a.count.is_none_or(|n| seen < n) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut tv = Vec::new();
        tv.extend_from_slice(&(left.as_secs() as std::os::raw::c_long).to_ne_bytes());
        tv.extend_from_slice(&(std::os::raw::c_long::from(left.subsec_micros().max(1) as i32)).to_ne_bytes());
        sys::set_opt_bytes(&fd, SOL_SOCKET, SO_RCVTIMEO, &tv).map_err(|e| failed("SO_RCVTIMEO", e))?;
        let mut from = SockaddrLl::default();
        let mut control = [0u64; 16];
        let mut iov = IoVec { base: buf.as_mut_ptr().cast(), len: buf.len() };
        let mut msg = MsgHdr {
            name: (&mut from as *mut SockaddrLl).cast(),
            namelen: std::mem::size_of::<SockaddrLl>() as u32,
            iov: &mut iov,
            iovlen: 1,
            control: control.as_mut_ptr().cast(),
            controllen: std::mem::size_of_val(&control),
            flags: 0,
        };
        // SAFETY: every pointer in `msg` points to live memory of the stated
        // size (`from`, `iov` and `buf`, `control`) for the duration of the call.
        let n = unsafe { recvmsg(fd.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted) {
                continue;
            }
            return Err(failed("recvmsg", e));
        }
        let status = aux_status(&control, msg.controllen);
        let pkt = &buf[..(n as usize).min(buf.len())];
        if let Some(line) = describe(pkt, status & TP_STATUS_CSUMNOTREADY != 0) {
            let dir = if from.pkttype == PACKET_OUTGOING { "out" } else { "in" };
            println!("{dir} {line}");
            seen += 1;
        }
    }
    println!("sniff: {seen} packets");
    Ok(())
}

/// `tp_status` of the PACKET_AUXDATA control message in the first
/// `len` bytes of `control`, 0 without one.
pub(crate) fn aux_status(control: &[u64; 16], len: usize) -> u32 {
    let bytes: Vec<u8> = control.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let bytes = &bytes[..len.min(bytes.len())];
    let mut off = 0;
    // struct cmsghdr { size_t len; int level; int type; } then the data, 8-aligned.
    while off + 16 <= bytes.len() {
        let clen = usize::from_ne_bytes(bytes[off..off + 8].try_into().unwrap_or([0; 8]));
        let level = i32::from_ne_bytes(bytes[off + 8..off + 12].try_into().unwrap_or([0; 4]));
        let ty = i32::from_ne_bytes(bytes[off + 12..off + 16].try_into().unwrap_or([0; 4]));
        if clen < 16 {
            break;
        }
        if level == SOL_PACKET && ty == PACKET_AUXDATA && off + 20 <= bytes.len() {
            return u32::from_ne_bytes(bytes[off + 16..off + 20].try_into().unwrap_or([0; 4]));
        }
        off += (clen + 7) & !7;
    }
    0
}

fn be16(p: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*p.get(o)?, *p.get(o + 1)?]))
}

/// One line about the IP packet `p` (network header first), `None` for
/// anything else. `partial`: the transport checksum is still to be filled
/// in by the device (CHECKSUM_PARTIAL).
pub fn describe(p: &[u8], partial: bool) -> Option<String> {
    let mut s = String::new();
    let (src, dst, proto, off, len) = match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p.first()? & 0x0f) * 4;
            let src = Ipv4Addr::from(<[u8; 4]>::try_from(p.get(12..16)?).ok()?);
            let dst = Ipv4Addr::from(<[u8; 4]>::try_from(p.get(16..20)?).ok()?);
            let len = usize::from(be16(p, 2)?);
            let hdr_ok = forge::csum_finish(forge::csum_add(0, p.get(..ihl)?)) == 0;
            let _ = write!(s, "v4 {src} > {dst} ds=0x{:02x} len={len} ipcsum={}", p.get(1)?, if hdr_ok { "ok" } else { "bad" });
            (IpAddr::V4(src), IpAddr::V4(dst), *p.get(9)?, ihl, len)
        }
        6 => {
            let src = Ipv6Addr::from(<[u8; 16]>::try_from(p.get(8..24)?).ok()?);
            let dst = Ipv6Addr::from(<[u8; 16]>::try_from(p.get(24..40)?).ok()?);
            let len = usize::from(be16(p, 4)?) + 40;
            let ds = (be16(p, 0)? >> 4) as u8;
            let _ = write!(s, "v6 {src} > {dst} ds=0x{ds:02x} len={len}");
            (IpAddr::V6(src), IpAddr::V6(dst), *p.get(6)?, 40, len)
        }
        _ => return None,
    };
    let seg = p.get(off..len.min(p.len()))?;
    match proto {
        6 if seg.len() >= 20 => {
            let doff = usize::from(seg[12] >> 4) * 4;
            let flags: String = [(0x02, 'S'), (0x10, 'A'), (0x01, 'F'), (0x04, 'R'), (0x08, 'P')]
                .iter()
                .filter(|(b, _)| seg[13] & b != 0)
                .map(|(_, c)| *c)
                .collect();
            let mss = mss_of(seg.get(20..doff.min(seg.len())).unwrap_or(&[]));
            let pseudo = forge::pseudo_header_sum(src, dst, 6, seg.len());
            let csum = if partial {
                // The field holds the folded pseudo-header sum, uncomplemented.
                let want = !forge::csum_finish(pseudo);
                let got = be16(seg, 16)?;
                if got % 0xffff == want % 0xffff { "partial-ok" } else { "partial-bad" }
            } else if forge::csum_finish(forge::csum_add(pseudo, seg)) == 0 {
                "ok"
            } else {
                "bad"
            };
            let mss = mss.map_or("none".to_string(), |m| m.to_string());
            let _ = write!(s, " tcp {} > {} flags={flags} mss={mss} csum={csum}", be16(seg, 0)?, be16(seg, 2)?);
        }
        17 if seg.len() >= 8 => {
            let _ = write!(s, " udp {} > {}", be16(seg, 0)?, be16(seg, 2)?);
        }
        _ => {
            let _ = write!(s, " proto={proto}");
        }
    }
    Some(s)
}

/// The MSS option in TCP options `opts`, walked as RFC 9293 says (EOL
/// ends them, NOP is one byte).
fn mss_of(opts: &[u8]) -> Option<u16> {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => return None,
            1 => i += 1,
            kind => {
                let l = usize::from(*opts.get(i + 1)?);
                if l < 2 {
                    return None;
                }
                if kind == 2 && l == 4 {
                    return be16(opts, i + 2);
                }
                i += l;
            }
        }
    }
    None
}

/// A SYN `src -> dst` with sequence number `seq`, window 64240 and, with
/// `mss`, an MSS option; checksum over the pseudo-header included.
pub fn tcp_syn(src: SocketAddr, dst: SocketAddr, seq: u32, mss: Option<u16>) -> Vec<u8> {
    let mut h = vec![0u8; forge::TCP_HLEN];
    h[0..2].copy_from_slice(&src.port().to_be_bytes());
    h[2..4].copy_from_slice(&dst.port().to_be_bytes());
    h[4..8].copy_from_slice(&seq.to_be_bytes());
    h[13] = 0x02; // SYN
    h[14..16].copy_from_slice(&64240u16.to_be_bytes());
    if let Some(m) = mss {
        h.extend_from_slice(&[2, 4]);
        h.extend_from_slice(&m.to_be_bytes());
    }
    h[12] = ((h.len() / 4) as u8) << 4;
    let sum = forge::csum_finish(forge::csum_add(forge::pseudo_header_sum(src.ip(), dst.ip(), forge::IPPROTO_TCP, h.len()), &h));
    h[16..18].copy_from_slice(&sum.to_be_bytes());
    h
}

pub fn forge_syn(a: &SynArgs) -> Result<(), Error> {
    let seg = tcp_syn(a.src, a.dst, 0x5eed_0001, a.mss);
    match (a.src.ip(), a.dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let fd = sys::new_socket(sys::AF_INET, sys::SOCK_RAW, sys::IPPROTO_RAW).map_err(|e| failed("raw socket", e))?;
            sys::set_int(&fd, sys::IPPROTO_IP, sys::IP_HDRINCL, 1).map_err(|e| failed("IP_HDRINCL", e))?;
            let pkt = forge::ipv4_packet(s, d, forge::IPPROTO_TCP, std::process::id() as u16, &seg);
            sys::send_to(&fd, &pkt, SocketAddr::new(a.dst.ip(), 0)).map_err(|e| failed(&format!("sendto {d}"), e))?;
        }
        (IpAddr::V6(_), IpAddr::V6(d)) => {
            let fd = sys::new_socket(sys::AF_INET6, sys::SOCK_RAW, sys::IPPROTO_TCP).map_err(|e| failed("raw socket", e))?;
            sys::bind_to(&fd, SocketAddr::new(a.src.ip(), 0)).map_err(|e| failed(&format!("bind {}", a.src.ip()), e))?;
            sys::send_to(&fd, &seg, SocketAddr::new(a.dst.ip(), 0)).map_err(|e| failed(&format!("sendto {d}"), e))?;
        }
        _ => return crate::usage("--src and --dst of different families"),
    }
    let mss = a.mss.map_or("no MSS option".to_string(), |m| format!("MSS {m}"));
    println!("forge-syn: SYN {} -> {} sent, {mss}", a.src, a.dst);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_both_commands() {
        let a = parse_sniff(&args("eth0 --count 3 --timeout 2.5")).unwrap();
        assert_eq!(a, SniffArgs { dev: "eth0".into(), count: Some(3), timeout: Duration::from_millis(2500) });
        assert!(parse_sniff(&args("--count 3")).is_err());
        let s = parse_syn(&args("--src 10.1.0.2 --dst 10.2.0.2 --sport 4000 --dport 80")).unwrap();
        assert_eq!(s, SynArgs { src: sa("10.1.0.2:4000"), dst: sa("10.2.0.2:80"), mss: None });
        let s = parse_syn(&args("--src fd01::2 --dst [fd02::2] --sport 1 --dport 2 --mss 1400")).unwrap();
        assert_eq!(s.mss, Some(1400));
        assert!(parse_syn(&args("--src fd01::2 --dst 10.2.0.2 --sport 1 --dport 2")).is_err());
    }

    #[test]
    fn describes_a_forged_syn_and_its_damage() {
        let (src, dst) = (sa("10.1.0.2:40000"), sa("10.2.0.2:80"));
        let seg = tcp_syn(src, dst, 7, Some(1460));
        let ip = |s: Ipv4Addr, d: Ipv4Addr, seg: &[u8]| forge::ipv4_packet(s, d, 6, 1, seg);
        let (s4, d4) = ("10.1.0.2".parse().unwrap(), "10.2.0.2".parse().unwrap());
        let p = ip(s4, d4, &seg);
        assert_eq!(
            describe(&p, false).unwrap(),
            "v4 10.1.0.2 > 10.2.0.2 ds=0x00 len=44 ipcsum=ok tcp 40000 > 80 flags=S mss=1460 csum=ok"
        );
        let mut bad = p.clone();
        bad[23] ^= 1;
        assert!(describe(&bad, false).unwrap().ends_with("csum=bad"));
        bad[1] = 0xb8;
        assert!(describe(&bad, false).unwrap().contains("ds=0xb8 len=44 ipcsum=bad"));
        let p = ip(s4, d4, &tcp_syn(src, dst, 7, None));
        assert!(describe(&p, false).unwrap().ends_with("mss=none csum=ok"));
        // CHECKSUM_PARTIAL: the field holds the pseudo-header sum.
        let mut part = p.clone();
        let want = !forge::csum_finish(forge::pseudo_header_sum(src.ip(), dst.ip(), 6, 20));
        part[36..38].copy_from_slice(&want.to_be_bytes());
        assert!(describe(&part, true).unwrap().ends_with("csum=partial-ok"));
        assert!(describe(&p, true).unwrap().ends_with("csum=partial-bad"));
        // IPv6 with a traffic class.
        let (s6, d6) = (sa("[fd01::2]:5"), sa("[fd02::2]:6"));
        let seg = tcp_syn(s6, d6, 1, Some(1220));
        let mut p6 = forge::ipv6_header("fd01::2".parse().unwrap(), "fd02::2".parse().unwrap(), 6, seg.len()).to_vec();
        p6[0] = 0x6b;
        p6[1] = 0x80;
        p6.extend_from_slice(&seg);
        assert_eq!(describe(&p6, false).unwrap(), "v6 fd01::2 > fd02::2 ds=0xb8 len=64 tcp 5 > 6 flags=S mss=1220 csum=ok");
        assert_eq!(describe(&[0x00, 1, 2], false), None);
        assert_eq!(mss_of(&[1, 1, 0, 2, 4, 1, 1]), None);
        assert_eq!(mss_of(&[1, 3, 3, 7, 2, 4, 5, 0xb4]), Some(1460));
    }
}
