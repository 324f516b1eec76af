// SPDX-License-Identifier: GPL-2.0
//! Per-network-namespace set-up and tear-down (`register_pernet_subsys`).
//!
//! C header: [include/net/net_namespace.h](srctree/include/net/net_namespace.h)

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_uint};
use core::marker::PhantomData;

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::error::{to_result, Result};
use kernel::types::Opaque;

use super::bindings;
use super::hook::Net;

/// What a module does when a namespace appears (and at registration, for
/// every existing one) and when it goes away.
pub trait PernetHandler {
    /// Sets the namespace up. Process context, may sleep.
    fn init(net: Net) -> Result;
    /// Tears it down. Process context, may sleep.
    fn exit(net: Net);
}

unsafe extern "C" fn init_trampoline<P: PernetHandler>(net: *mut bindings::net) -> c_int {
    // SAFETY: the namespace core passes a live namespace.
    let net = unsafe { Net::from_raw(net) };
    match P::init(net) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn exit_trampoline<P: PernetHandler>(net: *mut bindings::net) {
    // SAFETY: the namespace core passes a namespace that is live until we return.
    P::exit(unsafe { Net::from_raw(net) })
}

/// A registered `pernet_operations`; unregistered (running `exit` for every
/// namespace) when dropped.
pub struct Pernet {
    ops: KBox<Opaque<bindings::pernet_operations>>,
}

// SAFETY: after registration the ops are owned by the namespace core until
// unregistration; we never touch them in between.
unsafe impl Sync for Pernet {}
// SAFETY: as above.
unsafe impl Send for Pernet {}

impl Pernet {
    /// Registers `P` and runs `P::init` for every existing namespace.
    pub fn register<P: PernetHandler>() -> Result<Pernet> {
        // SAFETY: all-zero is a valid `pernet_operations` (empty list head,
        // no callbacks, no id, size 0).
        let mut raw: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        raw.init = Some(init_trampoline::<P>);
        raw.exit = Some(exit_trampoline::<P>);
        let ops = KBox::new(Opaque::new(raw), GFP_KERNEL)?;
        // SAFETY: `ops` is heap memory that stays put until `drop`, which
        // unregisters it first.
        to_result(unsafe { bindings::register_pernet_subsys(ops.get()) })?;
        Ok(Pernet { ops })
    }

    /// Registers `P` with its per-namespace data and runs `P::init` for
    /// every existing namespace.
    pub fn register_data<P: PernetData>() -> Result<Pernet> {
        const { assert!(core::mem::align_of::<P::Data>() <= 8, "net_generic areas are 8-byte aligned") };
        // SAFETY: all-zero is a valid `pernet_operations` (see `register`).
        let mut raw: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        raw.init = Some(data_init_trampoline::<P>);
        raw.exit = Some(data_exit_trampoline::<P>);
        raw.id = P::slot().id.get();
        raw.size = core::mem::size_of::<P::Data>();
        let ops = KBox::new(Opaque::new(raw), GFP_KERNEL)?;
        // SAFETY: as in `register`; `id` is a static that outlives it.
        to_result(unsafe { bindings::register_pernet_subsys(ops.get()) })?;
        Ok(Pernet { ops })
    }
}

/// Per-namespace data of type `T`, kept by the namespace core in each
/// namespace's `net_generic` area (`pernet_operations.id` and `.size`).
///
/// A `static` of this type names the data; [`Pernet::register_data`] assigns
/// its id and constructs a `T::default()` in every namespace before
/// [`PernetData::init`] and drops it after [`PernetData::exit`].
pub struct NetGeneric<T> {
    id: UnsafeCell<c_uint>,
    _t: PhantomData<T>,
}

// SAFETY: `id` is written once by `register_pernet_subsys`, before any
// callback or `get` can run; `&T` is handed to any CPU (needs `T: Sync`).
unsafe impl<T: Sync> Sync for NetGeneric<T> {}

impl<T> NetGeneric<T> {
    /// A not yet registered data slot.
    pub const fn new() -> Self {
        NetGeneric { id: UnsafeCell::new(0), _t: PhantomData }
    }

    /// The raw `net_generic` area of `net`.
    fn area(&self, net: Net) -> *mut T {
        // SAFETY: `id` was assigned at registration (the only writer).
        let id = unsafe { *self.id.get() };
        // SAFETY: `net` is live; `id` is this module's registered id.
        unsafe { bindings::rnf_net_generic(net.as_ptr(), id) }.cast()
    }

    /// The data of `net`.
    ///
    /// Sound under the rule every user follows: it is called only for a
    /// namespace whose `init` has run and whose `exit` has not (a hook of
    /// that namespace, a socket in it, a proc file of it), between
    /// `register_data` and the drop of the returned [`Pernet`].
    pub fn get(&self, net: Net) -> &T {
        // SAFETY: by the rule above the area holds a `T` written by the init
        // trampoline and not yet dropped by the exit trampoline, which runs
        // only once nothing of the namespace can call here.
        unsafe { &*self.area(net) }
    }

    /// The data of `net`, or `None` if the namespace's `init` has not run
    /// yet (its `net_generic` pointer for this id is still NULL: the core
    /// allocates and assigns it right before calling `init`).
    ///
    /// For callers from other modules' hooks, which are registered in a new
    /// namespace before this module's set-up reaches it. Otherwise the rule
    /// of [`NetGeneric::get`] applies: the namespace is live and its `exit`
    /// has not run (a namespace's devices, hence its packets, are gone
    /// before any of its pernet `exit`s runs).
    pub fn try_get(&self, net: Net) -> Option<&T> {
        let area = self.area(net);
        // SAFETY: non-null means the core allocated the area (zeroed) and is
        // about to run, or has run, the init trampoline, which writes a `T`
        // before the namespace's devices exist; no packet of the namespace
        // can reach a caller before that. By the rule above its exit has not
        // dropped the value.
        unsafe { area.as_ref() }
    }
}

/// A [`PernetHandler`] with per-namespace data.
pub trait PernetData {
    /// The data; all of it is built by `Default` before `init`.
    type Data: Default + Send + Sync + 'static;
    /// The static naming the data.
    fn slot() -> &'static NetGeneric<Self::Data>;
    /// Sets the namespace up (process context, may sleep).
    fn init(net: Net, data: &Self::Data) -> Result;
    /// Tears it down; `data` is dropped right after.
    fn exit(net: Net, data: &Self::Data);
}

unsafe extern "C" fn data_init_trampoline<P: PernetData>(net: *mut bindings::net) -> c_int {
    // SAFETY: the namespace core passes a live namespace.
    let net = unsafe { Net::from_raw(net) };
    let area = P::slot().area(net);
    // SAFETY: the core allocated `size_of::<P::Data>()` zeroed bytes for this
    // id, at least 8-byte aligned (checked in `register_data`); nothing
    // else uses them yet.
    unsafe { area.write(P::Data::default()) };
    // SAFETY: just initialised.
    let data = unsafe { &*area };
    match P::init(net, data) {
        Ok(()) => 0,
        Err(e) => {
            // SAFETY: `exit` is not called after a failed `init`: drop the
            // value here; the core frees the area.
            unsafe { core::ptr::drop_in_place(area) };
            e.to_errno()
        }
    }
}

unsafe extern "C" fn data_exit_trampoline<P: PernetData>(net: *mut bindings::net) {
    // SAFETY: the namespace core passes a namespace that is live until we return.
    let net = unsafe { Net::from_raw(net) };
    let area = P::slot().area(net);
    // SAFETY: `init` succeeded for this namespace, so the area holds a value.
    P::exit(net, unsafe { &*area });
    // SAFETY: nothing of the namespace can reach the data any more (its
    // hooks, sockets and proc files are gone); dropped exactly once.
    unsafe { core::ptr::drop_in_place(area) };
}

impl Drop for Pernet {
    fn drop(&mut self) {
        // SAFETY: registered in `register` and not yet unregistered.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) }
    }
}
