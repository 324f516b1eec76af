// SPDX-License-Identifier: GPL-2.0
//
// The kernel-independent modules of rust/rnf_core, mounted at the root of a
// module crate (`include!("rnf_core_modules.rs");` in each rust/rnf_*_main.rs)
// so that their `crate::` paths resolve as they do in the rnf_core crate.
// Keep this list and rust/rnf_core/src/lib.rs the same.

#[path = "rnf_core/src/conn.rs"]
pub mod conn;
#[path = "rnf_core/src/icmp.rs"]
pub mod icmp;
#[path = "rnf_core/src/nat/mod.rs"]
pub mod nat;
#[path = "rnf_core/src/packet.rs"]
pub mod packet;
#[path = "rnf_core/src/procfmt.rs"]
pub mod procfmt;
#[path = "rnf_core/src/selftest.rs"]
pub mod selftest;
#[path = "rnf_core/src/table.rs"]
pub mod table;
#[path = "rnf_core/src/tcp.rs"]
pub mod tcp;
#[path = "rnf_core/src/tuple.rs"]
pub mod tuple;
#[path = "rnf_core/src/xt/mod.rs"]
pub mod xt;
