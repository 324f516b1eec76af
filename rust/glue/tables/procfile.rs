// SPDX-License-Identifier: GPL-2.0
//! Directories under a namespace's `/proc/net` and files in them that show
//! a value they own (`proc_mkdir`, `proc_create_single_data`): the
//! `hashlimit` match's `/proc/net/ipt_hashlimit/NAME` files.
//!
//! C header: [include/linux/proc_fs.h](srctree/include/linux/proc_fs.h)

use core::ffi::{c_int, c_void, CStr};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KBox, KVec};
use kernel::error::{code::EBUSY, code::ENOENT, code::ENOMEM, Result};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

use crate::glue::bindings;
use crate::glue::kvec;
use crate::glue::hook::Net;
use crate::glue::proc::SeqFile;

/// What a [`ProcDir`] and the files in it share: the directory's entry
/// and how many files it holds. Reference counted, so that a file never
/// outlives the count it takes part in, whatever the order of drops.
///
/// # Invariants
///
/// `raw` is the live entry [`ProcDir::make`] created; it is removed only
/// by [`ProcDir::remove`], which first sets [`REMOVED`] in `files`, which
/// it can do only while the count is zero. So while a file counts in
/// `files`, `raw` is a live directory.
struct DirShared {
    raw: *mut bindings::proc_dir_entry,
    /// The files created in the directory and not yet removed, with
    /// [`REMOVED`] once the directory is gone.
    files: AtomicUsize,
}

/// [`DirShared::files`]' flag: the directory is removed; no file may be
/// created in it.
const REMOVED: usize = 1 << (usize::BITS - 1);

// SAFETY: the raw entry is only used to create and remove entries in it,
// which the proc core serialises; the count is atomic.
unsafe impl Send for DirShared {}
// SAFETY: as above.
unsafe impl Sync for DirShared {}

/// A directory under a namespace's `/proc/net` that files ([`ProcFile`])
/// are created in, or nothing. All-zero is a valid empty value (it may
/// live in a namespace's `net_generic` area).
///
/// The directory is removed only when no file is left in it: a file that
/// outlived its namespace's rules (a bug) keeps the directory, leaked,
/// rather than being freed under the file (the `/proc/net` tree it was
/// in goes with the namespace, the directory's own entry stays valid).
///
/// # Invariants
///
/// `shared` is null or comes from `Arc::into_raw` of the [`DirShared`] of
/// the directory [`ProcDir::make`] created, whose reference it owns.
#[derive(Default)]
pub struct ProcDir {
    shared: AtomicPtr<DirShared>,
}

impl ProcDir {
    /// Creates `/proc/net/<name>` in `net` (`proc_mkdir`, mode 0555).
    /// Process context. A directory is made once: EBUSY when this one was
    /// made already (removed or not). Errors: ENOMEM, EBUSY.
    pub fn make(&self, net: Net, name: &'static CStr) -> Result {
        if !self.shared.load(Ordering::Acquire).is_null() {
            return Err(EBUSY);
        }
        // SAFETY: `net` is live (type invariant of `Net`); `name` is a
        // NUL-terminated static string.
        let p = unsafe { bindings::rnf_proc_mkdir_net(net.as_ptr(), name.as_ptr()) };
        if p.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `p` is the entry just created; no file yet.
        let shared = match Arc::new(DirShared { raw: p, files: AtomicUsize::new(0) }, GFP_KERNEL) {
            Ok(s) => s,
            Err(e) => {
                // SAFETY: the directory was just made in `net`'s live
                // /proc/net, with nothing in it.
                unsafe { bindings::remove_proc_entry(name.as_ptr(), bindings::rnf_net_proc_dir(net.as_ptr())) };
                return Err(e.into());
            }
        };
        let raw = Arc::into_raw(shared).cast_mut();
        if self.shared.compare_exchange(core::ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire).is_err() {
            // Made by a concurrent call (a caller's bug): this one goes.
            // SAFETY: `raw` is the reference just made, not shared.
            drop(unsafe { Arc::from_raw(raw) });
            // SAFETY: as above; the name exists once, so `proc_mkdir`
            // failed if the other call made it first: this removes the
            // directory only if it is the one just made.
            unsafe { bindings::remove_proc_entry(name.as_ptr(), bindings::rnf_net_proc_dir(net.as_ptr())) };
            return Err(EBUSY);
        }
        Ok(())
    }

    /// Removes the directory made by [`ProcDir::make`] (if any) from `net`,
    /// when no file is left in it. Otherwise (a file outlives the
    /// namespace's rules, a bug) logs it and keeps the directory, so that
    /// the file can still be removed later. Process context.
    pub fn remove(&self, net: Net, name: &'static CStr) {
        let p = self.shared.load(Ordering::Acquire);
        if p.is_null() {
            return;
        }
        // SAFETY: a non-null `shared` is a reference this value owns until
        // it is dropped, and `&self` keeps it from being dropped.
        let shared = unsafe { &*p };
        match shared.files.compare_exchange(0, REMOVED, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: the directory exists in `net`'s live /proc/net (it
            // was made there, and REMOVED was not set before, so it was
            // not removed); no file is in it and none can be created now.
            Ok(_) => unsafe { bindings::remove_proc_entry(name.as_ptr(), bindings::rnf_net_proc_dir(net.as_ptr())) },
            Err(n) if n & REMOVED != 0 => {}
            Err(n) => pr_err!("/proc/net/{} still has {} files: kept\n", name.to_str().unwrap_or("?"), n),
        }
    }

    /// A new reference to the shared state, counting one more file, or
    /// `None` when the directory is not made or is removed.
    fn file_ref(&self) -> Option<Arc<DirShared>> {
        let p = self.shared.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: as in `remove`: valid while `&self` is.
        let shared = unsafe { &*p };
        shared
            .files
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| if n & REMOVED != 0 { None } else { n.checked_add(1) })
            .ok()?;
        // SAFETY: `p` comes from `Arc::into_raw` and the reference this
        // value owns keeps the count above zero while `&self` lives.
        Some(unsafe { ArcBorrow::from_raw(p) }.into())
    }
}

impl Drop for ProcDir {
    fn drop(&mut self) {
        let p = core::mem::replace(self.shared.get_mut(), core::ptr::null_mut());
        if !p.is_null() {
            // SAFETY: the reference this value owned (type invariant),
            // given up once. The directory itself is `remove`'s business.
            drop(unsafe { Arc::from_raw(p) });
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
/// The entry `name` exists in `dir.raw` with `data`'s address as its data
/// until `drop` removes it, and counts in `dir.files` (so the directory is
/// live) until then; `name` is NUL-terminated.
pub struct ProcFile<T: DataShow> {
    dir: Arc<DirShared>,
    name: KVec<u8>,
    data: KBox<T>,
}

impl<T: DataShow> ProcFile<T> {
    /// Creates `<dir>/<name>` (mode 0444) showing `data`. Process context.
    /// Errors: ENOENT (the directory is not made, or removed), ENOMEM
    /// (also when the name exists already).
    pub fn create(dir: &ProcDir, name: &[u8], data: KBox<T>) -> Result<Self> {
        let mut n = KVec::with_capacity(name.len().saturating_add(1), GFP_KERNEL)?;
        kvec::extend_from_slice(&mut n, name, GFP_KERNEL)?;
        kvec::push(&mut n, 0, GFP_KERNEL)?;
        // From here on the file counts in the directory.
        let shared = dir.file_ref().ok_or(ENOENT)?;
        let ptr: *const T = &*data;
        // SAFETY: `n` is NUL-terminated; the directory is live while this
        // file counts in it (`DirShared`'s invariant); the callback matches
        // `show`'s type; the data pointer stays valid until `drop` removes
        // the entry.
        let p = unsafe {
            bindings::rnf_proc_create_data(n.as_ptr().cast(), shared.raw, Some(show_trampoline::<T>), ptr.cast_mut().cast())
        };
        if p.is_null() {
            shared.files.fetch_sub(1, Ordering::AcqRel);
            return Err(ENOMEM);
        }
        // INVARIANT: the entry was just created with `data`'s address, and
        // counted.
        Ok(ProcFile { dir: shared, name: n, data })
    }

    /// The value the file shows.
    pub fn data(&self) -> &T {
        &self.data
    }
}

impl<T: DataShow> Drop for ProcFile<T> {
    fn drop(&mut self) {
        // SAFETY: the entry exists in the live directory (invariant);
        // `remove_proc_entry` waits for readers, so `data` is no longer
        // read when it is dropped after this.
        unsafe { bindings::remove_proc_entry(self.name.as_ptr().cast(), self.dir.raw) }
        // The entry is gone: the directory may go now.
        self.dir.files.fetch_sub(1, Ordering::AcqRel);
    }
}
