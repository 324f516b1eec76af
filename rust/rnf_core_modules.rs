// SPDX-License-Identifier: GPL-2.0
//
// The kernel-independent modules of rust/rnf_core, mounted at the root of a
// module crate (`include!("rnf_core_modules.rs");` in each rust/rnf_*_main.rs)
// so that their `crate::` paths resolve as they do in the rnf_core crate.
// Keep this list and rust/rnf_core/src/lib.rs the same.

#[path = "rnf_core/src/conntrack/mod.rs"]
pub mod conntrack;
#[path = "rnf_core/src/nat/mod.rs"]
pub mod nat;
#[path = "rnf_core/src/packet/mod.rs"]
pub mod packet;
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;
#[path = "rnf_core/src/xt/mod.rs"]
pub mod xt;
