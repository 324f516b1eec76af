// SPDX-License-Identifier: GPL-2.0
//! One live table: the engine's decoded [`xt::Table`] over kernel storage,
//! its [`xt::Classifier`] and its per-CPU rule counters.
//!
//! Built from a `SET_REPLACE` blob (or the initial table) entirely before it
//! is published, so a refused blob never touches the table in force.

use kernel::prelude::*;

use crate::glue::hook::Net;
use crate::glue::kvec;
use crate::glue::percpu::PerCpuCounters;
use crate::hashlimit::HtRef;
use crate::tables_glue::CtTemplate;
use crate::netns::Fam;
use crate::xt::{self, errno, ReplaceHeader, TableDef};

/// A `KVVec` as the slice storage the engine takes (`AsRef`/`AsMut`, which
/// the kernel's `Vec` of 6.12 does not implement).
pub(crate) struct KvSlice<T>(pub(crate) KVVec<T>);

impl<T> AsRef<[T]> for KvSlice<T> {
    fn as_ref(&self) -> &[T] {
        &self.0
    }
}

impl<T> AsMut<[T]> for KvSlice<T> {
    fn as_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

/// The engine's table over kernel memory: the entries blob as user space
/// sent it, one decoded rule per entry, the decoded matches.
pub(crate) type CoreTable = xt::Table<KvSlice<u8>, KvSlice<xt::Rule>, KvSlice<xt::Match>>;

/// The engine's classifier over kernel memory.
pub(crate) type CoreClassifier = xt::Classifier<KvSlice<u64>>;

/// `XT_MAX_TABLE_SIZE` (x_tables.c): the largest blob (bytes) we allocate.
pub(crate) const MAX_TABLE_BYTES: usize = 512 * 1024 * 1024;

/// A table in force in one namespace.
pub(crate) struct Instance {
    /// The engine's definition of the table (name, family, hooks).
    pub(crate) def: &'static TableDef,
    /// The decoded rules and the blob they came from.
    pub(crate) table: CoreTable,
    /// The sets that let the packet path skip rules that cannot match;
    /// `None` for a small table or when its memory could not be had (the
    /// walk is then linear, with the same verdicts and counters).
    pub(crate) classifier: Option<CoreClassifier>,
    /// (packets, bytes) per entry, per CPU.
    pub(crate) counters: PerCpuCounters,
    /// The named table of each `hashlimit` match, by slot
    /// ([`xt::Table::hashlimits`]); released with the instance.
    pub(crate) hashlimit: KVec<HtRef>,
    /// The template of each `CT` target, by slot
    /// ([`xt::Table::ct_templates`]); put with the instance.
    pub(crate) ct_tmpl: KVec<CtTemplate>,
}

fn nomem(reason: &'static str) -> xt::Error {
    xt::Error { errno: errno::ENOMEM, reason }
}

/// `n` default values in a new `KVVec`.
fn defaults<T: Default>(n: usize) -> Result<KvSlice<T>, xt::Error> {
    let mut v = KVVec::with_capacity(n, GFP_KERNEL).map_err(|_| nomem("no memory for decoded rules"))?;
    for _ in 0..n {
        kvec::push(&mut v, T::default(), GFP_KERNEL).map_err(|_| nomem("no memory for decoded rules"))?;
    }
    Ok(KvSlice(v))
}

/// Builds the classifier of `table` (process context, `GFP_KERNEL`); the
/// scratch space is freed on return. `None` when the table is small, no
/// rule constrains a classified field, or memory is short (logged).
fn classifier(def: &TableDef, table: &CoreTable) -> Option<CoreClassifier> {
    if table.num_entries() < xt::CLASSIFY_MIN_ENTRIES {
        return None;
    }
    build_classifier(table).unwrap_or_else(|e| {
        pr_warn!("{} table ({:?}): {} (errno {}): rules walked one by one\n", def.name, table.family(), e.reason, e.errno);
        None
    })
}

/// [`classifier`] without the size test and the log line. Errors: ENOMEM,
/// or the engine's (which a table it translated does not give).
fn build_classifier(table: &CoreTable) -> Result<Option<CoreClassifier>, xt::Error> {
    let mut scratch = KVVec::from_elem([0u64; 2], xt::Plan::scratch_len(table), GFP_KERNEL)
        .map_err(|_| nomem("no memory for the classifier's scratch space"))?;
    let plan = xt::Plan::new(table, &mut scratch)?;
    if plan.words() == 0 {
        return Ok(None);
    }
    let store = KVVec::from_elem(0u64, plan.words(), GFP_KERNEL).map_err(|_| nomem("no memory for the classifier"))?;
    xt::Classifier::build(table, &plan, &mut scratch, KvSlice(store)).map(Some)
}

impl Instance {
    /// Validates and decodes `blob` (the `hdr.size` bytes of entries after
    /// the header) for table `def` of family `fam` in namespace `net`
    /// (`None`: a table without `hashlimit` rules, such as an initial
    /// one), finds or makes the named tables of its `hashlimit` matches
    /// and allocates the templates of its `CT` targets. Process context (allocates with `GFP_KERNEL`). Errors:
    /// the engine's (EINVAL, ELOOP, ENOENT, ...), `hashlimit`'s (EINVAL,
    /// ERANGE) or ENOMEM.
    pub(crate) fn build(def: &'static TableDef, hdr: &ReplaceHeader, blob: KVVec<u8>, at: Option<(Net, &Fam)>) -> Result<KBox<Instance>, xt::Error> {
        let sizes = xt::measure(def, hdr, &blob)?;
        let rules = defaults::<xt::Rule>(sizes.rules)?;
        let matches = defaults::<xt::Match>(sizes.matches)?;
        let table = CoreTable::translate(def, hdr, KvSlice(blob), rules, matches)?;
        // On an error the uses taken so far are released (dropped).
        let mut hashlimit = KVec::new();
        for u in table.hashlimits() {
            let (net, fam) = at.ok_or(xt::Error { errno: errno::EINVAL, reason: "hashlimit: no namespace" })?;
            let r = crate::hashlimit::get(net, fam, &u)?;
            kvec::push(&mut hashlimit, r, GFP_KERNEL).map_err(|_| nomem("no memory for hashlimit uses"))?;
        }
        let mut ct_tmpl = KVec::new();
        for t in table.ct_templates() {
            let (net, _) = at.ok_or(xt::Error { errno: errno::EINVAL, reason: "CT: no namespace" })?;
            let tmpl = CtTemplate::alloc(net, t.zone_id, t.zone_dir, t.zone_mark).map_err(|e| xt::Error {
                errno: e.saturating_neg(),
                reason: if e == -errno::EOPNOTSUPP { "CT: conntrack zones are not supported by this kernel" } else { "no memory for a CT template" },
            })?;
            kvec::push(&mut ct_tmpl, tmpl, GFP_KERNEL).map_err(|_| nomem("no memory for CT templates"))?;
        }
        let counters = PerCpuCounters::new(table.num_entries() as usize).map_err(|_| nomem("no per-CPU memory for counters"))?;
        let classifier = classifier(def, &table);
        KBox::new(Instance { def, table, classifier, counters, hashlimit, ct_tmpl }, GFP_KERNEL).map_err(|_| nomem("no memory for the table"))
    }

    /// The table a namespace starts with: every built-in chain empty with
    /// policy ACCEPT (as `ipt_alloc_initial_table`).
    pub(crate) fn initial(def: &'static TableDef) -> Result<KBox<Instance>, xt::Error> {
        let mut blob = KVVec::from_elem(0u8, xt::initial_size(def), GFP_KERNEL).map_err(|_| nomem("no memory for the initial table"))?;
        let hdr = xt::initial_table(def, &mut blob)?;
        Self::build(def, &hdr, blob, None)
    }
}
