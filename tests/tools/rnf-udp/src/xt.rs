// SPDX-License-Identifier: GPL-2.0

//! The subcommands for the rule table tests:
//!
//! ```text
//! rnf-udp xt-replace [-6] CASE...|all
//! rnf-udp nocap COMMAND [ARG]...
//! ```
//!
//! `xt-replace` reads the `filter` table (IPT_SO_GET_INFO and
//! IPT_SO_GET_ENTRIES, or the IP6T_ ones with `-6`, on a raw socket), builds
//! each variant `CASE` of it (see `xt_blob::CASES`; `all` is every one) and
//! offers it with IPT_SO_SET_REPLACE. Per case it prints one line:
//!
//! ```text
//! xt-replace: ipv4 loop-self: errno 40 ELOOP, table unchanged
//! xt-replace: ipv4 valid: accepted, table unchanged
//! ```
//!
//! "table unchanged" compares the rules read back afterwards with those read
//! before (counters and comefrom aside); otherwise it says "TABLE CHANGED".
//! Exit status 0 when every case ran (whatever the kernel answered), 1 when
//! the table could not be read.
//!
//! `nocap` removes CAP_NET_ADMIN from the process for good (bounding,
//! ambient, effective, permitted and inheritable sets: the guest kernel has
//! no user namespaces, so capset is the way) and execs COMMAND, which then
//! runs as root without CAP_NET_ADMIN.

use std::os::raw::c_int;
use std::os::unix::process::CommandExt;

use crate::sys;
use crate::xt_blob::{self, Family, Replace, Table};
use crate::Error;

/// `IPT_SO_GET_INFO` = `IP6T_SO_GET_INFO` (`IPT_BASE_CTL`).
pub(crate) const SO_GET_INFO: c_int = 64;
/// `IPT_SO_GET_ENTRIES` = `IP6T_SO_GET_ENTRIES`.
pub(crate) const SO_GET_ENTRIES: c_int = 65;
/// `IPT_SO_SET_REPLACE` = `IP6T_SO_SET_REPLACE`.
pub(crate) const SO_SET_REPLACE: c_int = 64;
/// `CAP_NET_ADMIN`.
pub(crate) const CAP_NET_ADMIN: u32 = 12;

/// Arguments of `rnf-udp xt-replace`.
#[derive(Debug, PartialEq)]
pub struct ReplaceArgs {
    pub family: Family,
    pub cases: Vec<String>,
}

pub fn parse_replace(args: &[String]) -> Result<ReplaceArgs, Error> {
    let mut family = Family::V4;
    let mut cases = Vec::new();
    for a in args {
        match a.as_str() {
            "-6" => family = Family::V6,
            "all" => cases.extend(xt_blob::CASES.iter().map(|(c, _)| c.to_string())),
            c if xt_blob::CASES.iter().any(|(n, _)| *n == c) => cases.push(c.to_string()),
            other => {
                let names: Vec<&str> = xt_blob::CASES.iter().map(|(n, _)| *n).collect();
                return crate::usage(format!(
                    "xt-replace: unknown case {other} (cases: all {})",
                    names.join(" ")
                ));
            }
        }
    }
    if cases.is_empty() {
        return crate::usage("xt-replace needs a CASE or all");
    }
    Ok(ReplaceArgs { family, cases })
}

/// A raw socket of the family and the socket-option level of its tables.
fn table_socket(f: Family) -> Result<(std::os::fd::OwnedFd, c_int), Error> {
    let (domain, level) = match f {
        Family::V4 => (sys::AF_INET, sys::IPPROTO_IP),
        Family::V6 => (sys::AF_INET6, sys::IPPROTO_IPV6),
    };
    let fd = sys::new_socket(domain, sys::SOCK_RAW, sys::IPPROTO_RAW)
        .map_err(|e| crate::io_failed("socket(SOCK_RAW)", e))?;
    Ok((fd, level))
}

/// Reads table `name` with GET_INFO and GET_ENTRIES.
fn read_table(f: Family, name: &str) -> Result<Table, Error> {
    let (fd, level) = table_socket(f)?;
    let mut info = xt_blob::getinfo_request(name).map_err(Error::Failed)?;
    let n = sys::get_opt_bytes(&fd, level, SO_GET_INFO, &mut info)
        .map_err(|e| crate::io_failed("getsockopt(SO_GET_INFO)", e))?;
    let info = xt_blob::parse_getinfo(info.get(..n).unwrap_or(&[])).map_err(Error::Failed)?;
    let mut req = xt_blob::get_entries_request(name, info.size).map_err(Error::Failed)?;
    sys::get_opt_bytes(&fd, level, SO_GET_ENTRIES, &mut req)
        .map_err(|e| crate::io_failed("getsockopt(SO_GET_ENTRIES)", e))?;
    Ok(Table {
        family: f,
        name: name.to_string(),
        info,
        entries: req.split_off(xt_blob::GET_ENTRIES_LEN),
    })
}

/// Offers `r` with SET_REPLACE; returns 0 or the errno.
fn offer(f: Family, r: &Replace) -> Result<i32, Error> {
    let (fd, level) = table_socket(f)?;
    // Room for the old counters the kernel hands back, more than asked for.
    let n = (r.num_counters as usize).clamp(1, 1 << 20) + 1;
    let mut counters = vec![0u8; n * xt_blob::COUNTERS_LEN];
    let blob = r
        .encode(counters.as_mut_ptr() as u64)
        .map_err(Error::Failed)?;
    let rc = match sys::set_opt_bytes(&fd, level, SO_SET_REPLACE, &blob) {
        Ok(()) => 0,
        Err(e) => e.raw_os_error().unwrap_or(-1),
    };
    // The kernel may have written into `counters` through the pointer.
    drop(counters);
    Ok(rc)
}

pub fn xt_replace(args: &ReplaceArgs) -> Result<(), Error> {
    let fam = match args.family {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    };
    for case in &args.cases {
        let before = read_table(args.family, "filter")?;
        let rules = before.rules_only().map_err(Error::Failed)?;
        let r = xt_blob::build(&before, case)
            .map_err(|e| Error::Failed(format!("xt-replace: {case}: {e}")))?;
        let rc = offer(args.family, &r)?;
        let after = read_table(args.family, "filter")?;
        let same = after.rules_only().map_err(Error::Failed)? == rules;
        let verdict = if rc == 0 {
            "accepted".to_string()
        } else {
            format!("errno {rc} {}", xt_blob::errno_name(rc))
        };
        let table = if same {
            "table unchanged"
        } else {
            "TABLE CHANGED"
        };
        println!("xt-replace: {fam} {case}: {verdict}, {table}");
    }
    Ok(())
}

pub fn nocap(args: &[String]) -> Result<(), Error> {
    let Some((cmd, rest)) = args.split_first() else {
        return crate::usage("nocap needs a COMMAND");
    };
    sys::drop_capability(CAP_NET_ADMIN)
        .map_err(|e| crate::io_failed("dropping CAP_NET_ADMIN", e))?;
    let err = std::process::Command::new(cmd).args(rest).exec();
    Err(crate::io_failed(&format!("exec {cmd}"), err))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn replace_arguments() {
        let a = parse_replace(&args("-6 loop-self truncated")).unwrap();
        assert_eq!(a.family, Family::V6);
        assert_eq!(a.cases, ["loop-self", "truncated"]);
        let all = parse_replace(&args("all")).unwrap();
        assert_eq!(
            (all.family, all.cases.len()),
            (Family::V4, xt_blob::CASES.len())
        );
        assert!(matches!(parse_replace(&args("-6")), Err(Error::Usage(_))));
        assert!(matches!(
            parse_replace(&args("bogus")),
            Err(Error::Usage(_))
        ));
        assert!(matches!(nocap(&[]), Err(Error::Usage(_))));
    }
}
