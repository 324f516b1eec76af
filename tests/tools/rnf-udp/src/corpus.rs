// SPDX-License-Identifier: GPL-2.0

//! The malformed-packet corpus of issue 13: named cases injected at the
//! router of tests/guest/lib.sh, and what became of each.
//!
//! ```text
//! rnf-udp corpus FILE [NAME...]
//! ```
//!
//! Run in the router's namespace (`ip netns exec router`). FILE has one case
//! a line (`#` comments): a name, the family (`4` or `6`), and steps
//! separated by ` ; `, each `c:` (sent by the lan host, into the router's
//! eth-client) or `s:` (the wan host, into eth-server) and the words of
//! `corpus_build.rs`. Case number `i` (from 0, in file order) owns port
//! `30000 + i`: its source port, ICMP identifier and IP/fragment id.
//!
//! The packets go out through packet sockets on the hosts' eth0, so neither
//! host's IP stack or netfilter sees them, straight to the router's MAC;
//! packet sockets on the same devices record what the router sends. After
//! each step a marker (an IPv4 packet of protocol 252, which the corpus
//! ruleset leaves untracked and forwards) follows from the same side, and
//! the step is over when it reaches the other side: everything runs on one
//! CPU (this process is pinned to CPU 0, and veth hands packets to that
//! CPU's backlog), so whatever the step's packets caused (a forward, an
//! answer) was delivered before it. No sleeps.
//!
//! One line per case:
//!
//! ```text
//! NAME | 1:fwd[v4 10.2.0.1>10.2.0.2 tcp 30000>80 S ...] 2:drop 3:ans[...] | ct tcp 6 SYN_SENT src=... | stat invalid+1
//! ```
//!
//! `fwd[...]` lists what reached the other side, `ans[...]` what came back to
//! the sender's side, `drop` neither. `ct` is every line of the router's
//! `/proc/net/nf_conntrack` that has the case's port (timeout and `use=`
//! left out), `stat` the changes of the router's `invalid`, `icmp_error`,
//! `insert`, `insert_failed`, `drop` and `early_drop` counters
//! (`/proc/net/stat/nf_conntrack`, all CPUs) over the case.

use std::fmt::Write as _;
use std::fs::File;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::raw::{c_int, c_void};
use std::time::{Duration, Instant};

use crate::corpus_build::{self as cb, Side};
use crate::forge;
use crate::sniff::{self, IoVec, MsgHdr, SockaddrLl};
use crate::sys;
use crate::Error;

const AF_PACKET: c_int = 17;
const SOCK_DGRAM: c_int = 2;
const ETH_P_ALL: u16 = 0x0003;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const CLONE_NEWNET: c_int = 0x4000_0000;
const MSG_DONTWAIT: c_int = 0x40;
const POLLIN: i16 = 1;
/// The case ports start here.
pub const PORT_BASE: u16 = 30000;
/// The markers' IP protocol.
const MARKER_PROTO: u8 = 252;
const MARKER_TAG: &[u8] = b"rnf-corpus-marker";
/// The statistics compared, by their names in the file's header.
const STATS: [&str; 6] = ["invalid", "icmp_error", "insert", "insert_failed", "drop", "early_drop"];

extern "C" {
    fn setns(fd: c_int, nstype: c_int) -> c_int;
    fn sched_setaffinity(pid: c_int, size: usize, mask: *const u64) -> c_int;
    fn poll(fds: *mut PollFd, n: u64, timeout: c_int) -> c_int;
    fn bind(fd: c_int, addr: *const c_void, len: u32) -> c_int;
    fn sendto(fd: c_int, buf: *const c_void, len: usize, flags: c_int, addr: *const c_void, alen: u32) -> isize;
}

/// `struct pollfd`.
#[repr(C)]
struct PollFd {
    fd: c_int,
    events: i16,
    revents: i16,
}

/// One case of the corpus file.
#[derive(Debug, PartialEq)]
pub struct Case {
    pub name: String,
    pub v6: bool,
    pub steps: Vec<(Side, String)>,
}

/// Parses the corpus file's text.
pub fn parse_cases(text: &str) -> Result<Vec<Case>, String> {
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |m: &str| format!("line {}: {m}", n + 1);
        let split = |s: &str| -> Option<(String, String)> {
            let s = s.trim_start();
            let end = s.find(char::is_whitespace)?;
            Some((s[..end].to_string(), s[end..].trim_start().to_string()))
        };
        let Some((name, rest)) = split(line) else { return Err(err("want NAME FAMILY STEPS")) };
        let Some((fam, rest)) = split(&rest) else { return Err(err("want NAME FAMILY STEPS")) };
        let (name, fam, rest) = (name.as_str(), fam.as_str(), rest.as_str());
        let v6 = match fam {
            "4" => false,
            "6" => true,
            _ => return Err(err("family must be 4 or 6")),
        };
        if cases.iter().any(|c| c.name == name) {
            return Err(err(&format!("case {name} given twice")));
        }
        let mut steps = Vec::new();
        for step in rest.split(" ; ") {
            let step = step.trim();
            let side = match step.get(..2) {
                Some("c:") => Side::Client,
                Some("s:") => Side::Server,
                _ => return Err(err(&format!("step must start with c: or s:: {step}"))),
            };
            steps.push((side, step[2..].trim().to_string()));
        }
        cases.push(Case { name: name.to_string(), v6, steps });
    }
    Ok(cases)
}

/// A packet socket on one host's eth0, and the router's MAC on that link.
struct Port {
    fd: OwnedFd,
    ifindex: c_int,
    router_mac: [u8; 6],
}

fn failed(what: &str, e: std::io::Error) -> Error {
    crate::io_failed(what, e)
}

fn enter(ns: &File, name: &str) -> Result<(), Error> {
    // SAFETY: setns() takes a file descriptor and flags; no memory is passed.
    if unsafe { setns(ns.as_raw_fd(), CLONE_NEWNET) } < 0 {
        return Err(failed(&format!("setns {name}"), std::io::Error::last_os_error()));
    }
    Ok(())
}

fn mac_of(dev: &str) -> Result<[u8; 6], Error> {
    let path = format!("/sys/class/net/{dev}/address");
    let text = std::fs::read_to_string(&path).map_err(|e| failed(&path, e))?;
    let bytes = cb::hex(text.trim()).map_err(Error::Failed)?;
    bytes.try_into().map_err(|_| Error::Failed(format!("{path}: not a MAC address")))
}

/// A packet socket on eth0 of namespace `ns`, made there and used from here.
fn open_port(home: &File, ns: &str, router_dev: &str) -> Result<Port, Error> {
    let router_mac = mac_of(router_dev)?;
    let path = format!("/run/netns/{ns}");
    let f = File::open(&path).map_err(|e| failed(&path, e))?;
    enter(&f, ns)?;
    let fd = sys::new_socket(AF_PACKET, SOCK_DGRAM, c_int::from(ETH_P_ALL.to_be()));
    // SAFETY: a NUL-terminated string literal.
    let ifindex = unsafe { sniff::if_nametoindex(c"eth0".as_ptr()) } as c_int;
    enter(home, "back")?;
    let fd = fd.map_err(|e| failed("packet socket", e))?;
    if ifindex == 0 {
        return Err(Error::Failed(format!("no eth0 in {ns}")));
    }
    let sll = SockaddrLl { family: AF_PACKET as u16, protocol: ETH_P_ALL.to_be(), ifindex, ..Default::default() };
    // SAFETY: `sll` is a sockaddr_ll of the given size, live for the call.
    if unsafe { bind(fd.as_raw_fd(), (&sll as *const SockaddrLl).cast(), size_of::<SockaddrLl>() as u32) } < 0 {
        return Err(failed("bind", std::io::Error::last_os_error()));
    }
    sys::set_int(&fd, sniff::SOL_PACKET, sniff::PACKET_AUXDATA, 1).map_err(|e| failed("PACKET_AUXDATA", e))?;
    Ok(Port { fd, ifindex, router_mac })
}

impl Port {
    fn send(&self, pkt: &[u8], v6: bool) -> Result<(), Error> {
        let proto = if v6 { ETH_P_IPV6 } else { ETH_P_IP };
        let mut addr = [0u8; 8];
        addr[..6].copy_from_slice(&self.router_mac);
        let sll = SockaddrLl { family: AF_PACKET as u16, protocol: proto.to_be(), ifindex: self.ifindex, halen: 6, addr, ..Default::default() };
        // SAFETY: `pkt` and `sll` are valid for the lengths given during the call.
        let n = unsafe {
            sendto(self.fd.as_raw_fd(), pkt.as_ptr().cast(), pkt.len(), 0, (&sll as *const SockaddrLl).cast(), size_of::<SockaddrLl>() as u32)
        };
        if n < 0 {
            return Err(failed("sendto", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// The next IP packet received (not sent) on the device, with whether
    /// its transport checksum is still to be filled in, if one is queued.
    fn recv(&self) -> Result<Option<(Vec<u8>, bool)>, Error> {
        let mut buf = vec![0u8; 65536];
        loop {
            let mut from = SockaddrLl::default();
            let mut control = [0u64; 16];
            let mut iov = IoVec { base: buf.as_mut_ptr().cast(), len: buf.len() };
            let mut msg = MsgHdr {
                name: (&mut from as *mut SockaddrLl).cast(),
                namelen: size_of::<SockaddrLl>() as u32,
                iov: &mut iov,
                iovlen: 1,
                control: control.as_mut_ptr().cast(),
                controllen: size_of_val(&control),
                flags: 0,
            };
            // SAFETY: every pointer in `msg` points to live memory of the
            // stated size for the duration of the call.
            let n = unsafe { sniff::recvmsg(self.fd.as_raw_fd(), &mut msg, MSG_DONTWAIT) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                return match e.kind() {
                    std::io::ErrorKind::WouldBlock => Ok(None),
                    std::io::ErrorKind::Interrupted => continue,
                    _ => Err(failed("recvmsg", e)),
                };
            }
            let proto = u16::from_be(from.protocol);
            if from.pkttype == sniff::PACKET_OUTGOING || (proto != ETH_P_IP && proto != ETH_P_IPV6) {
                continue;
            }
            let pkt = buf[..(n as usize).min(buf.len())].to_vec();
            if noise(&pkt) {
                continue;
            }
            let partial = sniff::aux_status(&control, msg.controllen) & sniff::TP_STATUS_CSUMNOTREADY != 0;
            return Ok(Some((pkt, partial)));
        }
    }

    fn wait(&self, until: Instant) -> bool {
        let left = until.saturating_duration_since(Instant::now());
        let mut p = PollFd { fd: self.fd.as_raw_fd(), events: POLLIN, revents: 0 };
        // SAFETY: `p` is one live pollfd for the duration of the call.
        unsafe { poll(&mut p, 1, left.as_millis().min(1000) as c_int) > 0 }
    }
}

/// Link-local and multicast traffic (MLD, neighbour discovery) is no
/// step's doing.
fn noise(p: &[u8]) -> bool {
    match p.first().map(|b| b >> 4) {
        Some(4) => p.get(16).is_some_and(|b| *b >= 224),
        Some(6) => p.get(8..10) == Some(&[0xfe, 0x80]) || p.get(24) == Some(&0xff),
        _ => true,
    }
}

/// The marker `seq` from `side`: an IPv4 packet of protocol 252 (which
/// the corpus ruleset leaves untracked and forwards, with no transport
/// header for a match to read) to the other host.
fn marker(side: Side, seq: u32) -> Vec<u8> {
    let (s, d) = match side {
        Side::Client => (cb::CLIENT4, cb::SERVER4),
        Side::Server => (cb::SERVER4, cb::CLIENT4),
    };
    let (s, d) = (std::net::Ipv4Addr::from(s), std::net::Ipv4Addr::from(d));
    let mut payload = MARKER_TAG.to_vec();
    payload.extend_from_slice(&seq.to_be_bytes());
    forge::ipv4_packet(s, d, MARKER_PROTO, 0, &payload)
}

fn marker_seq(p: &[u8]) -> Option<u32> {
    let (off, proto, later) = cb::l4_of(p)?;
    if proto != MARKER_PROTO || later || p.first()? >> 4 != 4 {
        return None;
    }
    let rest = p.get(off..)?.strip_prefix(MARKER_TAG)?;
    Some(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?))
}

/// The summed per-CPU counters of `/proc/net/stat/nf_conntrack`, by name.
fn stats() -> Result<Vec<(String, u64)>, Error> {
    let text = std::fs::read_to_string("/proc/net/stat/nf_conntrack").map_err(|e| failed("/proc/net/stat/nf_conntrack", e))?;
    let mut lines = text.lines();
    let names: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    let mut sums = vec![0u64; names.len()];
    for l in lines {
        for (s, v) in sums.iter_mut().zip(l.split_whitespace()) {
            *s += u64::from_str_radix(v, 16).unwrap_or(0);
        }
    }
    Ok(names.iter().map(|n| n.to_string()).zip(sums).collect())
}

/// The connection listing's lines with the case's port, without the
/// timeout and `use=`.
fn ct_lines(port: u16) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string("/proc/net/nf_conntrack").map_err(|e| failed("/proc/net/nf_conntrack", e))?;
    let keys = [format!(" sport={port} "), format!(" dport={port} "), format!(" id={port} ")];
    let mut out: Vec<String> = text
        .lines()
        .filter(|l| keys.iter().any(|k| format!("{l} ").contains(k.as_str())))
        .map(|l| {
            l.split_whitespace()
                .enumerate()
                .filter(|(i, w)| *i != 4 && !w.starts_with("use="))
                .map(|(_, w)| w)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    out.sort();
    Ok(out)
}

/// One line about a packet the router sent.
pub fn describe(p: &[u8], partial: bool) -> String {
    let mut s = String::new();
    let v6 = p.first().is_some_and(|b| b >> 4 == 6);
    let (src, dst, len) = if v6 {
        let a = |o: usize| p.get(o..o + 16).and_then(|b| <[u8; 16]>::try_from(b).ok()).map(IpAddr::from);
        let len = p.get(4..6).map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])) + 40);
        (a(8), a(24), len)
    } else {
        let a = |o: usize| p.get(o..o + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(IpAddr::from);
        let len = p.get(2..4).map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
        (a(12), a(16), len)
    };
    let (Some(src), Some(dst)) = (src, dst) else { return format!("short {} bytes", p.len()) };
    let _ = write!(s, "v{} {src}>{dst} len={len}", if v6 { 6 } else { 4 });
    if !v6 {
        let frag = p.get(6..8).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
        if frag & 0x3fff != 0 {
            let _ = write!(s, " frag={}{}", (frag & 0x1fff) * 8, if frag & 0x2000 != 0 { "+" } else { "" });
        }
        if p.len() >= 20 && forge::csum_finish(forge::csum_add(0, &p[..usize::from(p[0] & 15) * 4])) != 0 {
            s.push_str(" ipcsum=bad");
        }
    }
    let Some((off, proto, later)) = cb::l4_of(p) else { return s + " ?" };
    if v6 && off > 40 {
        let _ = write!(s, " ext={}", off - 40);
    }
    if later {
        let _ = write!(s, " later-fragment proto={proto}");
        return s;
    }
    let seg = p.get(off..len.min(p.len())).unwrap_or(&[]);
    let be = |o: usize| seg.get(o..o + 2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let be32 = |o: usize| seg.get(o..o + 4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let fragment = if v6 { p.get(6) == Some(&44) || p.get(40) == Some(&44) } else { p.get(6).is_some_and(|b| b & 0x20 != 0) };
    let csum = |proto: u8| -> &'static str {
        if fragment {
            return "-";
        }
        let ok = if proto == 1 {
            forge::csum_finish(forge::csum_add(0, seg)) == 0
        } else {
            forge::csum_finish(forge::csum_add(forge::pseudo_header_sum(src, dst, proto, seg.len()), seg)) == 0
        };
        match (partial, ok) {
            (true, _) => "partial",
            (false, true) => "ok",
            (false, false) => "bad",
        }
    };
    match proto {
        6 if seg.len() >= 20 => {
            let flags: String = [(0x02, 'S'), (0x10, 'A'), (0x01, 'F'), (0x04, 'R'), (0x08, 'P'), (0x20, 'U')]
                .iter()
                .filter(|(b, _)| seg[13] & b != 0)
                .map(|(_, c)| *c)
                .collect();
            let _ = write!(
                s,
                " tcp {}>{} {flags} seq={} ack={} win={} doff={} csum={}",
                be(0),
                be(2),
                be32(4),
                be32(8),
                be(14),
                seg[12] >> 4,
                csum(6)
            );
            let doff = usize::from(seg[12] >> 4) * 4;
            if let Some(opts) = seg.get(20..doff.min(seg.len())).filter(|o| !o.is_empty()) {
                let _ = write!(s, " opt={}", opts.iter().map(|b| format!("{b:02x}")).collect::<String>());
            }
        }
        17 if seg.len() >= 8 => {
            let _ = write!(s, " udp {}>{} ulen={} csum={}", be(0), be(2), be(4), csum(17));
        }
        1 | 58 if seg.len() >= 8 => {
            let _ = write!(s, " icmp {}/{} csum={}", seg[0], seg[1], csum(proto));
            let is_err = if proto == 1 { matches!(seg[0], 3 | 4 | 5 | 11 | 12) } else { seg[0] < 128 };
            if is_err {
                let inner = &seg[8..];
                let _ = write!(s, " quoting({} bytes: {})", inner.len(), describe_inner(inner));
            } else {
                let _ = write!(s, " id={}", be(4));
            }
        }
        _ => {
            let _ = write!(s, " proto={proto} {} bytes", seg.len());
        }
    }
    s
}

/// The packet an ICMP error quotes: addresses and ports only.
fn describe_inner(p: &[u8]) -> String {
    match cb::flow_of(p) {
        Some(f) => format!("{}:{}>{}:{} proto={}", f.src, f.sport, f.dst, f.dport, f.proto),
        None => "unreadable".to_string(),
    }
}

/// What one step caused.
fn outcome(fwd: &[String], ans: &[String]) -> String {
    let mut s = String::new();
    if !fwd.is_empty() {
        let _ = write!(s, "fwd[{}]", fwd.join("; "));
    }
    if !ans.is_empty() {
        let _ = write!(s, "ans[{}]", ans.join("; "));
    }
    if s.is_empty() {
        s.push_str("drop");
    }
    s
}

/// Arguments of `rnf-udp corpus`.
#[derive(Debug, PartialEq)]
pub struct CorpusArgs {
    pub file: String,
    pub only: Vec<String>,
}

pub fn parse_corpus(args: &[String]) -> Result<CorpusArgs, Error> {
    let Some((file, only)) = args.split_first() else {
        return crate::usage("corpus needs a FILE");
    };
    if let Some(opt) = args.iter().find(|a| a.starts_with('-')) {
        return crate::usage(format!("corpus: unknown option {opt}"));
    }
    Ok(CorpusArgs { file: file.clone(), only: only.to_vec() })
}

pub fn corpus(a: &CorpusArgs) -> Result<(), Error> {
    let text = std::fs::read_to_string(&a.file).map_err(|e| failed(&a.file, e))?;
    let cases = parse_cases(&text).map_err(|e| Error::Usage(format!("{}: {e}", a.file)))?;
    if let Some(n) = a.only.iter().find(|n| !cases.iter().any(|c| &c.name == *n)) {
        return crate::usage(format!("no case {n}"));
    }
    // One CPU: the ordering the markers rely on.
    let mask = [1u64; 1];
    // SAFETY: `mask` is a live CPU set of the size given.
    if unsafe { sched_setaffinity(0, size_of_val(&mask), mask.as_ptr()) } < 0 {
        return Err(failed("sched_setaffinity", std::io::Error::last_os_error()));
    }
    let home = File::open("/proc/self/ns/net").map_err(|e| failed("/proc/self/ns/net", e))?;
    let client = open_port(&home, "client", "eth-client")?;
    let server = open_port(&home, "server", "eth-server")?;
    let mut seq = 0u32;
    let start = Instant::now();
    for (i, case) in cases.iter().enumerate() {
        if !a.only.is_empty() && !a.only.contains(&case.name) {
            continue;
        }
        let port = PORT_BASE + i as u16;
        let before = stats()?;
        let mut last_rx: [Option<Vec<u8>>; 2] = [None, None];
        let mut steps = Vec::new();
        for (n, (side, words)) in case.steps.iter().enumerate() {
            let si = *side as usize;
            let ctx = cb::Ctx { v6: case.v6, side: *side, port, last_rx: last_rx[si].as_deref() };
            let pkts = cb::build(&ctx, words).map_err(|e| Error::Usage(format!("case {} step {}: {e}", case.name, n + 1)))?;
            let (from, to) = match side {
                Side::Client => (&client, &server),
                Side::Server => (&server, &client),
            };
            for p in &pkts {
                from.send(p, case.v6)?;
            }
            seq += 1;
            from.send(&marker(*side, seq), false)?;
            let until = Instant::now() + Duration::from_secs(5);
            let mut fwd = Vec::new();
            'wait: loop {
                while let Some((p, partial)) = to.recv()? {
                    match marker_seq(&p) {
                        Some(s) if s == seq => break 'wait,
                        Some(_) => {}
                        None => {
                            fwd.push(describe(&p, partial));
                            last_rx[side.other() as usize] = Some(p);
                        }
                    }
                }
                if Instant::now() >= until {
                    return Err(Error::Failed(format!("case {}: step {}: the marker did not arrive", case.name, n + 1)));
                }
                to.wait(until);
            }
            let mut ans = Vec::new();
            while let Some((p, partial)) = from.recv()? {
                if marker_seq(&p).is_none() {
                    ans.push(describe(&p, partial));
                    last_rx[si] = Some(p);
                }
            }
            steps.push(format!("{}:{}", n + 1, outcome(&fwd, &ans)));
        }
        let after = stats()?;
        let delta: Vec<String> = STATS
            .iter()
            .filter_map(|name| {
                let get = |v: &[(String, u64)]| v.iter().find(|(n, _)| n == name).map_or(0, |(_, x)| *x);
                let d = get(&after).wrapping_sub(get(&before)) as i64;
                (d != 0).then(|| format!("{name}{d:+}"))
            })
            .collect();
        let ct = ct_lines(port)?;
        println!(
            "{} | {} | ct {} | stat {}",
            case.name,
            steps.join(" "),
            if ct.is_empty() { "none".to_string() } else { ct.join(" / ") },
            if delta.is_empty() { "-".to_string() } else { delta.join(" ") }
        );
    }
    eprintln!("corpus: {} steps in {:.1} s", seq, start.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_parse() {
        let c = parse_cases("# x\n\na  4   c: tcp ; s: tcp flags=SA\nb 6 c: udp ulen=0\n").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].steps, vec![(Side::Client, "tcp".to_string()), (Side::Server, "tcp flags=SA".to_string())]);
        assert!(c[1].v6);
        assert!(parse_cases("a 5 c: tcp").is_err());
        assert!(parse_cases("a 4 x: tcp").is_err());
        assert!(parse_cases("a 4 c: tcp\na 4 c: udp").is_err());
    }

    #[test]
    fn markers_are_recognised() {
        let m = marker(Side::Server, 77);
        assert_eq!(marker_seq(&m), Some(77));
        assert_eq!(m[12..16], cb::SERVER4);
        assert!(describe(&m, false).ends_with("proto=252 21 bytes"));
        let syn = cb::build(&cb::Ctx { v6: false, side: Side::Client, port: 5, last_rx: None }, "tcp").unwrap().remove(0);
        assert_eq!(marker_seq(&syn), None);
        assert_eq!(
            describe(&syn, false),
            "v4 10.1.0.2>10.2.0.2 len=40 tcp 5>80 S seq=1000 ack=0 win=64240 doff=5 csum=ok"
        );
    }

    #[test]
    fn noise_is_link_local_and_multicast() {
        let mut p = vec![0x60u8; 40];
        p[8] = 0xfe;
        p[9] = 0x80;
        assert!(noise(&p));
        p[8] = 0xfd;
        p[24] = 0xfd;
        assert!(!noise(&p));
    }
}
