// SPDX-License-Identifier: GPL-2.0

//! The packets of the malformed-packet corpus (`rnf-udp corpus`), built from
//! a case's text. Pure functions over byte arrays, tested on the host.
//!
//! A step of a case is a side (`c` the lan host, `s` the wan host) and
//! `key=value` words (a bare word `tcp`, `udp`, `icmp` is the protocol):
//!
//! | word | meaning |
//! | --- | --- |
//! | `tcp` `udp` `icmp` `proto=N` | transport (`icmp` is ICMPv6 in an IPv6 case); `proto=N` sends `data` bytes as protocol N |
//! | `src=` `dst=` | `cli`, `srv`, `rtr` (the router on the sender's link) or an address |
//! | `sport=` `dport=` `id=` | ports, ICMP echo identifier |
//! | `flags=` `seq=` `ack=` `win=` `opt=HEX` `doff=N` | TCP flags (letters `FSRPAUEC`), numbers, option bytes (padded with EOL to 4), data offset field in words |
//! | `ulen=N` | the UDP length field |
//! | `type=` `code=` `mtu=` | ICMP; an error (`quote=`) quotes `last` (the last packet this side received) or `hex:HEX`, cut to `qcut=N` bytes |
//! | `data=N` | N payload bytes |
//! | `csum=bad` `csum=0` | the transport checksum wrong or zero |
//! | `ihl=` `tlen=` `ipcsum=bad` `ttl=` `ipopt=HEX` `ver=` `ipproto=` | IPv4 header fields |
//! | `plen=` `ext=LIST` | IPv6 payload length; extension headers before the transport: `hop`, `dst`, `rt`, `frag` (atomic), `ah` |
//! | `frag=OFF:LEN[+][x],...` | fragments of the transport bytes (IPv4 offsets in the header's 8-byte units, IPv6 with a fragment header): `+` more fragments, `x` the bytes changed |
//! | `cut=N` | the packet cut to N bytes, its length field saying so (unless `tlen`/`plen` is given) |
//! | `pad=N` | N bytes after the packet that its length field does not count |
//!
//! Without addresses and ports a step answers the last packet its side
//! received in the case (addresses and ports swapped, the ICMP identifier
//! kept); before any, the lan host sends from its address and the case's
//! port to the wan host's port 80, and the wan host from its address and
//! the case's port to the router's wan address, port 8080 (the port forward).

use std::net::IpAddr;

use crate::forge::{csum_add, csum_finish, pseudo_header_sum};

/// The hosts of tests/guest/lib.sh's topology.
pub const CLIENT4: [u8; 4] = [10, 1, 0, 2];
pub const ROUTER4_CLIENT: [u8; 4] = [10, 1, 0, 1];
pub const ROUTER4_SERVER: [u8; 4] = [10, 2, 0, 1];
pub const SERVER4: [u8; 4] = [10, 2, 0, 2];

fn v6(net: u8, host: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[1] = net;
    a[15] = host;
    a
}

/// Which host a step is sent from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The lan host (`client`), behind the router's eth-client.
    Client,
    /// The wan host (`server`), behind the router's eth-server.
    Server,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// An address of the topology in `v6` or IPv4 form.
pub fn host(name: &str, side: Side, v6_: bool) -> Option<IpAddr> {
    let (a4, a6) = match (name, side) {
        ("cli", _) => (CLIENT4, v6(1, 2)),
        ("srv", _) => (SERVER4, v6(2, 2)),
        ("rtr", Side::Client) => (ROUTER4_CLIENT, v6(1, 1)),
        ("rtr", Side::Server) => (ROUTER4_SERVER, v6(2, 1)),
        _ => return name.parse().ok(),
    };
    Some(if v6_ { IpAddr::from(a6) } else { IpAddr::from(a4) })
}

/// Addresses, protocol and ports (ICMP: identifier as both) of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
}

/// The network header length and transport protocol of IP packet `p`
/// (IPv6: after the extension headers this module builds), and whether it
/// is a fragment other than the first.
pub fn l4_of(p: &[u8]) -> Option<(usize, u8, bool)> {
    match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p.first()? & 0x0f) * 4;
            let frag = u16::from_be_bytes([*p.get(6)?, *p.get(7)?]) & 0x1fff;
            Some((ihl, *p.get(9)?, frag != 0))
        }
        6 => {
            let (mut next, mut off) = (*p.get(6)?, 40usize);
            for _ in 0..16 {
                match next {
                    0 | 43 | 60 => {
                        next = *p.get(off)?;
                        off += (usize::from(*p.get(off + 1)?) + 1) * 8;
                    }
                    51 => {
                        next = *p.get(off)?;
                        off += (usize::from(*p.get(off + 1)?) + 2) * 4;
                    }
                    44 => {
                        let fo = u16::from_be_bytes([*p.get(off + 2)?, *p.get(off + 3)?]) & 0xfff8;
                        next = *p.get(off)?;
                        off += 8;
                        if fo != 0 {
                            return Some((off, next, true));
                        }
                    }
                    _ => return Some((off, next, false)),
                }
            }
            None
        }
        _ => None,
    }
}

/// The flow of IP packet `p`, if its transport header can be read.
pub fn flow_of(p: &[u8]) -> Option<Flow> {
    let (src, dst) = match p.first()? >> 4 {
        4 => (
            IpAddr::from(<[u8; 4]>::try_from(p.get(12..16)?).ok()?),
            IpAddr::from(<[u8; 4]>::try_from(p.get(16..20)?).ok()?),
        ),
        _ => (
            IpAddr::from(<[u8; 16]>::try_from(p.get(8..24)?).ok()?),
            IpAddr::from(<[u8; 16]>::try_from(p.get(24..40)?).ok()?),
        ),
    };
    let (off, proto, later) = l4_of(p)?;
    if later {
        return None;
    }
    let be = |o: usize| Some(u16::from_be_bytes([*p.get(off + o)?, *p.get(off + o + 1)?]));
    let (sport, dport) = match proto {
        6 | 17 => (be(0)?, be(2)?),
        1 | 58 => (be(4)?, be(4)?),
        _ => (0, 0),
    };
    Some(Flow { src, dst, proto, sport, dport })
}

/// What a step needs from the run: the case's port, the side, and the last
/// packet that side received in the case.
pub struct Ctx<'a> {
    pub v6: bool,
    pub side: Side,
    pub port: u16,
    pub last_rx: Option<&'a [u8]>,
}

/// The words of a step, looked up by key.
struct Words<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Words<'a> {
    fn parse(text: &'a str) -> Words<'a> {
        Words(text.split_whitespace().map(|w| w.split_once('=').unwrap_or((w, ""))).collect())
    }
    fn has(&self, k: &str) -> bool {
        self.0.iter().any(|(key, _)| *key == k)
    }
    fn get(&self, k: &str) -> Option<&'a str> {
        self.0.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
    }
    fn num<T: std::str::FromStr>(&self, k: &str) -> Result<Option<T>, String> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => {
                let v2 = v.strip_prefix("0x");
                let parsed = match v2 {
                    Some(h) => u64::from_str_radix(h, 16).ok().and_then(|n| n.to_string().parse().ok()),
                    None => v.parse().ok(),
                };
                parsed.map(Some).ok_or_else(|| format!("bad value {k}={v}"))
            }
        }
    }
}

/// Bytes from hex text (`de:ad` or `dead`).
pub fn hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| *b != b':').collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd hex length: {text}"));
    }
    digits
        .chunks(2)
        .map(|c| {
            std::str::from_utf8(c)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("bad hex: {text}"))
        })
        .collect()
}

fn tcp_flags(text: &str) -> Result<u8, String> {
    text.chars().try_fold(0u8, |acc, c| {
        let bit = match c {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            'A' => 0x10,
            'U' => 0x20,
            'E' => 0x40,
            'C' => 0x80,
            '0' => 0,
            _ => return Err(format!("bad TCP flag {c}")),
        };
        Ok(acc | bit)
    })
}

/// Transport checksum over `l4` with the pseudo-header of its real length.
fn l4_csum(src: IpAddr, dst: IpAddr, proto: u8, l4: &[u8]) -> u16 {
    csum_finish(csum_add(pseudo_header_sum(src, dst, proto, l4.len()), l4))
}

/// The packets of one step.
pub fn build(ctx: &Ctx<'_>, text: &str) -> Result<Vec<Vec<u8>>, String> {
    let w = Words::parse(text);
    for (k, _) in &w.0 {
        const KNOWN: &[&str] = &[
            "tcp", "udp", "icmp", "proto", "src", "dst", "sport", "dport", "id", "flags", "seq", "ack", "win",
            "opt", "doff", "ulen", "type", "code", "mtu", "quote", "qcut", "data", "csum", "ihl", "tlen",
            "ipcsum", "ttl", "ipopt", "ver", "ipproto", "plen", "ext", "frag", "cut", "pad",
        ];
        if !KNOWN.contains(k) {
            return Err(format!("unknown word {k}"));
        }
    }
    let proto: u8 = if w.has("tcp") {
        6
    } else if w.has("udp") {
        17
    } else if w.has("icmp") {
        if ctx.v6 { 58 } else { 1 }
    } else {
        w.num("proto")?.ok_or("no protocol (tcp, udp, icmp or proto=N)")?
    };
    let last = ctx.last_rx.and_then(flow_of);
    let addr = |k: &str, dflt: IpAddr| -> Result<IpAddr, String> {
        match w.get(k) {
            None => Ok(dflt),
            Some(v) => match host(v, ctx.side, ctx.v6) {
                Some(a) if a.is_ipv6() == ctx.v6 => Ok(a),
                _ => Err(format!("bad address {k}={v}")),
            },
        }
    };
    let (dsrc, ddst, dsport, ddport) = match (last, ctx.side) {
        (Some(f), _) => (f.dst, f.src, f.dport, f.sport),
        (None, Side::Client) => (host("cli", ctx.side, ctx.v6).ok_or("cli")?, host("srv", ctx.side, ctx.v6).ok_or("srv")?, ctx.port, 80),
        (None, Side::Server) => (host("srv", ctx.side, ctx.v6).ok_or("srv")?, host("rtr", ctx.side, ctx.v6).ok_or("rtr")?, ctx.port, 8080),
    };
    let src = addr("src", dsrc)?;
    let dst = addr("dst", ddst)?;
    let sport: u16 = w.num("sport")?.unwrap_or(dsport);
    let dport: u16 = w.num("dport")?.unwrap_or(ddport);
    let data = vec![b'x'; w.num::<usize>("data")?.unwrap_or(0)];
    let mut l4 = match proto {
        6 => {
            let mut opt = hex(w.get("opt").unwrap_or(""))?;
            while opt.len() % 4 != 0 {
                opt.push(0);
            }
            let mut h = vec![0u8; 20];
            h[0..2].copy_from_slice(&sport.to_be_bytes());
            h[2..4].copy_from_slice(&dport.to_be_bytes());
            h[4..8].copy_from_slice(&w.num::<u32>("seq")?.unwrap_or(1000).to_be_bytes());
            h[8..12].copy_from_slice(&w.num::<u32>("ack")?.unwrap_or(0).to_be_bytes());
            let doff: u8 = w.num("doff")?.unwrap_or(((20 + opt.len()) / 4) as u8);
            h[12] = doff << 4;
            h[13] = tcp_flags(w.get("flags").unwrap_or("S"))?;
            h[14..16].copy_from_slice(&w.num::<u16>("win")?.unwrap_or(64240).to_be_bytes());
            h.extend_from_slice(&opt);
            h.extend_from_slice(&data);
            h
        }
        17 => {
            let mut h = vec![0u8; 8];
            h[0..2].copy_from_slice(&sport.to_be_bytes());
            h[2..4].copy_from_slice(&dport.to_be_bytes());
            let ulen: u16 = w.num("ulen")?.unwrap_or((8 + data.len()) as u16);
            h[4..6].copy_from_slice(&ulen.to_be_bytes());
            h.extend_from_slice(&data);
            h
        }
        1 | 58 => {
            let is_err = w.has("quote");
            let dflt_type = match (ctx.v6, last.filter(|f| f.proto == proto)) {
                (false, Some(_)) => 0,
                (false, None) => 8,
                (true, Some(_)) => 129,
                (true, None) => 128,
            };
            let ty: u8 = w.num("type")?.unwrap_or(dflt_type);
            let mut h = vec![ty, w.num("code")?.unwrap_or(0), 0, 0, 0, 0, 0, 0];
            if is_err {
                let mtu: u32 = w.num("mtu")?.unwrap_or(0);
                if ctx.v6 {
                    h[4..8].copy_from_slice(&mtu.to_be_bytes());
                } else {
                    h[6..8].copy_from_slice(&(mtu as u16).to_be_bytes());
                }
                let mut q = match w.get("quote") {
                    Some("last") => ctx.last_rx.ok_or("quote=last: this side received nothing yet")?.to_vec(),
                    Some(v) if v.starts_with("hex:") => hex(&v[4..])?,
                    Some(v) => return Err(format!("bad quote={v}")),
                    None => Vec::new(),
                };
                q.truncate(w.num("qcut")?.unwrap_or(if ctx.v6 { 1232 } else { 548 }));
                h.extend_from_slice(&q);
            } else {
                let id: u16 = w.num("id")?.unwrap_or(last.filter(|f| f.proto == proto).map_or(ctx.port, |f| f.sport));
                h[4..6].copy_from_slice(&id.to_be_bytes());
                h[6..8].copy_from_slice(&1u16.to_be_bytes());
                h.extend_from_slice(&data);
            }
            h
        }
        _ => data.clone(),
    };
    // Checksums over the whole transport part, before any cut.
    let csum_at = match proto {
        6 => Some(16),
        17 => Some(6),
        1 | 58 => Some(2),
        _ => None,
    };
    if let Some(at) = csum_at {
        let sum = match proto {
            1 => csum_finish(csum_add(0, &l4)),
            _ => l4_csum(src, dst, proto, &l4),
        };
        let sum = match (w.get("csum"), proto, sum) {
            (Some("0"), _, _) => 0,
            (Some("bad"), _, s) => s ^ 0x5a5a,
            (Some(v), _, _) => return Err(format!("bad csum={v}")),
            (None, 17, 0) => 0xffff,
            (None, _, s) => s,
        };
        if let Some(f) = l4.get_mut(at..at + 2) {
            f.copy_from_slice(&sum.to_be_bytes());
        }
    }
    // Fragments of the transport bytes, or the whole.
    let pieces: Vec<(usize, Vec<u8>, bool)> = match w.get("frag") {
        None => vec![(0, std::mem::take(&mut l4), false)],
        Some(spec) => spec
            .split(',')
            .map(|p| {
                let (off, rest) = p.split_once(':').ok_or_else(|| format!("bad fragment {p}"))?;
                let more = rest.contains('+');
                let changed = rest.contains('x');
                let len: usize = rest.trim_end_matches(['+', 'x']).parse().map_err(|_| format!("bad fragment {p}"))?;
                let off: usize = off.parse().map_err(|_| format!("bad fragment {p}"))?;
                let end = (off + len).min(l4.len());
                let mut bytes = l4.get(off.min(end)..end).unwrap_or(&[]).to_vec();
                if changed {
                    bytes.iter_mut().for_each(|b| *b ^= 0x55);
                }
                Ok((off, bytes, more))
            })
            .collect::<Result<_, String>>()?,
    };
    let fragmented = w.has("frag");
    let mut out = Vec::new();
    for (off, body, more) in pieces {
        let mut p = if ctx.v6 {
            ipv6(&w, ctx, src, dst, proto, &body, fragmented.then_some((off, more)))?
        } else {
            ipv4(&w, ctx, src, dst, proto, &body, fragmented.then_some((off, more)))?
        };
        p.extend(std::iter::repeat_n(0u8, w.num::<usize>("pad")?.unwrap_or(0)));
        out.push(p);
    }
    Ok(out)
}

fn ipv4(
    w: &Words<'_>,
    ctx: &Ctx<'_>,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    body: &[u8],
    frag: Option<(usize, bool)>,
) -> Result<Vec<u8>, String> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else { return Err("IPv6 address in an IPv4 case".into()) };
    let mut opts = hex(w.get("ipopt").unwrap_or(""))?;
    while opts.len() % 4 != 0 {
        opts.push(0);
    }
    let hlen = 20 + opts.len();
    let mut p = vec![0u8; 20];
    let ver: u8 = w.num("ver")?.unwrap_or(4);
    p[0] = ver << 4 | w.num::<u8>("ihl")?.unwrap_or((hlen / 4) as u8) & 0x0f;
    p[4..6].copy_from_slice(&ctx.port.to_be_bytes());
    let fragw = match frag {
        None => 0x4000, // DF
        Some((off, more)) => ((off / 8) as u16 & 0x1fff) | if more { 0x2000 } else { 0 },
    };
    p[6..8].copy_from_slice(&fragw.to_be_bytes());
    p[8] = w.num("ttl")?.unwrap_or(64);
    p[9] = w.num("ipproto")?.unwrap_or(proto);
    p[12..16].copy_from_slice(&s.octets());
    p[16..20].copy_from_slice(&d.octets());
    p.extend_from_slice(&opts);
    p.extend_from_slice(body);
    if let Some(cut) = w.num::<usize>("cut")? {
        p.truncate(cut);
    }
    let tlen: u16 = w.num("tlen")?.unwrap_or(p.len() as u16);
    p[2..4].copy_from_slice(&tlen.to_be_bytes());
    let covered = (usize::from(p[0] & 0x0f) * 4).min(p.len());
    let mut sum = csum_finish(csum_add(0, &p[..covered]));
    if w.get("ipcsum") == Some("bad") {
        sum ^= 0x5a5a;
    }
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    Ok(p)
}

fn ipv6(
    w: &Words<'_>,
    ctx: &Ctx<'_>,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    body: &[u8],
    frag: Option<(usize, bool)>,
) -> Result<Vec<u8>, String> {
    let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) else { return Err("IPv4 address in an IPv6 case".into()) };
    let mut kinds: Vec<&str> = w.get("ext").map(|e| e.split(',').filter(|k| !k.is_empty()).collect()).unwrap_or_default();
    if frag.is_some() {
        kinds.push("fragment");
    }
    let num = |k: &str| -> Result<u8, String> {
        Ok(match k {
            "hop" => 0,
            "rt" => 43,
            "frag" | "fragment" => 44,
            "ah" => 51,
            "dst" => 60,
            _ => return Err(format!("unknown extension header {k}")),
        })
    };
    let mut p = vec![0u8; 40];
    p[0] = w.num::<u8>("ver")?.unwrap_or(6) << 4;
    p[6] = match kinds.first() {
        Some(k) => num(k)?,
        None => w.num("ipproto")?.unwrap_or(proto),
    };
    p[7] = w.num("ttl")?.unwrap_or(64);
    p[8..24].copy_from_slice(&s.octets());
    p[24..40].copy_from_slice(&d.octets());
    for (i, k) in kinds.iter().enumerate() {
        let next = match kinds.get(i + 1) {
            Some(n) => num(n)?,
            None => w.num("ipproto")?.unwrap_or(proto),
        };
        match *k {
            // PadN over the 6 option bytes.
            "hop" | "dst" => p.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]),
            // Type 4 (segment routing) with no segments left: a router passes it.
            "rt" => p.extend_from_slice(&[next, 0, 4, 0, 0, 0, 0, 0]),
            "frag" => p.extend_from_slice(&[next, 0, 0, 0, 0, 0, 0, 1]),
            "fragment" => {
                let (off, more) = frag.unwrap_or((0, false));
                let fo = (off as u16 & 0xfff8) | u16::from(more);
                p.extend_from_slice(&[next, 0]);
                p.extend_from_slice(&fo.to_be_bytes());
                p.extend_from_slice(&u32::from(ctx.port).to_be_bytes());
            }
            "ah" => p.extend_from_slice(&[next, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
            _ => return Err(format!("unknown extension header {k}")),
        }
    }
    p.extend_from_slice(body);
    if let Some(cut) = w.num::<usize>("cut")? {
        p.truncate(cut);
    }
    let plen: u16 = w.num("plen")?.unwrap_or(p.len().saturating_sub(40) as u16);
    if let Some(f) = p.get_mut(4..6) {
        f.copy_from_slice(&plen.to_be_bytes());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::{csum_add, csum_finish};

    fn ctx(v6: bool, side: Side) -> Ctx<'static> {
        Ctx { v6, side, port: 30001, last_rx: None }
    }

    #[test]
    fn default_tcp_syn_from_the_lan() {
        let p = build(&ctx(false, Side::Client), "tcp").unwrap();
        assert_eq!(p.len(), 1);
        let p = &p[0];
        assert_eq!(p.len(), 40);
        assert_eq!(p[..4], [0x45, 0, 0, 40]);
        assert_eq!(p[12..20], [10, 1, 0, 2, 10, 2, 0, 2]);
        assert_eq!(csum_finish(csum_add(0, &p[..20])), 0);
        assert_eq!(p[20..24], [0x75, 0x31, 0, 80]);
        assert_eq!(p[33], 0x02);
        let f = flow_of(p).unwrap();
        assert_eq!((f.proto, f.sport, f.dport), (6, 30001, 80));
        let seg = &p[20..];
        assert_eq!(csum_finish(csum_add(pseudo_header_sum(f.src, f.dst, 6, seg.len()), seg)), 0);
    }

    #[test]
    fn a_reply_swaps_the_last_packet_received() {
        let syn = build(&ctx(false, Side::Client), "tcp sport=4000").unwrap().remove(0);
        let mut seen = syn.clone();
        seen[12..16].copy_from_slice(&ROUTER4_SERVER);
        let c = Ctx { v6: false, side: Side::Server, port: 1, last_rx: Some(&seen) };
        let p = build(&c, "tcp flags=SA seq=5 ack=1001").unwrap().remove(0);
        let f = flow_of(&p).unwrap();
        assert_eq!(f.src, IpAddr::from(SERVER4));
        assert_eq!(f.dst, IpAddr::from(ROUTER4_SERVER));
        assert_eq!((f.sport, f.dport), (80, 4000));
        assert_eq!(p[33], 0x12);
    }

    #[test]
    fn lengths_cuts_and_udp_length() {
        let p = build(&ctx(false, Side::Client), "udp data=10 ulen=0").unwrap().remove(0);
        assert_eq!(p.len(), 38);
        assert_eq!(p[24..26], [0, 0]);
        let p = build(&ctx(false, Side::Client), "tcp cut=30").unwrap().remove(0);
        assert_eq!((p.len(), p[3]), (30, 30));
        let p = build(&ctx(false, Side::Client), "tcp tlen=99 ihl=4 pad=3").unwrap().remove(0);
        assert_eq!((p.len(), p[0], p[3]), (43, 0x44, 99));
        let p = build(&ctx(true, Side::Client), "udp cut=44").unwrap().remove(0);
        assert_eq!((p.len(), p[5]), (44, 4));
    }

    #[test]
    fn fragments_and_extension_headers() {
        let p = build(&ctx(false, Side::Client), "udp data=40 frag=0:16+,16:32").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0][6..8], [0x20, 0]);
        assert_eq!(p[1][6..8], [0, 2]);
        assert_eq!(p[1].len(), 20 + 32);
        let p = build(&ctx(true, Side::Client), "udp data=40 ext=hop,dst frag=8:8x").unwrap();
        let p = &p[0];
        assert_eq!(p[6], 0);
        assert_eq!((p[40], p[48], p[56]), (60, 44, 17));
        assert_eq!(p[58..60], [0, 8]);
        assert_eq!(l4_of(p), Some((64, 17, true)));
        assert_eq!(p.len(), 72);
        let p = build(&ctx(true, Side::Client), "proto=253 data=8 ext=ah").unwrap().remove(0);
        assert_eq!(l4_of(&p), Some((56, 253, false)));
    }

    #[test]
    fn icmp_errors_quote() {
        let inner = build(&ctx(false, Side::Client), "udp").unwrap().remove(0);
        let c = Ctx { v6: false, side: Side::Server, port: 1, last_rx: Some(&inner) };
        let p = build(&c, "icmp type=3 code=3 quote=last qcut=24").unwrap().remove(0);
        assert_eq!(p.len(), 20 + 8 + 24);
        assert_eq!(p[12..16], SERVER4);
        assert_eq!(p[16..20], CLIENT4);
        assert_eq!(csum_finish(csum_add(0, &p[20..])), 0);
        let p = build(&ctx(false, Side::Client), "icmp").unwrap().remove(0);
        assert_eq!((p[20], p[24..26].to_vec()), (8, 30001u16.to_be_bytes().to_vec()));
        assert!(build(&ctx(false, Side::Client), "tcp bogus=1").is_err());
        assert!(build(&ctx(false, Side::Client), "icmp quote=last").is_err());
    }
}
