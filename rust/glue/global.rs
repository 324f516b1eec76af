// SPDX-License-Identifier: GPL-2.0
//! A module-global value reachable from C callbacks (hooks, pernet, proc).

use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::alloc::KBox;

/// A value set once in module init and taken back in module exit.
///
/// # Invariants
///
/// `ptr` is null or comes from `KBox::into_raw` and is owned by this value.
pub struct Global<T> {
    ptr: AtomicPtr<T>,
}

impl<T> Global<T> {
    /// An empty holder.
    pub const fn new() -> Self {
        Global { ptr: AtomicPtr::new(core::ptr::null_mut()) }
    }

    /// Publishes `v`; a previous value, if any, is returned to the caller.
    pub fn set(&self, v: KBox<T>) -> Option<KBox<T>> {
        let old = self.ptr.swap(KBox::into_raw(v), Ordering::AcqRel);
        // SAFETY: by the invariant `old` is null or an owned `KBox` pointer.
        (!old.is_null()).then(|| unsafe { KBox::from_raw(old) })
    }

    /// The published value.
    ///
    /// The `'static` borrow is sound only under the module's teardown rule,
    /// which every user documents: [`Global::take`] is called after all
    /// callbacks that can reach the value are unregistered and a grace
    /// period (or the equivalent cancel/remove wait) has passed.
    pub fn get(&self) -> Option<&'static T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: non-null means a live `KBox` value (invariant), which by
        // the teardown rule above outlives every caller of `get`.
        unsafe { p.as_ref() }
    }

    /// Unpublishes the value and hands ownership back (to drop it).
    pub fn take(&self) -> Option<KBox<T>> {
        let p = self.ptr.swap(core::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: by the invariant `p` is null or an owned `KBox` pointer.
        (!p.is_null()).then(|| unsafe { KBox::from_raw(p) })
    }
}
