// SPDX-License-Identifier: GPL-2.0

//! A UDP echo server and sender for the rnf guest tests, and a packet forger.
//!
//! Debian's busybox-static has the small `nc`, which speaks TCP only, so the
//! guest gets this static binary (std only, no dependencies) for UDP traffic
//! and for the packets the connection tracking tests need to craft:
//!
//! ```text
//! rnf-udp serve [-6] BIND_ADDR PORT [--count N]
//! rnf-udp send ADDR PORT --size BYTES [--sport PORT [--flows N]] [--count N]
//!              [--expect-reply] [--timeout SECONDS]
//! rnf-udp forge-unreach [-6] --to ADDR --inner-src A --inner-dst B
//!                       --inner-sport P --inner-dport Q
//! rnf-udp tcp-hold ADDR PORT --sport P --secs N [--abort]
//! rnf-udp forge-rst [-6] --src S --dst D --sport P --dport Q --seq N
//! rnf-udp xt-replace [-6] CASE...|all
//! rnf-udp nocap COMMAND [ARG]...
//! rnf-udp sniff DEV [--count N] [--timeout SECS]
//! rnf-udp forge-syn --src S --dst D --sport P --dport Q [--mss N]
//! rnf-udp corpus FILE [NAME...]
//! rnf-udp as-user|xt-perm|xt-save|xt-swap|tcp-echo|write-file ...
//! ```
//!
//! `xt-replace` and `nocap`, for the rule table tests, are described in
//! `xt.rs` (the blob builder is `xt_blob.rs`); `sniff` and `forge-syn`, for
//! the targets that edit packets, in `sniff.rs`; `corpus`, the
//! malformed-packet corpus, in `corpus.rs` (its packets: `corpus_build.rs`); the three before them in `raw.rs`; the packet builders are in
//! `forge.rs`, the raw socket calls in `sys.rs`; the permission and fault
//! test commands on the first line in `harden.rs`.
//!
//! `serve` echoes every datagram back to its sender and exits after `N`
//! datagrams if `--count` is given. `send` sends `N` datagrams (default 1) of
//! `BYTES` bytes each, from source port `PORT` if `--sport` is given; with
//! `--expect-reply` it waits up to `--timeout` seconds (default 2) for the echo
//! of each one and exits with status 1 if one does not come. Both print one
//! line per datagram on stdout. Addresses may be IPv4 or IPv6 (with or without
//! brackets); `BIND_ADDR` may also be `any`.
//!
//! Exit status: 0 success, 1 a missing reply or a socket error, 2 bad usage.

use std::fmt;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

mod corpus;
mod corpus_build;
mod forge;
mod harden;
mod raw;
mod sniff;
mod sys;
mod xt;
mod xt_blob;

const USAGE: &str = "\
usage: rnf-udp serve [-6] BIND_ADDR PORT [--count N]
       rnf-udp send ADDR PORT --size BYTES [--sport PORT [--flows N]] [--count N]
                    [--expect-reply] [--timeout SECONDS]
       rnf-udp forge-unreach [-6] --to ADDR --inner-src A --inner-dst B
                    --inner-sport P --inner-dport Q
       rnf-udp tcp-hold ADDR PORT --sport P --secs N [--abort]
       rnf-udp forge-rst [-6] --src S --dst D --sport P --dport Q --seq N
       rnf-udp xt-replace [-6] CASE...|all
       rnf-udp nocap COMMAND [ARG]...
       rnf-udp sniff DEV [--count N] [--timeout SECS]
       rnf-udp forge-syn --src S --dst D --sport P --dport Q [--mss N]
       rnf-udp corpus FILE [NAME...]
       rnf-udp as-user UID[:GID] COMMAND [ARG]...
       rnf-udp xt-perm [-6] [--table NAME] [--as-uid UID] [--nocap] [--userns] [--netns]
       rnf-udp xt-save [-6] TABLE FILE
       rnf-udp xt-swap [-6] --count N FILE_A FILE_B
       rnf-udp tcp-echo ADDR PORT --secs S [--interval-ms I] [--timeout-ms T]
       rnf-udp write-file FILE TEXT";

/// The largest UDP payload an IPv6 datagram can carry (without jumbograms).
const MAX_PAYLOAD: usize = 65527;

/// Bytes at the start of every payload `send` writes: the sequence number.
const SEQ_LEN: usize = 8;

/// What went wrong, and so which exit status to use.
#[derive(Debug)]
enum Error {
    /// The command line is wrong (exit status 2).
    Usage(String),
    /// A socket call failed or a reply did not come (exit status 1).
    Failed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) | Error::Failed(msg) => f.write_str(msg),
        }
    }
}

fn usage<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error::Usage(msg.into()))
}

fn io_failed(what: &str, err: std::io::Error) -> Error {
    Error::Failed(format!("{what}: {err}"))
}

/// Arguments of `rnf-udp serve`.
#[derive(Debug, PartialEq)]
struct ServeArgs {
    bind: SocketAddr,
    count: Option<u64>,
}

/// Arguments of `rnf-udp send`.
#[derive(Debug, PartialEq)]
struct SendArgs {
    dest: SocketAddr,
    size: usize,
    sport: Option<u16>,
    /// Distinct flows: source ports `sport`, `sport + 1`, ... (needs `--sport`).
    flows: u16,
    count: u64,
    expect_reply: bool,
    timeout: Duration,
}

#[derive(Debug, PartialEq)]
enum Command {
    Serve(ServeArgs),
    Send(SendArgs),
    ForgeUnreach(raw::UnreachArgs),
    TcpHold(raw::HoldArgs),
    ForgeRst(raw::RstArgs),
    XtReplace(xt::ReplaceArgs),
    NoCap(Vec<String>),
    Sniff(sniff::SniffArgs),
    ForgeSyn(sniff::SynArgs),
    Corpus(corpus::CorpusArgs),
    /// The permission and fault test commands (harden.rs).
    Harden(harden::Args),
}

fn parse_ip(text: &str, v6: bool) -> Result<IpAddr, Error> {
    if text == "any" || text == "*" {
        return Ok(if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) if v6 && a.is_unspecified() => Ok(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        Ok(IpAddr::V4(_)) if v6 => usage(format!("-6 given but {text} is an IPv4 address")),
        Ok(addr) => Ok(addr),
        Err(_) => usage(format!("not an IP address: {text}")),
    }
}

fn parse_num<T: std::str::FromStr>(what: &str, text: Option<&String>) -> Result<T, Error> {
    let Some(text) = text else {
        return usage(format!("{what} needs a value"));
    };
    text.parse()
        .or_else(|_| usage(format!("bad value for {what}: {text}")))
}

fn parse_timeout(text: Option<&String>) -> Result<Duration, Error> {
    let secs: f64 = parse_num("--timeout", text)?;
    if !(secs.is_finite() && secs > 0.0) {
        return usage("--timeout must be a positive number of seconds");
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_args(args: &[String]) -> Result<Command, Error> {
    let Some((sub, rest)) = args.split_first() else {
        return usage("no subcommand");
    };
    match sub.as_str() {
        "forge-unreach" => return raw::parse_unreach(rest).map(Command::ForgeUnreach),
        "tcp-hold" => return raw::parse_hold(rest).map(Command::TcpHold),
        "forge-rst" => return raw::parse_rst(rest).map(Command::ForgeRst),
        "xt-replace" => return xt::parse_replace(rest).map(Command::XtReplace),
        "nocap" if rest.is_empty() => return usage("nocap needs a COMMAND"),
        "nocap" => return Ok(Command::NoCap(rest.to_vec())),
        "sniff" => return sniff::parse_sniff(rest).map(Command::Sniff),
        "forge-syn" => return sniff::parse_syn(rest).map(Command::ForgeSyn),
        "corpus" => return corpus::parse_corpus(rest).map(Command::Corpus),
        s if harden::SUBCOMMANDS.contains(&s) => return harden::parse(s, rest).map(Command::Harden),
        _ => {}
    }
    let mut positional = Vec::new();
    let mut v6 = false;
    let mut count = None;
    let mut size = None;
    let mut sport = None;
    let mut flows = 1u16;
    let mut expect_reply = false;
    let mut timeout = Duration::from_secs(2);
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-6" if sub == "serve" => v6 = true,
            "--count" => count = Some(parse_num::<u64>("--count", it.next())?),
            "--size" if sub == "send" => size = Some(parse_num::<usize>("--size", it.next())?),
            "--sport" if sub == "send" => sport = Some(parse_num::<u16>("--sport", it.next())?),
            "--flows" if sub == "send" => flows = parse_num::<u16>("--flows", it.next())?,
            "--expect-reply" if sub == "send" => expect_reply = true,
            "--timeout" if sub == "send" => timeout = parse_timeout(it.next())?,
            opt if opt.starts_with("--") => return usage(format!("unknown option {opt}")),
            _ => positional.push(arg),
        }
    }
    let [addr, port] = positional[..] else {
        return usage("expected an address and a port");
    };
    let port: u16 = parse_num("PORT", Some(port))?;
    match sub.as_str() {
        "serve" => Ok(Command::Serve(ServeArgs {
            bind: SocketAddr::new(parse_ip(addr, v6)?, port),
            count,
        })),
        "send" => {
            let Some(size) = size else {
                return usage("send needs --size BYTES");
            };
            if size > MAX_PAYLOAD {
                return usage(format!("--size above {MAX_PAYLOAD}"));
            }
            if flows != 1 && (sport.is_none() || expect_reply || flows == 0) {
                return usage("--flows N needs --sport and excludes --expect-reply");
            }
            if sport.is_some_and(|p| u32::from(p) + u32::from(flows) > 65536) {
                return usage("--sport + --flows goes past port 65535");
            }
            Ok(Command::Send(SendArgs {
                dest: SocketAddr::new(parse_ip(addr, false)?, port),
                size,
                sport,
                flows,
                count: count.unwrap_or(1),
                expect_reply,
                timeout,
            }))
        }
        other => usage(format!("unknown subcommand {other}")),
    }
}

fn serve(args: &ServeArgs) -> Result<(), Error> {
    let sock = UdpSocket::bind(args.bind).map_err(|e| io_failed("bind", e))?;
    let local = sock.local_addr().map_err(|e| io_failed("getsockname", e))?;
    // Tests wait for this line before they send anything.
    println!("serve: listening on {local}");
    let mut buf = vec![0u8; 65536];
    let mut seen = 0u64;
    while args.count.is_none_or(|n| seen < n) {
        let (len, peer) = sock
            .recv_from(&mut buf)
            .map_err(|e| io_failed("recvfrom", e))?;
        seen += 1;
        match sock.send_to(&buf[..len], peer) {
            Ok(_) => println!("serve: {seen}: {len} bytes from {peer}, echoed"),
            // Keep serving: one peer going away is not the server's failure.
            Err(e) => println!("serve: {seen}: {len} bytes from {peer}, echo failed: {e}"),
        }
    }
    Ok(())
}

/// Fills `buf` with the payload of datagram `seq`: the sequence number, then
/// a pattern, so an echo can be checked byte for byte.
fn fill_payload(buf: &mut [u8], seq: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let seq = seq.to_be_bytes();
    let n = buf.len().min(SEQ_LEN);
    buf[..n].copy_from_slice(&seq[..n]);
}

fn send(args: &SendArgs) -> Result<(), Error> {
    match args.sport {
        Some(first) if args.flows > 1 => {
            // A flow a firewall refuses (sendto fails with EPERM when the
            // local conntrack table is full) is reported; the others go on.
            for i in 0..args.flows {
                let port = first.wrapping_add(i);
                if let Err(e) = send_from(args, Some(port)) {
                    println!("send: flow from port {port} failed: {e:?}");
                }
            }
            Ok(())
        }
        sport => send_from(args, sport),
    }
}

fn send_from(args: &SendArgs, sport: Option<u16>) -> Result<(), Error> {
    let any = match args.dest {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let sock = UdpSocket::bind(SocketAddr::new(any, sport.unwrap_or(0)))
        .map_err(|e| io_failed("bind", e))?;
    if args.expect_reply {
        // Connected: only the peer's datagrams are received, and an ICMP
        // error for the flow is reported instead of waiting out the timeout.
        sock.connect(args.dest)
            .map_err(|e| io_failed("connect", e))?;
    }
    let mut payload = vec![0u8; args.size];
    let mut reply = vec![0u8; 65536];
    for seq in 1..=args.count {
        fill_payload(&mut payload, seq);
        let sent_at = Instant::now();
        sock.send_to(&payload, args.dest)
            .map_err(|e| io_failed(&format!("sendto {}", args.dest), e))?;
        let local = sock.local_addr().map_err(|e| io_failed("getsockname", e))?;
        let sent = format!("send: {seq}: {} bytes {local} -> {}", args.size, args.dest);
        if !args.expect_reply {
            println!("{sent}");
            continue;
        }
        loop {
            let left = args.timeout.saturating_sub(sent_at.elapsed());
            if left.is_zero() {
                println!("{sent}, no reply within {:?}", args.timeout);
                return Err(Error::Failed(format!("no reply to datagram {seq}")));
            }
            sock.set_read_timeout(Some(left))
                .map_err(|e| io_failed("setsockopt", e))?;
            let (len, peer) = match sock.recv_from(&mut reply) {
                Ok(got) => got,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    continue
                }
                Err(e) => {
                    println!("{sent}, no reply: {e}");
                    return Err(io_failed(&format!("datagram {seq}"), e));
                }
            };
            if reply[..len] == payload[..] {
                let ms = sent_at.elapsed().as_secs_f64() * 1000.0;
                println!("{sent}, reply {len} bytes from {peer} in {ms:.1} ms");
                break;
            }
            // A late echo of an earlier datagram, or something else: not ours.
            println!("send: {seq}: ignoring {len} bytes from {peer} (not the echo of {seq})");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = parse_args(&args).and_then(|cmd| match cmd {
        Command::Serve(a) => serve(&a),
        Command::Send(a) => send(&a),
        Command::ForgeUnreach(a) => raw::forge_unreach(&a),
        Command::TcpHold(a) => raw::tcp_hold(&a),
        Command::ForgeRst(a) => raw::forge_rst(&a),
        Command::XtReplace(a) => xt::xt_replace(&a),
        Command::NoCap(a) => xt::nocap(&a),
        Command::Sniff(a) => sniff::sniff(&a),
        Command::ForgeSyn(a) => sniff::forge_syn(&a),
        Command::Corpus(a) => corpus::corpus(&a),
        Command::Harden(a) => harden::run(&a),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Usage(msg)) => {
            eprintln!("rnf-udp: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(err @ Error::Failed(_)) => {
            eprintln!("rnf-udp: {err}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn serve_v6_any_binds_unspecified_v6() {
        let cmd = parse_args(&args("serve -6 0.0.0.0 5000 --count 3")).unwrap();
        assert_eq!(
            cmd,
            Command::Serve(ServeArgs {
                bind: "[::]:5000".parse().unwrap(),
                count: Some(3)
            })
        );
    }

    #[test]
    fn send_accepts_bracketed_v6_and_all_options() {
        let cmd = parse_args(&args(
            "send [fd02::2] 53 --size 3000 --sport 4000 --count 2 --expect-reply --timeout 0.5",
        ))
        .unwrap();
        assert_eq!(
            cmd,
            Command::Send(SendArgs {
                dest: "[fd02::2]:53".parse().unwrap(),
                size: 3000,
                sport: Some(4000),
                flows: 1,
                count: 2,
                expect_reply: true,
                timeout: Duration::from_millis(500),
            })
        );
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for line in [
            "",
            "send 10.0.0.1 53",
            "send 10.0.0.1 53 --size 70000",
            "send 10.0.0.1 --size 1",
            "serve -6 10.0.0.1 53",
            "serve 10.0.0.1 99999",
            "send 10.0.0.1 53 --size 1 --timeout 0",
            "bogus 10.0.0.1 53",
        ] {
            assert!(
                matches!(parse_args(&args(line)), Err(Error::Usage(_))),
                "{line}"
            );
        }
    }

    #[test]
    fn payload_starts_with_sequence_number() {
        let mut buf = [0u8; 12];
        fill_payload(&mut buf, 0x0102);
        assert_eq!(buf, [0, 0, 0, 0, 0, 0, 1, 2, 8, 9, 10, 11]);
        let mut short = [0u8; 3];
        fill_payload(&mut short, 7);
        assert_eq!(short, [0, 0, 0]);
    }

    #[test]
    fn echo_over_loopback() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let (len, peer) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..len], peer).unwrap();
        });
        send(&SendArgs {
            dest: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            size: 1000,
            sport: None,
            flows: 1,
            count: 1,
            expect_reply: true,
            timeout: Duration::from_secs(5),
        })
        .unwrap();
        handle.join().unwrap();
    }
}
