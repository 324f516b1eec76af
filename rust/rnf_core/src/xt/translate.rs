// SPDX-License-Identifier: GPL-2.0
//! Validation and decoding of a `SET_REPLACE` blob: the kernel's
//! `translate_table`, `check_entry_size_and_hooks`, `xt_check_entry_offsets`,
//! `xt_check_table_hooks`, `mark_source_chains` and `find_check_entry`
//! (net/ipv4/netfilter/ip_tables.c, net/ipv6/netfilter/ip6_tables.c,
//! net/netfilter/x_tables.c).

use super::abi::{self, bytes, cstr, layout, ne16, ne32, sub, EntryLayout, XT_ENTRY_MATCH_SIZE, XT_ENTRY_TARGET_SIZE};
use super::ext::{self, CheckCtx, ExtId};
use super::header::{name_of, Info};
use super::rule::{IpPart, Match, Rule, Target};
use super::{errno, Error, Family, ReplaceHeader, RejectWith, TableDef, NF_INET_NUMHOOKS};

/// Deepest user-chain nesting the packet path follows; a packet that would
/// go deeper is dropped, as the kernel does when its per-table jump stack
/// (one slot per `ERROR` entry) is full.
pub const JUMP_STACK_DEPTH: usize = 64;

/// Storage the caller allocates before [`Table::translate`] (from [`measure`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Number of entries (= `num_entries`): length of the rule storage.
    pub rules: usize,
    /// Total number of matches: length of the match storage.
    pub matches: usize,
}

/// One entry's raw fields after the offset checks.
struct RawEntry {
    next: usize,
    target_off: usize,
}

/// `check_entry_size_and_hooks` minus the hook part, plus
/// `xt_check_entry_offsets` and `xt_check_entry_match`: everything needed to
/// walk the blob safely. Returns the entry and its number of matches.
fn check_entry(l: &EntryLayout, blob: &[u8], off: usize) -> Result<(RawEntry, usize), Error> {
    if off % abi::XT_ALIGN != 0 {
        return Err(Error::inval("entry not 8-byte aligned"));
    }
    // The entry and what follows it: offsets below are relative to it, so
    // none is added to `off` (`off + x > blob.len()` is `x > rest.len()`).
    let rest = blob.get(off..).unwrap_or(&[]);
    if rest.len() <= l.size {
        return Err(Error::inval("entry header runs past the end"));
    }
    let next = usize::from(ne16(rest, l.next_offset).ok_or(Error::inval("short entry"))?);
    let target_off = usize::from(ne16(rest, l.target_offset).ok_or(Error::inval("short entry"))?);
    if next > rest.len() {
        return Err(Error::inval("next_offset runs past the end"));
    }
    if next < l.size.saturating_add(XT_ENTRY_TARGET_SIZE) {
        return Err(Error::inval("next_offset smaller than entry + target"));
    }
    // ip_checkentry / ip6_checkentry: flag masks.
    let (flags, invflags, fmask) = match l.size {
        abi::IPT_ENTRY_SIZE => (abi::ipt_ip::FLAGS, abi::ipt_ip::INVFLAGS, abi::ipt_ip::F_MASK),
        _ => (abi::ip6t_ip6::FLAGS, abi::ip6t_ip6::INVFLAGS, abi::ip6t_ip6::F_MASK),
    };
    let e = rest.get(..next).ok_or(Error::inval("short entry"))?;
    if e.get(flags).map_or(true, |f| f & !fmask != 0) || e.get(invflags).map_or(true, |f| f & !abi::inv::MASK != 0) {
        return Err(Error::inval("unknown flags or invflags in the ip part"));
    }
    // xt_check_entry_offsets.
    if target_off < l.size {
        return Err(Error::inval("target_offset inside the entry header"));
    }
    if target_off + XT_ENTRY_TARGET_SIZE > next {
        return Err(Error::inval("target header past next_offset"));
    }
    let tsize = usize::from(ne16(e, target_off).ok_or(Error::inval("short target"))?);
    if tsize < XT_ENTRY_TARGET_SIZE {
        return Err(Error::inval("target_size smaller than its header"));
    }
    if target_off + tsize > next {
        return Err(Error::inval("target runs past next_offset"));
    }
    let tname = e.get(target_off + 2..target_off + 2 + abi::XT_EXTENSION_MAXNAMELEN).ok_or(Error::inval("short target"))?;
    let tname = cstr(tname);
    if tname == Some(b"") {
        if abi::xt_align(target_off + 36) != Some(next) {
            return Err(Error::inval("standard target: next_offset != XT_ALIGN(target_offset + 36)"));
        }
        let v = ne32(e, target_off + XT_ENTRY_TARGET_SIZE).ok_or(Error::inval("short verdict"))? as i32;
        let ok = v > 0 || v == abi::XT_RETURN || v == -abi::NF_ACCEPT - 1 || v == -abi::NF_DROP - 1 || v == -abi::NF_QUEUE - 1;
        if !ok {
            return Err(Error::inval("standard verdict out of range"));
        }
    } else if tname == Some(b"ERROR") {
        let name = e.get(target_off + 32..target_off + 62).ok_or(Error::inval("short ERROR target"))?;
        if tsize != abi::XT_ERROR_TARGET_SIZE || cstr(name).is_none() {
            return Err(Error::inval("ERROR target: wrong size or unterminated chain name"));
        }
    }
    // xt_check_entry_match.
    let mut pos = l.size;
    let mut n = 0usize;
    while pos < target_off {
        let length = target_off - pos;
        // `off` is aligned (checked above): `off + pos` is when `pos` is.
        if pos % abi::XT_ALIGN != 0 {
            return Err(Error::inval("match not 8-byte aligned"));
        }
        if length < XT_ENTRY_MATCH_SIZE {
            return Err(Error::inval("match header past the target"));
        }
        let ms = usize::from(ne16(e, pos).ok_or(Error::inval("short match"))?);
        if ms < XT_ENTRY_MATCH_SIZE || ms > length {
            return Err(Error::inval("match_size out of range"));
        }
        // pos + ms <= target_off (ms <= length) and n <= pos: no overflow.
        pos = pos.saturating_add(ms);
        n = n.saturating_add(1);
    }
    Ok((RawEntry { next, target_off }, n))
}

fn check_header(def: &TableDef, hdr: &ReplaceHeader, entries: &[u8]) -> Result<(), Error> {
    if hdr.name() != def.name.as_bytes() {
        return Err(Error::new(errno::ENOENT, "no such table"));
    }
    if entries.len() != hdr.size as usize {
        return Err(Error::inval("entries length differs from size"));
    }
    if hdr.valid_hooks != def.valid_hooks {
        return Err(Error::inval("valid_hooks differ from the table's"));
    }
    Ok(())
}

/// First pass over a `SET_REPLACE` blob: checks the header against `def`
/// and every entry's offsets, and returns how many rules and matches the
/// caller must allocate. Errors: ENOENT (table name), EINVAL (sizes,
/// offsets, alignment, `num_entries` differs from the entries walked).
pub fn measure(def: &TableDef, hdr: &ReplaceHeader, entries: &[u8]) -> Result<Sizes, Error> {
    check_header(def, hdr, entries)?;
    let l = layout(def.family);
    let mut off = 0usize;
    let mut sizes = Sizes::default();
    while off < entries.len() {
        let (e, n) = check_entry(l, entries, off)?;
        // Each at most the blob's length (an entry is at least 112 bytes).
        sizes.rules = sizes.rules.saturating_add(1);
        sizes.matches = sizes.matches.saturating_add(n);
        off = off.checked_add(e.next).ok_or(Error::inval("next_offset runs past the end"))?;
    }
    if sizes.rules != hdr.num_entries as usize {
        return Err(Error::inval("num_entries differs from the entries in the blob"));
    }
    Ok(sizes)
}

/// A validated, decoded table: the blob as user space sent it (for
/// `GET_ENTRIES`), one [`Rule`] per entry and the [`Match`]es.
pub struct Table<B, R, M> {
    pub(crate) family: Family,
    pub(crate) name: [u8; 32],
    pub(crate) valid_hooks: u32,
    pub(crate) hook_entry: [u32; NF_INET_NUMHOOKS],
    pub(crate) underflow: [u32; NF_INET_NUMHOOKS],
    /// Rule index of each hook's first rule and underflow.
    pub(crate) hook_rule: [u32; NF_INET_NUMHOOKS],
    pub(crate) underflow_rule: [u32; NF_INET_NUMHOOKS],
    /// Jump stack the kernel would allocate: number of ERROR entries.
    pub(crate) stacksize: usize,
    pub(crate) blob: B,
    pub(crate) rules: R,
    pub(crate) matches: M,
    /// Some rule has a target that edits the packet's bytes (`TCPMSS`,
    /// `DSCP`, `TOS`): see [`Table::edits`].
    pub(crate) edits: bool,
    /// For each hook whose first rule decides every walk alone (see
    /// [`Table::decided_at`]): that rule's index shifted left by one, with
    /// bit 0 set for ACCEPT (clear for DROP); [`NOT_DECIDED`] otherwise.
    /// Worked out here so that the packet path tests one word.
    pub(crate) decided: [u32; NF_INET_NUMHOOKS],
}

/// [`Table::decided`] for a hook whose walk looks at the packet.
pub(crate) const NOT_DECIDED: u32 = u32::MAX;

/// [`Table::decided`]: for each valid hook, whether its first rule is
/// unconditional (the kernel's `unconditional()`), has no match and an
/// ACCEPT or DROP verdict, and then that rule's index and verdict.
fn decided_hooks(rules: &[Rule], valid_hooks: u32, hook_rule: &[u32; NF_INET_NUMHOOKS]) -> [u32; NF_INET_NUMHOOKS] {
    let mut decided = [NOT_DECIDED; NF_INET_NUMHOOKS];
    // A range and checked shifts: no overflow check for the panic-sites
    // test to find (enumerate() counts with one, `1 << h` has one).
    for h in 0..NF_INET_NUMHOOKS {
        let valid = valid_hooks.checked_shr(h as u32).is_some_and(|v| v & 1 != 0);
        let (Some(&i), Some(d)) = (hook_rule.get(h), decided.get_mut(h)) else { continue };
        let Some(r) = rules.get(i as usize) else { continue };
        // Indices fit 31 bits: a rule is at least 112 bytes of a blob
        // whose size is a u32.
        if !valid || !r.ip.unconditional || r.num_matches != 0 || i > u32::MAX >> 1 {
            continue;
        }
        match r.target {
            Target::Accept => *d = i << 1 | 1,
            Target::Drop => *d = i << 1,
            _ => {}
        }
    }
    decided
}

/// Rule index of the entry at byte offset `off` (binary search, like `xt_find_jump_offset`).
fn index_of(rules: &[Rule], off: u32) -> Option<u32> {
    rules.binary_search_by(|r| r.offset.cmp(&off)).ok().and_then(|i| u32::try_from(i).ok())
}

fn decode_ip(family: Family, e: &[u8]) -> Result<IpPart, Error> {
    let short = Error::inval("short entry");
    let a16 = |o: usize, n: usize| -> Result<u128, Error> {
        let mut b = [0u8; 16];
        b.get_mut(..n).ok_or(short)?.copy_from_slice(e.get(o..o + n).ok_or(short)?);
        Ok(u128::from_ne_bytes(b))
    };
    let (al, base, hdr_len) = match family {
        Family::Ipv4 => (4, 0, 84),
        Family::Ipv6 => (16, 0, 136),
    };
    let (ifo, proto_off, flags_off, inv_off) = match family {
        Family::Ipv4 => (16, abi::ipt_ip::PROTO, abi::ipt_ip::FLAGS, abi::ipt_ip::INVFLAGS),
        Family::Ipv6 => (64, abi::ip6t_ip6::PROTO, abi::ip6t_ip6::FLAGS, abi::ip6t_ip6::INVFLAGS),
    };
    let mut ip = IpPart {
        src: a16(base, al)?,
        dst: a16(base + al, al)?,
        smsk: a16(base + 2 * al, al)?,
        dmsk: a16(base + 3 * al, al)?,
        iniface: a16(ifo, 16)?,
        outiface: a16(ifo + 16, 16)?,
        iniface_mask: a16(ifo + 32, 16)?,
        outiface_mask: a16(ifo + 48, 16)?,
        proto: ne16(e, proto_off).ok_or(short)?,
        flags: *e.get(flags_off).ok_or(short)?,
        invflags: *e.get(inv_off).ok_or(short)?,
        unconditional: e.get(..hdr_len).ok_or(short)?.iter().all(|&b| b == 0),
        tests: 0,
    };
    ip.compute_tests();
    Ok(ip)
}

fn goto_flag(family: Family) -> u8 {
    match family {
        Family::Ipv4 => abi::ipt_ip::F_GOTO,
        Family::Ipv6 => abi::ip6t_ip6::F_GOTO,
    }
}

fn is_standard(t: &Target) -> bool {
    matches!(t, Target::Accept | Target::Drop | Target::Return | Target::Jump { .. })
}

/// `unconditional()` and a standard verdict (`verdict < 0`).
fn is_uncond_end(r: &Rule) -> bool {
    r.ip.unconditional && r.num_matches == 0 && matches!(r.target, Target::Accept | Target::Drop | Target::Return)
}

/// `mark_source_chains` on decoded rules (positions are rule indices;
/// `back` plays the kernel's `counters.pcnt`). Jumps still hold byte
/// offsets; a jump that does not land on a rule start fails like the kernel (ELOOP).
fn mark_source_chains(rules: &mut [Rule], valid_hooks: u32, hook_rule: &[u32; NF_INET_NUMHOOKS]) -> bool {
    let n = rules.len();
    const SEEN: u32 = 1 << NF_INET_NUMHOOKS;
    for hook in 0..NF_INET_NUMHOOKS {
        if valid_hooks & (1 << hook) == 0 {
            continue;
        }
        let mut pos = hook_rule[hook] as usize;
        let Some(r) = rules.get_mut(pos) else { return false };
        r.back = pos as u32;
        loop {
            let Some(e) = rules.get_mut(pos) else { return false };
            let visited = e.comefrom & (1 << hook) != 0;
            if e.comefrom & SEEN != 0 {
                return false;
            }
            e.comefrom |= (1 << hook) | SEEN;
            if is_uncond_end(e) || visited {
                // Return: backtrack through the last big jump.
                let mut oldpos;
                loop {
                    let Some(e) = rules.get_mut(pos) else { return false };
                    e.comefrom ^= SEEN;
                    oldpos = pos;
                    pos = e.back as usize;
                    e.back = 0;
                    if pos == oldpos {
                        break;
                    }
                    if oldpos != pos + 1 {
                        break;
                    }
                }
                if pos == oldpos {
                    break; // at the start: next hook
                }
                // Move along one.
                if pos + 1 >= n {
                    return false;
                }
                if let Some(e) = rules.get_mut(pos + 1) {
                    e.back = pos as u32;
                }
                pos += 1;
            } else {
                let newpos = match e.target {
                    Target::Jump { to, .. } => match index_of_raw(rules, to) {
                        Some(i) => i as usize,
                        None => return false,
                    },
                    _ => {
                        if pos + 1 >= n {
                            return false;
                        }
                        pos + 1
                    }
                };
                let Some(e) = rules.get_mut(newpos) else { return false };
                e.back = pos as u32;
                pos = newpos;
            }
        }
    }
    true
}

fn index_of_raw(rules: &[Rule], off: u32) -> Option<u32> {
    index_of(rules, off)
}

impl<B, R, M> Table<B, R, M>
where
    B: AsRef<[u8]>,
    R: AsRef<[Rule]> + AsMut<[Rule]>,
    M: AsRef<[Match]> + AsMut<[Match]>,
{
    /// Validates `blob` (the `size` bytes of entries after `hdr`) like
    /// `translate_table` and decodes it into `rules` and `matches`, whose
    /// lengths must be those [`measure`] returned (EINVAL otherwise).
    ///
    /// Errors: EINVAL (sizes, offsets, alignment, flags, hooks and
    /// underflows, verdicts, extension data sizes and checkentry rules),
    /// ELOOP (a loop, or a reachable jump not on a rule start), ENOENT /
    /// ENOENT / EPROTOTYPE (unknown extension or revision, as
    /// `xt_find_match` / `xt_find_target`), ERANGE (`limit`).
    /// `hdr.num_counters` against the current table is the caller's check.
    pub fn translate(def: &TableDef, hdr: &ReplaceHeader, blob: B, mut rules: R, mut matches: M) -> Result<Self, Error> {
        let sizes = measure(def, hdr, blob.as_ref())?;
        if rules.as_ref().len() != sizes.rules || matches.as_ref().len() != sizes.matches {
            return Err(Error::inval("rule or match storage not the measured size"));
        }
        let family = def.family;
        let l = layout(family);
        let mut hook_entry = [u32::MAX; NF_INET_NUMHOOKS];
        let mut underflow = [u32::MAX; NF_INET_NUMHOOKS];
        let mut stacksize = 0usize;
        {
            let b = blob.as_ref();
            let rs = rules.as_mut();
            let mut off = 0usize;
            let mut first_match = 0usize;
            for r in rs.iter_mut() {
                let (e, n) = check_entry(l, b, off)?;
                let end = off.checked_add(e.next).ok_or(Error::inval("next_offset runs past the end"))?;
                let eb = sub(b, off, e.next).ok_or(Error::inval("short entry"))?;
                let tb = eb.get(e.target_off..).unwrap_or(&[]);
                let ip = decode_ip(family, eb)?;
                *r = Rule {
                    offset: off as u32,
                    next_offset: e.next as u16,
                    comefrom: 0,
                    back: 0,
                    ip,
                    first_match: first_match as u32,
                    num_matches: n as u16,
                    target: Target::Error,
                    ..Rule::default()
                };
                first_match = first_match.checked_add(n).ok_or(Error::inval("match storage"))?;
                // Provisional target: standard verdicts now, the rest after mark.
                let tname = tb.get(2..31).and_then(cstr);
                if tname == Some(b"") {
                    let v = ne32(tb, 32).ok_or(Error::inval("short verdict"))? as i32;
                    r.target = if v >= 0 {
                        let next_rule = end as u32;
                        let push = v as u32 != next_rule && ip.flags & goto_flag(family) == 0;
                        Target::Jump { to: v as u32, push }
                    } else if v == abi::XT_RETURN {
                        Target::Return
                    } else if v == -abi::NF_ACCEPT - 1 {
                        Target::Accept
                    } else {
                        Target::Drop
                    };
                } else if tname == Some(b"ERROR") {
                    stacksize = stacksize.saturating_add(1);
                } else {
                    r.target = Target::Reject(None); // non-standard placeholder
                }
                for h in 0..NF_INET_NUMHOOKS {
                    if def.valid_hooks & (1 << h) == 0 {
                        continue;
                    }
                    if off as u32 == hdr.hook_entry[h] {
                        hook_entry[h] = hdr.hook_entry[h];
                    }
                    if off as u32 == hdr.underflow[h] {
                        // check_underflow: unconditional standard ACCEPT or DROP.
                        if !(ip.unconditional && n == 0 && matches!(r.target, Target::Accept | Target::Drop))
                            || ne32(tb, 32).map_or(true, |v| v as i32 == -abi::NF_QUEUE - 1)
                        {
                            return Err(Error::inval("underflow is not an unconditional ACCEPT/DROP"));
                        }
                        underflow[h] = hdr.underflow[h];
                    }
                }
                off = end;
            }
        }
        check_table_hooks(def.valid_hooks, &hook_entry, &underflow)?;
        let mut hook_rule = [0u32; NF_INET_NUMHOOKS];
        let mut underflow_rule = [0u32; NF_INET_NUMHOOKS];
        {
            let rs = rules.as_ref();
            for h in 0..NF_INET_NUMHOOKS {
                if def.valid_hooks & (1 << h) != 0 {
                    hook_rule[h] = index_of(rs, hook_entry[h]).ok_or(Error::inval("hook entry"))?;
                    underflow_rule[h] = index_of(rs, underflow[h]).ok_or(Error::inval("underflow"))?;
                }
            }
        }
        if !mark_source_chains(rules.as_mut(), def.valid_hooks, &hook_rule) {
            return Err(Error::new(errno::ELOOP, "rule loop, or a jump that does not land on a rule"));
        }
        // Resolve every jump (also unreachable ones) to a rule index.
        {
            let rs = rules.as_mut();
            for i in 0..rs.len() {
                if let Some(Target::Jump { to, push }) = rs.get(i).map(|r| r.target) {
                    let idx = index_of(rs, to).ok_or(Error::inval("jump does not land on a rule start"))?;
                    if let Some(r) = rs.get_mut(i) {
                        r.target = Target::Jump { to: idx, push };
                        r.comefrom &= (1 << NF_INET_NUMHOOKS) - 1;
                    }
                }
            }
        }
        // find_check_entry: matches and targets.
        {
            let b = blob.as_ref();
            let rs = rules.as_mut();
            let ms = matches.as_mut();
            for r in rs.iter_mut() {
                r.comefrom &= (1 << NF_INET_NUMHOOKS) - 1;
                let eb = b.get(r.offset as usize..r.offset as usize + usize::from(r.next_offset)).ok_or(Error::inval("short entry"))?;
                let target_off = usize::from(ne16(eb, l.target_offset).ok_or(Error::inval("short entry"))?);
                let mut cx =
                    CheckCtx { table: def.name.as_bytes(), hook_mask: r.comefrom, ip: &r.ip, family, data_off: 0 };
                let mut pos = l.size;
                for k in 0..usize::from(r.num_matches) {
                    let ms_size = usize::from(ne16(eb, pos).ok_or(Error::inval("short match"))?);
                    let mb = sub(eb, pos, ms_size).ok_or(Error::inval("short match"))?;
                    let name = cstr(mb.get(2..31).ok_or(Error::inval("short match"))?)
                        .ok_or(Error::inval("match name not NUL-terminated"))?;
                    let rev = *mb.get(31).ok_or(Error::inval("short match"))?;
                    let ext = ext::lookup(family, false, name, rev)?;
                    cx.data_off = r.offset as usize + pos + XT_ENTRY_MATCH_SIZE;
                    let kind = ext::decode_match(ext, mb.get(32..).unwrap_or(&[]), &cx)?;
                    let slot = (r.first_match as usize).checked_add(k).and_then(|i| ms.get_mut(i));
                    let slot = slot.ok_or(Error::inval("match storage"))?;
                    *slot = Match { kind };
                    pos += ms_size;
                }
                let tsize = usize::from(ne16(eb, target_off).ok_or(Error::inval("short target"))?);
                let tb = eb.get(target_off..target_off + tsize).ok_or(Error::inval("short target"))?;
                let name = cstr(tb.get(2..31).ok_or(Error::inval("short target"))?)
                    .ok_or(Error::inval("target name not NUL-terminated"))?;
                let rev = *tb.get(31).ok_or(Error::inval("short target"))?;
                let ext = ext::lookup(family, true, name, rev)?;
                let data = tb.get(32..).unwrap_or(&[]);
                ext::check_common(ext, data.len(), &cx)?;
                match ext.id {
                    ExtId::Standard => debug_assert!(is_standard(&r.target)),
                    ExtId::ErrorTarget => r.target = Target::Error,
                    ExtId::Reject => r.target = Target::Reject(decode_reject(family, data, &r.ip)?),
                    ExtId::Log => {
                        let level = *data.first().ok_or(Error::inval("short LOG"))?;
                        let flags = *data.get(1).ok_or(Error::inval("short LOG"))?;
                        let prefix = bytes::<30>(data, 2).ok_or(Error::inval("short LOG"))?;
                        if level >= 8 || prefix[29] != 0 {
                            return Err(Error::inval("LOG: level >= 8 or prefix not NUL-terminated"));
                        }
                        r.target = Target::Log { level, flags, prefix };
                    }
                    ExtId::Nat(kind, payload) => {
                        r.target = Target::Nat(super::nat::decode_nat_target(kind, payload, family, data)?)
                    }
                    ExtId::Tcpmss => {
                        let first = r.first_match as usize;
                        let own = ms.get(first..first + usize::from(r.num_matches)).unwrap_or(&[]);
                        r.target = super::mangle::decode_tcpmss(data, r.comefrom, own)?;
                    }
                    ExtId::Dscp => r.target = super::mangle::decode_dscp(data)?,
                    ExtId::Tos => r.target = super::mangle::decode_tos(data)?,
                    ExtId::Ct(rev) => r.target = super::ct::decode_ct(rev, data)?,
                    ExtId::Notrack => r.target = Target::Notrack,
                    ExtId::Mark(id) => r.target = super::marks::decode_target(id, data)?,
                    _ => return Err(Error::new(errno::ENOENT, "match used as a target")),
                }
            }
        }
        // Number the hashlimit matches in rule order: the slots of their
        // named tables (`Table::hashlimits`).
        let mut slot = 0u32;
        for m in matches.as_mut().iter_mut() {
            if let super::rule::MatchKind::Hashlimit(h) = &mut m.kind {
                h.slot = slot;
                slot = slot.checked_add(1).ok_or(Error::inval("too many hashlimit matches"))?;
            }
        }
        // Number the CT templates in rule order: the slots of the
        // templates the caller allocates (`Table::ct_templates`).
        let mut slot = 0u32;
        for r in rules.as_mut().iter_mut() {
            if let Target::CtTemplate(t) = &mut r.target {
                t.slot = slot;
                slot = slot.checked_add(1).ok_or(Error::inval("too many CT targets"))?;
            }
        }
        let mut name = [0u8; 32];
        name.get_mut(..def.name.len().min(31)).map(|d| d.copy_from_slice(def.name.as_bytes().get(..d.len()).unwrap_or(&[])));
        let edits = rules.as_ref().iter().any(|r| matches!(r.target, Target::Tcpmss(_) | Target::DsField { .. }));
        let decided = decided_hooks(rules.as_ref(), def.valid_hooks, &hook_rule);
        Ok(Table { family, name, valid_hooks: def.valid_hooks, hook_entry, underflow, hook_rule, underflow_rule, stacksize, blob, rules, matches, edits, decided })
    }

    /// The `GET_INFO` answer.
    pub fn info(&self) -> Info {
        Info {
            name: self.name,
            valid_hooks: self.valid_hooks,
            hook_entry: self.hook_entry,
            underflow: self.underflow,
            num_entries: self.num_entries(),
            size: self.size(),
        }
    }

    /// Number of entries (rules, including chain heads and policies).
    pub fn num_entries(&self) -> u32 {
        self.rules.as_ref().len() as u32
    }

    /// Size of the entries blob in bytes.
    pub fn size(&self) -> u32 {
        self.blob.as_ref().len() as u32
    }

    /// The table's family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Whether a walk of this table may change the packet's bytes (it has a
    /// `TCPMSS`, `DSCP` or `TOS` rule). The caller of [`Table::evaluate`]
    /// must then hand it headers and a link-layer header that do not point
    /// into the packet (copies), because [`Env::edit`](super::Env::edit)
    /// writes there and may move the packet's data.
    pub fn edits(&self) -> bool {
        self.edits
    }

    /// The table name without NUL.
    pub fn name(&self) -> &[u8] {
        name_of(&self.name)
    }

    /// The `hashlimit` matches in rule order, one per slot `0..`, with
    /// their table names and configurations: the caller finds or creates
    /// each named table (`htable_find_get` / `htable_create`, after
    /// [`super::hashlimit::check_rate`]) and answers
    /// [`Env::hashlimit`](super::Env::hashlimit) for the slot.
    pub fn hashlimits(&self) -> impl Iterator<Item = super::hashlimit::Use<'_>> + '_ {
        let blob = self.blob.as_ref();
        let family = self.family;
        self.matches.as_ref().iter().filter_map(move |m| match &m.kind {
            super::rule::MatchKind::Hashlimit(h) => super::hashlimit::Use::of(h, blob, family),
            _ => None,
        })
    }

    /// The `CT` templates in rule order, one per slot `0..`:
    /// the caller allocates each template (`nf_ct_tmpl_alloc()` in
    /// `xt_ct_tg_check()`) and answers [`Env::ct_template`](super::Env::ct_template)
    /// for the slot.
    pub fn ct_templates(&self) -> impl Iterator<Item = super::CtTemplate> + '_ {
        self.rules.as_ref().iter().filter_map(|r| match r.target {
            Target::CtTemplate(t) => Some(t),
            _ => None,
        })
    }

    /// Gives the storage back (to free it after a grace period).
    pub fn into_parts(self) -> (B, R, M) {
        (self.blob, self.rules, self.matches)
    }
}

fn decode_reject(family: Family, data: &[u8], ip: &IpPart) -> Result<Option<RejectWith>, Error> {
    let with = ne32(data, 0).ok_or(Error::inval("short REJECT"))?;
    let tcp = ip.proto == 6 && ip.invflags & abi::inv::PROTO == 0;
    Ok(match family {
        Family::Ipv4 => match with {
            0 => Some(RejectWith::IcmpNetUnreach),
            1 => Some(RejectWith::IcmpHostUnreach),
            2 => Some(RejectWith::IcmpProtoUnreach),
            3 => Some(RejectWith::IcmpPortUnreach),
            4 => return Err(Error::inval("REJECT: echo-reply no longer supported")),
            5 => Some(RejectWith::IcmpNetProhibited),
            6 => Some(RejectWith::IcmpHostProhibited),
            7 if !tcp => return Err(Error::inval("REJECT: tcp-reset needs -p tcp")),
            7 => Some(RejectWith::TcpReset),
            8 => Some(RejectWith::IcmpAdminProhibited),
            _ => None,
        },
        Family::Ipv6 => match with {
            0 => Some(RejectWith::Icmp6NoRoute),
            1 => Some(RejectWith::Icmp6AdmProhibited),
            2 => Some(RejectWith::Icmp6NotNeighbour),
            3 => Some(RejectWith::Icmp6AddrUnreach),
            4 => Some(RejectWith::Icmp6PortUnreach),
            5 => return Err(Error::inval("REJECT: echo-reply no longer supported")),
            6 if !tcp || ip.flags & abi::ip6t_ip6::F_PROTO == 0 => {
                return Err(Error::inval("REJECT: tcp-reset needs -p tcp"))
            }
            6 => Some(RejectWith::TcpReset),
            7 => Some(RejectWith::Icmp6PolicyFail),
            8 => Some(RejectWith::Icmp6RejectRoute),
            _ => None,
        },
    })
}

/// `xt_check_table_hooks`: every valid hook has an entry and an underflow,
/// both strictly increasing in hook order.
fn check_table_hooks(valid: u32, entry: &[u32; NF_INET_NUMHOOKS], uflow: &[u32; NF_INET_NUMHOOKS]) -> Result<(), Error> {
    let mut prev: Option<(u32, u32)> = None;
    for h in 0..NF_INET_NUMHOOKS {
        if valid & (1 << h) == 0 {
            continue;
        }
        if entry[h] == u32::MAX || uflow[h] == u32::MAX {
            return Err(Error::inval("hook entry or underflow not on an entry"));
        }
        if let Some((pe, pu)) = prev {
            if pu >= uflow[h] || pe >= entry[h] {
                return Err(Error::inval("hook entries or underflows unsorted or duplicate"));
            }
        }
        prev = Some((entry[h], uflow[h]));
    }
    Ok(())
}
