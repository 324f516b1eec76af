// SPDX-License-Identifier: GPL-2.0
//! Per-CPU packet and byte counters, one pair per rule (`struct xt_counters`).
//!
//! C header: [include/linux/percpu.h](srctree/include/linux/percpu.h)
//!
//! Like x_tables' `xt_percpu_counter_alloc`, the pairs live in per-CPU
//! blocks of [`BLOCK_BYTES`]: the per-CPU allocator refuses single areas
//! above 32 KiB (`PCPU_MIN_UNIT_SIZE`), and a table may have many thousands
//! of rules. A CPU only ever writes its own copy, with bottom halves disabled
//! (a [`BhDisabled`] section), so adds need no atomic read-modify-write;
//! readers sum every possible CPU's copy. A walk finds its CPU's copies once
//! ([`PerCpuCounters::this_cpu`], as `ipt_do_table` reads
//! `smp_processor_id()` once) and then adds to any rule's pair with a shift,
//! a mask and two adds, no call. On LP64 each 64-bit load is single
//! copy atomic, so a reader sees every counter whole (the pair may be one
//! packet apart, as the kernel's own counters can be between readers).

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, AllocError, KVVec};

use super::bindings;
use super::kvec;
use super::rcu::BhDisabled;

/// Bytes of one per-CPU block (as `XT_PCPU_BLOCK_SIZE`).
pub const BLOCK_BYTES: usize = 4096;
/// Counter pairs per block: a power of two, so a pair's block and slot are
/// a shift and a mask of its index.
const PER_BLOCK: usize = BLOCK_BYTES / core::mem::size_of::<Pair>();
/// `log2(PER_BLOCK)`.
const BLOCK_SHIFT: u32 = PER_BLOCK.trailing_zeros();
const _: () = assert!(PER_BLOCK.is_power_of_two() && 1 << BLOCK_SHIFT == PER_BLOCK);

/// One rule's counters on one CPU: packets, then bytes.
type Pair = [AtomicU64; 2];

/// `n` pairs of (packets, bytes) per possible CPU, zero at allocation.
///
/// # Invariants
///
/// Every element of `blocks` was returned by `rnf_percpu_alloc(BLOCK_BYTES)`
/// (zeroed, 8-byte aligned, per possible CPU), is owned by this value and
/// freed only in `drop`; `blocks.len() * PER_BLOCK >= len`.
pub struct PerCpuCounters {
    blocks: KVVec<*mut core::ffi::c_void>,
    len: usize,
}

// SAFETY: the per-CPU areas are only accessed through atomics.
unsafe impl Send for PerCpuCounters {}
// SAFETY: as above.
unsafe impl Sync for PerCpuCounters {}

impl PerCpuCounters {
    /// Allocates `n` zeroed pairs per possible CPU. Process context (sleeps).
    pub fn new(n: usize) -> Result<Self, AllocError> {
        let nblocks = n.div_ceil(PER_BLOCK);
        let mut blocks = KVVec::with_capacity(nblocks, GFP_KERNEL)?;
        // INVARIANT: built up below; on an early return `drop` frees what is
        // already allocated, and `len` is only meaningful once all are.
        let mut out = PerCpuCounters { blocks: KVVec::new(), len: 0 };
        for _ in 0..nblocks {
            // SAFETY: no preconditions; returns zeroed per-CPU memory or NULL.
            let p = unsafe { bindings::rnf_percpu_alloc(BLOCK_BYTES as _) };
            if p.is_null() {
                out.blocks = blocks;
                return Err(AllocError);
            }
            // Capacity was reserved above: this push does not allocate.
            if kvec::push(&mut blocks, p, GFP_KERNEL).is_err() {
                // SAFETY: `p` was just allocated and is owned by nobody else.
                unsafe { bindings::rnf_percpu_free(p) };
                out.blocks = blocks;
                return Err(AllocError);
            }
        }
        out.blocks = blocks;
        out.len = n;
        Ok(out)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The block pointer and index within it of pair `i`, if `i < len`.
    #[inline(always)]
    fn locate(&self, i: usize) -> Option<(*mut core::ffi::c_void, usize)> {
        if i >= self.len {
            return None;
        }
        let b = *self.blocks.get(i >> BLOCK_SHIFT)?;
        Some((b, i & (PER_BLOCK - 1)))
    }

    /// The copies of the CPU the BH-disabled section `bh` runs on, for
    /// any number of [`ThisCpu::add`]s: one `this_cpu_ptr` for all of them.
    pub fn this_cpu<'a>(&'a self, bh: &'a BhDisabled) -> ThisCpu<'a> {
        let offset = match self.blocks.first() {
            Some(&b) => {
                // SAFETY: `b` is a live per-CPU area (invariant); BHs are
                // disabled (`bh`), so the CPU this answers for is the one
                // the section runs on until `bh` is dropped.
                let this = unsafe { bindings::rnf_percpu_this(b) };
                (this as usize).wrapping_sub(b as usize)
            }
            None => 0,
        };
        ThisCpu { counters: self, offset, _bh: bh }
    }

    /// Adds `packets` and `bytes` to pair `i` of this CPU (out of range: no-op).
    pub fn add(&self, bh: &BhDisabled, i: usize, packets: u64, bytes: u64) {
        self.this_cpu(bh).add(i, packets, bytes);
    }

    /// Pair `i` summed over every possible CPU: (packets, bytes).
    pub fn sum(&self, i: usize) -> (u64, u64) {
        let Some((block, slot)) = self.locate(i) else { return (0, 0) };
        let (mut packets, mut bytes) = (0u64, 0u64);
        // SAFETY: no preconditions.
        let mut cpu = unsafe { bindings::rnf_cpu_next_possible(-1) };
        // SAFETY: as above.
        let end = unsafe { bindings::rnf_nr_cpu_ids() };
        while cpu < end {
            // SAFETY: `block` is live (invariant) and `cpu` a possible CPU.
            let base = unsafe { bindings::rnf_percpu_cpu(block, cpu) } as *const Pair;
            // SAFETY: as in `add`; other CPUs' copies are only read, atomically.
            let [p, b] = unsafe { &*base.add(slot) };
            packets = packets.wrapping_add(p.load(Ordering::Relaxed));
            bytes = bytes.wrapping_add(b.load(Ordering::Relaxed));
            // SAFETY: no preconditions.
            cpu = unsafe { bindings::rnf_cpu_next_possible(cpu as i32) };
        }
        (packets, bytes)
    }
}

/// One CPU's copies of a [`PerCpuCounters`], found once for a BH-disabled
/// section ([`PerCpuCounters::this_cpu`]).
///
/// # Invariants
///
/// `offset` is `this_cpu_ptr(p) - p` for the CPU the section runs on, the
/// same for every per-CPU pointer `p`: `this_cpu_ptr(p)` and
/// `per_cpu_ptr(p, cpu)` are `p` shifted by the CPU's offset
/// (`SHIFT_PERCPU_PTR(p, my_cpu_offset)` / `per_cpu_offset(cpu)`,
/// include/linux/percpu-defs.h; 0 without SMP), whichever allocation `p`
/// comes from. The section keeps that CPU for as long as the borrow of its
/// [`BhDisabled`] lasts: `local_bh_disable()` disables preemption
/// (raises the softirq count of `preempt_count`; on PREEMPT_RT it takes the
/// CPU's softirq lock and disables migration, kernel/softirq.c), the rule
/// `ipt_do_table` relies on when it reads `smp_processor_id()` once per
/// walk and bumps that CPU's counters (`xt_get_this_cpu_counter`).
pub struct ThisCpu<'a> {
    counters: &'a PerCpuCounters,
    offset: usize,
    _bh: &'a BhDisabled,
}

impl ThisCpu<'_> {
    /// Adds `packets` and `bytes` to pair `i` of this CPU (out of range:
    /// no-op): a shift, a mask and two adds, no call.
    #[inline(always)]
    pub fn add(&self, i: usize, packets: u64, bytes: u64) {
        let Some((block, slot)) = self.counters.locate(i) else { return };
        // This CPU's copy of `block`: its address shifted by the CPU's
        // offset (type invariant), as `this_cpu_ptr` computes it.
        let base = block.cast::<u8>().wrapping_add(self.offset).cast::<Pair>().cast_const();
        // SAFETY: `base` is this CPU's copy of a live per-CPU block
        // (invariants of both types), 8-byte aligned and zero-initialised
        // at allocation, of `PER_BLOCK` pairs; `slot < PER_BLOCK`, so the
        // pair lies inside it. With BHs disabled the task stays on this CPU
        // and no hook on it runs in between, so this copy has no other
        // writer; readers on other CPUs only load it atomically.
        let pair = unsafe { &*base.add(slot) };
        let [p, b] = pair;
        p.store(p.load(Ordering::Relaxed).wrapping_add(packets), Ordering::Relaxed);
        b.store(b.load(Ordering::Relaxed).wrapping_add(bytes), Ordering::Relaxed);
    }
}

impl Drop for PerCpuCounters {
    fn drop(&mut self) {
        for &p in self.blocks.iter() {
            // SAFETY: each block was allocated by `rnf_percpu_alloc` and is
            // owned by this value (invariant); no reader is left (`&mut`).
            unsafe { bindings::rnf_percpu_free(p) };
        }
    }
}
