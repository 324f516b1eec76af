// SPDX-License-Identifier: GPL-2.0
//! Decoded rules and matches: fixed-size values built once by
//! [`super::Table::translate`], read by the packet path.

use core::sync::atomic::AtomicU64;

use super::eval::RejectWith;

/// The decoded `ipt_ip` / `ip6t_ip6` part of a rule. Addresses and interface
/// names are the raw 16 bytes as `u128::from_ne_bytes` (IPv4: first 4 bytes,
/// rest zero), so masked compares are one operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IpPart {
    pub src: u128,
    pub smsk: u128,
    pub dst: u128,
    pub dmsk: u128,
    pub iniface: u128,
    pub iniface_mask: u128,
    pub outiface: u128,
    pub outiface_mask: u128,
    /// Layer-4 protocol, 0 = any.
    pub proto: u16,
    /// `IPT_F_*` / `IP6T_F_*`.
    pub flags: u8,
    /// `IPT_INV_*`.
    pub invflags: u8,
    /// True when no address, interface, protocol or flag test is set
    /// (the kernel's `unconditional()`: the whole part is zero).
    pub unconditional: bool,
    /// Which address/interface tests can fail (`TEST_*`), so the packet
    /// path skips those that always pass (mask 0 and not inverted).
    pub tests: u8,
}

/// [`IpPart::tests`]: the source test can fail.
pub(crate) const TEST_SRC: u8 = 0x01;
/// The destination test can fail.
pub(crate) const TEST_DST: u8 = 0x02;
/// The input interface test can fail.
pub(crate) const TEST_IN: u8 = 0x04;
/// The output interface test can fail.
pub(crate) const TEST_OUT: u8 = 0x08;

impl IpPart {
    /// Computes [`IpPart::tests`].
    pub(crate) fn compute_tests(&mut self) {
        use super::abi::inv;
        let can_fail = |val: u128, mask: u128, flag: u8| (val & mask) != val || mask != 0 || self.invflags & flag != 0;
        let mut t = 0;
        if can_fail(self.src, self.smsk, inv::SRCIP) {
            t |= TEST_SRC;
        }
        if can_fail(self.dst, self.dmsk, inv::DSTIP) {
            t |= TEST_DST;
        }
        if self.iniface_mask != 0 || self.invflags & inv::VIA_IN != 0 {
            t |= TEST_IN;
        }
        if self.outiface_mask != 0 || self.invflags & inv::VIA_OUT != 0 {
            t |= TEST_OUT;
        }
        self.tests = t;
    }
}

/// What a rule does when it matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Target {
    /// `ERROR` target (chain head / table end): the kernel drops a packet reaching it.
    #[default]
    Error,
    /// Standard verdict `NF_ACCEPT`.
    Accept,
    /// Standard verdict `NF_DROP` (and `NF_QUEUE`, which drops without a queue handler).
    Drop,
    /// Standard `XT_RETURN`.
    Return,
    /// Standard jump to rule `to`; `push` is false for a goto or a jump to the next rule.
    Jump { to: u32, push: bool },
    /// `REJECT`, `None` for a `with` value the kernel does not handle (it drops).
    Reject(Option<RejectWith>),
    /// `LOG`: level, logflags, NUL-terminated prefix.
    Log { level: u8, flags: u8, prefix: [u8; 30] },
    /// A NAT target (nat table only): ends the walk; the caller sets up the
    /// connection's mapping.
    Nat(super::nat::NatTarget),
    /// `TCPMSS`: the MSS to set (host order), or
    /// [`super::mangle::TCPMSS_CLAMP_PMTU`] for `--clamp-mss-to-pmtu`;
    /// edits the packet and continues (drops on failure).
    Tcpmss(u16),
    /// `DSCP` and `TOS`: the DS field becomes `(ds & keep) ^ xor`; edits the
    /// packet and continues.
    DsField { keep: u8, xor: u8 },
    /// `CT --notrack` and `NOTRACK`: a packet without conntrack yet becomes
    /// untracked; continues.
    Notrack,
    /// `CT` without `--notrack`: a packet without conntrack yet gets the
    /// rule's template (the zone it is to be tracked in); continues.
    CtTemplate(super::ct::CtTemplate),
    /// `MARK` rev 2: `skb->mark = (skb->mark & !mask) ^ mark`, then the next rule.
    Mark { mark: u32, mask: u32 },
    /// `CONNMARK` rev 1 and 2: set, save or restore a mark, then the next rule.
    Connmark(super::marks::ConnmarkTarget),
}

/// One decoded rule (one `ipt_entry` / `ip6t_entry`), index = entry number.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rule {
    /// Byte offset of the entry in the blob.
    pub(crate) offset: u32,
    /// `next_offset` of the entry.
    pub(crate) next_offset: u16,
    /// `comefrom` as the kernel computes it: hooks this rule is reachable from.
    pub(crate) comefrom: u32,
    /// Scratch back pointer of `mark_source_chains` (the kernel's `counters.pcnt`).
    pub(crate) back: u32,
    pub(crate) ip: IpPart,
    /// First decoded match in the match array.
    pub(crate) first_match: u32,
    /// Number of matches.
    pub(crate) num_matches: u16,
    pub(crate) target: Target,
}

/// `xt_tcp` (include/uapi/linux/netfilter/xt_tcpudp.h).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TcpInfo {
    pub spts: [u16; 2],
    pub dpts: [u16; 2],
    pub option: u8,
    pub flg_mask: u8,
    pub flg_cmp: u8,
    pub invflags: u8,
}

/// `xt_udp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UdpInfo {
    pub spts: [u16; 2],
    pub dpts: [u16; 2],
    pub invflags: u8,
}

/// `ipt_icmp` / `ip6t_icmp`: type, code range, `IPT_ICMP_INV`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IcmpInfo {
    pub typ: u8,
    pub code: [u8; 2],
    pub invflags: u8,
}

/// `xt_conntrack_mtinfo1/2/3`: the flags, masks, protocol, expiry range
/// and port ranges (host order; revisions 1 and 2 compare one port, kept
/// as the range `port..=port`), and where the eight addresses and masks
/// are in the table's blob (read from there, to keep every decoded match
/// small).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConntrackInfo {
    pub l4proto: u16,
    pub match_flags: u16,
    pub invert_flags: u16,
    pub state_mask: u16,
    pub status_mask: u16,
    /// `expires_min`, `expires_max` in seconds.
    pub expires: [u32; 2],
    /// `origsrc`, `origdst`, `replsrc`, `repldst` port ranges (host order).
    pub ports: [[u16; 2]; 4],
    /// Byte offset of the match data (`origsrc_addr` first) in the blob.
    pub data: u32,
}

/// `xt_multiport` (rev 0) and `xt_multiport_v1` (rev 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MultiportInfo {
    /// `XT_MULTIPORT_SOURCE` 0, `DESTINATION` 1, `EITHER` 2.
    pub flags: u8,
    pub count: u8,
    pub ports: [u16; 15],
    /// Rev 1: `pflags[i]` set means `ports[i]..=ports[i+1]` is a range.
    pub pflags: [u8; 15],
    pub invert: bool,
}

/// `xt_rateinfo` user part plus the token bucket (`xt_limit_priv`) kept
/// lock-free: bits 63..32 the jiffies of the last update, bits 31..0 the
/// credit, bit pattern 0 = not yet started (filled on first use).
#[derive(Debug, Default)]
pub(crate) struct LimitInfo {
    pub avg: u32,
    pub burst: u32,
    pub state: AtomicU64,
}

/// The kind of a decoded match.
#[derive(Debug, Default)]
pub(crate) enum MatchKind {
    /// `comment`: always matches.
    #[default]
    Comment,
    Tcp(TcpInfo),
    Udp(UdpInfo),
    Icmp(IcmpInfo),
    Icmp6(IcmpInfo),
    /// `state` rev 0: `xt_state_info.statemask`.
    State(u32),
    Conntrack(ConntrackInfo),
    Multiport(MultiportInfo),
    Limit(LimitInfo),
    /// `mark` rev 1 (xt_mark.c).
    Mark(super::marks::MarkMatch),
    /// `connmark` rev 1 (xt_connmark.c).
    Connmark(super::marks::MarkMatch),
    /// `dscp` rev 0 (xt_dscp.c).
    Dscp(super::pkt_matches::DscpInfo),
    /// `tos` rev 1 (xt_dscp.c).
    Tos(super::pkt_matches::TosInfo),
    /// `iprange` rev 1.
    Iprange(super::pkt_matches::IprangeInfo),
    /// `length` rev 0.
    Length(super::pkt_matches::RangeInfo),
    /// `tcpmss` rev 0.
    Tcpmss(super::pkt_matches::RangeInfo),
    /// `pkttype` rev 0.
    Pkttype(super::pkt_matches::PkttypeInfo),
    /// `mac` rev 0.
    Mac(super::pkt_matches::MacInfo),
    /// `addrtype` rev 0 and 1.
    Addrtype(super::pkt_matches::AddrtypeInfo),
    /// `hashlimit` rev 1, 2 and 3 (xt_hashlimit.c).
    Hashlimit(super::hashlimit::HashlimitInfo),
}

/// One decoded match of a rule.
#[derive(Debug, Default)]
pub struct Match {
    pub(crate) kind: MatchKind,
}
