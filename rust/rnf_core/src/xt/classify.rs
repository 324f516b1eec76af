// SPDX-License-Identifier: GPL-2.0
//! A bit-vector packet classifier (Lakshman and Stiliadis, SIGCOMM 1998)
//! built from a translated table, so the packet path goes straight to the
//! next rule that may match instead of walking every rule, while keeping
//! `ipt_do_table`'s first-match order, verdicts and counters exactly.
//!
//! **Dimensions.** Five header fields: the layer-4 protocol, the source and
//! the destination address, the source and the destination port. For each,
//! a rule either *constrains* the field to a union of ranges or is a
//! *wildcard* there:
//! - protocol: `ip.proto` not 0 and not inverted (IPv6: with `IP6T_F_PROTO`);
//! - address: a prefix mask (`-s 10.0.0.0/8`), not inverted, the address
//!   inside its mask; IPv6 keys are the upper 64 bits of the address, so a
//!   prefix longer than /64 constrains to its /64 (a superset);
//! - port: in a rule that constrains the protocol, the first match that is
//!   not `comment`, `state` or `conntrack`, when it is `tcp`, `udp` (a
//!   range, not inverted, not the whole 0-65535) or `multiport` (up to 15
//!   ports or ranges, not inverted, source-only or destination-only). The
//!   protocol test then keeps the match from ever seeing a packet of
//!   another protocol (whose short header it could hot-drop on).
//!
//! Each dimension's key space is cut into elementary intervals at the range
//! ends. Each interval holds the set of rules that may match a key in it
//! (the wildcard rules and the constraining rules whose ranges cover it),
//! either *dense* (a bit per rule) or *sparse* (the rule numbers of the
//! constraining rules, beside one dense wildcard set per dimension),
//! whichever is smaller. A packet finds its interval in each dimension by
//! binary search, then [`Lookup::next`] intersects the sets 64 rules at a
//! time from the walk's position to find the next *candidate*, keeping the
//! intersected word for the walk's next call. In a table of at most 64
//! rules each set is one word, which the interval's reference holds
//! itself: the lookup is then five binary searches and five loads, and
//! the sets are intersected once, there.
//!
//! **Exactness.** A rule left out of the intersection fails a test that
//! `ip_packet_match` / `ip6_packet_match` or the first real match of the
//! rule makes before anything that could hot-drop the packet or change
//! state (a `limit` bucket): the kernel's walk would have gone past it
//! without counting it. The full rule is still evaluated on every
//! candidate, so a set only ever needs to be a superset. A dimension is left
//! out for a packet whose key the kernel would not reach without a
//! hot-drop: the protocol for an IPv6 packet whose extension-header walk
//! failed, the ports for a fragment or a tcp header shorter than 20 bytes or
//! udp shorter than 8 (and for other protocols, whose rules the protocol
//! dimension already excludes).
//!
//! **Memory** (in 64-bit words, `W = ceil(rules / 64)`): per dimension two
//! words per interval, `W` for the wildcard set, and per interval `W`
//! (dense) or one per constraining rule (sparse, when fewer than `W / 2`).
//! A dimension over `8 * rules + 4096` words, or whose construction would
//! take over [`MAX_BUILD_WORK`] word operations, is left out (its rules are
//! then candidates whatever the key): see [`Plan::new`].

use super::abi::sub;
use super::eval::Facts;
use super::rule::{IpPart, Match, MatchKind, Rule};
use super::translate::Table;
use super::{abi, errno, Error, Family};

/// Dimension: layer-4 protocol.
const PROTO: usize = 0;
/// Dimension: source address.
const SADDR: usize = 1;
/// Dimension: destination address.
const DADDR: usize = 2;
/// Dimension: source port.
const SPORT: usize = 3;
/// Dimension: destination port.
const DPORT: usize = 4;
/// Number of dimensions.
const DIMS: usize = 5;
/// The order [`Lookup::next`] intersects in: ports and addresses usually
/// leave fewest candidates, so the word is often zero before the last.
const ORDER: [usize; DIMS] = [DPORT, SPORT, DADDR, SADDR, PROTO];

/// `XT_MULTI_PORTS`: most ranges one rule has in one dimension.
const MAX_RANGES: usize = 15;

/// Tables with fewer entries (rules, policies, chain heads and the ERROR
/// entry) get no classifier: their linear walk costs no more than the
/// lookup. Measured with `walk_bench` under callgrind on the bench's rules
/// (tests_walk.rs, `bench_table`: a filter table's 6 fixed entries plus N
/// rules that fail in their udp, tcp or multiport match), instructions a
/// packet, linear against classified: 527 / 738 with 2 rules (8 entries),
/// 714 / 756 with 4 (10 entries), 820 / 756 with 5 (11), 931 / 756 with 6
/// (12), 1,335 / 774 with 10 (16).
pub const CLASSIFY_MIN_ENTRIES: u32 = 11;

/// Largest number of word operations [`Plan::new`] lets one dimension's
/// construction take (intervals times set words): bounds the process-context
/// time of a `SET_REPLACE` with tens of thousands of overlapping ranges.
pub const MAX_BUILD_WORK: u64 = 1 << 26;

/// Marks a dense interval in a reference word.
const DENSE: u64 = 1;

/// The inclusive key ranges one rule constrains one dimension to, sorted,
/// disjoint and not adjacent; none: a wildcard.
#[derive(Clone, Copy)]
struct Ranges {
    r: [(u64, u64); MAX_RANGES],
    n: usize,
}

impl Ranges {
    const NONE: Ranges = Ranges { r: [(0, 0); MAX_RANGES], n: 0 };

    fn one(lo: u64, hi: u64) -> Self {
        let mut s = Self::NONE;
        s.push(lo, hi);
        s
    }

    fn push(&mut self, lo: u64, hi: u64) {
        if let Some(slot) = self.r.get_mut(self.n) {
            *slot = (lo, hi);
            // self.n indexed self.r: never saturates.
            self.n = self.n.saturating_add(1);
        }
    }

    fn as_slice(&self) -> &[(u64, u64)] {
        self.r.get(..self.n).unwrap_or(&[])
    }

    /// Sorts and merges overlapping or adjacent ranges, so that a sweep can
    /// set a rule's bit at a range start and clear it at the range end.
    fn normalize(mut self) -> Self {
        let Some(v) = self.r.get_mut(..self.n) else { return Self::NONE };
        // Insertion sort: at most 15 ranges (and core's sorts carry
        // panicking paths objtool warns about in a module).
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && v.get(j - 1) > v.get(j) {
                v.swap(j - 1, j);
                j -= 1;
            }
        }
        let mut out = Self::NONE;
        for &(lo, hi) in v.iter() {
            let last = out.n.checked_sub(1).and_then(|i| out.r.get_mut(i));
            match last {
                Some(prev) if lo <= prev.1.saturating_add(1) => prev.1 = prev.1.max(hi),
                _ => out.push(lo, hi),
            }
        }
        out
    }
}

/// An address as the key of its dimension: IPv4 the 32-bit address, IPv6
/// its upper 64 bits, both in host order. `raw` is `u128::from_ne_bytes` of
/// the network-order bytes, as [`IpPart`] and [`Facts`] keep them.
fn addr_key(family: Family, raw: u128) -> u64 {
    let b = raw.to_ne_bytes();
    match family {
        Family::Ipv4 => {
            let [a, c, d, e, ..] = b;
            u64::from(u32::from_be_bytes([a, c, d, e]))
        }
        Family::Ipv6 => (u128::from_be_bytes(b) >> 64) as u64,
    }
}

/// The key range of an address test `(addr & mask) == val`, or `None` when
/// it is not a prefix test that can be expressed (inverted, mask 0, holes
/// in the mask, bits of `val` outside it).
fn addr_range(family: Family, val: u128, mask: u128, inverted: bool) -> Option<(u64, u64)> {
    if inverted || mask == 0 {
        return None;
    }
    // Host-order 128-bit numbers, IPv4 in the top 32 bits, so that a prefix
    // mask is ones then zeros.
    let (v, m) = match family {
        Family::Ipv4 => (u128::from(addr_key(family, val)) << 96, u128::from(addr_key(family, mask)) << 96),
        Family::Ipv6 => (u128::from_be_bytes(val.to_ne_bytes()), u128::from_be_bytes(mask.to_ne_bytes())),
    };
    if m.leading_ones() + m.trailing_zeros() != 128 || v & !m != 0 {
        return None;
    }
    let hi = v | !m;
    let shift = if family == Family::Ipv4 { 96 } else { 64 };
    Some(((v >> shift) as u64, (hi >> shift) as u64))
}

/// The ranges of the first real match of a rule for a port dimension, in a
/// rule whose protocol test needs `proto`. A `tcp` match only counts with
/// `proto` 6 and `udp` with 17 (what the kernel's checkentry demands
/// anyway): with another protocol the match could meet a packet whose
/// complete header is shorter than its own and hot-drop it.
fn port_ranges(dim: usize, proto: u64, ms: &[Match]) -> Ranges {
    let src = dim == SPORT;
    let single = |pts: [u16; 2], inv: u8| {
        let (lo, hi) = (pts[0], pts[1]);
        if inv != 0 || lo > hi || (lo == 0 && hi == u16::MAX) {
            Ranges::NONE
        } else {
            Ranges::one(u64::from(lo), u64::from(hi))
        }
    };
    for m in ms {
        return match &m.kind {
            MatchKind::Comment | MatchKind::State(_) | MatchKind::Conntrack(_) => continue,
            MatchKind::Tcp(t) if proto == 6 => {
                if src {
                    single(t.spts, t.invflags & 0x01)
                } else {
                    single(t.dpts, t.invflags & 0x02)
                }
            }
            MatchKind::Udp(u) if proto == 17 => {
                if src {
                    single(u.spts, u.invflags & 0x01)
                } else {
                    single(u.dpts, u.invflags & 0x02)
                }
            }
            MatchKind::Multiport(mp) => {
                // XT_MULTIPORT_SOURCE 0, DESTINATION 1; EITHER (2) constrains neither.
                if mp.invert || mp.flags != u8::from(!src) {
                    return Ranges::NONE;
                }
                let mut out = Ranges::NONE;
                let mut i = 0usize;
                while i < usize::from(mp.count) {
                    let Some(&s) = mp.ports.get(i) else { break };
                    if mp.pflags.get(i).copied().unwrap_or(0) != 0 {
                        i += 1;
                        let e = mp.ports.get(i).copied().unwrap_or(0);
                        if s <= e {
                            out.push(u64::from(s), u64::from(e));
                        }
                    } else {
                        out.push(u64::from(s), u64::from(s));
                    }
                    i += 1;
                }
                out
            }
            _ => Ranges::NONE,
        };
    }
    Ranges::NONE
}

/// What rule `r` constrains dimension `dim` to (normalized).
fn ranges(family: Family, r: &Rule, matches: &[Match], dim: usize) -> Ranges {
    let ip: &IpPart = &r.ip;
    let out = match dim {
        PROTO => {
            let has = match family {
                Family::Ipv4 => true,
                Family::Ipv6 => ip.flags & abi::ip6t_ip6::F_PROTO != 0,
            };
            if has && ip.proto != 0 && ip.invflags & abi::inv::PROTO == 0 {
                Ranges::one(u64::from(ip.proto), u64::from(ip.proto))
            } else {
                Ranges::NONE
            }
        }
        SADDR | DADDR => {
            let (val, mask, inv) = if dim == SADDR {
                (ip.src, ip.smsk, ip.invflags & abi::inv::SRCIP != 0)
            } else {
                (ip.dst, ip.dmsk, ip.invflags & abi::inv::DSTIP != 0)
            };
            addr_range(family, val, mask, inv).map_or(Ranges::NONE, |(lo, hi)| Ranges::one(lo, hi))
        }
        _ => {
            // Only where the rule itself needs one protocol: an IPv6 rule
            // with `-p tcp` but no IP6T_F_PROTO (the kernel accepts it) runs
            // its tcp match on every packet, and that hot-drops a UDP packet
            // shorter than a TCP header.
            let p = ranges(family, r, matches, PROTO);
            let Some(&(proto, _)) = p.as_slice().first() else { return Ranges::NONE };
            let first = r.first_match as usize;
            let ms = first.checked_add(usize::from(r.num_matches)).and_then(|end| matches.get(first..end)).unwrap_or(&[]);
            port_ranges(dim, proto, ms)
        }
    };
    out.normalize()
}

/// Where one dimension lives in the classifier's words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct DimLayout {
    /// False: the dimension is left out (every rule a candidate).
    used: bool,
    /// Number of elementary intervals.
    intervals: usize,
    /// Word offset of the sorted interval starts (keys).
    bounds: usize,
    /// Word offset of one reference per interval: bit 0 [`DENSE`], bits
    /// 31..1 the sparse length, bits 63..32 the payload's word offset; with
    /// one word per set (at most 64 rules), the interval's set itself.
    refs: usize,
    /// Word offset of the wildcard set (`W` words).
    wild: usize,
    /// Word offset of the first payload word.
    payload: usize,
    /// Words of the dimension in all.
    words: usize,
}

/// The sizes [`Classifier::build`] needs, computed from a table by
/// [`Plan::new`]: the caller allocates [`Plan::words`] words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    family: Family,
    rules: usize,
    set_words: usize,
    dims: [DimLayout; DIMS],
    words: usize,
}

/// The sweep over one dimension's sorted events (`[key, rule << 1 | end]`):
/// calls `event` for each rule entering or leaving the active set and
/// `interval` at each elementary interval start, after the events there.
trait Sweep {
    fn event(&mut self, rule: usize, end: bool);
    fn interval(&mut self, lo: u64);
}

fn sweep(ev: &[[u64; 2]], s: &mut impl Sweep) {
    if ev.first().is_none_or(|e| e[0] != 0) {
        s.interval(0);
    }
    let mut i = 0usize;
    while let Some(&[k, _]) = ev.get(i) {
        while let Some(&[key, tag]) = ev.get(i) {
            if key != k {
                break;
            }
            s.event((tag >> 1) as usize, tag & 1 != 0);
            i += 1;
        }
        s.interval(k);
    }
}

/// Whether an interval with `active` constraining rules is stored dense:
/// from half a dense set's words on (a sparse entry is a word).
fn is_dense(active: usize, set_words: usize) -> bool {
    active.saturating_mul(2) >= set_words
}

/// Payload words of an interval with `active` constraining rules.
fn payload_words(active: usize, set_words: usize) -> usize {
    if is_dense(active, set_words) {
        set_words
    } else {
        active
    }
}

/// Writes dimension `dim`'s events for every rule into `ev`, sorts them,
/// and returns how many there are (`None`: `ev` too short).
fn events(family: Family, rules: &[Rule], matches: &[Match], dim: usize, ev: &mut [[u64; 2]]) -> Option<usize> {
    let mut n = 0usize;
    for (i, r) in rules.iter().enumerate() {
        let tag = (i as u64) << 1;
        for &(lo, hi) in ranges(family, r, matches, dim).as_slice() {
            *ev.get_mut(n)? = [lo, tag];
            n += 1;
            if let Some(end) = hi.checked_add(1) {
                *ev.get_mut(n)? = [end, tag | 1];
                n += 1;
            }
        }
    }
    heap_sort(ev.get_mut(..n)?);
    Some(n)
}

/// In-place heap sort (no allocation, no panic path: core's sorts carry
/// panicking paths objtool warns about in a module). O(n log n).
fn heap_sort(v: &mut [[u64; 2]]) {
    fn sift(v: &mut [[u64; 2]], mut root: usize) {
        loop {
            let mut child = root * 2 + 1;
            let (Some(&c), Some(&r)) = (v.get(child), v.get(root)) else { return };
            let mut big = c;
            if let Some(&c2) = v.get(child + 1) {
                if c2 > c {
                    child += 1;
                    big = c2;
                }
            }
            if r >= big {
                return;
            }
            // v.swap(root, child), through the indices checked above.
            if let Some(x) = v.get_mut(root) {
                *x = big;
            }
            if let Some(x) = v.get_mut(child) {
                *x = r;
            }
            root = child;
        }
    }
    for start in (0..v.len() / 2).rev() {
        sift(v, start);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        if let Some(head) = v.get_mut(..end) {
            sift(head, 0);
        }
    }
}

impl Plan {
    /// Entries of scratch space [`Plan::new`] and [`Classifier::build`]
    /// need for `table`: two events per range of the busiest dimension plus
    /// one set of `W` words (two per entry).
    pub fn scratch_len<B, R, M>(table: &Table<B, R, M>) -> usize
    where
        R: AsRef<[Rule]>,
        M: AsRef<[Match]>,
    {
        let (rules, matches) = (table.rules.as_ref(), table.matches.as_ref());
        let mut most = 0usize;
        for dim in 0..DIMS {
            // A few ranges per rule: never saturates.
            let n = rules.iter().fold(0usize, |n, r| n.saturating_add(ranges(table.family, r, matches, dim).n));
            most = most.max(n);
        }
        most.saturating_mul(2).saturating_add(rules.len().div_ceil(128))
    }

    /// Lays out the classifier of `table`, using `scratch` (at least
    /// [`Plan::scratch_len`] entries) to sort each dimension's range ends.
    /// Leaves out a dimension no rule constrains, one over `8 * rules +
    /// 4096` words and one whose construction exceeds [`MAX_BUILD_WORK`].
    /// Errors: E2BIG when `scratch` is too short.
    pub fn new<B, R, M>(table: &Table<B, R, M>, scratch: &mut [[u64; 2]]) -> Result<Plan, Error>
    where
        R: AsRef<[Rule]>,
        M: AsRef<[Match]>,
    {
        let (rules, matches) = (table.rules.as_ref(), table.matches.as_ref());
        let set_words = rules.len().div_ceil(64);
        let cap = rules.len().saturating_mul(8).saturating_add(4096);
        let mut plan = Plan { family: table.family, rules: rules.len(), set_words, dims: [DimLayout::default(); DIMS], words: 0 };
        for dim in 0..DIMS {
            let n = events(table.family, rules, matches, dim, scratch).ok_or(Error::new(errno::E2BIG, "classifier scratch too short"))?;
            if n == 0 {
                continue;
            }
            struct Count {
                active: usize,
                intervals: usize,
                payload: usize,
                set_words: usize,
            }
            impl Sweep for Count {
                fn event(&mut self, _: usize, end: bool) {
                    self.active = if end { self.active.saturating_sub(1) } else { self.active.saturating_add(1) };
                }
                fn interval(&mut self, _: u64) {
                    self.intervals = self.intervals.saturating_add(1);
                    self.payload = self.payload.saturating_add(payload_words(self.active, self.set_words));
                }
            }
            let mut c = Count { active: 0, intervals: 0, payload: 0, set_words };
            sweep(scratch.get(..n).unwrap_or(&[]), &mut c);
            let words = c.intervals.saturating_mul(2).saturating_add(set_words).saturating_add(c.payload);
            let work = (c.intervals as u64).saturating_mul(set_words as u64 + 1);
            let end = plan.words.saturating_add(words);
            if words > cap || work > MAX_BUILD_WORK || end > u32::MAX as usize {
                continue;
            }
            let bounds = plan.words;
            plan.dims[dim] = DimLayout {
                used: true,
                intervals: c.intervals,
                bounds,
                // Below `end` (at most u32::MAX, checked above): none saturates.
                refs: bounds.saturating_add(c.intervals),
                wild: bounds.saturating_add(c.intervals.saturating_mul(2)),
                payload: bounds.saturating_add(c.intervals.saturating_mul(2)).saturating_add(set_words),
                words,
            };
            plan.words = end;
        }
        Ok(plan)
    }

    /// Words of storage the classifier needs (0: no dimension is used and
    /// a classifier would not help).
    pub fn words(&self) -> usize {
        self.words
    }

    /// Number of dimensions used.
    pub fn dimensions(&self) -> usize {
        self.dims.iter().filter(|d| d.used).count()
    }
}

/// The precomputed sets of a table's rules, over caller-provided storage of
/// [`Plan::words`] 64-bit words; passed to [`Table::evaluate_classified`].
pub struct Classifier<S> {
    plan: Plan,
    store: S,
}

/// Bit `i` of the set of `W` words that starts at `at` in `w`.
fn set_bit(w: &mut [u64], at: usize, i: usize) {
    if let Some(x) = w.get_mut(at.saturating_add(i / 64)) {
        *x |= 1u64 << (i % 64);
    }
}

/// The builder's sweep: keeps the active set in scratch, writes each
/// interval's start, reference and payload.
struct Fill<'a> {
    out: &'a mut [u64],
    active: &'a mut [[u64; 2]],
    count: usize,
    d: DimLayout,
    set_words: usize,
    next: usize,
    n: usize,
}

impl Fill<'_> {
    fn active_word(&self, w: usize) -> u64 {
        self.active.get(w / 2).map_or(0, |p| p[w % 2])
    }
}

impl Sweep for Fill<'_> {
    fn event(&mut self, rule: usize, end: bool) {
        if let Some(p) = self.active.get_mut(rule / 128) {
            let bit = 1u64 << (rule % 64);
            let x = &mut p[(rule / 64) % 2];
            if end {
                *x &= !bit;
                self.count = self.count.saturating_sub(1);
            } else {
                *x |= bit;
                self.count = self.count.saturating_add(1);
            }
        }
    }

    // Offsets saturate: one past usize::MAX is past `out` (the write is
    // skipped) and `build` then finds `next` or `n` off the plan (EINVAL).
    fn interval(&mut self, lo: u64) {
        let (i, at) = (self.n, self.next);
        if let Some(b) = self.out.get_mut(self.d.bounds.saturating_add(i)) {
            *b = lo;
        }
        let dense = is_dense(self.count, self.set_words);
        let r = if dense {
            for w in 0..self.set_words {
                let x = self.out.get(self.d.wild.saturating_add(w)).copied().unwrap_or(0) | self.active_word(w);
                if let Some(o) = self.out.get_mut(at.saturating_add(w)) {
                    *o = x;
                }
            }
            DENSE
        } else {
            let mut k = at;
            for w in 0..self.set_words {
                let mut bits = self.active_word(w);
                while bits != 0 {
                    let rule = w.saturating_mul(64).saturating_add(bits.trailing_zeros() as usize) as u64;
                    if let Some(o) = self.out.get_mut(k) {
                        *o = rule;
                    }
                    k = k.saturating_add(1);
                    bits &= bits - 1;
                }
            }
            (self.count as u64) << 1
        };
        // One word per set (at most 64 rules): the reference is the
        // interval's set itself, which the lookup reads without a second
        // load (the payload is written all the same).
        let r = if self.set_words == 1 {
            self.out.get(self.d.wild).copied().unwrap_or(0) | self.active_word(0)
        } else {
            (at as u64) << 32 | r
        };
        if let Some(o) = self.out.get_mut(self.d.refs.saturating_add(i)) {
            *o = r;
        }
        self.next = at.saturating_add(if dense { self.set_words } else { self.count });
        self.n = self.n.saturating_add(1);
    }
}

impl<S: AsRef<[u64]> + AsMut<[u64]>> Classifier<S> {
    /// Fills `store` (at least [`Plan::words`] words) with the sets of
    /// `table` as `plan` laid them out, using `scratch` as [`Plan::new`] did.
    /// Errors: EINVAL when the plan is not this table's or `store` is short,
    /// E2BIG when `scratch` is too short.
    pub fn build<B, R, M>(table: &Table<B, R, M>, plan: &Plan, scratch: &mut [[u64; 2]], mut store: S) -> Result<Self, Error>
    where
        R: AsRef<[Rule]>,
        M: AsRef<[Match]>,
    {
        let (rules, matches) = (table.rules.as_ref(), table.matches.as_ref());
        if plan.rules != rules.len() || plan.family != table.family {
            return Err(Error::inval("classifier plan of another table"));
        }
        let out = store.as_mut().get_mut(..plan.words).ok_or(Error::inval("classifier storage too short"))?;
        out.fill(0);
        let set_words = plan.set_words;
        let pairs = set_words.div_ceil(2);
        let evlen = scratch.len().checked_sub(pairs).ok_or(Error::new(errno::E2BIG, "classifier scratch too short"))?;
        let (ev, active) = scratch.split_at_mut(evlen);
        for (dim, d) in plan.dims.iter().enumerate() {
            if !d.used {
                continue;
            }
            let n = events(table.family, rules, matches, dim, ev).ok_or(Error::new(errno::E2BIG, "classifier scratch too short"))?;
            let bad = || Error::inval("classifier layout");
            let dout = out.get_mut(d.bounds..).and_then(|o| o.get_mut(..d.words)).ok_or_else(bad)?;
            let local = DimLayout {
                bounds: 0,
                refs: d.refs.checked_sub(d.bounds).ok_or_else(bad)?,
                wild: d.wild.checked_sub(d.bounds).ok_or_else(bad)?,
                payload: d.payload.checked_sub(d.bounds).ok_or_else(bad)?,
                ..*d
            };
            for (i, r) in rules.iter().enumerate() {
                if ranges(table.family, r, matches, dim).n == 0 {
                    set_bit(dout, local.wild, i);
                }
            }
            active.fill([0, 0]);
            let mut f = Fill { out: dout, active, count: 0, d: local, set_words, next: local.payload, n: 0 };
            sweep(ev.get(..n).unwrap_or(&[]), &mut f);
            if f.n != d.intervals || f.next != d.words {
                return Err(Error::inval("classifier plan of another table"));
            }
        }
        Ok(Classifier { plan: *plan, store })
    }
}

impl<S: AsRef<[u64]>> Classifier<S> {
    /// Words of storage in use.
    pub fn words(&self) -> usize {
        self.plan.words
    }

    /// Whether this classifier was built for a table of `rules` rules of `family`.
    pub(crate) fn fits(&self, family: Family, rules: usize) -> bool {
        self.plan.family == family && self.plan.rules == rules
    }

    /// The sets the packet of `f` selects in each usable dimension (the
    /// host tests' form).
    #[cfg(test)]
    pub(crate) fn lookup(&self, f: &Facts<'_>) -> Lookup<'_> {
        let mut l = Lookup::unused();
        self.lookup_into(f, &mut l);
        l
    }

    /// [`Classifier::lookup`] into `l` (one [`Lookup::unused`] of the
    /// caller's): the walk's form, which keeps the lookup where it is
    /// used (returned by value, its 176 bytes were copied by a call to
    /// memcpy a packet). Inlined into the walk, its one caller.
    ///
    /// A table of at most 64 rules has one word per set, which the
    /// interval's reference is: the sets are intersected here, as they are
    /// found, and not kept ([`Lookup::next`] only ever needs that word).
    #[inline(always)]
    pub(crate) fn lookup_into<'a>(&'a self, f: &Facts<'_>, l: &mut Lookup<'a>) {
        let store = self.store.as_ref();
        l.set_words = self.plan.set_words;
        if l.set_words == 1 {
            let word = self.single_word(store, f);
            (l.at, l.word, l.n) = (0, word, 1);
            return;
        }
        for dim in ORDER {
            let Some(d) = self.plan.dims.get(dim).filter(|d| d.used) else { continue };
            let Some(key) = packet_key(f, dim) else { continue };
            // Offsets are the dimension's own (Plan::new laid them out
            // inside its `words`); a bad one only leaves the dimension out.
            let Some(dw) = sub(store, d.bounds, d.words) else { continue };
            let Some(r) = interval_ref(store, d, key) else { continue };
            let at = (r >> 32) as usize;
            let set = if r & DENSE != 0 {
                DimSet::Dense(sub(dw, at, l.set_words).unwrap_or(&[]))
            } else {
                let len = ((r & 0xffff_ffff) >> 1) as usize;
                let wild = sub(dw, d.wild.wrapping_sub(d.bounds), l.set_words);
                DimSet::Sparse(wild.unwrap_or(&[]), sub(dw, at, len).unwrap_or(&[]))
            };
            if let Some(s) = l.sets.get_mut(l.n) {
                *s = set;
                // l.n indexed l.sets: below DIMS, never saturates.
                l.n = l.n.saturating_add(1);
            }
        }
    }

    /// The candidates of a table of at most 64 rules for the packet of
    /// `f`: the intersection of the one-word sets its keys select, read
    /// from the intervals' references (which are the sets then, see
    /// `Fill::interval`). The keys are worked out once, and each used
    /// dimension costs a binary search and one load.
    #[inline(always)]
    fn single_word(&self, store: &[u64], f: &Facts<'_>) -> u64 {
        let d = &self.plan.dims;
        // One call a dimension, each with its key worked out inline, not a
        // loop over them: a loop (over an array of the keys) cost some 25
        // instructions a dimension.
        let word = |dim: usize| match d.get(dim).filter(|d| d.used) {
            Some(d) => packet_key(f, dim).and_then(|key| interval_ref(store, d, key)).unwrap_or(!0),
            None => !0,
        };
        word(PROTO) & word(SADDR) & word(DADDR) & word(SPORT) & word(DPORT)
    }
}

/// The reference of the interval of dimension `d` that `key` falls in
/// (`Fill::interval`; with one word per set, the set itself): a binary
/// search of the dimension's bounds and one load. `d`'s offsets are into
/// the whole `store`; `None` when they are bad.
#[inline(always)]
fn interval_ref(store: &[u64], d: &DimLayout, key: u64) -> Option<u64> {
    let bounds = sub(store, d.bounds, d.intervals)?;
    let i = bounds.partition_point(|&b| b <= key).checked_sub(1)?;
    // `refs` is past `bounds`, whose `intervals` words `i` indexes.
    store.get(d.refs.wrapping_add(i)).copied()
}

/// The key of the packet in dimension `dim`, or `None` when the kernel
/// would not reach that test without possibly hot-dropping (module docs).
#[inline(always)]
fn packet_key(f: &Facts<'_>, dim: usize) -> Option<u64> {
    match dim {
        PROTO => f.proto.map(u64::from),
        SADDR => Some(addr_key(f.family, f.saddr)),
        DADDR => Some(addr_key(f.family, f.daddr)),
        _ => port_keys_usable(f).then_some(u64::from(if dim == SPORT { f.sport } else { f.dport })),
    }
}

/// Whether the packet of `f` has port keys the kernel would reach without
/// possibly hot-dropping: a first (or only) fragment with a whole tcp or
/// udp header.
#[inline(always)]
fn port_keys_usable(f: &Facts<'_>) -> bool {
    let complete = match f.proto {
        Some(6) => f.l4_len >= 20,
        Some(17) => f.l4_len >= 8,
        _ => false,
    };
    f.fragoff == 0 && complete
}

/// One dimension's set for a packet.
#[derive(Clone, Copy)]
pub(crate) enum DimSet<'a> {
    /// Every candidate rule, a bit each.
    Dense(&'a [u64]),
    /// The wildcard set and the sorted numbers of the constraining rules.
    Sparse(&'a [u64], &'a [u64]),
}

impl DimSet<'_> {
    /// Word `w` of the set (rules `64 * w` to `64 * w + 63`); all ones past
    /// the end, so a short slice only widens the candidates.
    #[inline(always)]
    fn word(&self, w: usize) -> u64 {
        match *self {
            DimSet::Dense(d) => d.get(w).copied().unwrap_or(!0),
            DimSet::Sparse(wild, list) => {
                let mut x = wild.get(w).copied().unwrap_or(!0);
                let base = (w as u64).saturating_mul(64);
                let start = list.partition_point(|&r| r < base);
                for &r in list.get(start..).unwrap_or(&[]) {
                    let off = r.wrapping_sub(base);
                    if off >= 64 {
                        break;
                    }
                    x |= 1u64 << off;
                }
                x
            }
        }
    }
}

/// A packet's view of the classifier: one set per usable dimension, and
/// the intersection of the sets' word last asked for. With one word per
/// set (at most 64 rules) only the intersection is kept.
pub(crate) struct Lookup<'a> {
    /// The sets of the first `n` dimensions used (none kept when
    /// `set_words` is 1: `word` is then their intersection, `at` 0).
    sets: [DimSet<'a>; DIMS],
    /// Dimensions used.
    n: usize,
    set_words: usize,
    /// The word (rules `64 * at` on) `word` is the intersection of;
    /// `usize::MAX` for none yet.
    at: usize,
    word: u64,
}

impl Lookup<'_> {
    /// No dimension: [`Lookup::next`] returns its argument.
    #[inline(always)]
    pub(crate) const fn unused() -> Self {
        Lookup { sets: [DimSet::Dense(&[]); DIMS], n: 0, set_words: 0, at: usize::MAX, word: 0 }
    }

    /// The first rule at index `>= i` that may match (in every set), or an
    /// index past the last rule when none may (the linear walk would have
    /// run off the table too). Returns `i` when no dimension is usable.
    /// The sets' intersection is kept a word at a time: a walk through the
    /// candidates of one 64-rule word intersects it once.
    #[inline]
    pub(crate) fn next(&mut self, i: usize) -> usize {
        if self.n == 0 {
            return i;
        }
        let mut w = i / 64;
        let mut mask = !0u64 << (i % 64);
        while w < self.set_words {
            if self.at != w {
                let mut c = !0u64;
                for s in self.sets.get(..self.n).unwrap_or(&[]) {
                    c &= s.word(w);
                    if c == 0 {
                        break;
                    }
                }
                (self.at, self.word) = (w, c);
            }
            let c = self.word & mask;
            if c != 0 {
                // A rule index (w < set_words, a set has a bit per rule):
                // never saturates.
                return w.saturating_mul(64).saturating_add(c.trailing_zeros() as usize);
            }
            w += 1;
            mask = !0;
        }
        i.max(self.set_words.saturating_mul(64))
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn ne4(a: [u8; 4]) -> u128 {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&a);
        u128::from_ne_bytes(b)
    }

    fn ne6(hex: u128) -> u128 {
        u128::from_ne_bytes(hex.to_be_bytes())
    }

    #[test]
    fn address_prefixes_become_key_ranges() {
        let v4 = Family::Ipv4;
        assert_eq!(addr_range(v4, ne4([10, 0, 0, 0]), ne4([255, 0, 0, 0]), false), Some((0x0a00_0000, 0x0aff_ffff)));
        assert_eq!(addr_range(v4, ne4([10, 7, 0, 2]), ne4([255; 4]), false), Some((0x0a07_0002, 0x0a07_0002)));
        // Inverted, mask 0, a hole in the mask, a value outside its mask: no range.
        assert_eq!(addr_range(v4, ne4([10, 0, 0, 0]), ne4([255, 0, 0, 0]), true), None);
        assert_eq!(addr_range(v4, 0, 0, false), None);
        assert_eq!(addr_range(v4, ne4([10, 0, 1, 0]), ne4([255, 0, 255, 0]), false), None);
        assert_eq!(addr_range(v4, ne4([10, 1, 0, 0]), ne4([255, 0, 0, 0]), false), None);
        let v6 = Family::Ipv6;
        // /48: the range of upper halves; /128: its /64 (a superset).
        let (a, m48) = (0xfd00_0001_0002_0000_0000_0000_0000_0000u128, !0u128 << 80);
        assert_eq!(addr_range(v6, ne6(a), ne6(m48), false), Some((0xfd00_0001_0002_0000, 0xfd00_0001_0002_ffff)));
        let host = 0xfd00_0001_0002_0003_0000_0000_0000_0009u128;
        assert_eq!(addr_range(v6, ne6(host), ne6(!0), false), Some((0xfd00_0001_0002_0003, 0xfd00_0001_0002_0003)));
        assert_eq!(addr_key(v6, ne6(host)), 0xfd00_0001_0002_0003);
        assert_eq!(addr_key(v4, ne4([192, 168, 1, 2])), 0xc0a8_0102);
    }

    #[test]
    fn ranges_merge_and_events_sort() {
        let mut r = Ranges::NONE;
        for (lo, hi) in [(90, 95), (80, 90), (96, 96), (10, 10), (12, 12)] {
            r.push(lo, hi);
        }
        assert_eq!(r.normalize().as_slice(), &[(10, 10), (12, 12), (80, 96)]);
        // 16th range: dropped (multiport has at most 15), never out of bounds.
        let mut full = Ranges::NONE;
        for i in 0..16 {
            full.push(i * 10, i * 10);
        }
        assert_eq!(full.n, MAX_RANGES);
        let mut rng = 0x1234_5678u64;
        for len in [0usize, 1, 2, 3, 17, 500] {
            let mut v: std::vec::Vec<[u64; 2]> = (0..len)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    [rng % 50, rng % 7]
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            heap_sort(&mut v);
            assert_eq!(v, want);
        }
    }
}
