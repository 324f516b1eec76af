// SPDX-License-Identifier: GPL-2.0
//! Packet and connection marks: the `mark` and `connmark` matches and the
//! `MARK` and `CONNMARK` targets, their registrations, `checkentry` rules
//! and evaluation. The targets change a mark and continue the walk
//! (`XT_CONTINUE`).
//!
//! C sources: net/netfilter/xt_mark.c, net/netfilter/xt_connmark.c;
//! C headers: include/uapi/linux/netfilter/xt_mark.h, xt_connmark.h.
//! Data fields are host-endian (the socket-option ABI).

use super::abi::ne32;
use super::eval::Env;
use super::ext::{Ext, ExtId, V4, V6};
use super::rule::{MatchKind, Target};
use super::{Error, Family};

/// Which mark extension an [`Ext`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarkId {
    /// `mark` match revision 1 (`struct xt_mark_mtinfo1`).
    MarkMatch,
    /// `connmark` match revision 1 (`struct xt_connmark_mtinfo1`).
    ConnmarkMatch,
    /// `MARK` target revision 2 (`struct xt_mark_tginfo2`).
    MarkTarget,
    /// `CONNMARK` target revision 1 (`xt_connmark_tginfo1`) or 2 (`xt_connmark_tginfo2`).
    ConnmarkTarget(u8),
}

const fn m(name: &'static [u8], rev: u8, size: usize, id: MarkId) -> Ext {
    Ext { name, rev, family: None, target: false, size, usersize: size, proto: 0, hooks: 0, table: None, id: ExtId::Mark(id) }
}
const fn t(name: &'static [u8], rev: u8, family: Option<Family>, size: usize, id: MarkId) -> Ext {
    Ext { name, rev, family, target: true, size, usersize: size, proto: 0, hooks: 0, table: None, id: ExtId::Mark(id) }
}

/// The registrations of xt_mark.c and xt_connmark.c (6.12, LP64 sizes):
/// the matches NFPROTO_UNSPEC, the targets per family (so an unknown
/// revision of `MARK` is ENOENT, of `mark` EPROTOTYPE). `MARK` revisions 0
/// and 1 left the kernel in 2.6.x times.
pub(crate) static EXTS: [Ext; 8] = [
    m(b"mark", 1, 12, MarkId::MarkMatch),
    m(b"connmark", 1, 12, MarkId::ConnmarkMatch),
    t(b"MARK", 2, V4, 8, MarkId::MarkTarget),
    t(b"MARK", 2, V6, 8, MarkId::MarkTarget),
    t(b"CONNMARK", 1, V4, 16, MarkId::ConnmarkTarget(1)),
    t(b"CONNMARK", 2, V4, 16, MarkId::ConnmarkTarget(2)),
    t(b"CONNMARK", 1, V6, 16, MarkId::ConnmarkTarget(1)),
    t(b"CONNMARK", 2, V6, 16, MarkId::ConnmarkTarget(2)),
];

/// `xt_mark_mtinfo1` / `xt_connmark_mtinfo1`: matches when
/// `(mark & mask) == value`, XOR `invert` (a `__u8`, XORed as an int).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MarkMatch {
    pub value: u32,
    pub mask: u32,
    pub invert: u8,
}

impl MarkMatch {
    /// `mark_mt` / `connmark_mt` on a mark.
    pub(crate) fn test(&self, mark: u32) -> bool {
        (u32::from((mark & self.mask) == self.value) ^ u32::from(self.invert)) != 0
    }
}

/// `XT_CONNMARK_SET`.
pub(crate) const CONNMARK_SET: u8 = 0;
/// `XT_CONNMARK_SAVE`.
pub(crate) const CONNMARK_SAVE: u8 = 1;
/// `XT_CONNMARK_RESTORE`.
pub(crate) const CONNMARK_RESTORE: u8 = 2;
/// `D_SHIFT_RIGHT` (`D_SHIFT_LEFT` is 0).
pub(crate) const D_SHIFT_RIGHT: u8 = 1;

/// `xt_connmark_tginfo2` (revision 1 decoded with no shift).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConnmarkTarget {
    pub ctmark: u32,
    pub ctmask: u32,
    pub nfmask: u32,
    pub shift_dir: u8,
    pub shift_bits: u8,
    pub mode: u8,
}

impl ConnmarkTarget {
    fn shift(&self, v: u32) -> u32 {
        // checkentry keeps shift_bits below 32.
        let b = u32::from(self.shift_bits);
        if self.shift_dir == D_SHIFT_RIGHT {
            v.checked_shr(b).unwrap_or(0)
        } else {
            v.checked_shl(b).unwrap_or(0)
        }
    }
}

/// Decodes a mark match's data (`mark` or `connmark`): no checkentry rule
/// beyond the size.
pub(crate) fn decode_match(id: MarkId, d: &[u8]) -> Result<MatchKind, Error> {
    let short = Error::inval("mark: match data truncated");
    let info = MarkMatch { value: ne32(d, 0).ok_or(short)?, mask: ne32(d, 4).ok_or(short)?, invert: *d.get(8).ok_or(short)? };
    match id {
        MarkId::MarkMatch => Ok(MatchKind::Mark(info)),
        MarkId::ConnmarkMatch => Ok(MatchKind::Connmark(info)),
        MarkId::MarkTarget | MarkId::ConnmarkTarget(_) => Err(Error::new(super::errno::ENOENT, "target used as a match")),
    }
}

/// Decodes a mark target's data: `MARK` (no checkentry) or `CONNMARK`
/// (`connmark_tg_check_v2`: EINVAL for a shift direction other than left
/// or right, or a shift of 32 bits or more). A mode other than set, save
/// or restore does nothing, as in `connmark_tg_shift`.
pub(crate) fn decode_target(id: MarkId, d: &[u8]) -> Result<Target, Error> {
    let short = Error::inval("MARK/CONNMARK: target data truncated");
    match id {
        MarkId::MarkTarget => Ok(Target::Mark { mark: ne32(d, 0).ok_or(short)?, mask: ne32(d, 4).ok_or(short)? }),
        MarkId::ConnmarkTarget(rev) => {
            let mut c = ConnmarkTarget {
                ctmark: ne32(d, 0).ok_or(short)?,
                ctmask: ne32(d, 4).ok_or(short)?,
                nfmask: ne32(d, 8).ok_or(short)?,
                ..Default::default()
            };
            if rev == 1 {
                c.mode = *d.get(12).ok_or(short)?;
            } else {
                c.shift_dir = *d.get(12).ok_or(short)?;
                c.shift_bits = *d.get(13).ok_or(short)?;
                c.mode = *d.get(14).ok_or(short)?;
                if c.shift_dir > D_SHIFT_RIGHT || c.shift_bits >= 32 {
                    return Err(Error::inval("CONNMARK: shift direction or bits out of range"));
                }
            }
            Ok(Target::Connmark(c))
        }
        MarkId::MarkMatch | MarkId::ConnmarkMatch => Err(Error::new(super::errno::ENOENT, "match used as a target")),
    }
}

/// `mark_tg`: `skb->mark = (skb->mark & ~mask) ^ mark`.
pub(crate) fn mark_target<E: Env>(mark: u32, mask: u32, env: &mut E) {
    let old = env.mark();
    env.set_mark((old & !mask) ^ mark);
}

/// `connmark_tg_shift`: nothing without a connection; the connection's
/// mark is written only when it changes.
pub(crate) fn connmark_target<E: Env>(c: &ConnmarkTarget, env: &mut E) {
    let Some(ctmark) = env.ct_mark() else { return };
    match c.mode {
        CONNMARK_SET => {
            let new = c.shift((ctmark & !c.ctmask) ^ c.ctmark);
            if new != ctmark {
                env.set_ct_mark(new);
            }
        }
        CONNMARK_SAVE => {
            let new = (ctmark & !c.ctmask) ^ c.shift(env.mark() & c.nfmask);
            if new != ctmark {
                env.set_ct_mark(new);
            }
        }
        CONNMARK_RESTORE => {
            let new = (env.mark() & !c.nfmask) ^ c.shift(ctmark & c.ctmask);
            env.set_mark(new);
        }
        _ => {}
    }
}
