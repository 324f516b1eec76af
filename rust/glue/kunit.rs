// SPDX-License-Identifier: GPL-2.0
//! KUnit suites built from `rnf_core::selftest` at compile time.
//!
//! C header: [include/kunit/test.h](srctree/include/kunit/test.h)
//!
//! 6.12 has no `#[kunit_tests]` macro. [`kunit_suites!`] emits, for each
//! `selftest::Suite`, a static `kunit_suite` and its NULL-terminated
//! `kunit_case` array, and puts pointers to them in the module's
//! `.kunit_test_suites` section: KUnit runs them when the module is loaded
//! (after its init) and prints KTAP to the kernel log. Only compiled when the
//! kernel has `CONFIG_KUNIT`, so production firmware carries no tests.

use core::ffi::c_char;

use super::bindings;

/// Most cases a suite may have (the rest of the array is the terminator).
pub const MAX_CASES: usize = 16;

/// Runs case `C` of suite `S` of `SUITES` and reports a failure to KUnit.
///
/// # Safety
///
/// Called by KUnit with a valid test context.
pub unsafe extern "C" fn run_case<const S: usize, const C: usize>(test: *mut bindings::kunit) {
    let Some(case) = crate::SELFTEST_SUITES.get(S).and_then(|s| s.cases.get(C)) else {
        return;
    };
    if let Err(why) = (case.run)() {
        // SAFETY: `test` is KUnit's live context; `why` is `why.len()` bytes.
        unsafe { bindings::rnf_kunit_fail(test, why.as_ptr().cast(), why.len() as _) };
    }
}

/// A zeroed `kunit_case`: the array terminator.
pub const fn zero_case() -> bindings::kunit_case {
    // SAFETY: all-zero is a valid `kunit_case` (NULL pointers, zero status).
    unsafe { core::mem::zeroed() }
}

/// Builds the case array of suite `S` from the trampolines `runs`.
pub const fn cases<const S: usize>(
    runs: [unsafe extern "C" fn(*mut bindings::kunit); MAX_CASES],
) -> [bindings::kunit_case; MAX_CASES + 1] {
    let mut out = [zero_case(); MAX_CASES + 1];
    let suite = crate::SELFTEST_SUITES[S];
    assert!(suite.cases.len() <= MAX_CASES, "too many cases in a selftest suite");
    let mut i = 0;
    while i < suite.cases.len() {
        out[i].run_case = Some(runs[i]);
        out[i].name = suite.cases[i].name.as_ptr();
        i += 1;
    }
    out
}

/// Builds suite `S` over the case array at `cases`.
pub const fn suite<const S: usize>(cases: *mut bindings::kunit_case) -> bindings::kunit_suite {
    // SAFETY: all-zero is a valid `kunit_suite` (no callbacks, empty name).
    let mut out: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    let name = crate::SELFTEST_SUITES[S].name.to_bytes();
    assert!(name.len() < out.name.len(), "suite name too long");
    let mut i = 0;
    while i < name.len() {
        out.name[i] = name[i] as c_char;
        i += 1;
    }
    out.test_cases = cases;
    out
}

/// Emits the KUnit suites for `crate::SELFTEST_SUITES[0..]`, one `idx =>
/// CASES, SUITE;` line per suite.
#[macro_export]
macro_rules! kunit_suites {
    ($($idx:literal => $cases:ident, $suite:ident;)*) => {
        $(
            static mut $cases: [$crate::glue::bindings::kunit_case; $crate::glue::kunit::MAX_CASES + 1] =
                $crate::glue::kunit::cases::<$idx>([
                    $crate::glue::kunit::run_case::<$idx, 0>, $crate::glue::kunit::run_case::<$idx, 1>,
                    $crate::glue::kunit::run_case::<$idx, 2>, $crate::glue::kunit::run_case::<$idx, 3>,
                    $crate::glue::kunit::run_case::<$idx, 4>, $crate::glue::kunit::run_case::<$idx, 5>,
                    $crate::glue::kunit::run_case::<$idx, 6>, $crate::glue::kunit::run_case::<$idx, 7>,
                    $crate::glue::kunit::run_case::<$idx, 8>, $crate::glue::kunit::run_case::<$idx, 9>,
                    $crate::glue::kunit::run_case::<$idx, 10>, $crate::glue::kunit::run_case::<$idx, 11>,
                    $crate::glue::kunit::run_case::<$idx, 12>, $crate::glue::kunit::run_case::<$idx, 13>,
                    $crate::glue::kunit::run_case::<$idx, 14>, $crate::glue::kunit::run_case::<$idx, 15>,
                ]);
            static mut $suite: $crate::glue::bindings::kunit_suite =
                $crate::glue::kunit::suite::<$idx>((&raw mut $cases).cast());
        )*

        // Every suite of SELFTEST_SUITES must be listed above.
        const _: () = assert!([$($idx),*].len() == crate::SELFTEST_SUITES.len(), "kunit_suites! must list every suite");

        /// The module's KUnit suites, found by the module loader in this section.
        #[used]
        #[link_section = ".kunit_test_suites"]
        static mut KUNIT_SUITES: [*mut $crate::glue::bindings::kunit_suite; [$($idx),*].len()] =
            [$(&raw mut $suite),*];
    };
}
