// SPDX-License-Identifier: GPL-2.0
//! A spinlock taken with bottom halves disabled (`spin_lock_bh`, or
//! `spin_lock` where they are off already).
//!
//! C header: [include/linux/spinlock.h](srctree/include/linux/spinlock.h)
//!
//! Netfilter hooks run in softirq; state they share with process context
//! (proc readers, the garbage collector, module exit) must be locked with
//! softirqs disabled on the local CPU, or a hook interrupting a holder on the
//! same CPU deadlocks. The kernel crate's `SpinLock` (6.12) has no `_bh`
//! variant, hence this one.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

use kernel::alloc::{AllocError, Flags, KBox};
use kernel::types::Opaque;

use super::bindings;

/// Data of type `T` protected by a BH-disabling spinlock.
///
/// # Invariants
///
/// `lock` was initialised by `spin_lock_init` at the address it has, and the
/// value is never moved afterwards: it only exists inside the [`KBox`] that
/// [`BhSpinLock::new_boxed`] returns and is only reachable through it.
pub struct BhSpinLock<T> {
    lock: Opaque<bindings::spinlock_t>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock serialises all access to `data`, so sharing the lock
// between threads is sound when `T` may be sent between threads.
unsafe impl<T: Send> Sync for BhSpinLock<T> {}
// SAFETY: as above; nothing in the lock is tied to a thread.
unsafe impl<T: Send> Send for BhSpinLock<T> {}

impl<T> BhSpinLock<T> {
    /// Allocates the lock with `data` on the heap and initialises it in place.
    pub fn new_boxed(data: T, flags: Flags) -> Result<KBox<Self>, AllocError> {
        let b = KBox::new(BhSpinLock { lock: Opaque::uninit(), data: UnsafeCell::new(data) }, flags)?;
        // SAFETY: `b.lock` is valid memory for a `spinlock_t` in the heap
        // allocation, which does not move while the box lives.
        unsafe { bindings::rnf_spin_lock_init(b.lock.get()) };
        // INVARIANT: the lock is initialised at its final address.
        Ok(b)
    }

    /// Takes the lock with bottom halves disabled (disabling them only if
    /// they are not off already, as in a hook). Does not sleep; callable
    /// from process and softirq context.
    pub fn lock(&self) -> BhGuard<'_, T> {
        // SAFETY: by the type invariant the lock is initialised.
        let bh = unsafe { bindings::rnf_spin_lock_bh(self.lock.get()) };
        BhGuard { lock: self, bh }
    }
}

/// Proof that a [`BhSpinLock`] is held; unlocks when dropped.
pub struct BhGuard<'a, T> {
    lock: &'a BhSpinLock<T>,
    /// Whether taking the lock disabled bottom halves, to enable them again.
    bh: bool,
}

impl<T> Deref for BhGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held, so no other
        // reference to the data is live.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for BhGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only access.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for BhGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the guard was created by `lock`, so this CPU holds it,
        // with bottom halves disabled by it when `bh` says so.
        unsafe { bindings::rnf_spin_unlock_bh(self.lock.lock.get(), self.bh) };
    }
}
