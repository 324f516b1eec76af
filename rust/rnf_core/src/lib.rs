// SPDX-License-Identifier: GPL-2.0
//! Kernel-independent logic of rnf, one module per engine.
//!
//! Everything here is plain `no_std` Rust with no `unsafe` and no kernel
//! imports:
//!
//! - [`packet`]: checked views of IPv4/IPv6 packets and their transport
//!   headers;
//! - [`conntrack`]: tuples and hashing, the conntrack state machines, the
//!   connection table and the `/proc` line format (reads [`packet`]);
//! - [`nat`]: the NAT engine;
//! - [`xt`]: the ip_tables / ip6_tables rule table engine (reads [`packet`]);
//! - [`selftest`]: the harness of the engines' self-test suites and the
//!   golden packets.
//!
//! Dependencies go one way: `packet` <- `conntrack` <- (`nat`, `xt`). The
//! kernel modules compile these very files, each only the engines it uses:
//! its crate root (`rust/rnf_*_main.rs`) mounts them with `#[path]` under the
//! same names as here, so `crate::` paths resolve alike; `cargo test` runs
//! them on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod conntrack;
pub mod nat;
pub mod packet;
pub mod selftest;
pub mod xt;

#[cfg(test)]
mod fuzz_seeds;
