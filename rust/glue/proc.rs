// SPDX-License-Identifier: GPL-2.0
//! Per-namespace `/proc/net` files shown in one go (`proc_create_net_single`).
//!
//! C header: [include/linux/proc_fs.h](srctree/include/linux/proc_fs.h)

use core::ffi::{c_int, c_void, CStr};
use core::marker::PhantomData;

use kernel::error::{code::ENOMEM, Result};

use super::bindings;
use super::hook::Net;

/// The output side of a `seq_file` being filled by a show callback.
pub struct SeqFile<'a> {
    raw: *mut bindings::seq_file,
    _p: PhantomData<&'a mut bindings::seq_file>,
}

impl SeqFile<'_> {
    /// The seq_file `raw`, for a show callback that C calls (one that
    /// [`create`] did not set up).
    ///
    /// # Safety
    ///
    /// `raw` must be the live seq_file of a show call in progress, used
    /// only for the lifetime the caller gives the value, within that call.
    pub unsafe fn from_raw(raw: *mut bindings::seq_file) -> Self {
        SeqFile { raw, _p: PhantomData }
    }

    /// Appends `bytes`. If the buffer overflows, the seq_file core retries
    /// the whole show with a bigger one, so nothing is lost.
    pub fn write(&mut self, bytes: &[u8]) {
        // SAFETY: `raw` is the live seq_file of the current show call and
        // `bytes` is valid for `bytes.len()` bytes.
        unsafe { bindings::seq_write(self.raw, bytes.as_ptr().cast(), bytes.len()) };
    }
}

/// The contents of a per-namespace proc file.
pub trait SeqShow {
    /// Writes the whole file for namespace `net`. Process context; may take
    /// BH spinlocks but must not sleep while holding them.
    fn show(net: Net, seq: &mut SeqFile<'_>);
}

unsafe extern "C" fn show_trampoline<S: SeqShow>(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: the file was created by `proc_create_net_single`, so the
    // seq_file's private data is a namespace held for the open file's life.
    let net = unsafe { Net::from_raw(bindings::rnf_seq_net(m)) };
    S::show(net, &mut SeqFile { raw: m, _p: PhantomData });
    0
}

/// Creates `/proc/net/<name>` in `net`, shown by `S`, with `mode` (e.g. 0o444).
pub fn create<S: SeqShow>(net: Net, name: &'static CStr, mode: u16) -> Result {
    // SAFETY: `name` is a NUL-terminated static string; the parent is the
    // namespace's live /proc/net directory; the callback matches `show`'s type.
    let p = unsafe {
        bindings::proc_create_net_single(
            name.as_ptr(),
            mode,
            bindings::rnf_net_proc_dir(net.as_ptr()),
            Some(show_trampoline::<S>),
            core::ptr::null_mut(),
        )
    };
    if p.is_null() {
        return Err(ENOMEM);
    }
    Ok(())
}

/// Removes `/proc/net/<name>` from `net`; waits for readers to finish.
pub fn remove(net: Net, name: &'static CStr) {
    // SAFETY: as in `create`; removing an absent entry only logs a warning,
    // and callers remove only what they created.
    unsafe { bindings::remove_proc_entry(name.as_ptr(), bindings::rnf_net_proc_dir(net.as_ptr())) }
}
