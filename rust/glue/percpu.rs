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
//! readers sum every possible CPU's copy. On LP64 each 64-bit load is single
//! copy atomic, so a reader sees every counter whole (the pair may be one
//! packet apart, as the kernel's own counters can be between readers).

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, AllocError, KVVec};

use super::bindings;
use super::rcu::BhDisabled;

/// Bytes of one per-CPU block (as `XT_PCPU_BLOCK_SIZE`).
pub const BLOCK_BYTES: usize = 4096;
/// Counter pairs per block.
const PER_BLOCK: usize = BLOCK_BYTES / core::mem::size_of::<Pair>();

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
            if blocks.push(p, GFP_KERNEL).is_err() {
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
    fn locate(&self, i: usize) -> Option<(*mut core::ffi::c_void, usize)> {
        if i >= self.len {
            return None;
        }
        let b = *self.blocks.get(i / PER_BLOCK)?;
        Some((b, i % PER_BLOCK))
    }

    /// Adds `packets` and `bytes` to pair `i` of this CPU (out of range: no-op).
    pub fn add(&self, _bh: &BhDisabled, i: usize, packets: u64, bytes: u64) {
        let Some((block, slot)) = self.locate(i) else { return };
        // SAFETY: `block` is a live per-CPU area (invariant); with BHs
        // disabled (`_bh`) the task stays on this CPU and no hook on it runs
        // in between, so this CPU's copy has no other writer.
        let base = unsafe { bindings::rnf_percpu_this(block) } as *const Pair;
        // SAFETY: `slot < PER_BLOCK`, so the pair lies inside the block,
        // which is 8-byte aligned and zero-initialised (a valid `Pair`).
        let pair = unsafe { &*base.add(slot) };
        let [p, b] = pair;
        p.store(p.load(Ordering::Relaxed).wrapping_add(packets), Ordering::Relaxed);
        b.store(b.load(Ordering::Relaxed).wrapping_add(bytes), Ordering::Relaxed);
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

impl Drop for PerCpuCounters {
    fn drop(&mut self) {
        for &p in self.blocks.iter() {
            // SAFETY: each block was allocated by `rnf_percpu_alloc` and is
            // owned by this value (invariant); no reader is left (`&mut`).
            unsafe { bindings::rnf_percpu_free(p) };
        }
    }
}
