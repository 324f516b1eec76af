// SPDX-License-Identifier: GPL-2.0
//! An RCU-protected owned pointer, the RCU read side and BH-disabled sections.
//!
//! C header: [include/linux/rcupdate.h](srctree/include/linux/rcupdate.h),
//! [include/linux/bottom_half.h](srctree/include/linux/bottom_half.h)
//!
//! Readers (netfilter hooks, which already run under `rcu_read_lock()`)
//! borrow the current value for as long as an [`RcuReadGuard`] lives; a
//! writer publishes a new value with [`RcuBox::replace`], which waits for a
//! grace period before handing the old one back, so it is freed only when no
//! reader can still see it (`rcu_assign_pointer` + `synchronize_rcu`).

use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::Deref;
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::alloc::KBox;

use super::bindings;

/// An RCU read-side critical section (`rcu_read_lock()` .. `rcu_read_unlock()`).
/// Does not sleep; nests; callable in any context.
pub struct RcuReadGuard {
    // Not `Send`: the unlock must happen on the task that locked.
    _p: PhantomData<*mut ()>,
}

impl RcuReadGuard {
    /// Enters a read-side critical section.
    pub fn new() -> Self {
        // SAFETY: no preconditions; balanced by `drop`.
        unsafe { bindings::rnf_rcu_read_lock() };
        RcuReadGuard { _p: PhantomData }
    }
}

impl Drop for RcuReadGuard {
    fn drop(&mut self) {
        // SAFETY: `new` entered the section this leaves.
        unsafe { bindings::rnf_rcu_read_unlock() };
    }
}

/// A read-side critical section that someone else entered and that lasts
/// for `'a`, borrowed rather than entered again: what a netfilter hook
/// runs in (`nf_hook()` takes `rcu_read_lock()` around `nf_hook_slow()`,
/// whose callers "must hold rcu_read_lock", net/netfilter/core.c), used as
/// `ipt_do_table` uses it, with no lock or unlock call of its own.
/// Dereferences to an [`RcuReadGuard`] for [`RcuBox::read`]; dropping it
/// leaves the section to its owner.
pub struct RcuHeld<'a> {
    guard: ManuallyDrop<RcuReadGuard>,
    _p: PhantomData<&'a ()>,
}

impl RcuHeld<'_> {
    /// Borrows the section the caller is in.
    ///
    /// # Safety
    ///
    /// The caller is inside an RCU read-side critical section that lasts at
    /// least as long as the lifetime of the returned value.
    pub unsafe fn new() -> Self {
        // The guard is never dropped (`ManuallyDrop`): no unlock happens
        // for a lock this value did not take.
        RcuHeld { guard: ManuallyDrop::new(RcuReadGuard { _p: PhantomData }), _p: PhantomData }
    }
}

impl Deref for RcuHeld<'_> {
    type Target = RcuReadGuard;

    fn deref(&self) -> &RcuReadGuard {
        &self.guard
    }
}

/// A section with bottom halves (and so preemption) disabled on this CPU
/// (`local_bh_disable()`): per-CPU data touched inside cannot be interrupted
/// by a hook on the same CPU, nor the task migrated.
pub struct BhDisabled {
    _p: PhantomData<*mut ()>,
}

impl BhDisabled {
    /// Disables bottom halves until the value is dropped.
    pub fn new() -> Self {
        // SAFETY: no preconditions; balanced by `drop`.
        unsafe { bindings::rnf_local_bh_disable() };
        BhDisabled { _p: PhantomData }
    }
}

impl Drop for BhDisabled {
    fn drop(&mut self) {
        // SAFETY: `new` disabled what this enables.
        unsafe { bindings::rnf_local_bh_enable() };
    }
}

/// An owned `T`, or nothing, behind an RCU-protected pointer.
///
/// The all-zero bit pattern is a valid empty `RcuBox` (a null pointer), so
/// it may live in zeroed memory such as a namespace's `net_generic` area.
///
/// # Invariants
///
/// `ptr` is null or comes from `KBox::into_raw` and is owned by this value;
/// a value unpublished by `replace` or `take` is freed only after a grace
/// period.
pub struct RcuBox<T> {
    ptr: AtomicPtr<T>,
}

// SAFETY: readers on any CPU get `&T` (needs `T: Sync`); the owned value
// may be dropped on another thread (needs `T: Send`).
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for RcuBox<T> {}

impl<T> RcuBox<T> {
    /// An empty pointer.
    pub const fn new() -> Self {
        RcuBox { ptr: AtomicPtr::new(core::ptr::null_mut()) }
    }

    /// The current value (`rcu_dereference`), valid while `guard` lives.
    pub fn read<'a>(&'a self, _guard: &'a RcuReadGuard) -> Option<&'a T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: non-null means a live `KBox` value (invariant); it is freed
        // only after a grace period, which cannot end while `_guard` holds
        // the read-side critical section the returned borrow is tied to.
        unsafe { p.as_ref() }
    }

    /// Publishes `new` (`rcu_assign_pointer`), waits for every reader that
    /// may still see the old value (`synchronize_rcu`, sleeps: process
    /// context only, never under a spinlock or RCU read lock), and returns
    /// the old value to its owner. Writers must be serialised by the caller
    /// (a mutex) if they also read the old value before replacing it.
    pub fn replace(&self, new: Option<KBox<T>>) -> Option<KBox<T>> {
        let raw = new.map_or(core::ptr::null_mut(), KBox::into_raw);
        let old = self.ptr.swap(raw, Ordering::AcqRel);
        if old.is_null() {
            return None;
        }
        super::synchronize_rcu();
        // SAFETY: `old` was owned by this value (invariant) and is no longer
        // reachable: new readers see `raw`, and the grace period above has
        // ended every read-side section that could have loaded `old`.
        Some(unsafe { KBox::from_raw(old) })
    }

    /// Unpublishes and returns the value after a grace period (see `replace`).
    pub fn take(&self) -> Option<KBox<T>> {
        self.replace(None)
    }
}

impl<T> Default for RcuBox<T> {
    fn default() -> Self {
        RcuBox::new()
    }
}

impl<T> Drop for RcuBox<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: `&mut self` means no reader holds a borrow tied to this
            // value; `p` is owned (invariant). Owners that published the
            // value to hooks `take` it (with its grace period) before drop.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}
