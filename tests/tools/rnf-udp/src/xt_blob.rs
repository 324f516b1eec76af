// SPDX-License-Identifier: GPL-2.0

//! The ip_tables / ip6_tables socket-option blobs, and the malformed
//! `SET_REPLACE` variants `rnf-udp xt-replace` sends. Pure byte work, no
//! system calls, so the host tests exercise all of it.
//!
//! Layouts (C headers: `include/uapi/linux/netfilter_ipv4/ip_tables.h`,
//! `netfilter_ipv6/ip6_tables.h`, `netfilter/x_tables.h`; the same on x86_64
//! and arm64, both LP64 with 8-byte aligned `__u64`), all integers in host
//! byte order:
//!
//! ```text
//! ipt_getinfo      84 bytes: name[32] valid_hooks hook_entry[5] underflow[5]
//!                  num_entries size
//! ipt_get_entries  40 bytes: name[32] size (+ pad), then the entries
//! ipt_replace      96 bytes: name[32] valid_hooks num_entries size
//!                  hook_entry[5] underflow[5] num_counters (+ pad) counters*,
//!                  then the entries
//! ipt_entry       112 bytes (ip6t_entry 168): the ip header part, nfcache,
//!                  target_offset (u16), next_offset (u16), comefrom, counters
//! xt_entry_match / xt_entry_target: size (u16) name[29] revision (u8) = 32
//! xt_standard_target: header + int verdict, 40 bytes aligned
//! xt_error_target: header + errorname[32], 64 bytes
//! ```
//!
//! The variants work on a table the guest test prepares (see `CASES`): user
//! chains `rnf_a` and `rnf_b`, INPUT's first rule `-j rnf_a`, `rnf_a`'s
//! first rule `-j rnf_b`, and in `rnf_b` a rule with a match and a standard
//! verdict, then a rule with a match and the `REJECT` target.

/// `sizeof(struct ipt_getinfo)` (= `ip6t_getinfo`).
pub const GETINFO_LEN: usize = 84;
/// `sizeof(struct ipt_get_entries)` (= `ip6t_get_entries`).
pub const GET_ENTRIES_LEN: usize = 40;
/// `sizeof(struct ipt_replace)` (= `ip6t_replace`).
pub const REPLACE_LEN: usize = 96;
/// `sizeof(struct xt_counters)`: packets and bytes, two `__u64`.
pub const COUNTERS_LEN: usize = 16;
/// Header of `xt_entry_match` and `xt_entry_target`.
const XT_HDR_LEN: usize = 32;
/// `XT_ALIGN(sizeof(struct xt_standard_target))`.
const STANDARD_TARGET_LEN: usize = 40;
/// `NF_INET_NUMHOOKS`.
pub const NUMHOOKS: usize = 5;
/// `NF_INET_LOCAL_IN`: the INPUT chain's hook.
const HOOK_LOCAL_IN: usize = 1;

/// Address family of the table: which entry layout and socket level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// `sizeof(struct ipt_entry)` or `sizeof(struct ip6t_entry)`.
    pub fn entry_len(self) -> usize {
        match self {
            Family::V4 => 112,
            Family::V6 => 168,
        }
    }

    /// Offset of `target_offset` in the entry (`next_offset` follows it).
    fn target_offset_at(self) -> usize {
        match self {
            Family::V4 => 88,
            Family::V6 => 140,
        }
    }

    /// Offset of `counters` in the entry.
    fn counters_at(self) -> usize {
        match self {
            Family::V4 => 96,
            Family::V6 => 152,
        }
    }

    /// Offset of `comefrom` in the entry.
    fn comefrom_at(self) -> usize {
        self.target_offset_at() + 4
    }
}

/// What GET_INFO reports about a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Info {
    pub valid_hooks: u32,
    pub hook_entry: [u32; NUMHOOKS],
    pub underflow: [u32; NUMHOOKS],
    pub num_entries: u32,
    pub size: u32,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn put_u16(b: &mut [u8], at: usize, v: u16) -> Result<(), String> {
    b.get_mut(at..at + 2)
        .ok_or_else(|| format!("offset {at} outside the blob"))?
        .copy_from_slice(&v.to_ne_bytes());
    Ok(())
}

fn put_u32(b: &mut [u8], at: usize, v: u32) -> Result<(), String> {
    b.get_mut(at..at + 4)
        .ok_or_else(|| format!("offset {at} outside the blob"))?
        .copy_from_slice(&v.to_ne_bytes());
    Ok(())
}

/// A NUL-terminated name of at most `len` bytes at `at`.
fn name_at(b: &[u8], at: usize, len: usize) -> Option<&str> {
    let raw = b.get(at..at.checked_add(len)?)?;
    let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
    std::str::from_utf8(&raw[..end]).ok()
}

/// The getinfo request for table `name` (GET_INFO's in/out buffer).
pub fn getinfo_request(name: &str) -> Result<Vec<u8>, String> {
    let mut b = vec![0u8; GETINFO_LEN];
    put_name(&mut b, 0, 32, name)?;
    Ok(b)
}

fn put_name(b: &mut [u8], at: usize, len: usize, name: &str) -> Result<(), String> {
    if name.len() >= len {
        return Err(format!("name {name} longer than {} bytes", len - 1));
    }
    let field = b
        .get_mut(at..at + len)
        .ok_or_else(|| format!("offset {at} outside the blob"))?;
    field.fill(0);
    field[..name.len()].copy_from_slice(name.as_bytes());
    Ok(())
}

/// Decodes a GET_INFO answer.
pub fn parse_getinfo(b: &[u8]) -> Result<Info, String> {
    if b.len() != GETINFO_LEN {
        return Err(format!("getinfo is {} bytes, not {GETINFO_LEN}", b.len()));
    }
    let word = |i: usize| u32_at(b, 32 + 4 * i).unwrap_or(0);
    let mut hook_entry = [0; NUMHOOKS];
    let mut underflow = [0; NUMHOOKS];
    for h in 0..NUMHOOKS {
        hook_entry[h] = word(1 + h);
        underflow[h] = word(1 + NUMHOOKS + h);
    }
    Ok(Info {
        valid_hooks: word(0),
        hook_entry,
        underflow,
        num_entries: word(11),
        size: word(12),
    })
}

/// The GET_ENTRIES request for `size` bytes of table `name`.
pub fn get_entries_request(name: &str, size: u32) -> Result<Vec<u8>, String> {
    let total = GET_ENTRIES_LEN
        .checked_add(size as usize)
        .ok_or("table size overflows")?;
    let mut b = vec![0u8; total];
    put_name(&mut b, 0, 32, name)?;
    put_u32(&mut b, 32, size)?;
    Ok(b)
}

/// One table as read back: its info and its entries blob.
#[derive(Clone, Debug)]
pub struct Table {
    pub family: Family,
    pub name: String,
    pub info: Info,
    pub entries: Vec<u8>,
}

/// Where an entry is in the blob, and its fields.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    pub off: usize,
    pub target_offset: usize,
    pub next_offset: usize,
}

impl Table {
    /// The entries, walked by `next_offset` with every bound checked; an
    /// inconsistent blob is an error, never a panic.
    pub fn walk(&self) -> Result<Vec<Entry>, String> {
        let f = self.family;
        let b = &self.entries;
        let mut out = Vec::new();
        let mut off = 0usize;
        while off < b.len() {
            let at = off + f.target_offset_at();
            let (Some(t), Some(n)) = (u16_at(b, at), u16_at(b, at + 2)) else {
                return Err(format!("entry at {off} is cut short"));
            };
            let (t, n) = (usize::from(t), usize::from(n));
            if n < f.entry_len() + XT_HDR_LEN || t < f.entry_len() || t + XT_HDR_LEN > n {
                return Err(format!(
                    "entry at {off}: target_offset {t}, next_offset {n}"
                ));
            }
            let end = off.checked_add(n).ok_or("offset overflow")?;
            if end > b.len() {
                return Err(format!("entry at {off} ends at {end}, past {}", b.len()));
            }
            out.push(Entry {
                off,
                target_offset: t,
                next_offset: n,
            });
            off = end;
        }
        if out.len() != self.info.num_entries as usize {
            return Err(format!(
                "{} entries, getinfo said {}",
                out.len(),
                self.info.num_entries
            ));
        }
        Ok(out)
    }

    /// The target name of entry `e`.
    fn target_name(&self, e: &Entry) -> Option<&str> {
        name_at(&self.entries, e.off + e.target_offset + 2, 29)
    }

    /// The user data of entry `e`'s target, as the C string an ERROR target
    /// carries (its chain name).
    fn error_name(&self, e: &Entry) -> Option<&str> {
        name_at(&self.entries, e.off + e.target_offset + XT_HDR_LEN, 32)
    }

    /// The index of the first rule of user chain `chain` (the entry after
    /// its ERROR head).
    fn user_chain_start(&self, entries: &[Entry], chain: &str) -> Result<usize, String> {
        let head = entries
            .iter()
            .position(|e| self.target_name(e) == Some("ERROR") && self.error_name(e) == Some(chain))
            .ok_or_else(|| format!("no user chain {chain} in the table"))?;
        if head + 1 >= entries.len() {
            return Err(format!("chain {chain} has no entries"));
        }
        Ok(head + 1)
    }

    /// The index of the entry at byte offset `off`.
    fn index_at(&self, entries: &[Entry], off: u32) -> Result<usize, String> {
        entries
            .iter()
            .position(|e| e.off == off as usize)
            .ok_or_else(|| format!("no entry starts at {off}"))
    }

    /// Zeroes the counters and comefrom of every entry: what stays the
    /// same between two reads of an unchanged table.
    pub fn rules_only(&self) -> Result<Vec<u8>, String> {
        let mut b = self.entries.clone();
        for e in self.walk()? {
            let c = e.off + self.family.counters_at();
            b[c..c + COUNTERS_LEN].fill(0);
            put_u32(&mut b, e.off + self.family.comefrom_at(), 0)?;
        }
        Ok(b)
    }
}

/// A SET_REPLACE request: the `ipt_replace` header fields and the entries.
#[derive(Clone, Debug, PartialEq)]
pub struct Replace {
    pub name: String,
    pub valid_hooks: u32,
    pub num_entries: u32,
    pub size: u32,
    pub hook_entry: [u32; NUMHOOKS],
    pub underflow: [u32; NUMHOOKS],
    pub num_counters: u32,
    pub entries: Vec<u8>,
    /// Bytes of the encoded request to pass as the option length (less than
    /// the whole for a truncated request).
    pub send_len: usize,
}

impl Replace {
    /// The unchanged table, as iptables-restore would send it back.
    pub fn from_table(t: &Table) -> Replace {
        Replace {
            name: t.name.clone(),
            valid_hooks: t.info.valid_hooks,
            num_entries: t.info.num_entries,
            size: t.info.size,
            hook_entry: t.info.hook_entry,
            underflow: t.info.underflow,
            num_counters: t.info.num_entries,
            entries: t.entries.clone(),
            send_len: REPLACE_LEN + t.entries.len(),
        }
    }

    /// The request bytes (`ipt_replace` then the entries), with `counters`
    /// as the address the kernel writes the old counters to.
    pub fn encode(&self, counters: u64) -> Result<Vec<u8>, String> {
        let mut b = vec![0u8; REPLACE_LEN];
        put_name(&mut b, 0, 32, &self.name)?;
        put_u32(&mut b, 32, self.valid_hooks)?;
        put_u32(&mut b, 36, self.num_entries)?;
        put_u32(&mut b, 40, self.size)?;
        for h in 0..NUMHOOKS {
            put_u32(&mut b, 44 + 4 * h, self.hook_entry[h])?;
            put_u32(&mut b, 64 + 4 * h, self.underflow[h])?;
        }
        put_u32(&mut b, 84, self.num_counters)?;
        b[88..96].copy_from_slice(&counters.to_ne_bytes());
        b.extend_from_slice(&self.entries);
        b.truncate(self.send_len);
        Ok(b)
    }
}

/// The variants `build` makes: name and what is wrong with it. Every one
/// but `valid` must be refused; the errno the kernel's own ip_tables returns
/// for each is recorded in tests/guest/tables.sh.
pub const CASES: &[(&str, &str)] = &[
    ("valid", "the table as read, unchanged (must be accepted)"),
    ("truncated", "option length shorter than header + size"),
    (
        "size-short",
        "size field 8 bytes short: the last entry is cut",
    ),
    ("size-long", "size field 8 bytes long, zeros appended"),
    ("num-entries", "num_entries one more than the entries"),
    ("num-counters", "num_counters not the current rule count"),
    ("valid-hooks", "valid_hooks not the table's"),
    ("next-offset-beyond", "a rule's next_offset past the end"),
    ("next-offset-zero", "a rule's next_offset 0"),
    (
        "next-offset-misaligned",
        "a rule's next_offset 4 bytes too long",
    ),
    (
        "target-offset",
        "a rule's target_offset equal to next_offset",
    ),
    ("target-size", "a target's size past the rule's end"),
    (
        "hook-entry-mid",
        "INPUT's hook entry in the middle of a rule",
    ),
    (
        "underflow-not-policy",
        "INPUT's underflow on a jump, not a policy",
    ),
    ("loop-self", "rnf_a jumps to itself"),
    ("loop-pair", "rnf_a jumps to rnf_b, rnf_b back to rnf_a"),
    ("jump-mid-rule", "a jump into the middle of a rule"),
    ("jump-beyond", "a jump past the end of the table"),
    ("verdict-bad", "a standard verdict out of range (-100)"),
    ("unknown-target", "a target name no module provides"),
    ("unknown-match", "a match name no module provides"),
    ("target-revision", "the REJECT target at revision 9"),
];

/// The errno's symbolic name (Linux numbers, the same on x86_64 and
/// arm64), for the messages.
pub fn errno_name(e: i32) -> &'static str {
    match e {
        0 => "OK",
        1 => "EPERM",
        2 => "ENOENT",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        22 => "EINVAL",
        34 => "ERANGE",
        40 => "ELOOP",
        71 => "EPROTO",
        91 => "EPROTOTYPE",
        92 => "ENOPROTOOPT",
        _ => "E?",
    }
}

/// Builds the variant `case` of table `t` (see `CASES`).
pub fn build(t: &Table, case: &str) -> Result<Replace, String> {
    let entries = t.walk()?;
    let f = t.family;
    let mut r = Replace::from_table(t);
    let input0 = t.index_at(&entries, t.info.hook_entry[HOOK_LOCAL_IN])?;
    let a0 = t.user_chain_start(&entries, "rnf_a")?;
    let b0 = t.user_chain_start(&entries, "rnf_b")?;
    let b1 = b0 + 1;
    let a_start = entries[a0].off as u32;
    let e_b0 = entries[b0];
    let e_b1 = *entries.get(b1).ok_or("rnf_b has no second rule")?;
    // The rules the cases change must be what the test set up.
    let verdict_at = |e: &Entry| e.off + e.target_offset + XT_HDR_LEN;
    for (what, e, target) in [
        ("INPUT's first rule", entries[input0], ""),
        ("rnf_a's first rule", entries[a0], ""),
        ("rnf_b's first rule", e_b0, ""),
        ("rnf_b's second rule", e_b1, "REJECT"),
    ] {
        if t.target_name(&e) != Some(target) {
            return Err(format!(
                "{what} has target {:?}, not {target:?}",
                t.target_name(&e)
            ));
        }
    }
    if e_b0.target_offset == f.entry_len() || e_b1.target_offset == f.entry_len() {
        return Err("rnf_b's rules need a match".into());
    }
    let set_verdict = |r: &mut Replace, e: &Entry, v: i32| {
        if e.next_offset - e.target_offset != STANDARD_TARGET_LEN {
            return Err(format!("rule at {} has no standard target", e.off));
        }
        put_u32(&mut r.entries, verdict_at(e), v as u32)
    };
    let last = *entries.last().ok_or("empty table")?;
    match case {
        "valid" => {}
        "truncated" => r.send_len -= last.next_offset / 2,
        "size-short" => {
            r.size = r.size.checked_sub(8).ok_or("table too small")?;
            r.entries.truncate(r.entries.len() - 8);
            r.send_len -= 8;
        }
        "size-long" => {
            r.size = r.size.wrapping_add(8);
            r.entries.extend_from_slice(&[0; 8]);
            r.send_len += 8;
        }
        "num-entries" => r.num_entries = r.num_entries.wrapping_add(1),
        "num-counters" => r.num_counters = r.num_counters.wrapping_add(1),
        // PRE_ROUTING, which filter does not have.
        "valid-hooks" => r.valid_hooks |= 1,
        "next-offset-beyond" => {
            put_u16(&mut r.entries, e_b0.off + f.target_offset_at() + 2, 0xfff8)?
        }
        "next-offset-zero" => put_u16(&mut r.entries, e_b0.off + f.target_offset_at() + 2, 0)?,
        "next-offset-misaligned" => put_u16(
            &mut r.entries,
            e_b0.off + f.target_offset_at() + 2,
            (e_b0.next_offset + 4) as u16,
        )?,
        "target-offset" => put_u16(
            &mut r.entries,
            e_b0.off + f.target_offset_at(),
            e_b0.next_offset as u16,
        )?,
        "target-size" => put_u16(
            &mut r.entries,
            e_b1.off + e_b1.target_offset,
            (e_b1.next_offset - e_b1.target_offset + 8) as u16,
        )?,
        "hook-entry-mid" => {
            r.hook_entry[HOOK_LOCAL_IN] = r.hook_entry[HOOK_LOCAL_IN].wrapping_add(8)
        }
        "underflow-not-policy" => r.underflow[HOOK_LOCAL_IN] = entries[input0].off as u32,
        "loop-self" => set_verdict(&mut r, &entries[a0], a_start as i32)?,
        "loop-pair" => set_verdict(&mut r, &e_b0, a_start as i32)?,
        "jump-mid-rule" => set_verdict(&mut r, &entries[input0], a_start.wrapping_add(8) as i32)?,
        "jump-beyond" => set_verdict(
            &mut r,
            &entries[input0],
            t.info.size.wrapping_add(1024) as i32,
        )?,
        "verdict-bad" => set_verdict(&mut r, &e_b0, -100)?,
        "unknown-target" => {
            // The standard target of rnf_b's first rule renamed: the kernel
            // looks for a module "ipt_RNFNOSUCH" and finds none.
            put_name(
                &mut r.entries,
                e_b0.off + e_b0.target_offset + 2,
                29,
                "RNFNOSUCH",
            )?
        }
        "unknown-match" => put_name(
            &mut r.entries,
            e_b0.off + f.entry_len() + 2,
            29,
            "rnfnosuch",
        )?,
        "target-revision" => r.entries[e_b1.off + e_b1.target_offset + 31] = 9,
        other => return Err(format!("unknown case {other}")),
    }
    Ok(r)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// `XT_RETURN` = `-NF_REPEAT - 1`: the verdict that ends a user chain.
    const XT_RETURN: i32 = -5;

    /// A filter table laid out as iptables-legacy writes it for the rules
    /// the guest test sets up:
    ///   INPUT: -j rnf_a, policy ACCEPT; FORWARD, OUTPUT: policy ACCEPT;
    ///   rnf_a: -j rnf_b, RETURN; rnf_b: tcp + ACCEPT, tcp + REJECT, RETURN;
    ///   the ERROR entry that ends the table.
    pub fn synth(f: Family) -> Table {
        // (target name, target data, has a tcp match, chain-name for ERROR)
        enum T<'a> {
            Std(i32),
            Jump(&'a str),
            Error(&'a str),
            Reject,
        }
        let rules: Vec<(T, bool)> = vec![
            (T::Jump("rnf_a"), false),
            (T::Std(-2), false), // INPUT policy ACCEPT = -NF_ACCEPT - 1
            (T::Std(-2), false), // FORWARD
            (T::Std(-2), false), // OUTPUT
            (T::Error("rnf_a"), false),
            (T::Jump("rnf_b"), false),
            (T::Std(XT_RETURN), false),
            (T::Error("rnf_b"), false),
            (T::Std(-2), true),
            (T::Reject, true),
            (T::Std(XT_RETURN), false),
            (T::Error("ERROR"), false),
        ];
        let tcp_match_len = XT_HDR_LEN + 16; // XT_ALIGN(sizeof(struct xt_tcp))
        let size_of = |(t, m): &(T, bool)| {
            f.entry_len()
                + if *m { tcp_match_len } else { 0 }
                + match t {
                    T::Error(_) => 64,
                    _ => STANDARD_TARGET_LEN,
                }
        };
        let mut offs = Vec::new();
        let mut off = 0;
        for r in &rules {
            offs.push(off);
            off += size_of(r);
        }
        let start_of = |chain: &str| {
            let i = rules
                .iter()
                .position(|(t, _)| matches!(t, T::Error(n) if *n == chain))
                .unwrap();
            offs[i + 1] as i32
        };
        let mut b = Vec::new();
        for r in &rules {
            let mut e = vec![0u8; f.entry_len()];
            let mut m = Vec::new();
            if r.1 {
                m = vec![0u8; tcp_match_len];
                m[0..2].copy_from_slice(&(tcp_match_len as u16).to_ne_bytes());
                m[2..5].copy_from_slice(b"tcp");
            }
            let to = f.entry_len() + m.len();
            let mut tg = vec![0u8; XT_HDR_LEN];
            match &r.0 {
                T::Std(v) => tg.extend_from_slice(&v.to_ne_bytes()),
                T::Jump(c) => tg.extend_from_slice(&start_of(c).to_ne_bytes()),
                T::Reject => {
                    tg[2..8].copy_from_slice(b"REJECT");
                    tg[31] = 0;
                    tg.extend_from_slice(&0u32.to_ne_bytes());
                }
                T::Error(n) => {
                    tg[2..7].copy_from_slice(b"ERROR");
                    let mut name = [0u8; 32];
                    name[..n.len()].copy_from_slice(n.as_bytes());
                    tg.extend_from_slice(&name);
                }
            }
            tg.resize(tg.len().div_ceil(8) * 8, 0);
            let tl = tg.len() as u16;
            tg[0..2].copy_from_slice(&tl.to_ne_bytes());
            let n = to + tg.len();
            e[f.target_offset_at()..][..2].copy_from_slice(&(to as u16).to_ne_bytes());
            e[f.target_offset_at() + 2..][..2].copy_from_slice(&(n as u16).to_ne_bytes());
            // Counters as a live table has them: non-zero.
            e[f.counters_at()..][..8].copy_from_slice(&7u64.to_ne_bytes());
            b.extend_from_slice(&e);
            b.extend_from_slice(&m);
            b.extend_from_slice(&tg);
        }
        let o = |i: usize| offs[i] as u32;
        Table {
            family: f,
            name: "filter".into(),
            info: Info {
                valid_hooks: 0b1110,
                hook_entry: [0, o(0), o(2), o(3), 0],
                underflow: [0, o(1), o(2), o(3), 0],
                num_entries: rules.len() as u32,
                size: b.len() as u32,
            },
            entries: b,
        }
    }

    fn verdict(b: &[u8], e: &Entry) -> i32 {
        u32_at(b, e.off + e.target_offset + XT_HDR_LEN).unwrap() as i32
    }

    #[test]
    fn layouts_match_the_c_headers() {
        // ipt_entry/ip6t_entry sizes and where next_offset sits.
        assert_eq!(Family::V4.entry_len(), 112);
        assert_eq!(Family::V6.entry_len(), 168);
        assert_eq!(
            Family::V6.counters_at() + COUNTERS_LEN,
            Family::V6.entry_len()
        );
        assert_eq!(
            Family::V4.counters_at() + COUNTERS_LEN,
            Family::V4.entry_len()
        );
        let r = Replace::from_table(&synth(Family::V4));
        let b = r.encode(0x1122_3344_5566_7788).unwrap();
        assert_eq!(&b[0..7], b"filter\0");
        assert_eq!(u32_at(&b, 32), Some(0b1110));
        assert_eq!(u32_at(&b, 36), Some(12));
        assert_eq!(u32_at(&b, 84), Some(12));
        assert_eq!(&b[88..96], &0x1122_3344_5566_7788u64.to_ne_bytes());
        assert_eq!(b.len(), REPLACE_LEN + r.entries.len());
    }

    #[test]
    fn getinfo_round_trip() {
        let mut b = getinfo_request("filter").unwrap();
        for (i, v) in [14u32, 0, 10, 20, 30, 0, 0, 5, 20, 30, 0, 9, 900]
            .iter()
            .enumerate()
        {
            put_u32(&mut b, 32 + 4 * i, *v).unwrap();
        }
        let info = parse_getinfo(&b).unwrap();
        assert_eq!(info.valid_hooks, 14);
        assert_eq!(info.hook_entry, [0, 10, 20, 30, 0]);
        assert_eq!(info.underflow, [0, 5, 20, 30, 0]);
        assert_eq!((info.num_entries, info.size), (9, 900));
        assert!(parse_getinfo(&b[..80]).is_err());
        assert!(getinfo_request(&"x".repeat(32)).is_err());
        let g = get_entries_request("filter", 900).unwrap();
        assert_eq!((g.len(), u32_at(&g, 32)), (940, Some(900)));
    }

    #[test]
    fn walk_finds_every_entry_of_both_families() {
        for f in [Family::V4, Family::V6] {
            let t = synth(f);
            let e = t.walk().unwrap();
            assert_eq!(e.len(), 12);
            assert_eq!(e[0].off, 0);
            assert_eq!(t.target_name(&e[4]), Some("ERROR"));
            assert_eq!(t.error_name(&e[7]), Some("rnf_b"));
            assert_eq!(t.target_name(&e[9]), Some("REJECT"));
            assert_eq!(t.user_chain_start(&e, "rnf_b"), Ok(8));
            assert_eq!(verdict(&t.entries, &e[6]), XT_RETURN);
        }
    }

    #[test]
    fn valid_is_the_table_unchanged() {
        for f in [Family::V4, Family::V6] {
            let t = synth(f);
            let r = build(&t, "valid").unwrap();
            assert_eq!(r, Replace::from_table(&t));
            assert_eq!(r.entries, t.entries);
            assert_eq!(r.send_len, REPLACE_LEN + t.info.size as usize);
        }
    }

    #[test]
    fn every_case_changes_the_request() {
        for f in [Family::V4, Family::V6] {
            let t = synth(f);
            let valid = build(&t, "valid").unwrap();
            for (case, _) in CASES.iter().skip(1) {
                let r = build(&t, case).unwrap_or_else(|e| panic!("{case}: {e}"));
                assert_ne!(r, valid, "{case} is the valid request");
            }
            assert!(build(&t, "bogus").is_err());
        }
    }

    #[test]
    fn cases_change_what_they_say() {
        let t = synth(Family::V4);
        let e = t.walk().unwrap();
        let a_start = e[5].off as i32;
        let v = |case: &str, i: usize| verdict(&build(&t, case).unwrap().entries, &e[i]);
        assert_eq!(v("loop-self", 5), a_start);
        assert_eq!(v("loop-pair", 8), a_start);
        assert_eq!(v("jump-mid-rule", 0), a_start + 8);
        assert!(v("jump-beyond", 0) as u32 > t.info.size);
        assert_eq!(v("verdict-bad", 8), -100);
        let r = build(&t, "truncated").unwrap();
        assert!(r.send_len < REPLACE_LEN + r.size as usize);
        assert_eq!(r.encode(0).unwrap().len(), r.send_len);
        let r = build(&t, "size-short").unwrap();
        assert_eq!(
            (r.size as usize, r.entries.len()),
            (t.entries.len() - 8, t.entries.len() - 8)
        );
        let r = build(&t, "size-long").unwrap();
        assert_eq!(r.size as usize, t.entries.len() + 8);
        assert_eq!(build(&t, "num-entries").unwrap().num_entries, 13);
        assert_eq!(build(&t, "num-counters").unwrap().num_counters, 13);
        assert_eq!(build(&t, "hook-entry-mid").unwrap().hook_entry[1], 8);
        assert_eq!(build(&t, "underflow-not-policy").unwrap().underflow[1], 0);
        let r = build(&t, "unknown-target").unwrap();
        let changed = Table {
            entries: r.entries,
            ..t.clone()
        };
        assert_eq!(changed.target_name(&e[8]), Some("RNFNOSUCH"));
        let r = build(&t, "unknown-match").unwrap();
        assert_eq!(
            name_at(&r.entries, e[8].off + 112 + 2, 29),
            Some("rnfnosuch")
        );
        let r = build(&t, "target-revision").unwrap();
        assert_eq!(r.entries[e[9].off + e[9].target_offset + 31], 9);
        let r = build(&t, "next-offset-misaligned").unwrap();
        assert_eq!(
            u16_at(&r.entries, e[8].off + 90),
            Some(e[8].next_offset as u16 + 4)
        );
        // The mutated blobs no longer walk (the cases that break the layout).
        for case in [
            "next-offset-beyond",
            "next-offset-zero",
            "target-offset",
            "size-short",
        ] {
            let r = build(&t, case).unwrap();
            let bad = Table {
                entries: r.entries,
                ..t.clone()
            };
            assert!(bad.walk().is_err(), "{case}");
        }
    }

    #[test]
    fn build_refuses_a_table_without_the_test_chains() {
        let mut t = synth(Family::V4);
        let e = t.walk().unwrap();
        put_name(
            &mut t.entries,
            e[7].off + e[7].target_offset + XT_HDR_LEN,
            32,
            "other",
        )
        .unwrap();
        assert!(build(&t, "loop-pair").unwrap_err().contains("rnf_b"));
    }

    #[test]
    fn rules_only_ignores_counters() {
        let t = synth(Family::V6);
        let mut u = t.clone();
        for e in t.walk().unwrap() {
            u.entries[e.off + Family::V6.counters_at()] = 99;
        }
        assert_ne!(t.entries, u.entries);
        assert_eq!(t.rules_only().unwrap(), u.rules_only().unwrap());
    }

    #[test]
    fn every_truncation_and_byte_flip_is_an_error_or_a_request() {
        // No input may panic the parser or the builder.
        for f in [Family::V4, Family::V6] {
            let t = synth(f);
            for len in 0..t.entries.len() {
                let mut c = t.clone();
                c.entries.truncate(len);
                c.info.size = len as u32;
                assert!(c.walk().is_err(), "{len}");
                let _ = build(&c, "loop-pair");
            }
            let mut seed = 0x9e37_79b9u32;
            for _ in 0..3000 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let mut c = t.clone();
                let i = seed as usize % c.entries.len();
                c.entries[i] ^= (seed >> 24) as u8 | 1;
                let _ = c.walk();
                for (case, _) in CASES {
                    let _ = build(&c, case);
                }
            }
        }
    }
}
