// SPDX-License-Identifier: GPL-2.0

//! The subcommands that forge packets or hold a TCP connection, for the
//! connection tracking tests:
//!
//! ```text
//! rnf-udp forge-unreach [-6] --to ADDR --inner-src A --inner-dst B
//!                       --inner-sport P --inner-dport Q
//! rnf-udp tcp-hold ADDR PORT --sport P --secs N [--abort]
//! rnf-udp forge-rst [-6] --src S --dst D --sport P --dport Q --seq N
//! ```
//!
//! `forge-unreach` sends to `ADDR`, through a raw ICMP (ICMPv6) socket, a
//! port unreachable error about the UDP datagram `A:P -> B:Q`; the kernel
//! picks the outer source address. `tcp-hold` connects from local port `P`,
//! sends one line, keeps the connection open `N` seconds (a fraction is
//! allowed), then closes it: with a FIN, or with `--abort` a RST
//! (SO_LINGER 0). `forge-rst` sends a bare RST with sequence number `N` from
//! `S:P` to `D:Q` (IPv4: a whole packet with IP_HDRINCL, any source; IPv6: a
//! raw TCP socket bound to `S`, which must be local unless IPV6_FREEBIND
//! lets it be). Raw sockets need CAP_NET_RAW.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::forge;
use crate::sys;
use crate::Error;

/// Arguments of `rnf-udp forge-unreach`.
#[derive(Debug, PartialEq)]
pub struct UnreachArgs {
    pub to: IpAddr,
    pub inner_src: IpAddr,
    pub inner_dst: IpAddr,
    pub inner_sport: u16,
    pub inner_dport: u16,
}

/// Arguments of `rnf-udp tcp-hold`.
#[derive(Debug, PartialEq)]
pub struct HoldArgs {
    pub dest: SocketAddr,
    pub sport: u16,
    pub hold: Duration,
    pub abort: bool,
}

/// Arguments of `rnf-udp forge-rst`.
#[derive(Debug, PartialEq)]
pub struct RstArgs {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
}

/// The options of one of these subcommands: `--name value` pairs, flags
/// without a value, and positional words, each taken at most once.
struct Opts<'a> {
    sub: &'a str,
    values: Vec<(&'a str, &'a str)>,
    flags: Vec<&'a str>,
    positional: Vec<&'a str>,
}

impl<'a> Opts<'a> {
    fn parse(
        sub: &'a str,
        args: &'a [String],
        with_value: &[&str],
        flags: &[&str],
    ) -> Result<Opts<'a>, Error> {
        let mut o = Opts {
            sub,
            values: Vec::new(),
            flags: Vec::new(),
            positional: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let arg = arg.as_str();
            if with_value.contains(&arg) {
                let Some(v) = it.next() else {
                    return crate::usage(format!("{arg} needs a value"));
                };
                if o.values.iter().any(|(k, _)| *k == arg) {
                    return crate::usage(format!("{arg} given twice"));
                }
                o.values.push((arg, v));
            } else if flags.contains(&arg) {
                o.flags.push(arg);
            } else if arg.starts_with('-') {
                return crate::usage(format!("{sub}: unknown option {arg}"));
            } else {
                o.positional.push(arg);
            }
        }
        Ok(o)
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    fn get(&self, name: &str) -> Result<&'a str, Error> {
        match self.values.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => Ok(v),
            None => crate::usage(format!("{} needs {name}", self.sub)),
        }
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T, Error> {
        let text = self.get(name)?;
        text.parse()
            .or_else(|_| crate::usage(format!("bad value for {name}: {text}")))
    }

    /// Address option `name`, of the family `-6` selects.
    fn ip(&self, name: &str, v6: bool) -> Result<IpAddr, Error> {
        ip_of_family(self.get(name)?, v6)
    }
}

fn ip_of_family(text: &str, v6: bool) -> Result<IpAddr, Error> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    match bare.parse::<IpAddr>() {
        Ok(ip) if ip.is_ipv6() == v6 => Ok(ip),
        Ok(_) if v6 => crate::usage(format!("-6 given but {text} is an IPv4 address")),
        Ok(_) => crate::usage(format!("{text} is an IPv6 address: add -6")),
        Err(_) => crate::usage(format!("not an IP address: {text}")),
    }
}

pub fn parse_unreach(args: &[String]) -> Result<UnreachArgs, Error> {
    let names = [
        "--to",
        "--inner-src",
        "--inner-dst",
        "--inner-sport",
        "--inner-dport",
    ];
    let o = Opts::parse("forge-unreach", args, &names, &["-6"])?;
    if !o.positional.is_empty() {
        return crate::usage("forge-unreach takes no positional arguments");
    }
    let v6 = o.flag("-6");
    Ok(UnreachArgs {
        to: o.ip("--to", v6)?,
        inner_src: o.ip("--inner-src", v6)?,
        inner_dst: o.ip("--inner-dst", v6)?,
        inner_sport: o.num("--inner-sport")?,
        inner_dport: o.num("--inner-dport")?,
    })
}

pub fn parse_hold(args: &[String]) -> Result<HoldArgs, Error> {
    let o = Opts::parse("tcp-hold", args, &["--sport", "--secs"], &["--abort"])?;
    let [addr, port] = o.positional[..] else {
        return crate::usage("tcp-hold: expected an address and a port");
    };
    let bare = addr
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(addr);
    let Ok(ip) = bare.parse::<IpAddr>() else {
        return crate::usage(format!("not an IP address: {addr}"));
    };
    let Ok(port) = port.parse::<u16>() else {
        return crate::usage(format!("bad value for PORT: {port}"));
    };
    let secs: f64 = o.num("--secs")?;
    if !(secs.is_finite() && secs >= 0.0) {
        return crate::usage("--secs must be a number of seconds, 0 or more");
    }
    Ok(HoldArgs {
        dest: SocketAddr::new(ip, port),
        sport: o.num("--sport")?,
        hold: Duration::from_secs_f64(secs),
        abort: o.flag("--abort"),
    })
}

pub fn parse_rst(args: &[String]) -> Result<RstArgs, Error> {
    let names = ["--src", "--dst", "--sport", "--dport", "--seq"];
    let o = Opts::parse("forge-rst", args, &names, &["-6"])?;
    if !o.positional.is_empty() {
        return crate::usage("forge-rst takes no positional arguments");
    }
    // The family follows the addresses; -6 is accepted for symmetry with
    // forge-unreach and then requires IPv6 ones.
    let v6 = o.flag("-6") || o.get("--src")?.contains(':');
    Ok(RstArgs {
        src: SocketAddr::new(o.ip("--src", v6)?, o.num("--sport")?),
        dst: SocketAddr::new(o.ip("--dst", v6)?, o.num("--dport")?),
        seq: o.num("--seq")?,
    })
}

fn failed(what: &str, err: std::io::Error) -> Error {
    crate::io_failed(what, err)
}

pub fn forge_unreach(a: &UnreachArgs) -> Result<(), Error> {
    let (msg, domain, proto) = match (a.inner_src, a.inner_dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => (
            forge::icmp4_port_unreachable(s, d, a.inner_sport, a.inner_dport),
            sys::AF_INET,
            sys::IPPROTO_ICMP,
        ),
        (IpAddr::V6(s), IpAddr::V6(d)) => (
            forge::icmp6_port_unreachable(s, d, a.inner_sport, a.inner_dport),
            sys::AF_INET6,
            sys::IPPROTO_ICMPV6,
        ),
        _ => return crate::usage("inner addresses of different families"),
    };
    let fd = sys::new_socket(domain, sys::SOCK_RAW, proto).map_err(|e| failed("raw socket", e))?;
    let dest = SocketAddr::new(a.to, 0);
    sys::send_to(&fd, &msg, dest).map_err(|e| failed(&format!("sendto {}", a.to), e))?;
    println!(
        "forge-unreach: port unreachable about udp {} -> {} sent to {}",
        SocketAddr::new(a.inner_src, a.inner_sport),
        SocketAddr::new(a.inner_dst, a.inner_dport),
        a.to
    );
    Ok(())
}

pub fn tcp_hold(a: &HoldArgs) -> Result<(), Error> {
    let fd = sys::tcp_connect_from(a.dest, a.sport, Duration::from_secs(10))
        .map_err(|e| failed(&format!("connect {} from port {}", a.dest, a.sport), e))?;
    let mut stream = TcpStream::from(fd);
    let local = stream.local_addr().map_err(|e| failed("getsockname", e))?;
    writeln!(stream, "rnf-udp tcp-hold from {local}").map_err(|e| failed("write", e))?;
    println!(
        "tcp-hold: connected {local} -> {}, holding {:?}",
        a.dest, a.hold
    );
    std::thread::sleep(a.hold);
    if a.abort {
        let fd = std::os::fd::OwnedFd::from(stream);
        sys::set_linger_abort(&fd).map_err(|e| failed("SO_LINGER", e))?;
        drop(fd);
        println!("tcp-hold: aborted (RST)");
    } else {
        drop(stream);
        println!("tcp-hold: closed (FIN)");
    }
    Ok(())
}

pub fn forge_rst(a: &RstArgs) -> Result<(), Error> {
    let seg = forge::tcp_rst(a.src.ip(), a.dst.ip(), a.src.port(), a.dst.port(), a.seq);
    match (a.src.ip(), a.dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let fd = sys::new_socket(sys::AF_INET, sys::SOCK_RAW, sys::IPPROTO_RAW)
                .map_err(|e| failed("raw socket", e))?;
            // Implied by IPPROTO_RAW; said explicitly all the same.
            sys::set_int(&fd, sys::IPPROTO_IP, sys::IP_HDRINCL, 1)
                .map_err(|e| failed("IP_HDRINCL", e))?;
            let pkt = forge::ipv4_packet(s, d, forge::IPPROTO_TCP, std::process::id() as u16, &seg);
            sys::send_to(&fd, &pkt, SocketAddr::new(a.dst.ip(), 0))
                .map_err(|e| failed(&format!("sendto {d}"), e))?;
        }
        (IpAddr::V6(_), IpAddr::V6(d)) => {
            let fd = sys::new_socket(sys::AF_INET6, sys::SOCK_RAW, sys::IPPROTO_TCP)
                .map_err(|e| failed("raw socket", e))?;
            // Lets the source be an address this host does not have; a
            // kernel without it still accepts a local source.
            let _ = sys::set_int(&fd, sys::IPPROTO_IPV6, sys::IPV6_FREEBIND, 1);
            sys::bind_to(&fd, SocketAddr::new(a.src.ip(), 0))
                .map_err(|e| failed(&format!("bind {}", a.src.ip()), e))?;
            sys::send_to(&fd, &seg, SocketAddr::new(a.dst.ip(), 0))
                .map_err(|e| failed(&format!("sendto {d}"), e))?;
        }
        _ => return crate::usage("--src and --dst of different families"),
    }
    println!("forge-rst: RST seq {} {} -> {} sent", a.seq, a.src, a.dst);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn unreach_parses_both_families() {
        let a = parse_unreach(&args(
            "--to 10.2.0.1 --inner-src 10.1.0.2 --inner-dst 10.2.0.2 --inner-sport 40500 --inner-dport 5997",
        ))
        .unwrap();
        assert_eq!(a.to, "10.2.0.1".parse::<IpAddr>().unwrap());
        assert_eq!((a.inner_sport, a.inner_dport), (40500, 5997));
        let a = parse_unreach(&args(
            "-6 --to fd02::1 --inner-src fd01::2 --inner-dst fd02::2 --inner-sport 1 --inner-dport 2",
        ))
        .unwrap();
        assert!(a.inner_src.is_ipv6() && a.to.is_ipv6());
    }

    #[test]
    fn unreach_rejects_mixed_or_missing() {
        for line in [
            "--to fd02::1 --inner-src 10.1.0.2 --inner-dst 10.2.0.2 --inner-sport 1 --inner-dport 2",
            "-6 --to 10.2.0.1 --inner-src fd01::2 --inner-dst fd02::2 --inner-sport 1 --inner-dport 2",
            "--to 10.2.0.1 --inner-src 10.1.0.2 --inner-dst 10.2.0.2 --inner-sport 1",
            "--to 10.2.0.1 --to 10.2.0.2 --inner-src 10.1.0.2 --inner-dst 10.2.0.2 --inner-sport 1 --inner-dport 2",
            "10.2.0.1",
        ] {
            assert!(matches!(parse_unreach(&args(line)), Err(Error::Usage(_))), "{line}");
        }
    }

    #[test]
    fn hold_parses() {
        let a = parse_hold(&args("10.2.0.2 8090 --sport 40600 --secs 12 --abort")).unwrap();
        assert_eq!(
            a,
            HoldArgs {
                dest: "10.2.0.2:8090".parse().unwrap(),
                sport: 40600,
                hold: Duration::from_secs(12),
                abort: true
            }
        );
        assert!(
            !parse_hold(&args("[fd02::2] 80 --sport 1 --secs 0.5"))
                .unwrap()
                .abort
        );
        assert!(parse_hold(&args("10.2.0.2 8090 --secs 1")).is_err());
        assert!(parse_hold(&args("10.2.0.2 --sport 1 --secs 1")).is_err());
    }

    #[test]
    fn rst_parses() {
        let a = parse_rst(&args(
            "--src 10.2.0.2 --dst 10.1.0.2 --sport 8090 --dport 40600 --seq 2147483647",
        ))
        .unwrap();
        assert_eq!(a.src, "10.2.0.2:8090".parse().unwrap());
        assert_eq!(a.seq, 2147483647);
        let a = parse_rst(&args(
            "-6 --src fd02::2 --dst fd01::2 --sport 1 --dport 2 --seq 1",
        ))
        .unwrap();
        assert!(a.dst.is_ipv6());
        assert!(parse_rst(&args(
            "--src fd02::2 --dst 10.1.0.2 --sport 1 --dport 2 --seq 1"
        ))
        .is_err());
        assert!(parse_rst(&args(
            "--src 10.2.0.2 --dst 10.1.0.2 --sport 1 --dport 2 --seq 4294967296"
        ))
        .is_err());
    }

    #[test]
    fn hold_over_loopback_sends_a_line() {
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dest = listener.local_addr().unwrap();
        // Any free port: bind one, note it, release it.
        let sport = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = std::thread::spawn(move || {
            tcp_hold(&HoldArgs {
                dest,
                sport,
                hold: Duration::from_millis(100),
                abort: true,
            })
        });
        let (mut conn, peer) = listener.accept().unwrap();
        assert_eq!(peer.port(), sport);
        let mut got = Vec::new();
        // The abort makes the read end with "connection reset" after the line.
        let mut buf = [0u8; 256];
        loop {
            match conn.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
                    break;
                }
            }
        }
        client.join().unwrap().unwrap();
        assert!(String::from_utf8_lossy(&got).starts_with("rnf-udp tcp-hold from 127.0.0.1:"));
    }
}
