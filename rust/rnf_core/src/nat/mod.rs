// SPDX-License-Identifier: GPL-2.0
//! The NAT engine's kernel-independent logic.
//!
//! Mirrors the kernel's `net/netfilter/nf_nat_core.c` (tuple selection),
//! `nf_nat_proto.c` (packet rewriting) and the xt NAT targets' range
//! structures (`include/uapi/linux/netfilter/nf_nat.h`):
//!
//! - [`checksum`]: RFC 1624 incremental checksum updates;
//! - [`range`]: `nf_nat_range2` and the flag bits;
//! - [`select`]: `get_unique_tuple`, the choice of a free tuple in a range;
//! - [`rewrite`]: rewriting a packet's addresses and ports, ICMP errors
//!   included, with their checksums;
//! - [`selftest`]: the NAT suites KUnit runs in rnf_nat.

pub mod checksum;
pub mod range;
pub mod rewrite;
pub mod select;
#[cfg(any(test, CONFIG_KUNIT))]
pub mod selftest;

pub use checksum::{checksum, csum_replace, csum_replace2, csum_replace4};
