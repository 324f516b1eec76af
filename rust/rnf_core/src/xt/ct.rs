// SPDX-License-Identifier: GPL-2.0
//! The raw table's conntrack targets, `CT` (revisions 0, 1, 2) and
//! `NOTRACK`, and their `checkentry` rules.
//!
//! C source: net/netfilter/xt_CT.c (`xt_ct_tg_check_v0/v1/v2`,
//! `xt_ct_tg_check`, `xt_ct_set_helper`, `xt_ct_set_timeout`,
//! `xt_ct_target`, `notrack_tg`); header
//! include/uapi/linux/netfilter/xt_CT.h.
//!
//! What rnf does not have is refused at rule load with the errno the kernel
//! gives when it lacks the same thing, never accepted and ignored:
//!
//! - `--ctevents`, `--expevents`: EINVAL, the kernel's answer without
//!   `CONFIG_NF_CONNTRACK_EVENTS` (as the reference kernel);
//! - `--helper`: ENOENT, the kernel's answer when no such helper exists
//!   (also when the rule has no `-p`), after ENAMETOOLONG for a name that
//!   fills its 16 bytes;
//! - `--timeout`: EOPNOTSUPP, the kernel's answer without
//!   `CONFIG_NF_CONNTRACK_TIMEOUT` (as the reference kernel), after
//!   ENAMETOOLONG for a name that fills its 32 bytes.
//!
//! Zones are accepted as a kernel with `CONFIG_NF_CONNTRACK_ZONES` accepts
//! them: `--zone N` in every revision, `--zone-orig`, `--zone-reply` and
//! `--zone-mark` (`XT_CT_ZONE_DIR_ORIG`, `XT_CT_ZONE_DIR_REPL`,
//! `XT_CT_ZONE_MARK`) in revision 2 only (EINVAL in 0 and 1, as any
//! unknown flag). `CT` without `--notrack` gives the packet a template,
//! as `nf_ct_tmpl_alloc()` does in the kernel: [`Target::CtTemplate`]
//! with the zone (`xt_ct_flags_to_dir()`) and a slot, the template's
//! number in the table (the caller allocates one per slot,
//! [`super::Table::ct_templates`]); the tracker takes the zone from it.
//! `--notrack` (and `NOTRACK`, which iptables 1.8.9 sends as `CT` revision 2
//! with `XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS`) marks the packet untracked.

use super::abi::{ne16, ne32};
use super::rule::Target;
use super::{errno, Error};

/// `XT_CT_NOTRACK`.
const XT_CT_NOTRACK: u16 = 1 << 0;
/// `XT_CT_ZONE_DIR_ORIG`.
const XT_CT_ZONE_DIR_ORIG: u16 = 1 << 2;
/// `XT_CT_ZONE_DIR_REPL`.
const XT_CT_ZONE_DIR_REPL: u16 = 1 << 3;
/// `XT_CT_ZONE_MARK`.
const XT_CT_ZONE_MARK: u16 = 1 << 4;

/// `NF_CT_ZONE_DIR_ORIG`, `NF_CT_ZONE_DIR_REPL`, `NF_CT_DEFAULT_ZONE_DIR`
/// (include/uapi/linux/netfilter/nf_conntrack_tuple_common.h; the same
/// values as `crate::conntrack::zone`'s, which rnf_tables does not build).
const NF_CT_ZONE_DIR_ORIG: u8 = 1 << 0;
const NF_CT_ZONE_DIR_REPL: u8 = 1 << 1;
const NF_CT_DEFAULT_ZONE_DIR: u8 = NF_CT_ZONE_DIR_ORIG | NF_CT_ZONE_DIR_REPL;

/// A `CT` rule's template: the zone its packets are tracked in, as
/// `xt_ct_tg_check()` builds the template's `struct nf_conntrack_zone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CtTemplate {
    /// The template's number among the table's `CT` templates, in rule
    /// order (set by the translation; 0 from [`decode_ct`]).
    pub slot: u32,
    /// Zone id (`--zone`, host order).
    pub zone_id: u16,
    /// `NF_CT_ZONE_DIR_*` bits (`xt_ct_flags_to_dir()`).
    pub zone_dir: u8,
    /// `NF_CT_FLAG_MARK` (`--zone-mark`): the id is the packet's mark.
    pub zone_mark: bool,
}

/// `xt_ct_flags_to_dir()`: the zone's directions from the rule's flags.
fn flags_to_dir(flags: u16) -> u8 {
    match flags & (XT_CT_ZONE_DIR_ORIG | XT_CT_ZONE_DIR_REPL) {
        XT_CT_ZONE_DIR_ORIG => NF_CT_ZONE_DIR_ORIG,
        XT_CT_ZONE_DIR_REPL => NF_CT_ZONE_DIR_REPL,
        _ => NF_CT_DEFAULT_ZONE_DIR,
    }
}
/// `XT_CT_MASK`: every flag revision 2 knows (`NOTRACK`, `NOTRACK_ALIAS`,
/// the zone flags).
const XT_CT_MASK: u16 = 0x1f;

/// `sizeof(struct xt_ct_target_info)` (revision 0, LP64): flags, zone,
/// ct_events, exp_events, helper[16], then the kernel's `struct nf_conn *`
/// aligned to 8 at offset 32.
pub(crate) const CT_INFO_SIZE: usize = 40;
/// `sizeof(struct xt_ct_target_info_v1)` (revisions 1 and 2): revision 0's
/// fields, timeout[32], the pointer at offset 64.
pub(crate) const CT_INFO_V1_SIZE: usize = 72;
/// The `usersize` of every revision: `offsetof(struct xt_ct_target_info,
/// ct)`, also for the larger v1 structure (as xt_CT.c registers it), so
/// `GET_ENTRIES` returns bytes 32 on of any revision zeroed, its timeout
/// name included.
pub(crate) const CT_USERSIZE: usize = 32;

/// `strnlen(s, s.len()) == s.len()`: no NUL in the field.
fn unterminated(s: &[u8]) -> bool {
    !s.contains(&0)
}

/// `xt_ct_tg_check_v0/v1/v2` and `xt_ct_tg_check` on the target data of
/// revision `rev` (generic checks done before: size, table `raw`).
pub(crate) fn decode_ct(rev: u8, data: &[u8]) -> Result<Target, Error> {
    let short = Error::inval("short CT");
    let flags = ne16(data, 0).ok_or(short)?;
    let zone = ne16(data, 2).ok_or(short)?;
    let ct_events = ne32(data, 4).ok_or(short)?;
    let exp_events = ne32(data, 8).ok_or(short)?;
    let helper = data.get(12..28).ok_or(short)?;
    let timeout = if rev >= 1 { data.get(28..60).ok_or(short)? } else { &[][..] };
    let known = if rev == 2 { XT_CT_MASK } else { XT_CT_NOTRACK };
    if flags & !known != 0 {
        return Err(Error::inval("CT: unknown flags for this revision"));
    }
    if flags & XT_CT_NOTRACK != 0 {
        return Ok(Target::Notrack);
    }
    if ct_events != 0 || exp_events != 0 {
        return Err(Error::inval("CT: conntrack events are not supported"));
    }
    if helper.first().is_some_and(|&c| c != 0) {
        if unterminated(helper) {
            return Err(Error::new(errno::ENAMETOOLONG, "CT: helper name too long"));
        }
        return Err(Error::new(errno::ENOENT, "CT: no such helper (rnf has no conntrack helpers)"));
    }
    if timeout.first().is_some_and(|&c| c != 0) {
        if unterminated(timeout) {
            return Err(Error::new(errno::ENAMETOOLONG, "CT: timeout policy name too long"));
        }
        return Err(Error::new(errno::EOPNOTSUPP, "CT: timeout policies are not supported"));
    }
    Ok(Target::CtTemplate(CtTemplate {
        slot: 0,
        zone_id: zone,
        zone_dir: flags_to_dir(flags),
        zone_mark: flags & XT_CT_ZONE_MARK != 0,
    }))
}
