// SPDX-License-Identifier: GPL-2.0
//! The ip_tables / ip6_tables rule table engine, independent of the kernel.
//!
//! C headers: [include/uapi/linux/netfilter/x_tables.h](srctree/include/uapi/linux/netfilter/x_tables.h),
//! [include/uapi/linux/netfilter_ipv4/ip_tables.h](srctree/include/uapi/linux/netfilter_ipv4/ip_tables.h),
//! [include/uapi/linux/netfilter_ipv6/ip6_tables.h](srctree/include/uapi/linux/netfilter_ipv6/ip6_tables.h).
//!
//! The control path parses the socket-option buffers of `iptables-legacy`
//! ([`ReplaceHeader::parse`], [`parse_get_entries`], [`parse_add_counters`]),
//! validates a `SET_REPLACE` blob at least as strictly as the kernel's
//! `translate_table` and decodes it into fixed-size [`Rule`]s and [`Match`]es
//! ([`measure`], [`Table::translate`]); [`Table::copy_entries`] and
//! [`Table::info`] answer `GET_ENTRIES` and `GET_INFO`. The packet path,
//! [`Table::evaluate`], walks the decoded rules with `ipt_do_table`
//! semantics; [`Table::evaluate_classified`] does the same but goes from
//! each position straight to the next rule a bit-vector [`Classifier`]
//! (built by [`Plan::new`] and [`Classifier::build`]) says may match,
//! which changes neither verdicts nor counted rules. The caller provides
//! every buffer (no allocation here), keeps
//! the counters and supplies conntrack state, time and logging through
//! [`Env`].
//!
//! ABI structures are host-endian (the socket-option ABI); packet bytes are
//! network byte order. Layouts are those of LP64 (x86_64 and arm64 agree).

mod abi;
#[doc(hidden)]
pub mod build;
mod classify;
mod copy;
mod ct;
mod eval;
mod ext;
mod header;
pub mod hashlimit;
mod initial;
mod log;
mod marks;
pub mod mangle;
mod matches;
mod nat;
mod pkt_matches;
mod rule;
#[cfg(any(test, CONFIG_KUNIT))]
pub mod selftest;
#[cfg(any(test, CONFIG_KUNIT))]
mod selftest_router;
#[cfg(any(test, CONFIG_KUNIT))]
mod selftest_mangle;
mod translate;

pub use classify::{Classifier, Plan, CLASSIFY_MIN_ENTRIES, MAX_BUILD_WORK};
pub use abi::{
    IP6T_ENTRY_SIZE, IPT_ENTRY_SIZE, NF_ACCEPT, NF_DROP, NF_QUEUE, XT_ENTRY_MATCH_SIZE, XT_ENTRY_TARGET_SIZE,
    XT_ERROR_TARGET_SIZE, XT_RETURN, XT_STANDARD_TARGET_SIZE,
};
pub use eval::{Action, CtState, Env, Packet, RejectWith};
pub use eval::{AddrDev, CtTuple};
pub use ext::find_revision;
pub use header::{parse_add_counters, parse_get_entries, AddCounters, Info, ReplaceHeader, GET_ENTRIES_SIZE, COUNTERS_INFO_SIZE, GET_REVISION_SIZE};
pub use nat::{NatKind, NatTarget};
pub use ct::CtTemplate;
pub use initial::{initial_size, initial_table};
pub use rule::{Match, Rule};
pub use translate::{measure, Sizes, Table, JUMP_STACK_DEPTH};

/// Number of netfilter hooks of the inet families (`NF_INET_NUMHOOKS`).
pub const NF_INET_NUMHOOKS: usize = 5;
/// `NF_INET_PRE_ROUTING`.
pub const NF_INET_PRE_ROUTING: u32 = 0;
/// `NF_INET_LOCAL_IN`.
pub const NF_INET_LOCAL_IN: u32 = 1;
/// `NF_INET_FORWARD`.
pub const NF_INET_FORWARD: u32 = 2;
/// `NF_INET_LOCAL_OUT`.
pub const NF_INET_LOCAL_OUT: u32 = 3;
/// `NF_INET_POST_ROUTING`.
pub const NF_INET_POST_ROUTING: u32 = 4;

/// Address family of a table (`NFPROTO_IPV4` / `NFPROTO_IPV6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Family {
    /// `NFPROTO_IPV4`: ip_tables, `struct ipt_entry`.
    #[default]
    Ipv4,
    /// `NFPROTO_IPV6`: ip6_tables, `struct ip6t_entry`.
    Ipv6,
}

/// A built-in table: its name and the hooks it has chains for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableDef {
    /// Table name as user space sends it (`filter`).
    pub name: &'static str,
    /// The family.
    pub family: Family,
    /// Bit mask of `1 << NF_INET_*` hooks the table has built-in chains for.
    pub valid_hooks: u32,
}

const FILTER_HOOKS: u32 = (1 << NF_INET_LOCAL_IN) | (1 << NF_INET_FORWARD) | (1 << NF_INET_LOCAL_OUT);

/// The IPv4 `filter` table (net/ipv4/netfilter/iptable_filter.c).
pub const FILTER_IPV4: TableDef = TableDef { name: "filter", family: Family::Ipv4, valid_hooks: FILTER_HOOKS };
/// The IPv6 `filter` table (net/ipv6/netfilter/ip6table_filter.c).
pub const FILTER_IPV6: TableDef = TableDef { name: "filter", family: Family::Ipv6, valid_hooks: FILTER_HOOKS };

/// Hooks of the `nat` tables: PREROUTING, INPUT, OUTPUT, POSTROUTING (0x1b).
const NAT_HOOKS: u32 =
    (1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_LOCAL_IN) | (1 << NF_INET_LOCAL_OUT) | (1 << NF_INET_POST_ROUTING);

/// The IPv4 `nat` table (net/ipv4/netfilter/iptable_nat.c).
pub const NAT_IPV4: TableDef = TableDef { name: "nat", family: Family::Ipv4, valid_hooks: NAT_HOOKS };
/// The IPv6 `nat` table (net/ipv6/netfilter/ip6table_nat.c).
pub const NAT_IPV6: TableDef = TableDef { name: "nat", family: Family::Ipv6, valid_hooks: NAT_HOOKS };

/// Hooks of the `mangle` tables: all five (0x1f).
const MANGLE_HOOKS: u32 = (1 << NF_INET_NUMHOOKS) - 1;

/// The IPv4 `mangle` table (net/ipv4/netfilter/iptable_mangle.c).
pub const MANGLE_IPV4: TableDef = TableDef { name: "mangle", family: Family::Ipv4, valid_hooks: MANGLE_HOOKS };
/// The IPv6 `mangle` table (net/ipv6/netfilter/ip6table_mangle.c).
pub const MANGLE_IPV6: TableDef = TableDef { name: "mangle", family: Family::Ipv6, valid_hooks: MANGLE_HOOKS };

/// Hooks of the `raw` tables: PREROUTING and OUTPUT (0x9), before
/// connection tracking.
const RAW_HOOKS: u32 = (1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_LOCAL_OUT);

/// The IPv4 `raw` table (net/ipv4/netfilter/iptable_raw.c).
pub const RAW_IPV4: TableDef = TableDef { name: "raw", family: Family::Ipv4, valid_hooks: RAW_HOOKS };
/// The IPv6 `raw` table (net/ipv6/netfilter/ip6table_raw.c).
pub const RAW_IPV6: TableDef = TableDef { name: "raw", family: Family::Ipv6, valid_hooks: RAW_HOOKS };

/// Positive errno values the engine answers with (include/uapi/asm-generic/errno-base.h, errno.h).
pub mod errno {
    /// Operation not permitted.
    pub const EPERM: i32 = 1;
    /// No such file or directory: unknown table, match or target.
    pub const ENOENT: i32 = 2;
    /// I/O error: a checkentry flagged a problem.
    pub const EIO: i32 = 5;
    /// Argument list too long.
    pub const E2BIG: i32 = 7;
    /// Try again: `GET_ENTRIES` size does not match the table.
    pub const EAGAIN: i32 = 11;
    /// Out of memory.
    pub const ENOMEM: i32 = 12;
    /// Bad address.
    pub const EFAULT: i32 = 14;
    /// Invalid argument: the usual answer to a malformed blob.
    pub const EINVAL: i32 = 22;
    /// Numerical argument out of domain (`dscp` match or `DSCP` target value above 63).
    pub const EDOM: i32 = 33;
    /// Result out of range (`limit` rate overflow).
    pub const ERANGE: i32 = 34;
    /// File name too long (`CT` helper or timeout name without NUL).
    pub const ENAMETOOLONG: i32 = 36;
    /// Too many levels of symbolic links: a rule loop.
    pub const ELOOP: i32 = 40;
    /// Protocol wrong type for socket: `xt_find_match`'s answer for an
    /// NFPROTO_UNSPEC extension that exists in other revisions.
    pub const EPROTOTYPE: i32 = 71;
    /// Protocol not available: unknown socket option.
    pub const ENOPROTOOPT: i32 = 92;
    /// Protocol not supported: the extension exists but not that revision.
    pub const EPROTONOSUPPORT: i32 = 93;
    /// Operation not supported (`CT` zones and timeout policies).
    pub const EOPNOTSUPP: i32 = 95;
}

/// Why a control-path request was refused: the errno the kernel would return
/// and a short reason for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// Positive errno (e.g. [`errno::EINVAL`]); the caller returns `-errno`.
    pub errno: i32,
    /// A short, static, human-readable reason.
    pub reason: &'static str,
}

impl Error {
    pub(crate) const fn new(errno: i32, reason: &'static str) -> Self {
        Self { errno, reason }
    }
    pub(crate) const fn inval(reason: &'static str) -> Self {
        Self { errno: errno::EINVAL, reason }
    }
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_match;
#[cfg(test)]
mod tests_classify;
#[cfg(test)]
mod tests_nat;
#[cfg(test)]
mod tests_router;
#[cfg(test)]
mod tests_mangle;
#[cfg(test)]
mod tests_hashlimit;
#[cfg(test)]
mod tests_walk;
