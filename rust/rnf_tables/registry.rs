// SPDX-License-Identifier: GPL-2.0
//! Tables other modules register (`rnf_tables_register_table`, declared in
//! rust/glue/rnf_tables_api.h): `nat` from rnf_tables_nat, `mangle` from
//! rnf_tables_mangle and `raw` from rnf_tables_raw, as iptable_nat.c,
//! iptable_mangle.c and iptable_raw.c register their tables with x_tables.
//!
//! A registered table gets an id (its index in every namespace's slots,
//! see `netns.rs`, where it comes into a namespace with the first socket
//! option naming it) and pernet operations of its own that free it (rules
//! loaded or not) when the namespace goes or the table is unregistered. The id lets the owner's hooks reach the table without
//! a name lookup (`rnf_tables_walk`); the socket options find it by name.

use core::sync::atomic::{AtomicU8, Ordering};

use kernel::prelude::*;

use crate::glue::hook::Net;
use crate::glue::pernet::{Pernet, PernetHandler};
use crate::netns::{self, Fam, FILTER, IPV4, IPV6, MAX_TABLES};
use crate::xt::{self, TableDef};

/// The tables a module may register: those the engine has a definition
/// (name, hooks, and the targets bound to them) for.
static KNOWN: [&TableDef; 6] =
    [&xt::NAT_IPV4, &xt::NAT_IPV6, &xt::MANGLE_IPV4, &xt::MANGLE_IPV6, &xt::RAW_IPV4, &xt::RAW_IPV6];

/// The registered tables' pernet operations, by family (IPv4, IPv6) and id
/// (`None` for `filter` and free ids). Kept in [`crate::Shared`] under a
/// mutex of its own, which registration and unregistration hold while the
/// namespace core runs the table's pernet operations (whose exit takes
/// [`crate::Shared::lock`]).
pub(crate) type Registered = [[Option<Pernet>; MAX_TABLES]; 2];

/// What each id holds: 0 free, `i + 1` for `KNOWN[i]`. Set before an id's
/// pernet operations are registered, cleared after they are gone: what
/// their callbacks read (they cannot take the registry's mutex, which their
/// registration holds).
static DEFS: [[AtomicU8; MAX_TABLES]; 2] = [const { [const { AtomicU8::new(0) }; MAX_TABLES] }; 2];

fn fam_index(fam: &Fam) -> usize {
    usize::from(fam.ipv6)
}

/// The definition registered at `id` of `fam`.
fn def_at(fam: &Fam, id: usize) -> Option<&'static TableDef> {
    let k = DEFS.get(fam_index(fam))?.get(id)?.load(Ordering::Acquire);
    KNOWN.get(usize::from(k).checked_sub(1)?).copied()
}

/// Creates and removes registered table `ID` of the family (IPv6 if `V6`)
/// in each namespace.
struct TableNet<const V6: bool, const ID: usize>;

impl<const V6: bool, const ID: usize> TableNet<V6, ID> {
    fn fam() -> &'static Fam {
        if V6 {
            &IPV6
        } else {
            &IPV4
        }
    }
}

impl<const V6: bool, const ID: usize> PernetHandler for TableNet<V6, ID> {
    fn init(_net: Net) -> Result {
        // Nothing yet: the table comes into a namespace with the first
        // socket option that names it (`netns::instantiate`).
        Ok(())
    }

    fn exit(net: Net) {
        let Some(shared) = crate::shared() else { return };
        let _guard = shared.lock.lock();
        let t = netns::tables(net);
        // Waits for a grace period: no walk still reads the table.
        drop(t.slots(Self::fam())[ID].take());
        t.stamp(Self::fam(), ID, false);
    }
}

/// The registered table of `fam` named `name`: its id and definition.
/// Read under [`crate::Shared::lock`], the answer holds until it is
/// released: unregistration clears the definition under that lock.
pub(crate) fn find(fam: &Fam, name: &[u8]) -> Option<(usize, &'static TableDef)> {
    (0..MAX_TABLES).find_map(|id| def_at(fam, id).filter(|d| d.name.as_bytes() == name).map(|d| (id, d)))
}

/// Registers the pernet operations of table `id` of the family (IPv6 if
/// `v6`): their exit frees the table in every namespace.
fn register_pernet(v6: bool, id: usize) -> Result<Pernet> {
    match (v6, id) {
        (false, 1) => Pernet::register::<TableNet<false, 1>>(),
        (false, 2) => Pernet::register::<TableNet<false, 2>>(),
        (false, 3) => Pernet::register::<TableNet<false, 3>>(),
        (true, 1) => Pernet::register::<TableNet<true, 1>>(),
        (true, 2) => Pernet::register::<TableNet<true, 2>>(),
        (true, 3) => Pernet::register::<TableNet<true, 3>>(),
        _ => Err(EINVAL),
    }
}
const _: () = assert!(MAX_TABLES == 4, "register_pernet has an arm per registrable id");

/// `rnf_tables_register_table`: creates table `name` of family `pf`
/// (`NFPROTO_*`) in every namespace and returns its id. Errors: EINVAL
/// (unknown family, `valid_hooks` not the table's), ENOENT (a table the
/// engine has no definition for), EEXIST (already registered, or
/// `filter`), ENOSPC (no free id), ENODEV, and the namespaces' set-up's
/// (ENOMEM).
pub(crate) fn register(pf: u8, name: &[u8], valid_hooks: u32) -> Result<usize> {
    let fam = netns::fam_of(pf).ok_or(EINVAL)?;
    if name == fam.filter.name.as_bytes() {
        return Err(EEXIST);
    }
    let (k, def) = KNOWN
        .iter()
        .enumerate()
        .find(|(_, d)| d.family == fam.filter.family && d.name.as_bytes() == name)
        .ok_or(ENOENT)?;
    if valid_hooks != def.valid_hooks {
        return Err(EINVAL);
    }
    let shared = crate::shared().ok_or(ENODEV)?;
    let mut reg = shared.registry.lock();
    let f = fam_index(fam);
    if (0..MAX_TABLES).any(|id| def_at(fam, id).is_some_and(|d| core::ptr::eq(d, *def))) {
        return Err(EEXIST);
    }
    let id = (0..MAX_TABLES).find(|&id| id != FILTER && reg[f][id].is_none()).ok_or(ENOSPC)?;
    DEFS[f][id].store(k as u8 + 1, Ordering::Release);
    match register_pernet(fam.ipv6, id) {
        Ok(p) => {
            reg[f][id] = Some(p);
            pr_info!("{}: {} table registered (id {})\n", fam.tool, def.name, id);
            Ok(id)
        }
        Err(e) => {
            DEFS[f][id].store(0, Ordering::Release);
            Err(e)
        }
    }
}

/// `rnf_tables_unregister_table`: removes table `id` of family `pf` from
/// every namespace (waiting for the walks that still read it). Unknown
/// families and ids are ignored.
pub(crate) fn unregister(pf: u8, id: i32) {
    let Some(fam) = netns::fam_of(pf) else { return };
    let Some(id) = usize::try_from(id).ok().filter(|&i| i != FILTER && i < MAX_TABLES) else { return };
    let Some(shared) = crate::shared() else { return };
    let mut reg = shared.registry.lock();
    let f = fam_index(fam);
    if let Some(p) = reg[f][id].take() {
        let name = def_at(fam, id).map_or("?", |d| d.name);
        // First no socket option may bring the table into a namespace any
        // more (`netns::instantiate` looks it up under the same lock) ...
        {
            let _guard = shared.lock.lock();
            DEFS[f][id].store(0, Ordering::Release);
        }
        // ... then unregistering the pernet operations runs their exit in
        // every namespace: the tables are freed there.
        drop(p);
        pr_info!("{}: {} table unregistered\n", fam.tool, name);
    }
}

/// Unregisters every table still registered (module exit; none is, as
/// their owners depend on this module and are gone).
pub(crate) fn unregister_all(reg: &mut Registered) {
    for (f, slots) in reg.iter_mut().enumerate() {
        for (id, p) in slots.iter_mut().enumerate() {
            drop(p.take());
            if let Some(d) = DEFS.get(f).and_then(|x| x.get(id)) {
                d.store(0, Ordering::Release);
            }
        }
    }
}
