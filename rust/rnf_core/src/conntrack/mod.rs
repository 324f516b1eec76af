// SPDX-License-Identifier: GPL-2.0
//! The connection-tracking engine's kernel-independent logic.
//!
//! Mirrors the kernel's `nf_conntrack` (6.12): `struct nf_conntrack_tuple`
//! (include/net/netfilter/nf_conntrack_tuple.h), the core and its hash table
//! (net/netfilter/nf_conntrack_core.c), the per-protocol trackers
//! (net/netfilter/nf_conntrack_proto_{tcp,udp,icmp,icmpv6,generic}.c) and
//! the `/proc` format (net/netfilter/nf_conntrack_standalone.c):
//!
//! - [`tuple`](mod@tuple): tuples, their inversion and the jhash2 bucket hash;
//! - [`conn`]: a tracked connection and what one packet does to it;
//! - [`tcp`]: the TCP state table and window tracking;
//! - [`icmp`]: the connection an ICMP or ICMPv6 error is about;
//! - [`table`]: the connection table, hashed by both tuples;
//! - [`procfmt`]: the `/proc/net/nf_conntrack` line format;
//! - [`flush`]: what a write to `/proc/net/nf_conntrack` flushes (OpenWrt's
//!   extension);
//! - [`zone`]: conntrack zones, what keeps identical tuples apart;
//! - [`selftest`]: rnf_conntrack's KUnit suites, also run by `cargo test`.
//!
//! It reads packets through [`crate::packet`] only; the NAT and table
//! engines build on it, never the other way round.

pub mod conn;
pub mod flush;
pub mod icmp;
pub mod procfmt;
#[cfg(any(test, CONFIG_KUNIT))]
pub mod selftest;
pub mod table;
pub mod tcp;
pub mod tuple;
pub mod zone;
