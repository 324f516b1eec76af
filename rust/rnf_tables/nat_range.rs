// SPDX-License-Identifier: GPL-2.0
//! `crate::nat` of rnf_tables: only the NAT ranges (rust/rnf_core/src/nat/range.rs),
//! which the table engine's NAT targets decode into, and the incremental
//! checksum updates (checksum.rs), which its packet-editing targets use; the
//! tuple selection and rewriting of the NAT engine are not compiled into
//! this module.

#[path = "../rnf_core/src/nat/checksum.rs"]
pub mod checksum;
#[path = "../rnf_core/src/nat/range.rs"]
pub mod range;
