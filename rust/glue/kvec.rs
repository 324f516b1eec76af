// SPDX-License-Identifier: GPL-2.0
//! Growing the kernel crate's vectors out of line
//! ([rust/kernel/alloc/kvec.rs](srctree/rust/kernel/alloc/kvec.rs)).
//!
//! `Vec::push` and `Vec::extend_from_slice` are inlined wherever they are
//! called, and with them the arithmetic of `Vec::reserve` (`cap - len`,
//! `cap * 2`, `len + 1`), which the overflow checks of
//! `CONFIG_RUST_OVERFLOW_CHECKS` guard with a panic. None of them can fire:
//! the vector's invariant is `len <= cap <= isize::MAX`, and `len + 1` is
//! reached only after a `reserve` that succeeded. Called through these
//! wrappers, which are never inlined, those checks sit in one function each,
//! which tests/tools/panic-sites.sh allows by name, instead of in every
//! caller, which it checks. rnf grows vectors only through them.

use kernel::alloc::{AllocError, Allocator, Flags, Vec};

/// `v.push(x, flags)`: appends `x`, allocating with `flags` when `v` is full.
/// Errors: `AllocError` when that allocation fails (`v` unchanged).
#[inline(never)]
pub fn push<T, A: Allocator>(v: &mut Vec<T, A>, x: T, flags: Flags) -> Result<(), AllocError> {
    v.push(x, flags)
}

/// `v.extend_from_slice(s, flags)`: appends clones of `s`, allocating with
/// `flags` as needed. Errors: `AllocError` when that allocation fails (`v`
/// unchanged).
#[inline(never)]
pub fn extend_from_slice<T: Clone, A: Allocator>(v: &mut Vec<T, A>, s: &[T], flags: Flags) -> Result<(), AllocError> {
    v.extend_from_slice(s, flags)
}
