// SPDX-License-Identifier: GPL-2.0
//! Socket options handled by a module (`nf_register_sockopt`), and the user
//! memory they read and write.
//!
//! C header: [include/linux/netfilter.h](srctree/include/linux/netfilter.h),
//! [include/linux/sockptr.h](srctree/include/linux/sockptr.h)
//!
//! A module describes its options by a type implementing [`SockoptHandler`];
//! generic `extern "C"` trampolines adapt `nf_sockopt_ops.set/get` to it.
//! The owner module is pinned by the socket core (`try_module_get`) for the
//! duration of each call, so a call never races with module exit.

use core::ffi::{c_int, c_uint, c_void};

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::error::{code::EFAULT, to_result, Result};
use kernel::types::Opaque;
use kernel::ThisModule;

use super::bindings;
use super::hook::Net;

/// The socket a `setsockopt`/`getsockopt` call came in on.
pub struct Caller {
    sk: *mut bindings::sock,
}

impl Caller {
    /// The socket's network namespace (`sock_net`).
    pub fn net(&self) -> Net {
        // SAFETY: the socket is live for the call, and so is its namespace.
        unsafe { Net::from_raw(bindings::rnf_sock_net(self.sk)) }
    }

    /// Whether the calling task has `CAP_NET_ADMIN` in the user namespace
    /// that owns the socket's network namespace (ip_tables.c's check).
    pub fn net_admin(&self) -> bool {
        // SAFETY: as in `net`.
        unsafe { bindings::rnf_net_admin_capable(self.net().as_ptr()) }
    }
}

/// The `setsockopt` argument: user memory, or kernel memory when the call
/// comes from inside the kernel (`sockptr_t`).
pub struct SetArg {
    raw: bindings::sockptr_t,
}

impl SetArg {
    /// Copies `dst.len()` bytes from `offset` into `dst`; `EFAULT` if any
    /// byte is not readable. The caller checks `offset + dst.len()` against
    /// the option length first, as ip_tables.c does.
    pub fn read(&self, offset: usize, dst: &mut [u8]) -> Result {
        // SAFETY: `dst` is valid for `dst.len()` bytes; the helper checks
        // user access (`copy_from_user`) or copies from kernel memory the
        // kernel caller vouched for with the length it passed.
        to_result(unsafe {
            bindings::rnf_copy_from_sockptr(dst.as_mut_ptr().cast(), &self.raw, offset as _, dst.len() as _)
        })
    }
}

/// A user-space address (`void __user *`): every access is checked by
/// `copy_from_user`/`copy_to_user`, so any value is safe to hold.
#[derive(Clone, Copy)]
pub struct UserPtr {
    addr: usize,
}

impl UserPtr {
    /// A user address given as an integer (e.g. `ipt_replace.counters`).
    pub fn from_addr(addr: u64) -> UserPtr {
        UserPtr { addr: addr as usize }
    }

    /// Copies `dst.len()` bytes from `self + offset`; `EFAULT` on a bad address.
    pub fn read(self, offset: usize, dst: &mut [u8]) -> Result {
        let src = self.addr.checked_add(offset).ok_or(EFAULT)?;
        // SAFETY: `dst` is valid for its length; the source is checked by
        // `copy_from_user`.
        to_result(unsafe { bindings::rnf_copy_from_user(dst.as_mut_ptr().cast(), src as *const c_void, dst.len() as _) })
    }

    /// Copies `src` to `self + offset`; `EFAULT` on a bad address.
    pub fn write(self, offset: usize, src: &[u8]) -> Result {
        let dst = self.addr.checked_add(offset).ok_or(EFAULT)?;
        // SAFETY: `src` is valid for its length; the destination is checked
        // by `copy_to_user`.
        to_result(unsafe { bindings::rnf_copy_to_user(dst as *mut c_void, src.as_ptr().cast(), src.len() as _) })
    }
}

/// The socket options of one family.
pub trait SockoptHandler {
    /// `setsockopt(cmd)` with `len` bytes at `arg`. Process context.
    fn set(caller: &Caller, cmd: i32, arg: &SetArg, len: u32) -> Result;
    /// `getsockopt(cmd)` with a `*len`-byte buffer at `user`; may shorten
    /// `*len`. Returns the call's result (0, or e.g. a revision number).
    /// Process context.
    fn get(caller: &Caller, cmd: i32, user: UserPtr, len: &mut i32) -> Result<i32>;
}

unsafe extern "C" fn set_trampoline<H: SockoptHandler>(
    sk: *mut bindings::sock,
    optval: c_int,
    arg: bindings::sockptr_t,
    len: c_uint,
) -> c_int {
    let caller = Caller { sk };
    match H::set(&caller, optval, &SetArg { raw: arg }, len) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn get_trampoline<H: SockoptHandler>(
    sk: *mut bindings::sock,
    optval: c_int,
    user: *mut c_void,
    len: *mut c_int,
) -> c_int {
    let caller = Caller { sk };
    // SAFETY: the socket core passes a valid pointer to the option length.
    let len = unsafe { &mut *len };
    match H::get(&caller, optval, UserPtr { addr: user as usize }, len) {
        Ok(v) => v,
        Err(e) => e.to_errno(),
    }
}

/// Option number ranges of one family: `set` and `get` are half-open
/// (`[min, max)`, as `nf_sockopt_ops` takes them).
pub struct SockoptRange {
    /// `PF_INET`, `PF_INET6`.
    pub pf: u8,
    /// `setsockopt` numbers handled.
    pub set: core::ops::Range<i32>,
    /// `getsockopt` numbers handled.
    pub get: core::ops::Range<i32>,
}

/// A registered `nf_sockopt_ops`; unregistered when dropped.
pub struct Sockopt {
    ops: KBox<Opaque<bindings::nf_sockopt_ops>>,
}

// SAFETY: after registration the ops belong to netfilter until
// unregistration; we never touch them in between.
unsafe impl Sync for Sockopt {}
// SAFETY: as above.
unsafe impl Send for Sockopt {}

impl Sockopt {
    /// Registers `H` for `range`, owned by `module`. `EBUSY` if another
    /// module (e.g. the kernel's ip_tables) already handles an overlapping
    /// range of the family.
    pub fn register<H: SockoptHandler>(module: &'static ThisModule, range: SockoptRange) -> Result<Sockopt> {
        // SAFETY: all-zero is a valid `nf_sockopt_ops` (empty list head, no
        // callbacks, no owner).
        let mut raw: bindings::nf_sockopt_ops = unsafe { core::mem::zeroed() };
        raw.pf = range.pf;
        raw.set_optmin = range.set.start;
        raw.set_optmax = range.set.end;
        raw.set = Some(set_trampoline::<H>);
        raw.get_optmin = range.get.start;
        raw.get_optmax = range.get.end;
        raw.get = Some(get_trampoline::<H>);
        raw.owner = module.as_ptr().cast();
        let ops = KBox::new(Opaque::new(raw), GFP_KERNEL)?;
        // SAFETY: `ops` is heap memory that stays put until `drop`, which
        // unregisters it first.
        to_result(unsafe { bindings::nf_register_sockopt(ops.get()) })?;
        Ok(Sockopt { ops })
    }
}

impl Drop for Sockopt {
    fn drop(&mut self) {
        // SAFETY: registered in `register` and not yet unregistered.
        unsafe { bindings::nf_unregister_sockopt(self.ops.get()) }
    }
}
