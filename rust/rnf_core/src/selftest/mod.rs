// SPDX-License-Identifier: GPL-2.0
//! The self-test harness shared by the host tests and the in-kernel KUnit
//! suites.
//!
//! Each [`Case`] is a function that returns `Err(reason)` on failure. Each
//! engine owns its suites (`conntrack::selftest`, `nat::selftest`,
//! `xt::selftest`); a kernel module turns the suites of the engines it
//! compiles into KUnit suites (its `SELFTEST_SUITES` and the `kunit` glue),
//! and `cargo test` runs every suite, so the golden-packet checks run on
//! the target's own compiler, endianness and alignment rules.
//!
//! C header: [include/kunit/test.h](srctree/include/kunit/test.h) (through
//! rust/glue/kunit.rs).

use core::ffi::CStr;

pub mod golden;

/// One named check.
pub struct Case {
    /// KUnit case name: what it checks.
    pub name: &'static CStr,
    /// Returns `Err(reason)` when the check fails.
    pub run: fn() -> Result<(), &'static str>,
}

/// One named group of checks (a KUnit suite).
pub struct Suite {
    /// Suite name, `rnf_<area>`.
    pub name: &'static CStr,
    /// Its cases.
    pub cases: &'static [Case],
}

/// `Ok(())` when `cond` holds, else `Err(why)`: the body of every check.
pub fn ensure(cond: bool, why: &'static str) -> Result<(), &'static str> {
    if cond {
        Ok(())
    } else {
        Err(why)
    }
}

#[cfg(test)]
mod tests {
    /// Every suite of every engine.
    fn every_suite() -> impl Iterator<Item = &'static super::Suite> {
        let ct = crate::conntrack::selftest::SUITES.into_iter();
        ct.chain(crate::nat::selftest::SUITES).chain(crate::xt::selftest::SUITES)
    }

    #[test]
    fn every_selftest_case_passes() {
        let mut failed = std::vec::Vec::new();
        for s in every_suite() {
            for c in s.cases {
                if let Err(why) = (c.run)() {
                    failed.push(std::format!("{:?}.{:?}: {}", s.name, c.name, why));
                }
            }
        }
        assert!(failed.is_empty(), "failed: {failed:#?}");
    }
}
