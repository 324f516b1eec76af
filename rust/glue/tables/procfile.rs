// SPDX-License-Identifier: GPL-2.0
//! Directories under a namespace's `/proc/net` and files in them that show
//! a value they own (`proc_mkdir`, `proc_create_single_data`): the
//! `hashlimit` match's `/proc/net/ipt_hashlimit/NAME` files.
//!
//! C header: [include/linux/proc_fs.h](srctree/include/linux/proc_fs.h)

use core::ffi::{c_int, c_void, CStr};
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KBox, KVec};
use kernel::error::{code::ENOENT, code::ENOMEM, Result};

use crate::glue::bindings;
use crate::glue::kvec;
use crate::glue::hook::Net;
use crate::glue::proc::SeqFile;

/// A directory under a namespace's `/proc/net`, or nothing. All-zero is
/// a valid empty value (it may live in a namespace's `net_generic` area).
///
/// # Invariants
///
/// `raw` is null or the live entry [`ProcDir::make`] created.
#[derive(Default)]
pub struct ProcDir {
    raw: AtomicPtr<bindings::proc_dir_entry>,
}

impl ProcDir {
    /// Creates `/proc/net/<name>` in `net` (`proc_mkdir`, mode 0555).
    /// Process context. Errors: ENOMEM.
    pub fn make(&self, net: Net, name: &'static CStr) -> Result {
        // SAFETY: `net` is live (type invariant of `Net`); `name` is a
        // NUL-terminated static string.
        let p = unsafe { bindings::rnf_proc_mkdir_net(net.as_ptr(), name.as_ptr()) };
        if p.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `p` is the entry just created.
        self.raw.store(p, Ordering::Release);
        Ok(())
    }

    /// Removes the directory made by [`ProcDir::make`] (if any) from `net`.
    /// Every [`ProcFile`] created in it must have been dropped.
    pub fn remove(&self, net: Net, name: &'static CStr) {
        if !self.raw.swap(core::ptr::null_mut(), Ordering::AcqRel).is_null() {
            // SAFETY: the directory exists in `net`'s live /proc/net (it was
            // made there and not yet removed).
            unsafe { bindings::remove_proc_entry(name.as_ptr(), bindings::rnf_net_proc_dir(net.as_ptr())) }
        }
    }
}

/// What a [`ProcFile`] shows: the whole file, written in one call.
pub trait DataShow: Send + Sync {
    /// Writes the file. Process context; may take BH spinlocks.
    fn show(&self, seq: &mut SeqFile<'_>);
}

unsafe extern "C" fn show_trampoline<T: DataShow>(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: the file was created by `ProcFile::create` with the address
    // of its `KBox<T>` as data, which `single_open` put in `m->private`;
    // the box outlives the entry (removed, waiting for readers, before the
    // box is dropped).
    let data = unsafe { &*bindings::rnf_seq_private(m).cast::<T>() };
    // SAFETY: `m` is the live seq_file of this show call.
    let mut seq = unsafe { SeqFile::from_raw(m) };
    data.show(&mut seq);
    0
}

/// A file `/proc/net/<dir>/<name>` showing a `T` it owns; removed when
/// dropped.
///
/// # Invariants
///
/// The entry `name` exists in `parent` with `data`'s address as its data
/// until `drop` removes it; `name` is NUL-terminated.
pub struct ProcFile<T: DataShow> {
    parent: *mut bindings::proc_dir_entry,
    name: KVec<u8>,
    data: KBox<T>,
}

// SAFETY: the raw parent pointer is only used to remove the entry; `T` is
// `Send + Sync` (`DataShow`).
unsafe impl<T: DataShow> Send for ProcFile<T> {}
// SAFETY: as above; shared access only reads `data`.
unsafe impl<T: DataShow> Sync for ProcFile<T> {}

impl<T: DataShow> ProcFile<T> {
    /// Creates `<dir>/<name>` (mode 0444) showing `data`. Process context.
    /// Errors: ENOENT (the directory is not made), ENOMEM (also when the
    /// name exists already).
    ///
    /// # Safety
    ///
    /// The directory must stay made (no [`ProcDir::remove`]) until the
    /// returned file is dropped.
    pub unsafe fn create(dir: &ProcDir, name: &[u8], data: KBox<T>) -> Result<Self> {
        let parent = dir.raw.load(Ordering::Acquire);
        if parent.is_null() {
            return Err(ENOENT);
        }
        let mut n = KVec::with_capacity(name.len().saturating_add(1), GFP_KERNEL)?;
        kvec::extend_from_slice(&mut n, name, GFP_KERNEL)?;
        kvec::push(&mut n, 0, GFP_KERNEL)?;
        let ptr: *const T = &*data;
        // SAFETY: `n` is NUL-terminated; `parent` is live (the caller keeps
        // the directory); the callback matches `show`'s type; the data
        // pointer stays valid until `drop` removes the entry.
        let p = unsafe {
            bindings::rnf_proc_create_data(n.as_ptr().cast(), parent, Some(show_trampoline::<T>), ptr.cast_mut().cast())
        };
        if p.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: the entry was just created with `data`'s address.
        Ok(ProcFile { parent, name: n, data })
    }

    /// The value the file shows.
    pub fn data(&self) -> &T {
        &self.data
    }
}

impl<T: DataShow> Drop for ProcFile<T> {
    fn drop(&mut self) {
        // SAFETY: the entry exists in the live `parent` (invariant and the
        // contract of `create`); `remove_proc_entry` waits for readers, so
        // `data` is no longer read when it is dropped after this.
        unsafe { bindings::remove_proc_entry(self.name.as_ptr().cast(), self.parent) }
    }
}
