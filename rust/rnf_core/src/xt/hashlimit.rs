// SPDX-License-Identifier: GPL-2.0
//! The `hashlimit` match: a token bucket (or a rate meter) per address
//! and port key, kept in a named table per namespace and family.
//!
//! C source: net/netfilter/xt_hashlimit.c (6.12); C header:
//! [include/uapi/linux/netfilter/xt_hashlimit.h](srctree/include/uapi/linux/netfilter/xt_hashlimit.h).
//!
//! This file holds everything that does not need the kernel: the three
//! registered revisions and their layouts ([`EXTS`]), `checkentry`
//! ([`decode_match`] for the part that does not depend on `HZ`,
//! [`check_rate`] for the rest), the arithmetic (`user2credits`,
//! `user2credits_byte`, `user2rate`, `user2rate_bytes`, `rateinfo_init`,
//! `rateinfo_recalc`, `hashlimit_byte_cost`), the key of a packet
//! (`hashlimit_init_dst`), the decision of `hashlimit_mt_common`
//! ([`run`]), the garbage collection schedule ([`gc`]) and the
//! `/proc/net/ipt_hashlimit/NAME` line ([`proc_line`]). The named tables'
//! storage, their lock and their proc files are the caller's (rnf_tables'
//! `hashlimit.rs`), reached through the [`Htable`] trait.
//!
//! Match data is host-endian (the socket-option ABI); packet bytes and the
//! key's addresses and ports are network order, as in `struct dsthash_dst`.
//! Times are jiffies (`u64`, the LP64 `unsigned long`), compared as the
//! kernel's `time_after_eq`.

use core::fmt::Write;

use super::abi::{ne32, ne64};
use super::eval::{Env, Facts};
use super::ext::{CheckCtx, Ext, ExtId, V4, V6};
use super::rule::MatchKind;
use super::{errno, Error, Family};

/// `XT_HASHLIMIT_HASH_DIP`: key on the destination address.
pub const MODE_DIP: u32 = 1 << 0;
/// `XT_HASHLIMIT_HASH_DPT`: key on the destination port.
pub const MODE_DPT: u32 = 1 << 1;
/// `XT_HASHLIMIT_HASH_SIP`: key on the source address.
pub const MODE_SIP: u32 = 1 << 2;
/// `XT_HASHLIMIT_HASH_SPT`: key on the source port.
pub const MODE_SPT: u32 = 1 << 3;
/// `XT_HASHLIMIT_INVERT`: match above the limit (`--hashlimit-above`).
pub const MODE_INVERT: u32 = 1 << 4;
/// `XT_HASHLIMIT_BYTES`: the rate is in bytes (`--hashlimit-upto 1kb/s`).
pub const MODE_BYTES: u32 = 1 << 5;
/// `XT_HASHLIMIT_RATE_MATCH`: `--hashlimit-rate-match` (revision 3).
pub const MODE_RATE_MATCH: u32 = 1 << 6;
/// `XT_HASHLIMIT_ALL`: every mode bit the kernel knows.
const MODE_ALL: u32 = 0x7f;

/// `XT_HASHLIMIT_SCALE`: revision 1's `avg` unit (1/10000 s).
pub const SCALE: u64 = 10_000;
/// `XT_HASHLIMIT_SCALE_v2`: revisions 2 and 3 (1/1000000 s).
pub const SCALE_V2: u64 = 1_000_000;
/// `XT_HASHLIMIT_BYTE_SHIFT`: bytes are counted in 16-byte chunks.
const BYTE_SHIFT: u32 = 4;
/// `HASHLIMIT_MAX_SIZE`: `size` and `max` above it are cut to it.
pub const MAX_SIZE: u32 = 1_048_576;

/// `sizeof(struct xt_hashlimit_mtinfo1)` (LP64) and its `usersize`
/// (`offsetof(.., hinfo)`: the kernel pointer is not copied back).
pub(crate) const INFO1_SIZE: usize = 56;
const INFO1_USERSIZE: usize = 48;
/// `struct xt_hashlimit_mtinfo2`.
pub(crate) const INFO2_SIZE: usize = 304;
const INFO2_USERSIZE: usize = 296;
/// `struct xt_hashlimit_mtinfo3`.
pub(crate) const INFO3_SIZE: usize = 312;
const INFO3_USERSIZE: usize = 304;

const fn reg(rev: u8, family: Option<Family>, size: usize, usersize: usize) -> Ext {
    Ext { name: b"hashlimit", rev, family, target: false, size, usersize, proto: 0, hooks: 0, table: None, id: ExtId::Hashlimit(rev) }
}

/// The registrations of 6.12: revisions 1, 2 and 3 for each family
/// (revision 0 left the kernel in 4.x), so an unknown revision is ENOENT.
pub(crate) static EXTS: [Ext; 6] = [
    reg(1, V4, INFO1_SIZE, INFO1_USERSIZE),
    reg(2, V4, INFO2_SIZE, INFO2_USERSIZE),
    reg(3, V4, INFO3_SIZE, INFO3_USERSIZE),
    reg(1, V6, INFO1_SIZE, INFO1_USERSIZE),
    reg(2, V6, INFO2_SIZE, INFO2_USERSIZE),
    reg(3, V6, INFO3_SIZE, INFO3_USERSIZE),
];

/// `struct hashlimit_cfg3`, the form every revision is copied into
/// (`cfg_copy`). Times in milliseconds, `interval` in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cfg {
    /// Average time between packets in [`SCALE`] (rev 1) or [`SCALE_V2`]
    /// units; bytes mode: bytes per second; rate-match: packets (or bytes)
    /// per interval as the tool encodes it.
    pub avg: u64,
    /// Burst (packets; bytes mode: refills).
    pub burst: u64,
    /// `XT_HASHLIMIT_*` bits ([`MODE_DIP`], ...).
    pub mode: u32,
    /// Buckets (`--hashlimit-htable-size`), 0 = the kernel's default.
    pub size: u32,
    /// Most entries (`--hashlimit-htable-max`), 0 = 8 * size.
    pub max: u32,
    /// Garbage collection period in ms (`--hashlimit-htable-gcinterval`).
    pub gc_interval: u32,
    /// Idle time in ms after which an entry expires (`--hashlimit-htable-expire`).
    pub expire: u32,
    /// Rate-match interval in seconds (`--hashlimit-rate-interval`, rev 3).
    pub interval: u32,
    /// Source prefix length (`--hashlimit-srcmask`).
    pub srcmask: u8,
    /// Destination prefix length (`--hashlimit-dstmask`).
    pub dstmask: u8,
}

/// Offset of `cfg` in the match data, and the name field's length.
fn layout(rev: u8) -> (usize, usize) {
    if rev == 1 {
        (16, 16)
    } else {
        (256, 255)
    }
}

/// `cfg_copy` from the match data of revision `rev` (1..=3); `None` when
/// the data is short or the revision unknown.
pub fn parse_cfg(rev: u8, d: &[u8]) -> Option<Cfg> {
    let (o, _) = layout(rev);
    let u8at = |off: usize| d.get(o + off).copied();
    match rev {
        1 => Some(Cfg {
            mode: ne32(d, o)?,
            avg: u64::from(ne32(d, o + 4)?),
            burst: u64::from(ne32(d, o + 8)?),
            size: ne32(d, o + 12)?,
            max: ne32(d, o + 16)?,
            gc_interval: ne32(d, o + 20)?,
            expire: ne32(d, o + 24)?,
            interval: 0,
            srcmask: u8at(28)?,
            dstmask: u8at(29)?,
        }),
        2 | 3 => {
            let mut c = Cfg {
                avg: ne64(d, o)?,
                burst: ne64(d, o + 8)?,
                mode: ne32(d, o + 16)?,
                size: ne32(d, o + 20)?,
                max: ne32(d, o + 24)?,
                gc_interval: ne32(d, o + 28)?,
                expire: ne32(d, o + 32)?,
                ..Cfg::default()
            };
            if rev == 2 {
                c.srcmask = u8at(36)?;
                c.dstmask = u8at(37)?;
            } else {
                c.interval = ne32(d, o + 36)?;
                c.srcmask = u8at(40)?;
                c.dstmask = u8at(41)?;
            }
            Some(c)
        }
        _ => None,
    }
}

/// The table name of the match data (`info->name` without its NUL), as
/// `xt_check_proc_name` accepts it. Errors: EINVAL (empty, `.`, `..`, a
/// `/`), ENAMETOOLONG (no NUL in the field).
pub fn name_of(rev: u8, d: &[u8]) -> Result<&[u8], Error> {
    let (_, n) = layout(rev);
    let field = d.get(..n).ok_or(Error::inval("hashlimit: match data truncated"))?;
    if field.first() == Some(&0) {
        return Err(Error::inval("hashlimit: empty --hashlimit-name"));
    }
    let name = super::abi::cstr(field).ok_or(Error::new(errno::ENAMETOOLONG, "hashlimit: name not NUL-terminated"))?;
    if name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Error::inval("hashlimit: name not usable as a /proc file"));
    }
    Ok(name)
}

/// The checks of `hashlimit_mt_check_common` that do not depend on `HZ`,
/// in its order, and its cut of `size` and `max` to [`MAX_SIZE`].
/// Errors: EINVAL (no gc interval or expiry, a mask longer than the
/// family's addresses, unknown mode bits, rate-match before revision 3 or
/// without interval), ERANGE (rate-match rate 0 or above `u32::MAX`).
pub fn check_cfg(c: &mut Cfg, rev: u8, family: Family) -> Result<(), Error> {
    if c.gc_interval == 0 || c.expire == 0 {
        return Err(Error::inval("hashlimit: gc interval and expire must not be 0"));
    }
    c.size = c.size.min(MAX_SIZE);
    c.max = c.max.min(MAX_SIZE);
    let bits = if family == Family::Ipv4 { 32 } else { 128 };
    if c.srcmask > bits || c.dstmask > bits {
        return Err(Error::inval("hashlimit: mask longer than the address"));
    }
    if c.mode & !MODE_ALL != 0 {
        return Err(Error::inval("hashlimit: unknown mode bits"));
    }
    if c.mode & MODE_RATE_MATCH != 0 {
        if rev < 3 {
            return Err(Error::inval("hashlimit: rate-match needs revision 3"));
        }
        if c.avg == 0 || c.avg > u64::from(u32::MAX) {
            return Err(Error::new(errno::ERANGE, "hashlimit: invalid rate"));
        }
        if c.interval == 0 {
            return Err(Error::inval("hashlimit: invalid interval"));
        }
    }
    Ok(())
}

/// The overflow checks of `hashlimit_mt_check_common`, which depend on
/// `HZ` (run where it is known, before the table is looked up, as the
/// kernel does). Errors: EINVAL (bytes mode, rate too high), ERANGE
/// (burst 0, or `avg * burst` overflows the credits).
pub fn check_rate(c: &Cfg, rev: u8, hz: u32) -> Result<(), Error> {
    if c.mode & MODE_RATE_MATCH != 0 {
        Ok(())
    } else if c.mode & MODE_BYTES != 0 {
        if user2credits_byte(c.avg as u32, hz) == 0 {
            return Err(Error::inval("hashlimit: overflow, rate too high"));
        }
        Ok(())
    } else if c.burst == 0 || user2credits(c.avg.wrapping_mul(c.burst), rev, hz) < user2credits(c.avg, rev, hz) {
        Err(Error::new(errno::ERANGE, "hashlimit: overflow, try lower"))
    } else {
        Ok(())
    }
}

/// The decoded match: what the packet path needs of the rule's own
/// configuration (the table's is in the named table), the named table's
/// slot in the walked table and where the match data is in the blob.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HashlimitInfo {
    /// The rule's `cfg.mode` (its `INVERT`, `BYTES` and `RATE_MATCH`
    /// decide; the key comes from the table's mode).
    pub mode: u32,
    /// The revision (1 scales with [`SCALE`], 2 and 3 with [`SCALE_V2`]).
    pub rev: u8,
    /// Index among the table's hashlimit matches, in rule order.
    pub slot: u32,
    /// Byte offset of the match data in the blob.
    pub data: u32,
}

/// `checkentry` minus the table lookup and the `HZ`-dependent checks:
/// `xt_check_proc_name`, `cfg_copy`, [`check_cfg`].
pub(crate) fn decode_match(rev: u8, d: &[u8], cx: &CheckCtx<'_>) -> Result<MatchKind, Error> {
    name_of(rev, d)?;
    let mut cfg = parse_cfg(rev, d).ok_or(Error::inval("hashlimit: match data truncated"))?;
    check_cfg(&mut cfg, rev, cx.family)?;
    let data = u32::try_from(cx.data_off).map_err(|_| Error::inval("hashlimit: blob too large"))?;
    Ok(MatchKind::Hashlimit(HashlimitInfo { mode: cfg.mode, rev, slot: 0, data }))
}

/// One hashlimit match of a translated table, for the caller to find or
/// create its named table (`htable_find_get` / `htable_create`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Use<'a> {
    /// The slot the packet path asks for ([`Env::hashlimit`]).
    pub slot: u32,
    /// The match revision.
    pub rev: u8,
    /// The configuration, `size` and `max` cut as `checkentry` cuts them.
    pub cfg: Cfg,
    /// The table name (`--hashlimit-name`), without NUL.
    pub name: &'a [u8],
}

impl<'a> Use<'a> {
    /// The use described by `h` in `blob`; `None` only if the blob is not
    /// the one `h` was decoded from.
    pub(crate) fn of(h: &HashlimitInfo, blob: &'a [u8], family: Family) -> Option<Self> {
        let d = blob.get(h.data as usize..)?;
        let mut cfg = parse_cfg(h.rev, d)?;
        check_cfg(&mut cfg, h.rev, family).ok()?;
        Some(Use { slot: h.slot, rev: h.rev, cfg, name: name_of(h.rev, d).ok()? })
    }
}

// --- arithmetic -------------------------------------------------------------

/// `POW2_BELOW32` / `POW2_BELOW64`: the largest power of two not above
/// `x` (1 for 0).
fn pow2_below(x: u64) -> u64 {
    if x == 0 {
        1
    } else {
        1 << (63 - x.leading_zeros())
    }
}

/// `CREDITS_PER_JIFFY_v1` (revision 1).
pub fn cpj_v1(hz: u32) -> u64 {
    pow2_below(0xFFFF_FFFF / (u64::from(hz.max(1)) * 86_400))
}

/// `CREDITS_PER_JIFFY` (revisions 2 and 3).
pub fn cpj(hz: u32) -> u64 {
    pow2_below(u64::MAX / (u64::from(hz.max(1)) * 86_400))
}

/// `CREDITS_PER_JIFFY_BYTES`.
pub fn cpj_bytes(hz: u32) -> u64 {
    pow2_below(0xFFFF_FFFF / u64::from(hz.max(1)))
}

/// `CREDITS_PER_JIFFY_BYTES * HZ`: a full byte bucket.
fn bytes_full(hz: u32) -> u64 {
    cpj_bytes(hz) * u64::from(hz)
}

/// `user2credits`: `user` in the revision's scale to credits (u64,
/// wrapping as the C does).
pub fn user2credits(user: u64, rev: u8, hz: u32) -> u64 {
    let (scale, cpj) = if rev == 1 { (SCALE, cpj_v1(hz)) } else { (SCALE_V2, cpj(hz)) };
    let k = u64::from(hz).wrapping_mul(cpj);
    if k == 0 {
        return 0;
    }
    if scale >= k {
        user / (scale / k)
    } else {
        user.wrapping_mul(k / scale)
    }
}

/// `user2credits_byte`: bytes per second to the credits of one byte chunk.
pub fn user2credits_byte(user: u32, hz: u32) -> u32 {
    // The kernel's u64 product, which wraps.
    (u64::from(user).wrapping_mul(bytes_full(hz)) >> 32) as u32
}

/// `user2rate`: rate-match packets per interval (0 for 0).
pub fn user2rate(user: u64) -> u64 {
    SCALE_V2.checked_div(user).unwrap_or(0)
}

/// `user2rate_bytes`: rate-match bytes per interval.
pub fn user2rate_bytes(user: u32) -> u64 {
    let r = u64::from(u32::MAX.checked_div(user).unwrap_or(u32::MAX));
    r.wrapping_sub(1) << BYTE_SHIFT
}

/// `msecs_to_jiffies` (rounding up, as for every `HZ` dividing 1000).
pub fn msecs_to_jiffies(ms: u32, hz: u32) -> u64 {
    (u64::from(ms) * u64::from(hz)).div_ceil(1000)
}

/// `time_after_eq(a, b)`.
fn after_eq(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) >= 0
}

/// An entry's `rateinfo`. The kernel keeps the token bucket and the rate
/// meter in a union; so does this (three words, little-endian as both
/// LP64 targets are), so a table shared by rules of different modes and
/// the `/proc` listing read the same numbers as the kernel's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateInfo {
    /// Jiffies of the last update (`prev`).
    pub prev: u64,
    /// `credit` | `interval`, `prev_window`; `credit_cap` | `current_rate`;
    /// `cost` | `rate`.
    w: [u64; 3],
    /// `burst` (rate-match).
    burst: u64,
}

impl RateInfo {
    /// `credit`.
    pub fn credit(&self) -> u64 {
        self.w[0]
    }
    /// `credit_cap`.
    pub fn credit_cap(&self) -> u64 {
        self.w[1]
    }
    /// `cost`.
    pub fn cost(&self) -> u64 {
        self.w[2]
    }
    fn interval(&self) -> u32 {
        self.w[0] as u32
    }
    fn prev_window(&self) -> u32 {
        (self.w[0] >> 32) as u32
    }
    fn set_interval(&mut self, v: u32) {
        self.w[0] = (self.w[0] & !0xffff_ffff) | u64::from(v);
    }
    fn set_prev_window(&mut self, v: u32) {
        self.w[0] = (self.w[0] & 0xffff_ffff) | (u64::from(v) << 32);
    }

    /// `rateinfo_init` for the table config `c`, the rule revision `rev`.
    pub fn init(c: &Cfg, rev: u8, now: u64, hz: u32) -> Self {
        let mut r = RateInfo { prev: now, ..Default::default() };
        if rev >= 3 && c.mode & MODE_RATE_MATCH != 0 {
            r.set_prev_window(0);
            r.w[1] = 0;
            if c.mode & MODE_BYTES != 0 {
                r.w[2] = user2rate_bytes(c.avg as u32);
                r.burst = if c.burst != 0 { c.burst.wrapping_mul(r.w[2]) } else { r.w[2] };
            } else {
                r.w[2] = user2rate(c.avg);
                r.burst = c.burst.wrapping_add(r.w[2]);
            }
            r.set_interval(c.interval);
        } else if c.mode & MODE_BYTES != 0 {
            r.w[0] = bytes_full(hz);
            r.w[2] = u64::from(user2credits_byte(c.avg as u32, hz));
            r.w[1] = c.burst;
        } else {
            r.w[0] = user2credits(c.avg.wrapping_mul(c.burst), rev, hz);
            r.w[2] = user2credits(c.avg, rev, hz);
            r.w[1] = r.w[0];
        }
        r
    }

    /// `rateinfo_recalc` with the table's `mode`.
    pub fn recalc(&mut self, now: u64, mode: u32, rev: u8, hz: u32) {
        let delta = now.wrapping_sub(self.prev);
        if delta == 0 {
            return;
        }
        if rev >= 3 && mode & MODE_RATE_MATCH != 0 {
            // `dh->rateinfo.interval * HZ`: 32-bit unsigned.
            let interval = u64::from(self.interval().wrapping_mul(hz));
            if delta < interval {
                return;
            }
            self.prev = now;
            let over = self.w[1].wrapping_mul(interval) > delta.wrapping_mul(self.w[2]);
            self.set_prev_window(u32::from(over));
            self.w[1] = 0;
            return;
        }
        self.prev = now;
        let cap;
        if mode & MODE_BYTES != 0 {
            let tmp = self.w[0];
            self.w[0] = self.w[0].wrapping_add(cpj_bytes(hz).wrapping_mul(delta));
            cap = bytes_full(hz);
            if tmp >= self.w[0] {
                self.w[0] = cap;
                return;
            }
        } else {
            let c = if rev == 1 { cpj_v1(hz) } else { cpj(hz) };
            self.w[0] = self.w[0].wrapping_add(delta.wrapping_mul(c));
            cap = self.w[1];
        }
        if self.w[0] > cap {
            self.w[0] = cap;
        }
    }

    /// `hashlimit_byte_cost`: the cost of a packet of `len` bytes; refills
    /// the bucket from `credit_cap` when it is short.
    fn byte_cost(&mut self, len: u32, hz: u32) -> u64 {
        let full = bytes_full(hz);
        let tmp = u64::from((len >> BYTE_SHIFT) + 1).wrapping_mul(self.w[2]).min(full);
        if self.w[0] < tmp && self.w[1] != 0 {
            self.w[1] -= 1;
            self.w[0] = full;
        }
        u64::from(tmp as u32)
    }

    /// The decision of `hashlimit_mt_common` after the entry's update,
    /// with the rule's `mode`: `true` when the match matches.
    pub fn decide(&mut self, mode: u32, len: u32, hz: u32) -> bool {
        let invert = mode & MODE_INVERT != 0;
        if mode & MODE_RATE_MATCH != 0 {
            let cost = if mode & MODE_BYTES != 0 { u64::from(len) } else { 1 };
            self.w[1] = self.w[1].wrapping_add(cost);
            return if self.prev_window() == 0 && self.w[1] <= self.burst { !invert } else { invert };
        }
        let cost = if mode & MODE_BYTES != 0 { self.byte_cost(len, hz) } else { self.w[2] };
        if self.w[0] >= cost {
            self.w[0] -= cost;
            !invert
        } else {
            invert
        }
    }
}

// --- the key ----------------------------------------------------------------

/// `struct dsthash_dst`: the masked fields the table's mode keys on, the
/// others zero. Addresses in network order (IPv4: the first 4 bytes),
/// ports as the packet carries them (`__be16`, kept as host values of the
/// big-endian bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dst {
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Source port (host order).
    pub src_port: u16,
    /// Destination port (host order).
    pub dst_port: u16,
}

impl Dst {
    /// A bucket index below `size` for `seed`: a multiply-xorshift hash
    /// scaled as `reciprocal_scale`. (The kernel's `jhash2` with its random
    /// seed makes its bucket order unpredictable too; only the order of
    /// the `/proc` listing depends on it.)
    pub fn bucket(&self, seed: u32, size: u32) -> u32 {
        let mut h = u64::from(seed) ^ 0x9e37_79b9_7f4a_7c15;
        let words = self.src.chunks_exact(8).chain(self.dst.chunks_exact(8));
        for w in words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            h = (h ^ u64::from_ne_bytes(b)).wrapping_mul(0xff51_afd7_ed55_8ccd);
            h ^= h >> 33;
        }
        h = (h ^ (u64::from(self.src_port) << 16 | u64::from(self.dst_port))).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        ((u64::from(h as u32) * u64::from(size)) >> 32) as u32
    }
}

/// `maskl`: the first `l` bits of the 4 network-order bytes `a`.
fn maskl(a: &mut [u8], l: u32) {
    let Some(w) = a.first_chunk_mut::<4>() else { return };
    let v = u32::from_be_bytes(*w);
    let m = if l == 0 { 0 } else { v & (!0u32 << (32 - l.min(32))) };
    *w = m.to_be_bytes();
}

/// `hashlimit_ipv6_mask`: the first `p` bits of a 16-byte address.
fn mask6(a: &mut [u8; 16], p: u32) {
    if p >= 128 {
        return;
    }
    let word = (p / 32) as usize;
    for (i, chunk) in a.chunks_exact_mut(4).enumerate() {
        if i == word {
            maskl(chunk, p % 32);
        } else if i > word {
            chunk.fill(0);
        }
    }
}

/// `proto_ports_offset`.
fn ports_offset(proto: u8) -> Option<usize> {
    match proto {
        6 | 17 | 33 | 50 | 132 | 136 => Some(0),
        51 => Some(4),
        _ => None,
    }
}

/// `ipv6_skip_exthdr(skb, sizeof(ipv6hdr), &nexthdr, &frag_off)` over the
/// headers: the upper-layer protocol and its offset, `None` for the C's
/// -1 (truncated, or `NEXTHDR_NONE`). A later fragment stops at its
/// fragment header with protocol 44 (which has no ports).
fn skip_exthdr(h: &[u8]) -> Option<(u8, usize)> {
    let mut nexthdr = *h.get(6)?;
    let mut start = 40usize;
    while matches!(nexthdr, 0 | 43 | 44 | 51 | 59 | 60) {
        if nexthdr == 59 {
            return None;
        }
        let next = *h.get(start)?;
        let len = *h.get(start + 1)?;
        let hdrlen = if nexthdr == 44 {
            let fo = u16::from_be_bytes([*h.get(start + 2)?, *h.get(start + 3)?]);
            if fo & !7 != 0 {
                break;
            }
            8
        } else if nexthdr == 51 {
            (usize::from(len) + 2) << 2
        } else {
            (usize::from(len) + 1) << 3
        };
        nexthdr = next;
        start = start.checked_add(hdrlen)?;
    }
    Some((nexthdr, start))
}

/// `hashlimit_init_dst`: the key of the packet for the table config `c`;
/// `None` to hot-drop (the ports the mode asks for cannot be read).
pub(crate) fn key(c: &Cfg, family: Family, f: &Facts<'_>) -> Option<Dst> {
    let mut d = Dst::default();
    let (saddr, daddr) = (f.saddr.to_ne_bytes(), f.daddr.to_ne_bytes());
    let (nexthdr, protoff) = match family {
        Family::Ipv4 => {
            if c.mode & MODE_DIP != 0 {
                d.dst[..4].copy_from_slice(&daddr[..4]);
                maskl(&mut d.dst[..4], u32::from(c.dstmask));
            }
            if c.mode & MODE_SIP != 0 {
                d.src[..4].copy_from_slice(&saddr[..4]);
                maskl(&mut d.src[..4], u32::from(c.srcmask));
            }
            if c.mode & (MODE_DPT | MODE_SPT) == 0 {
                return Some(d);
            }
            (f.proto.unwrap_or(0), f.thoff)
        }
        Family::Ipv6 => {
            if c.mode & MODE_DIP != 0 {
                d.dst = daddr;
                mask6(&mut d.dst, u32::from(c.dstmask));
            }
            if c.mode & MODE_SIP != 0 {
                d.src = saddr;
                mask6(&mut d.src, u32::from(c.srcmask));
            }
            if c.mode & (MODE_DPT | MODE_SPT) == 0 {
                return Some(d);
            }
            skip_exthdr(f.headers)?
        }
    };
    let (sp, dp) = match ports_offset(nexthdr) {
        Some(poff) => {
            let at = protoff.checked_add(poff)?;
            let p = f.headers.get(at..at.checked_add(4)?)?;
            (u16::from_be_bytes([p[0], p[1]]), u16::from_be_bytes([p[2], p[3]]))
        }
        None => (0, 0),
    };
    if c.mode & MODE_SPT != 0 {
        d.src_port = sp;
    }
    if c.mode & MODE_DPT != 0 {
        d.dst_port = dp;
    }
    Some(d)
}

// --- the named table -------------------------------------------------------

/// One `struct dsthash_ent`: its key, expiry and rate state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub dst: Dst,
    /// Jiffies at which the entry expires (`expires`).
    pub expires: u64,
    /// The bucket or meter.
    pub rate: RateInfo,
}

/// What a named table keeps besides its entries: the configuration of the
/// rule that created it (`hinfo->cfg`, `size` and `max` resolved), that
/// rule's revision (which its `/proc` file's recalculation uses), the
/// family and when the next garbage collection is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// The table's configuration.
    pub cfg: Cfg,
    /// The revision of the rule that created the table.
    pub rev: u8,
    /// The family.
    pub family: Family,
    /// Jiffies of the next garbage collection pass.
    pub next_gc: u64,
}

impl Meta {
    /// `htable_create`'s configuration: `size` 0 becomes the kernel's
    /// default for a machine of `ram_pages` pages of `page_size` bytes
    /// (one bucket per 16 KiB of RAM per 8-byte list head, 8192 above
    /// 1 GiB, at least 16); `max` 0 becomes `8 * size`, a `max` below
    /// `size` becomes `size`. The first collection is due a gc interval
    /// after `now`.
    pub fn new(cfg: &Cfg, rev: u8, family: Family, now: u64, hz: u32, ram_pages: u64, page_size: u64) -> Self {
        let mut c = *cfg;
        if c.size == 0 {
            let mut size = (ram_pages.wrapping_mul(page_size) / 16384 / 8) as u32;
            if ram_pages > (1024 * 1024 * 1024) / page_size.max(1) {
                size = 8192;
            }
            c.size = size.max(16);
        }
        if c.max == 0 {
            c.max = c.size.saturating_mul(8);
        } else if c.max < c.size {
            c.max = c.size;
        }
        Meta { cfg: c, rev, family, next_gc: now.wrapping_add(msecs_to_jiffies(c.gc_interval, hz)) }
    }
}

/// A named table's entries as the packet path and the `/proc` reader use
/// them; implemented by the caller over its storage, always called with
/// the table locked.
pub trait Htable {
    /// The table's configuration and schedule.
    fn meta(&mut self) -> &mut Meta;
    /// Number of entries (`count`).
    fn count(&self) -> u32;
    /// The entry of `dst` (`dsthash_find`).
    fn find(&mut self, dst: &Dst) -> Option<&mut Entry>;
    /// Adds `e` (`dsthash_alloc_init`, whose `max` test [`run`] makes);
    /// `None` when memory is short.
    fn insert(&mut self, e: Entry) -> Option<&mut Entry>;
    /// Frees every entry with `time_after_eq(at, expires)`
    /// (`htable_selective_cleanup`).
    fn remove_expired(&mut self, at: u64);
}

/// The garbage collector (`htable_gc`), run lazily: the kernel's delayed
/// work frees the expired entries every gc interval from the table's
/// creation on; here, before each use of the table (a packet, a `/proc`
/// read), the passes that came due since the last use are made at once,
/// as of the last due time. No use happens in between, so the entries
/// that pass frees and those left are the kernel's.
pub fn gc(t: &mut dyn Htable, now: u64, hz: u32) {
    let m = t.meta();
    let iv = msecs_to_jiffies(m.cfg.gc_interval, hz).max(1);
    let since = now.wrapping_sub(m.next_gc);
    if (since as i64) < 0 {
        return;
    }
    // since / iv * iv <= since: jiffies arithmetic, wrapping as the kernel's.
    let tick = m.next_gc.wrapping_add((since / iv).wrapping_mul(iv));
    m.next_gc = tick.wrapping_add(iv);
    t.remove_expired(tick);
}

/// Why [`run`] hot-drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hotdrop {
    /// The ports the key needs are not in the packet.
    Key,
    /// The table holds `max` entries (the kernel logs "max count of %u reached").
    Full(u32),
    /// No memory for a new entry.
    NoMemory,
}

/// `hashlimit_mt_common` on a locked table: the packet's key, its entry
/// (found and updated, or created with the table's configuration and a
/// full bucket), and the rule's decision. `mode` and `rev` are the rule's;
/// `f` the packet. Runs the due garbage collection first ([`gc`]).
pub(crate) fn run(t: &mut dyn Htable, mode: u32, rev: u8, f: &Facts<'_>, now: u64, hz: u32) -> Result<bool, Hotdrop> {
    gc(t, now, hz);
    let m = *t.meta();
    let dst = key(&m.cfg, m.family, f).ok_or(Hotdrop::Key)?;
    let expires = now.wrapping_add(msecs_to_jiffies(m.cfg.expire, hz));
    if let Some(e) = t.find(&dst) {
        e.expires = expires;
        e.rate.recalc(now, m.cfg.mode, rev, hz);
        return Ok(e.rate.decide(mode, f.len, hz));
    }
    if m.cfg.max != 0 && t.count() >= m.cfg.max {
        return Err(Hotdrop::Full(m.cfg.max));
    }
    let e = t.insert(Entry { dst, expires, rate: RateInfo::init(&m.cfg, rev, now, hz) }).ok_or(Hotdrop::NoMemory)?;
    Ok(e.rate.decide(mode, f.len, hz))
}

/// The match in the walk: `None` hot-drops (no table for the slot, no key,
/// a full table or no memory).
pub(crate) fn eval<E: Env>(h: &HashlimitInfo, f: &Facts<'_>, env: &mut E) -> Option<bool> {
    let now = env.jiffies();
    let hz = env.hz();
    match env.hashlimit(h.slot, |t| run(t, h.mode, h.rev, f, now, hz))? {
        Ok(m) => Some(m),
        Err(Hotdrop::Full(max)) => {
            let mut line = Line::default();
            let _ = write!(line, "max count of {max} reached");
            env.warn(line.as_bytes());
            None
        }
        Err(_) => None,
    }
}

// --- /proc -------------------------------------------------------------------

/// A line built without allocation (long enough for any listing line).
#[derive(Debug)]
pub struct Line {
    b: [u8; 192],
    n: usize,
}

impl Default for Line {
    fn default() -> Self {
        Line { b: [0; 192], n: 0 }
    }
}

impl Line {
    /// The bytes written.
    pub fn as_bytes(&self) -> &[u8] {
        self.b.get(..self.n).unwrap_or(&[])
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &c in s.as_bytes() {
            *self.b.get_mut(self.n).ok_or(core::fmt::Error)? = c;
            // self.n indexed self.b: never saturates.
            self.n = self.n.saturating_add(1);
        }
        Ok(())
    }
}

fn write_addr(l: &mut Line, family: Family, a: &[u8; 16]) -> core::fmt::Result {
    match family {
        // %pI4
        Family::Ipv4 => write!(l, "{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
        // %pI6: eight groups of four lower-case hex digits.
        Family::Ipv6 => {
            for (i, g) in a.chunks_exact(2).enumerate() {
                if i > 0 {
                    l.write_char(':')?;
                }
                write!(l, "{:02x}{:02x}", g[0], g[1])?;
            }
            Ok(())
        }
    }
}

/// `dl_seq_real_show`: brings the entry up to `now` with the table's mode
/// and creating revision (`rateinfo_recalc`, which the kernel's reader
/// does too) and returns its line, `dl_seq_print`'s
/// `"%ld %pI4:%u->%pI4:%u %llu %llu %llu\n"` (`%pI6` for IPv6): seconds
/// to expiry (`(long)(expires - jiffies) / HZ`), source address and port,
/// destination address and port, credit, credit cap, cost.
pub fn proc_line(e: &mut Entry, m: &Meta, now: u64, hz: u32) -> Line {
    e.rate.recalc(now, m.cfg.mode, m.rev, hz);
    let mut l = Line::default();
    let secs = (e.expires.wrapping_sub(now) as i64) / i64::from(hz.max(1));
    let _ = (|| -> core::fmt::Result {
        write!(l, "{secs} ")?;
        write_addr(&mut l, m.family, &e.dst.src)?;
        write!(l, ":{}->", e.dst.src_port)?;
        write_addr(&mut l, m.family, &e.dst.dst)?;
        writeln!(l, ":{} {} {} {}", e.dst.dst_port, e.rate.credit(), e.rate.credit_cap(), e.rate.cost())
    })();
    l
}

/// Whether `e` is expired at `at` (`time_after_eq(at, expires)`), for
/// [`Htable::remove_expired`].
pub fn expired(e: &Entry, at: u64) -> bool {
    after_eq(at, e.expires)
}
