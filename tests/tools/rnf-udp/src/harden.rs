// SPDX-License-Identifier: GPL-2.0

//! The subcommands of the permission and fault tests (issue 13):
//!
//! ```text
//! rnf-udp as-user UID[:GID] COMMAND [ARG]...
//! rnf-udp xt-perm [-6] [--table NAME] [--as-uid UID] [--nocap] [--userns] [--netns]
//! rnf-udp xt-save [-6] TABLE FILE
//! rnf-udp xt-swap [-6] --count N FILE_A FILE_B
//! rnf-udp tcp-echo ADDR PORT --secs S [--interval-ms I] [--timeout-ms T]
//!                  [--udp] [--keep-going] [--while FILE]
//! rnf-udp write-file FILE TEXT
//! ```
//!
//! `as-user` becomes `UID` (group `GID`, default the same number, no
//! supplementary groups: every capability is gone) and execs `COMMAND`.
//!
//! `xt-perm` opens a raw socket of the family and reads table `NAME`
//! (default `filter`) through it as the caller, then changes who it is, in
//! this order: `--as-uid` (as `as-user`), `--nocap` (CAP_NET_ADMIN dropped,
//! as `nocap`), `--userns` (unshare(CLONE_NEWUSER), mapping its own uid and
//! gid to 0: the root of a new user namespace), `--netns`
//! (unshare(CLONE_NEWNET), owned by the user namespace it is in then, and a
//! new socket there; the table is read again through it). Then it tries on
//! the socket each operation of the ip_tables ABI, and prints one line each:
//!
//! ```text
//! xt-perm: ipv4 filter GET_INFO: OK
//! xt-perm: ipv4 filter SET_REPLACE: errno 1 EPERM
//! ```
//!
//! GET_INFO, GET_ENTRIES, SET_REPLACE (the table as read, unchanged) and
//! SET_ADD_COUNTERS (zeros for every rule). Exit status 0 when every line
//! was printed, 1 when a step before them failed.
//!
//! `xt-save` writes table `TABLE` (GET_INFO's answer, then the entries) to
//! `FILE`; `xt-swap` offers the tables of `FILE_B` and `FILE_A` in turn with
//! SET_REPLACE, `N` replacements, starting from a table that is `FILE_A`'s,
//! and prints how many it made and how long they took; it stops at the
//! first refusal (exit status 1). Two `iptables-legacy-restore`s and two
//! `xt-save`s make the files: a thousand replacements cost a thousand
//! system calls instead of a thousand process starts.
//!
//! `tcp-echo` connects to a TCP echo server (`nc -l -p PORT -e cat`) and
//! for `S` seconds sends a 16-byte line every `I` ms (default 100), each of
//! which must come back within `T` ms (default 3000); it prints the rounds,
//! the slowest round trip and its own address, and exits 1 at the first
//! round that fails. With `--keep-going` a failed round is counted and the
//! next one starts on a new connection (the summary line gives the rounds
//! that failed; exit status 0); with `--udp` the rounds are datagrams to a
//! UDP echo server (`rnf-udp serve`) from one socket; with `--while` it
//! also stops (and sums up) as soon as `FILE` is gone.
//!
//! `write-file` opens `FILE` for writing (no creation, no truncation: a
//! /proc or /sys file) and writes `TEXT` in one call; it prints
//! `write-file: FILE: OK` or the errno of the step that failed
//! (`errno 13 EACCES at open`), with exit status 0 either way: the errno is
//! the result.

use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::OwnedFd;
use std::os::raw::c_int;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use crate::sys;
use crate::xt_blob::{self, Family, Replace, Table};
use crate::Error;

use crate::xt::{CAP_NET_ADMIN, SO_GET_ENTRIES, SO_GET_INFO, SO_SET_REPLACE};

/// `IPT_SO_SET_ADD_COUNTERS` = `IP6T_SO_SET_ADD_COUNTERS`.
const SO_SET_ADD_COUNTERS: c_int = 65;
/// `sizeof(struct xt_counters_info)`: name[32], num_counters, padded to 8.
const COUNTERS_INFO_LEN: usize = 40;

/// One of the subcommands, parsed.
#[derive(Debug, PartialEq)]
pub enum Args {
    AsUser { uid: u32, gid: u32, cmd: Vec<String> },
    XtPerm(PermArgs),
    XtSave { family: Family, table: String, file: String },
    XtSwap { family: Family, count: u64, a: String, b: String },
    TcpEcho(EchoArgs),
    WriteFile { file: String, text: String },
}

/// Arguments of `xt-perm`.
#[derive(Debug, PartialEq)]
pub struct PermArgs {
    pub family: Family,
    pub table: String,
    pub as_uid: Option<u32>,
    pub nocap: bool,
    pub userns: bool,
    pub netns: bool,
}

/// Arguments of `tcp-echo`.
#[derive(Debug, PartialEq)]
pub struct EchoArgs {
    pub dest: SocketAddr,
    pub secs: f64,
    pub interval: Duration,
    pub timeout: Duration,
    pub udp: bool,
    pub keep_going: bool,
    pub while_file: Option<String>,
}

/// The names `parse` takes.
pub const SUBCOMMANDS: &[&str] = &["as-user", "xt-perm", "xt-save", "xt-swap", "tcp-echo", "write-file"];

fn num<T: std::str::FromStr>(what: &str, v: Option<&String>) -> Result<T, Error> {
    let Some(v) = v else {
        return crate::usage(format!("{what} needs a value"));
    };
    v.parse().or_else(|_| crate::usage(format!("bad value for {what}: {v}")))
}

/// Parses subcommand `sub` (one of `SUBCOMMANDS`) with its arguments.
pub fn parse(sub: &str, args: &[String]) -> Result<Args, Error> {
    if sub == "as-user" {
        let Some((ids, cmd)) = args.split_first() else {
            return crate::usage("as-user needs UID[:GID] and a COMMAND");
        };
        if cmd.is_empty() {
            return crate::usage("as-user needs a COMMAND");
        }
        let (u, g) = ids.split_once(':').unwrap_or((ids, ids));
        let uid = num("UID", Some(&u.to_string()))?;
        let gid = num("GID", Some(&g.to_string()))?;
        return Ok(Args::AsUser { uid, gid, cmd: cmd.to_vec() });
    }
    if sub == "write-file" {
        let [file, text] = args else {
            return crate::usage("write-file needs FILE and TEXT");
        };
        return Ok(Args::WriteFile { file: file.clone(), text: text.clone() });
    }
    let mut family = Family::V4;
    let mut table = "filter".to_string();
    let mut as_uid = None;
    let (mut nocap, mut userns, mut netns) = (false, false, false);
    let mut count = None;
    let mut secs = None;
    let mut interval = Duration::from_millis(100);
    let mut timeout = Duration::from_millis(3000);
    let (mut udp, mut keep_going, mut while_file) = (false, false, None);
    let mut pos = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (sub, a.as_str()) {
            ("xt-perm" | "xt-save" | "xt-swap", "-6") => family = Family::V6,
            ("xt-perm", "--table") => table = num("--table", it.next())?,
            ("xt-perm", "--as-uid") => as_uid = Some(num("--as-uid", it.next())?),
            ("xt-perm", "--nocap") => nocap = true,
            ("xt-perm", "--userns") => userns = true,
            ("xt-perm", "--netns") => netns = true,
            ("xt-swap", "--count") => count = Some(num::<u64>("--count", it.next())?),
            ("tcp-echo", "--secs") => secs = Some(num::<f64>("--secs", it.next())?),
            ("tcp-echo", "--interval-ms") => {
                interval = Duration::from_millis(num("--interval-ms", it.next())?)
            }
            ("tcp-echo", "--udp") => udp = true,
            ("tcp-echo", "--keep-going") => keep_going = true,
            ("tcp-echo", "--while") => while_file = Some(num::<String>("--while", it.next())?),
            ("tcp-echo", "--timeout-ms") => {
                timeout = Duration::from_millis(num("--timeout-ms", it.next())?)
            }
            (_, o) if o.starts_with('-') => return crate::usage(format!("{sub}: unknown option {o}")),
            _ => pos.push(a.clone()),
        }
    }
    match sub {
        "xt-perm" if pos.is_empty() => Ok(Args::XtPerm(PermArgs { family, table, as_uid, nocap, userns, netns })),
        "xt-save" => match &pos[..] {
            [t, f] => Ok(Args::XtSave { family, table: t.clone(), file: f.clone() }),
            _ => crate::usage("xt-save needs TABLE and FILE"),
        },
        "xt-swap" => match (&pos[..], count) {
            ([a, b], Some(count)) => Ok(Args::XtSwap { family, count, a: a.clone(), b: b.clone() }),
            _ => crate::usage("xt-swap needs --count N, FILE_A and FILE_B"),
        },
        "tcp-echo" => {
            let ([addr, port], Some(secs)) = (&pos[..], secs) else {
                return crate::usage("tcp-echo needs ADDR, PORT and --secs");
            };
            if !(secs.is_finite() && secs > 0.0) || timeout.is_zero() {
                return crate::usage("tcp-echo: --secs and --timeout-ms must be positive");
            }
            let ip: IpAddr = addr
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .or_else(|_| crate::usage(format!("not an IP address: {addr}")))?;
            let port: u16 = num("PORT", Some(port))?;
            Ok(Args::TcpEcho(EchoArgs { dest: SocketAddr::new(ip, port), secs, interval, timeout, udp, keep_going, while_file }))
        }
        _ => crate::usage(format!("{sub}: unexpected arguments")),
    }
}

/// Runs a parsed subcommand.
pub fn run(args: &Args) -> Result<(), Error> {
    match args {
        Args::AsUser { uid, gid, cmd } => as_user(*uid, *gid, cmd),
        Args::XtPerm(a) => xt_perm(a),
        Args::XtSave { family, table, file } => xt_save(*family, table, file),
        Args::XtSwap { family, count, a, b } => xt_swap(*family, *count, a, b),
        Args::TcpEcho(a) => tcp_echo(a),
        Args::WriteFile { file, text } => {
            write_file(file, text);
            Ok(())
        }
    }
}

fn as_user(uid: u32, gid: u32, cmd: &[String]) -> Result<(), Error> {
    sys::become_user(uid, gid).map_err(|e| crate::io_failed(&format!("becoming {uid}:{gid}"), e))?;
    let Some((prog, rest)) = cmd.split_first() else {
        return crate::usage("as-user needs a COMMAND");
    };
    let err = std::process::Command::new(prog).args(rest).exec();
    Err(crate::io_failed(&format!("exec {prog}"), err))
}

fn fam_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}

/// A raw socket of the family and the option level of its tables.
fn table_socket(f: Family) -> Result<(OwnedFd, c_int), Error> {
    let (domain, level) = match f {
        Family::V4 => (sys::AF_INET, sys::IPPROTO_IP),
        Family::V6 => (sys::AF_INET6, sys::IPPROTO_IPV6),
    };
    let fd = sys::new_socket(domain, sys::SOCK_RAW, sys::IPPROTO_RAW)
        .map_err(|e| crate::io_failed("socket(SOCK_RAW)", e))?;
    Ok((fd, level))
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(-1)
}

/// The errno's name: the ones these tests meet, else xt_blob's list.
fn errno_name(e: i32) -> &'static str {
    match e {
        5 => "EIO",
        30 => "EROFS",
        95 => "EOPNOTSUPP",
        _ => xt_blob::errno_name(e),
    }
}

/// "OK" or "errno N NAME".
fn outcome(r: Result<(), i32>) -> String {
    match r {
        Ok(()) => "OK".to_string(),
        Err(e) => format!("errno {e} {}", errno_name(e)),
    }
}

fn write_file(file: &str, text: &str) {
    let r = match fs::OpenOptions::new().write(true).open(file) {
        Err(e) => format!("{} at open", outcome(Err(errno_of(&e)))),
        Ok(mut f) => match f.write(text.as_bytes()) {
            Ok(_) => "OK".to_string(),
            Err(e) => format!("{} at write", outcome(Err(errno_of(&e)))),
        },
    };
    println!("write-file: {file}: {r}");
}

/// GET_INFO of `name` on `fd`; the errno on refusal.
fn get_info(fd: &OwnedFd, level: c_int, name: &str) -> Result<xt_blob::Info, i32> {
    let mut info = xt_blob::getinfo_request(name).map_err(|_| -1)?;
    let n = sys::get_opt_bytes(fd, level, SO_GET_INFO, &mut info).map_err(|e| errno_of(&e))?;
    xt_blob::parse_getinfo(info.get(..n).unwrap_or(&[])).map_err(|_| -1)
}

/// GET_ENTRIES of `name` (whose GET_INFO was `info`) on `fd`.
fn get_entries(fd: &OwnedFd, level: c_int, f: Family, name: &str, info: xt_blob::Info) -> Result<Table, i32> {
    let mut req = xt_blob::get_entries_request(name, info.size).map_err(|_| -1)?;
    sys::get_opt_bytes(fd, level, SO_GET_ENTRIES, &mut req).map_err(|e| errno_of(&e))?;
    Ok(Table { family: f, name: name.to_string(), info, entries: req.split_off(xt_blob::GET_ENTRIES_LEN) })
}

/// SET_REPLACE with `r`; the kernel writes the old counters into a buffer
/// with room for `r.num_counters` of them.
fn replace(fd: &OwnedFd, level: c_int, r: &Replace) -> Result<(), i32> {
    let n = (r.num_counters as usize).clamp(1, 1 << 20);
    let mut counters = vec![0u8; n * xt_blob::COUNTERS_LEN];
    let blob = r.encode(counters.as_mut_ptr() as u64).map_err(|_| -1)?;
    let rc = sys::set_opt_bytes(fd, level, SO_SET_REPLACE, &blob).map_err(|e| errno_of(&e));
    // The kernel may have written into `counters` through the pointer.
    drop(counters);
    rc
}

/// SET_ADD_COUNTERS of zeros for `num` rules of table `name`.
fn add_counters(fd: &OwnedFd, level: c_int, name: &str, num: u32) -> Result<(), i32> {
    let mut b = vec![0u8; COUNTERS_INFO_LEN + num as usize * xt_blob::COUNTERS_LEN];
    let field = b.get_mut(..32).ok_or(-1)?;
    if name.len() >= 32 {
        return Err(-1);
    }
    field[..name.len()].copy_from_slice(name.as_bytes());
    b[32..36].copy_from_slice(&num.to_ne_bytes());
    sys::set_opt_bytes(fd, level, SO_SET_ADD_COUNTERS, &b).map_err(|e| errno_of(&e))
}

/// Writes `n` to `/proc/self/<file>`.
fn write_self(file: &str, text: &str) -> Result<(), Error> {
    fs::write(format!("/proc/self/{file}"), text).map_err(|e| crate::io_failed(&format!("writing /proc/self/{file}"), e))
}

fn xt_perm(a: &PermArgs) -> Result<(), Error> {
    let f = a.family;
    let (mut fd, mut level) = table_socket(f)?;
    // The table as the caller reads it, before it changes who it is.
    let mut table = get_info(&fd, level, &a.table).and_then(|i| get_entries(&fd, level, f, &a.table, i)).ok();
    if let Some(uid) = a.as_uid {
        sys::become_user(uid, uid).map_err(|e| crate::io_failed(&format!("becoming {uid}"), e))?;
    }
    if a.nocap {
        sys::drop_capability(CAP_NET_ADMIN).map_err(|e| crate::io_failed("dropping CAP_NET_ADMIN", e))?;
    }
    if a.userns {
        let (uid, gid) = (sys::euid(), sys::egid());
        sys::set_dumpable().map_err(|e| crate::io_failed("PR_SET_DUMPABLE", e))?;
        sys::unshare_ns(sys::CLONE_NEWUSER).map_err(|e| crate::io_failed("unshare(CLONE_NEWUSER)", e))?;
        write_self("setgroups", "deny")?;
        write_self("uid_map", &format!("0 {uid} 1"))?;
        write_self("gid_map", &format!("0 {gid} 1"))?;
    }
    if a.netns {
        sys::unshare_ns(sys::CLONE_NEWNET).map_err(|e| crate::io_failed("unshare(CLONE_NEWNET)", e))?;
        (fd, level) = table_socket(f)?;
        table = None;
    }
    let who = fam_name(f);
    let t = &a.table;
    let info = get_info(&fd, level, t);
    println!("xt-perm: {who} {t} GET_INFO: {}", outcome(info.as_ref().map(|_| ()).map_err(|e| *e)));
    let read = match info {
        Ok(i) => {
            let r = get_entries(&fd, level, f, t, i);
            println!("xt-perm: {who} {t} GET_ENTRIES: {}", outcome(r.as_ref().map(|_| ()).map_err(|e| *e)));
            r.ok()
        }
        Err(_) => {
            // GET_ENTRIES with the size read before: refused the same way.
            let size = table.as_ref().map_or(0, |t| t.info.size);
            let mut req = xt_blob::get_entries_request(t, size).map_err(Error::Failed)?;
            let r = sys::get_opt_bytes(&fd, level, SO_GET_ENTRIES, &mut req).map(|_| ()).map_err(|e| errno_of(&e));
            println!("xt-perm: {who} {t} GET_ENTRIES: {}", outcome(r));
            None
        }
    };
    let Some(table) = read.or(table) else {
        return Err(Error::Failed(format!("xt-perm: {who} {t}: the table could not be read at all")));
    };
    println!("xt-perm: {who} {t} SET_REPLACE: {}", outcome(replace(&fd, level, &Replace::from_table(&table))));
    println!(
        "xt-perm: {who} {t} SET_ADD_COUNTERS: {}",
        outcome(add_counters(&fd, level, t, table.info.num_entries))
    );
    Ok(())
}

fn xt_save(f: Family, name: &str, file: &str) -> Result<(), Error> {
    let (fd, level) = table_socket(f)?;
    let info = get_info(&fd, level, name).map_err(|e| Error::Failed(format!("GET_INFO {name}: errno {e}")))?;
    let mut req = xt_blob::getinfo_request(name).map_err(Error::Failed)?;
    sys::get_opt_bytes(&fd, level, SO_GET_INFO, &mut req).map_err(|e| crate::io_failed("GET_INFO", e))?;
    let t = get_entries(&fd, level, f, name, info).map_err(|e| Error::Failed(format!("GET_ENTRIES {name}: errno {e}")))?;
    req.extend_from_slice(&t.entries);
    fs::write(file, &req).map_err(|e| crate::io_failed(file, e))?;
    println!("xt-save: {} {name}: {} rules, {} bytes", fam_name(f), t.info.num_entries, t.info.size);
    Ok(())
}

/// Reads a file `xt-save` wrote.
fn load(f: Family, file: &str) -> Result<Table, Error> {
    let b = fs::read(file).map_err(|e| crate::io_failed(file, e))?;
    let (head, entries) = b.split_at_checked(xt_blob::GETINFO_LEN).ok_or_else(|| Error::Failed(format!("{file}: too short")))?;
    let info = xt_blob::parse_getinfo(head).map_err(Error::Failed)?;
    let end = head.iter().take(32).position(|&c| c == 0).unwrap_or(32);
    let name = String::from_utf8_lossy(&head[..end]).into_owned();
    if entries.len() != info.size as usize {
        return Err(Error::Failed(format!("{file}: {} bytes of entries, GET_INFO said {}", entries.len(), info.size)));
    }
    Ok(Table { family: f, name, info, entries: entries.to_vec() })
}

fn xt_swap(f: Family, count: u64, file_a: &str, file_b: &str) -> Result<(), Error> {
    let (a, b) = (load(f, file_a)?, load(f, file_b)?);
    if a.name != b.name {
        return Err(Error::Failed(format!("xt-swap: {file_a} is table {}, {file_b} {}", a.name, b.name)));
    }
    let (fd, level) = table_socket(f)?;
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..count {
        // Odd replacements install B over A, even ones A over B; the
        // kernel wants the number of rules being replaced.
        let (new, old) = if i % 2 == 0 { (&b, &a) } else { (&a, &b) };
        let mut r = Replace::from_table(new);
        r.num_counters = old.info.num_entries;
        let t0 = Instant::now();
        if let Err(e) = replace(&fd, level, &r) {
            return Err(Error::Failed(format!(
                "xt-swap: replacement {} refused: errno {e} {}",
                i + 1,
                xt_blob::errno_name(e)
            )));
        }
        slowest = slowest.max(t0.elapsed());
    }
    let secs = start.elapsed().as_secs_f64();
    let last = if count % 2 == 1 { file_b } else { file_a };
    println!(
        "xt-swap: {} {}: {count} replacements in {secs:.2} s ({:.0}/s, slowest {:.1} ms), now {last}",
        fam_name(f),
        a.name,
        count as f64 / secs.max(1e-9),
        slowest.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// One side of `tcp-echo`: a TCP connection or a connected UDP socket.
enum Echo {
    Tcp(TcpStream),
    Udp(std::net::UdpSocket),
}

impl Echo {
    fn open(a: &EchoArgs) -> std::io::Result<Echo> {
        if a.udp {
            let any: SocketAddr = if a.dest.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().map_err(std::io::Error::other)?;
            let s = std::net::UdpSocket::bind(any)?;
            s.connect(a.dest)?;
            s.set_read_timeout(Some(a.timeout))?;
            Ok(Echo::Udp(s))
        } else {
            let s = TcpStream::connect_timeout(&a.dest, a.timeout)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(a.timeout))?;
            Ok(Echo::Tcp(s))
        }
    }

    fn local(&self) -> std::io::Result<SocketAddr> {
        match self {
            Echo::Tcp(s) => s.local_addr(),
            Echo::Udp(s) => s.local_addr(),
        }
    }

    /// Sends `line` and waits for it to come back.
    fn round(&mut self, line: &[u8; 16]) -> std::io::Result<()> {
        let mut back = [0u8; 16];
        match self {
            Echo::Tcp(s) => {
                s.write_all(line)?;
                s.read_exact(&mut back)?;
            }
            Echo::Udp(s) => {
                s.send(line)?;
                // A late echo of an earlier round is skipped.
                while s.recv(&mut back)? != 16 || back != *line {}
            }
        }
        if back == *line {
            Ok(())
        } else {
            Err(std::io::Error::other("the echo differs"))
        }
    }
}

fn tcp_echo(a: &EchoArgs) -> Result<(), Error> {
    let proto = if a.udp { "udp" } else { "tcp" };
    let mut echo = Echo::open(a).map_err(|e| crate::io_failed("connect", e))?;
    let local = echo.local().map_err(|e| crate::io_failed("getsockname", e))?;
    println!("tcp-echo: {proto} {local} -> {}", a.dest);
    let start = Instant::now();
    let (mut rounds, mut failed, mut slowest) = (0u64, 0u64, Duration::ZERO);
    let go_on = || a.while_file.as_ref().is_none_or(|f| std::path::Path::new(f).exists());
    while start.elapsed().as_secs_f64() < a.secs && go_on() {
        rounds += 1;
        let mut line = [0u8; 16];
        line.copy_from_slice(format!("{rounds:015}\n").as_bytes());
        let t0 = Instant::now();
        if let Err(e) = echo.round(&line) {
            println!("tcp-echo: round {rounds} failed after {:.1} s: {e}", start.elapsed().as_secs_f64());
            if !a.keep_going {
                return Err(crate::io_failed(&format!("round {rounds}"), e));
            }
            failed += 1;
            std::thread::sleep(a.interval);
            match Echo::open(a) {
                Ok(e) => echo = e,
                Err(e) => println!("tcp-echo: reconnecting: {e}"),
            }
            continue;
        }
        slowest = slowest.max(t0.elapsed());
        std::thread::sleep(a.interval);
    }
    println!(
        "tcp-echo: {proto} {rounds} rounds, {failed} failed, in {:.1} s from {local}, slowest round trip {:.1} ms",
        start.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1000.0
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_each_subcommand() {
        assert_eq!(
            parse("as-user", &args("65534 id -u")).unwrap(),
            Args::AsUser { uid: 65534, gid: 65534, cmd: args("id -u") }
        );
        assert!(matches!(parse("as-user", &args("1:2 true")).unwrap(), Args::AsUser { uid: 1, gid: 2, .. }));
        assert_eq!(
            parse("xt-perm", &args("-6 --table nat --as-uid 65534 --userns --netns")).unwrap(),
            Args::XtPerm(PermArgs {
                family: Family::V6,
                table: "nat".into(),
                as_uid: Some(65534),
                nocap: false,
                userns: true,
                netns: true
            })
        );
        assert!(matches!(parse("xt-swap", &args("--count 10 a b")).unwrap(), Args::XtSwap { count: 10, .. }));
        let Args::TcpEcho(e) = parse("tcp-echo", &args("10.0.0.1 80 --secs 2 --interval-ms 50")).unwrap() else {
            panic!("not tcp-echo");
        };
        assert_eq!((e.dest.port(), e.interval), (80, Duration::from_millis(50)));
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for (sub, line) in [
            ("as-user", ""),
            ("as-user", "65534"),
            ("as-user", "x true"),
            ("xt-perm", "--bogus"),
            ("xt-perm", "extra"),
            ("xt-save", "filter"),
            ("xt-swap", "a b"),
            ("tcp-echo", "10.0.0.1 80"),
            ("tcp-echo", "10.0.0.1 80 --secs 0"),
            ("write-file", "/proc/x"),
        ] {
            assert!(matches!(parse(sub, &args(line)), Err(Error::Usage(_))), "{sub} {line}");
        }
    }

    #[test]
    fn write_file_reports_the_errno() {
        let dir = std::env::temp_dir().join(format!("rnf-udp-wf-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f");
        fs::write(&f, "x").unwrap();
        write_file(f.to_str().unwrap(), "yz");
        assert_eq!(fs::read_to_string(&f).unwrap(), "yz");
        assert_eq!(outcome(Err(95)), "errno 95 EOPNOTSUPP");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tcp_echo_over_loopback() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 64];
            loop {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => c.write_all(&buf[..n]).unwrap(),
                }
            }
        });
        tcp_echo(&EchoArgs {
            dest: SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), port),
            secs: 0.3,
            interval: Duration::from_millis(20),
            timeout: Duration::from_secs(2),
            udp: false,
            keep_going: false,
            while_file: None,
        })
        .unwrap();
        h.join().unwrap();
    }
}
