// SPDX-License-Identifier: GPL-2.0
//! Kernel-independent logic of rnf.
//!
//! Everything here is plain `no_std` Rust with no `unsafe` and no kernel
//! imports: checked packet views, tuples and hashing, the conntrack state
//! machines, the connection table and the `/proc` line format. The kernel
//! modules compile these very files (see `rust/rnf_conntrack.rs`, which
//! includes them with `#[path]`), and `cargo test` runs them on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod conntrack;
pub mod nat;
pub mod packet;
pub mod selftest;
pub mod xt;
