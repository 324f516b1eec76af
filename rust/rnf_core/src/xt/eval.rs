// SPDX-License-Identifier: GPL-2.0
//! The packet path: `ipt_do_table` / `ip6t_do_table` over decoded rules.
//!
//! C sources: net/ipv4/netfilter/ip_tables.c (`ip_packet_match`,
//! `ipt_do_table`), net/ipv6/netfilter/ip6_tables.c (`ip6_packet_match`),
//! net/ipv6/exthdrs_core.c (`ipv6_find_hdr`). Packet bytes are network order.

use super::abi::inv;
use super::classify::{Classifier, Lookup};
use super::rule::{IpPart, Match, Rule, Target};
use super::{Family, Table, JUMP_STACK_DEPTH, NF_INET_NUMHOOKS};
use crate::nat::checksum::Summed;

/// Bytes of the packet the walk reads back after an edit ([`Env::reread`]):
/// as many as the glue hands it in [`Packet::headers`].
pub(crate) const REREAD_BYTES: usize = 192;

/// A packet as a hook sees it.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// `NF_INET_*` hook number.
    pub hook: u32,
    /// Input device name (IFNAMSIZ, NUL padded), all zero when there is none.
    pub in_dev: &'a [u8; 16],
    /// Output device name, all zero when there is none.
    pub out_dev: &'a [u8; 16],
    /// `skb->len` in bytes (counted by the caller, shown by LOG for truncated headers).
    pub len: u32,
    /// The bytes from the network header on (linear or copied, up to 192 are enough).
    /// The link-layer header is not here: the one rule that prints it asks
    /// for it ([`Env::link_header`]).
    pub headers: &'a [u8],
}

/// `REJECT` reply kinds (`enum ipt_reject_with`, `enum ip6t_reject_with`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectWith {
    /// `IPT_ICMP_NET_UNREACHABLE`.
    IcmpNetUnreach,
    /// `IPT_ICMP_HOST_UNREACHABLE`.
    IcmpHostUnreach,
    /// `IPT_ICMP_PROT_UNREACHABLE`.
    IcmpProtoUnreach,
    /// `IPT_ICMP_PORT_UNREACHABLE` (the default).
    IcmpPortUnreach,
    /// `IPT_ICMP_NET_PROHIBITED`.
    IcmpNetProhibited,
    /// `IPT_ICMP_HOST_PROHIBITED`.
    IcmpHostProhibited,
    /// `IPT_ICMP_ADMIN_PROHIBITED`.
    IcmpAdminProhibited,
    /// `IPT_TCP_RESET` / `IP6T_TCP_RESET`.
    TcpReset,
    /// `IP6T_ICMP6_NO_ROUTE`.
    Icmp6NoRoute,
    /// `IP6T_ICMP6_ADM_PROHIBITED`.
    Icmp6AdmProhibited,
    /// `IP6T_ICMP6_NOT_NEIGHBOUR`.
    Icmp6NotNeighbour,
    /// `IP6T_ICMP6_ADDR_UNREACH`.
    Icmp6AddrUnreach,
    /// `IP6T_ICMP6_PORT_UNREACH` (the default).
    Icmp6PortUnreach,
    /// `IP6T_ICMP6_POLICY_FAIL`.
    Icmp6PolicyFail,
    /// `IP6T_ICMP6_REJECT_ROUTE`.
    Icmp6RejectRoute,
}

/// The table's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `NF_ACCEPT`.
    Accept,
    /// `NF_DROP` (also hotdrop, ERROR target, NF_QUEUE without a queue handler).
    Drop,
    /// `NF_DROP` after sending the given reply (the caller sends it).
    Reject(RejectWith),
    /// A NAT target matched (nat table): the caller maps the connection
    /// (`nf_nat_setup_info`) and accepts the packet.
    Nat(super::nat::NatTarget),
}

/// Conntrack state of a packet, from `rnf_ct_lookup`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtState {
    /// No conntrack entry and not marked untracked (`XT_STATE_INVALID`).
    Invalid,
    /// `IP_CT_UNTRACKED`.
    Untracked,
    /// A tracked connection.
    Tracked {
        /// `enum ip_conntrack_info` value 0..=4.
        ctinfo: u8,
        /// `ct->status` (`IPS_*` bits).
        status: u32,
        /// 0 original, 1 reply (`CTINFO2DIR`).
        dir: u8,
        /// `nf_ct_protonum(ct)`.
        proto: u8,
    },
}

/// What the engine asks of its caller while walking.
pub trait Env {
    /// Rule `index` matched: count one packet of `pkt.len` bytes.
    fn count(&mut self, index: usize);
    /// Conntrack state of the packet (asked only when a state/conntrack match runs).
    fn conntrack(&mut self) -> CtState;
    /// LOG fired: `line` is the `nf_log_syslog` line without the `<level>` prefix.
    fn log(&mut self, level: u8, line: &[u8]);
    /// Jiffies now.
    fn jiffies(&mut self) -> u64;
    /// `HZ`.
    fn hz(&self) -> u32;

    /// Edits the packet for a target (`TCPMSS`, `DSCP`, `TOS`): grows it by
    /// `grow` bytes at its tail first when `grow` is not zero (the kernel's
    /// `pskb_expand_head` when the tailroom is short, then `skb_put`; only a
    /// linear packet can grow), makes its first `need` bytes from the
    /// network header linear, writable and its own (`skb_ensure_writable`),
    /// and runs `edit` over its writable bytes from the network header on
    /// (at least `need`), its length (`skb->len`, from the network header)
    /// and its checksum state (`skb->ip_summed`, `skb->csum`; the caller
    /// stores a changed `skb->csum` back). `None` when the packet cannot be
    /// grown or made writable: the target drops it, as the kernel's do.
    /// The default has no packet to edit (`None`).
    fn edit<R>(&mut self, _need: usize, _grow: usize, _edit: impl FnOnce(&mut [u8], usize, &mut Summed) -> R) -> Option<R> {
        None
    }

    /// After an edit: copies the packet's first bytes from its network
    /// header as they are now into `buf` (as many as fit) and returns how
    /// many, and the packet's length (`skb->len`). The rest of the walk
    /// matches those, as the kernel's later matches see the edited packet.
    /// `None` (the default) when the packet cannot be read back: the walk
    /// then drops it rather than match stale bytes; an `Env` whose
    /// [`Env::edit`] edits must implement this.
    fn reread(&mut self, _buf: &mut [u8]) -> Option<(usize, u32)> {
        None
    }

    /// The path MTU `TCPMSS --clamp-mss-to-pmtu` clamps to: the smaller of
    /// the packet's route's MTU (`dst_mtu(skb_dst(skb))`) and that of the
    /// route back to its source (`tcpmss_reverse_mtu`, `~0` without one).
    /// The default, 0, makes the target drop the packet (invalid MTU).
    fn path_mtu(&mut self) -> u32 {
        0
    }

    /// `NOTRACK` / `CT --notrack`: when the packet has no conntrack yet
    /// (`skb->_nfct == 0`), marks it untracked (`nf_ct_set(skb, NULL,
    /// IP_CT_UNTRACKED)`), and later [`Env::conntrack`] calls of this walk
    /// answer [`CtState::Untracked`]. The default does nothing.
    fn set_untracked(&mut self) {}

    /// `CT` (without `--notrack`): when the packet has no conntrack yet
    /// (`skb->_nfct == 0`), attaches the template of slot `slot` of the
    /// table being walked ([`Table::ct_templates`](super::Table::ct_templates))
    /// with `IP_CT_NEW`, as `xt_ct_target()`; the tracker takes the
    /// packet's zone from it. The default does nothing.
    fn ct_template(&mut self, _slot: u32) {}

    /// A target's error line, rate-limited by the caller
    /// (`net_err_ratelimited`). The default drops it.
    fn warn(&mut self, _line: &[u8]) {}
    /// The packet's mark (`skb->mark`), for `mark` and `CONNMARK --save-mark`.
    fn mark(&mut self) -> u32 {
        0
    }
    /// Sets the packet's mark (`skb->mark = mark`: `MARK`, `CONNMARK --restore-mark`).
    fn set_mark(&mut self, _mark: u32) {}
    /// The mark of the packet's connection (`READ_ONCE(ct->mark)` of
    /// `nf_ct_get(skb)`); `None` when the packet carries no connection
    /// (untracked, invalid, not trackable).
    fn ct_mark(&mut self) -> Option<u32> {
        None
    }
    /// Sets the connection's mark (`WRITE_ONCE(ct->mark, mark)`); nothing
    /// when the packet carries no connection.
    fn set_ct_mark(&mut self, _mark: u32) {}
    /// The link-layer packet type (`skb->pkt_type`, `PACKET_*` of
    /// include/uapi/linux/if_packet.h): 0 host, 1 broadcast, 2 multicast,
    /// 3 otherhost, 4 outgoing, 5 loopback.
    fn pkt_type(&mut self) -> u8 {
        0
    }
    /// The Ethernet source address of the packet as `mac_mt` reads it:
    /// `None` unless `skb->dev` is an `ARPHRD_ETHER` device and the MAC
    /// header is set and at least `ETH_HLEN` bytes long.
    fn mac_source(&mut self) -> Option<[u8; 6]> {
        None
    }
    /// Runs `f` over the packet's link-layer header as the LOG target
    /// prints it (`MAC=`, nf_log_syslog.c `dump_mac_header`): the input
    /// device's `hard_header_len` bytes at `skb_mac_header`, no more than
    /// lie before the network header; empty when there is none (the
    /// default). Asked only by a LOG rule that fires on a packet with an
    /// input device, so the walk of every other packet never reads it.
    /// An edit ([`Env::edit`]) does not change these bytes.
    fn link_header<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&[])
    }
    /// The address type of `addr` (4 bytes IPv4 or 16 bytes IPv6, network
    /// order) as `xt_addrtype` looks it up in the packet's namespace,
    /// restricted to the device `dev` says: for IPv4 `1 <<
    /// inet_dev_addr_type()` (an `XT_ADDRTYPE_*` bit, `RTN_*` shifted); for
    /// IPv6 the bits `match_lookup_rt6` returns (`XT_ADDRTYPE_LOCAL`,
    /// `ANYCAST`, `UNREACHABLE`). The default is a route-less host:
    /// `XT_ADDRTYPE_UNICAST` for IPv4, `XT_ADDRTYPE_UNREACHABLE` for IPv6.
    fn addr_type(&mut self, addr: &[u8], _dev: AddrDev) -> u16 {
        if addr.len() == 4 {
            1 << 1
        } else {
            1 << 7
        }
    }
    /// The original (`[0]`) and reply (`[1]`) tuples of the packet's
    /// connection (`ct->tuplehash[dir].tuple`); `None` when the packet
    /// carries none.
    fn ct_tuples(&mut self) -> Option<[CtTuple; 2]> {
        None
    }
    /// The seconds the packet's connection has left (`nf_ct_expires(ct) /
    /// HZ`, include/net/netfilter/nf_conntrack.h), what `--ctexpire`
    /// compares; `None` when the packet carries no connection.
    fn ct_expires(&mut self) -> Option<u32> {
        None
    }
    /// `hashlimit`: runs `run` on the named table of slot `slot` of the
    /// table being walked (the slots [`Table::hashlimits`] lists), with
    /// that table locked against other CPUs and readers. `None` (the
    /// default) when there is no such table: the match hot-drops.
    fn hashlimit<R>(&mut self, _slot: u32, _run: impl FnOnce(&mut dyn super::hashlimit::Htable) -> R) -> Option<R> {
        None
    }
}

/// Which device an address-type lookup is restricted to
/// (`--limit-iface-in` / `--limit-iface-out` of `addrtype` revision 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrDev {
    /// No device (`dev == NULL`).
    Any,
    /// The input device of the hook (`xt_in(par)`).
    In,
    /// The output device of the hook (`xt_out(par)`).
    Out,
}

/// One direction of a connection as the `conntrack` match reads it
/// (`struct nf_conntrack_tuple`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtTuple {
    /// Source address: the 16 bytes (network order, IPv4 in the first 4,
    /// rest zero) as `u128::from_ne_bytes`, like the rule's addresses.
    pub src: u128,
    /// Destination address, the same way.
    pub dst: u128,
    /// `ntohs(src.u.all)`: the source port, or the ICMP echo identifier.
    pub src_port: u16,
    /// `ntohs(dst.u.all)`: the destination port, or ICMP `type << 8 | code`.
    pub dst_port: u16,
}

/// What the walk knows of the packet: what `ipt_do_table` and
/// `ip6t_do_table` set up before their first rule (`ip_hdr(skb)`, the
/// device names or `nulldevname`, `acpar.fragoff`, `acpar.thoff`) and what
/// `ip_packet_match` / `ip6_packet_match` and the matches read, taken from
/// the header once ([`Facts::new`], a few loads: no copy of the packet)
/// rather than at every rule. Computed before the first rule even when no
/// rule reads them: `walk_bench` (tests_walk.rs) puts that at a few
/// nanoseconds, for IPv6's `ipv6_find_hdr` walk too, less than a test
/// per rule for whether a field is computed yet would cost.
pub(crate) struct Facts<'a> {
    pub family: Family,
    /// The bytes from the network header on ([`Packet::headers`]).
    pub headers: &'a [u8],
    /// Source address: the header's bytes (network order; IPv4 in the
    /// first 4, the rest zero) as `u128::from_ne_bytes`, the form of the
    /// rule's [`IpPart::src`] and mask, so a masked compare is one `&`.
    pub saddr: u128,
    /// Destination address, the same way.
    pub daddr: u128,
    /// IPv4 protocol; IPv6: result of the `ipv6_find_hdr` walk.
    pub proto: Option<u8>,
    /// Transport header offset in `headers`.
    pub thoff: usize,
    /// IPv4: fragment offset in 8-byte units; IPv6: in bytes (`& ~7`).
    pub fragoff: u16,
    /// Bytes of `headers` from `thoff` on (0 when `thoff` is past the end).
    pub l4_len: usize,
    /// Source and destination port (host order) of a tcp/udp/sctp-like
    /// header, read once per packet; valid only when `l4_len >= 4`.
    pub sport: u16,
    pub dport: u16,
    /// `skb->len` in bytes.
    pub len: u32,
    /// Input and output device names (IFNAMSIZ, NUL padded, all zero when
    /// there is none); `ip_match` compares them as `u128` as the kernel's
    /// `ifname_compare_aligned` compares them as longs.
    pub in_name: &'a [u8; 16],
    pub out_name: &'a [u8; 16],
    /// The table's blob, where matches too large to decode keep their data
    /// (`iprange` and `conntrack` addresses); empty until the walk sets it.
    pub blob: &'a [u8],
}

fn addr(b: &[u8], off: usize, n: usize) -> Option<u128> {
    let mut a = [0u8; 16];
    a.get_mut(..n)?.copy_from_slice(b.get(off..off.checked_add(n)?)?);
    Some(u128::from_ne_bytes(a))
}

/// `ipv6_find_hdr(skb, &off, -1, &fragoff, NULL)`: the upper-layer protocol
/// and its offset, or `None` (truncated, or a later fragment followed by an
/// extension header, or an extension header longer than the `skb_len` bytes
/// of the packet): the caller hot-drops as `ip6_packet_match` does.
pub(crate) fn ipv6_find_hdr(h: &[u8], skb_len: usize) -> Option<(u8, usize, u16)> {
    let mut nexthdr = *h.get(6)?;
    let mut start = 40usize;
    for _ in 0..32 {
        let ext = matches!(nexthdr, 0 | 43 | 44 | 51 | 60);
        if !ext {
            // Includes NEXTHDR_NONE (59): returned as the protocol, like the kernel.
            return Some((nexthdr, start, 0));
        }
        let next = *h.get(start)?;
        let hdrlen = if nexthdr == 44 {
            let fo = u16::from_be_bytes([*h.get(start + 2)?, *h.get(start + 3)?]) & !7;
            if fo != 0 {
                if !matches!(next, 0 | 43 | 44 | 51 | 60) || next == 59 {
                    return Some((next, start + 8, fo));
                }
                return None;
            }
            8
        } else if nexthdr == 51 {
            (usize::from(*h.get(start + 1)?) + 2) << 2
        } else {
            (usize::from(*h.get(start + 1)?) + 1) << 3
        };
        if skb_len.checked_sub(start).is_some_and(|left| left < hdrlen) {
            return None;
        }
        nexthdr = next;
        start = start.checked_add(hdrlen)?;
    }
    None
}

impl<'a> Facts<'a> {
    /// The facts of `pkt` for a table of `family`. `None`: the network
    /// header is unusable (hot-drop). Inlined into the walk: built in place,
    /// not returned through memory.
    #[inline(always)]
    pub(crate) fn new(family: Family, pkt: &Packet<'a>) -> Option<Self> {
        let h = pkt.headers;
        let mut f = Facts {
            family,
            headers: h,
            saddr: 0,
            daddr: 0,
            proto: None,
            thoff: 0,
            fragoff: 0,
            l4_len: 0,
            sport: 0,
            dport: 0,
            len: pkt.len,
            in_name: pkt.in_dev,
            out_name: pkt.out_dev,
            blob: &[],
        };
        match family {
            Family::Ipv4 => {
                let b0 = *h.first()?;
                let ihl = usize::from(b0 & 0x0f) * 4;
                if b0 >> 4 != 4 || ihl < 20 || h.len() < 20 {
                    return None;
                }
                f.saddr = addr(h, 12, 4)?;
                f.daddr = addr(h, 16, 4)?;
                f.proto = Some(*h.get(9)?);
                f.thoff = ihl;
                f.fragoff = u16::from_be_bytes([*h.get(6)?, *h.get(7)?]) & 0x1fff;
            }
            Family::Ipv6 => {
                if h.len() < 40 || h.first()? >> 4 != 6 {
                    return None;
                }
                f.saddr = addr(h, 8, 16)?;
                f.daddr = addr(h, 24, 16)?;
                if let Some((p, off, fo)) = ipv6_find_hdr(h, pkt.len as usize) {
                    f.proto = Some(p);
                    f.thoff = off;
                    f.fragoff = fo;
                }
            }
        }
        if let Some(l4) = h.get(f.thoff..) {
            f.l4_len = l4.len();
            if let (Some(a), Some(b)) = (l4.get(0..2), l4.get(2..4)) {
                f.sport = u16::from_be_bytes([a[0], a[1]]);
                f.dport = u16::from_be_bytes([b[0], b[1]]);
            }
        }
        Some(f)
    }
}

/// The facts of the packet after an edit: its bytes read back into `view`
/// through [`Env::reread`], its devices as before.
fn reread<'v, E: Env>(family: Family, pkt: &Packet<'v>, env: &mut E, view: &'v mut [u8]) -> Option<Facts<'v>> {
    let (n, len) = env.reread(view)?;
    let view: &'v [u8] = view;
    Facts::new(family, &Packet { headers: view.get(..n)?, len, ..*pkt })
}

/// Result of the ip part: match, no match, or hot-drop.
#[derive(PartialEq, Eq)]
enum IpResult {
    Match,
    NoMatch,
    HotDrop,
}

#[inline]
fn invf(ip: &IpPart, flag: u8, cond: bool) -> bool {
    cond ^ (ip.invflags & flag != 0)
}

/// `ip_packet_match` / `ip6_packet_match`.
/// Tests whose [`IpPart::tests`] bit is clear always pass and are skipped.
#[inline(always)]
fn ip_match(ip: &IpPart, f: &Facts<'_>) -> IpResult {
    use super::rule::{TEST_DST, TEST_IN, TEST_OUT, TEST_SRC};
    let t = ip.tests;
    if t != 0 {
        if (t & TEST_SRC != 0 && invf(ip, inv::SRCIP, (f.saddr & ip.smsk) != ip.src))
            || (t & TEST_DST != 0 && invf(ip, inv::DSTIP, (f.daddr & ip.dmsk) != ip.dst))
        {
            return IpResult::NoMatch;
        }
        let dev = |name: &[u8; 16]| u128::from_ne_bytes(*name);
        if t & TEST_IN != 0 && invf(ip, inv::VIA_IN, ((dev(f.in_name) ^ ip.iniface) & ip.iniface_mask) != 0) {
            return IpResult::NoMatch;
        }
        if t & TEST_OUT != 0 && invf(ip, inv::VIA_OUT, ((dev(f.out_name) ^ ip.outiface) & ip.outiface_mask) != 0) {
            return IpResult::NoMatch;
        }
    }
    match f.family {
        Family::Ipv4 => {
            let p = u16::from(f.proto.unwrap_or(0));
            if ip.proto != 0 && invf(ip, inv::PROTO, p != ip.proto) {
                return IpResult::NoMatch;
            }
            if invf(ip, inv::FRAG, ip.flags & super::abi::ipt_ip::F_FRAG != 0 && f.fragoff == 0) {
                return IpResult::NoMatch;
            }
        }
        Family::Ipv6 => {
            if ip.flags & super::abi::ip6t_ip6::F_PROTO != 0 {
                let Some(p) = f.proto else { return IpResult::HotDrop };
                if ip.proto == u16::from(p) {
                    return if ip.invflags & inv::PROTO != 0 { IpResult::NoMatch } else { IpResult::Match };
                }
                if ip.proto != 0 && ip.invflags & inv::PROTO == 0 {
                    return IpResult::NoMatch;
                }
            }
        }
    }
    IpResult::Match
}

impl<B, R, M> Table<B, R, M>
where
    B: AsRef<[u8]>,
    R: AsRef<[Rule]> + AsMut<[Rule]>,
    M: AsRef<[Match]> + AsMut<[Match]>,
{
    /// Judges `pkt` by the chain of `pkt.hook` with `ipt_do_table` semantics:
    /// first matching rule wins, counters via [`Env::count`] for every rule
    /// whose matches all matched, jumps push a return point (bounded by
    /// [`JUMP_STACK_DEPTH`] and the table's chain count), goto does not,
    /// RETURN pops or goes to the hook's underflow (policy), LOG continues.
    /// A hook the table has no chain for yields `Accept`. Never allocates.
    /// Walks every rule in turn, as the kernel does.
    ///
    /// The set-up per packet is what `ipt_do_table` does before its first
    /// rule and no more: the header's facts (`Facts::new`), no buffer
    /// zeroed; the jump stack and the buffer an edit reads the packet back
    /// into are made by the first jump and the first edit.
    pub fn evaluate<E: Env>(&self, pkt: &Packet<'_>, env: &mut E) -> Action {
        self.walk(None::<&Classifier<&[u64]>>, pkt, env)
    }

    /// The verdict of every walk at `hook` when the hook's first rule
    /// decides it alone, with that rule's index (the rule the walk
    /// counts): a rule with no test in its ip part (the kernel's
    /// `unconditional()`), no match and an ACCEPT or DROP verdict, as a
    /// chain holding nothing but its policy begins. `None` when the walk
    /// has to look at the packet, or the table has no such hook.
    ///
    /// For such a hook [`Table::evaluate`] counts rule `index` and returns
    /// the action whatever the packet, as `ipt_do_table()` does (a packet
    /// whose network header is unusable, which the IP stack does not hand
    /// to a hook, is the one difference: the walk hot-drops it). Callers
    /// skip reading the packet for it: the nat table's PREROUTING without
    /// a DNAT rule, an empty mangle or raw table, a filter chain with only
    /// its policy.
    #[inline]
    pub fn decided_at(&self, hook: u32) -> Option<(usize, Action)> {
        let d = *self.decided.get(hook as usize)?;
        if d == super::translate::NOT_DECIDED {
            return None;
        }
        Some(((d >> 1) as usize, if d & 1 != 0 { Action::Accept } else { Action::Drop }))
    }

    /// [`Table::evaluate`], going from each position straight to the next
    /// rule `cls` says may match: the same verdict, the same counted rules,
    /// the same LOG lines and `limit` state. `cls` must be the one
    /// [`Classifier::build`] made from this table: one built for a table of
    /// another rule count or family is ignored (the walk is linear), but one
    /// from another table of the same size would give that table's
    /// candidates (wrong verdicts, never a panic or an out-of-bounds read).
    pub fn evaluate_classified<S: AsRef<[u64]>, E: Env>(&self, cls: &Classifier<S>, pkt: &Packet<'_>, env: &mut E) -> Action {
        self.walk(Some(cls), pkt, env)
    }

    #[inline(always)]
    fn walk<S: AsRef<[u64]>, E: Env>(&self, cls: Option<&Classifier<S>>, pkt: &Packet<'_>, env: &mut E) -> Action {
        let hook = pkt.hook as usize;
        if hook >= NF_INET_NUMHOOKS || self.valid_hooks & (1 << hook) == 0 {
            return Action::Accept;
        }
        // After an edit, `f` views the packet as re-read into `view`: made
        // (and zeroed) by the first edit, as few walks edit.
        let mut view: Option<[u8; REREAD_BYTES]> = None;
        let Some(mut f) = Facts::new(self.family, pkt) else { return Action::Drop };
        f.blob = self.blob.as_ref();
        let rules = self.rules.as_ref();
        let matches = self.matches.as_ref();
        let stack_max = self.stacksize.min(JUMP_STACK_DEPTH);
        // The return points of the jumps taken (`ipt_do_table`'s per-CPU
        // `jumpstack`, here on the stack): made (and zeroed) by the first
        // jump that pushes, as most walks never jump. `sp` entries in use.
        let mut stack: Option<[u32; JUMP_STACK_DEPTH]> = None;
        let mut sp = 0usize;
        let mut i = self.hook_rule[hook] as usize;
        // Every step either advances or follows a validated jump; the bound
        // only guards against a logic error turning into a softirq livelock.
        let mut budget = rules.len().saturating_mul(JUMP_STACK_DEPTH + 2).saturating_add(16);
        let cls = cls.filter(|c| c.fits(self.family, rules.len()));
        // Known false in `evaluate` once this is inlined there: the linear
        // walk then neither sets a lookup up nor calls `next` for each
        // rule (some 20 instructions a walk and 10 a rule it reaches).
        let classified = cls.is_some();
        let mut look = Lookup::unused();
        if let Some(c) = cls {
            c.lookup_into(&f, &mut look);
        }
        loop {
            // Starts at 16 or more and the walk ends when it reaches 0: no wrap.
            budget = budget.wrapping_sub(1);
            // Every rule in between fails its ip part or its first real
            // match, as the kernel's walk would have found (classify.rs);
            // without a classifier, `i` itself.
            if classified {
                i = look.next(i);
            }
            let Some(r) = rules.get(i) else { return Action::Drop };
            // The next rule: `i` indexes `rules`, so this never saturates.
            let after = i.saturating_add(1);
            if budget == 0 {
                return Action::Drop;
            }
            match ip_match(&r.ip, &f) {
                IpResult::NoMatch => {
                    i = after;
                    continue;
                }
                IpResult::HotDrop => return Action::Drop,
                IpResult::Match => {}
            }
            let first = r.first_match as usize;
            let ms = matches.get(first..first + usize::from(r.num_matches)).unwrap_or(&[]);
            let mut ok = true;
            for m in ms {
                match super::matches::eval(m, &f, env) {
                    Some(true) => {}
                    Some(false) => {
                        ok = false;
                        break;
                    }
                    None => return Action::Drop, // hotdrop
                }
            }
            if !ok {
                i = after;
                continue;
            }
            env.count(i);
            match r.target {
                Target::Accept => return Action::Accept,
                Target::Drop | Target::Error => return Action::Drop,
                Target::Reject(Some(w)) => return Action::Reject(w),
                Target::Reject(None) => return Action::Drop,
                Target::Nat(t) => return Action::Nat(t),
                Target::Return => {
                    if sp == 0 {
                        i = self.underflow_rule[hook] as usize;
                    } else {
                        sp -= 1;
                        i = stack.as_ref().and_then(|st| st.get(sp)).map_or(usize::MAX, |&s| s as usize + 1);
                    }
                }
                Target::Jump { to, push } => {
                    if push {
                        if sp >= stack_max {
                            return Action::Drop;
                        }
                        if let Some(s) = stack.get_or_insert([0u32; JUMP_STACK_DEPTH]).get_mut(sp) {
                            *s = i as u32;
                        }
                        sp += 1;
                    }
                    i = to as usize;
                }
                Target::Log { level, flags, ref prefix } => {
                    super::log::log_packet(&f, level, flags, prefix, env);
                    i = after;
                }
                Target::Tcpmss(_) | Target::DsField { .. } => {
                    match super::mangle::edit(&f, &r.target, env) {
                        None => return Action::Drop,
                        Some(false) => {}
                        // The rest of the walk sees the edited packet. The
                        // classifier's lookup stays right: no edit changes
                        // the protocol, the addresses or the ports.
                        Some(true) => match reread(self.family, pkt, env, view.get_or_insert([0u8; REREAD_BYTES])) {
                            Some(nf) => f = Facts { blob: self.blob.as_ref(), ..nf },
                            None => return Action::Drop,
                        },
                    }
                    i = after;
                }
                Target::Notrack => {
                    env.set_untracked();
                    i = after;
                }
                Target::CtTemplate(t) => {
                    env.ct_template(t.slot);
                    i = after;
                }
                Target::Mark { mark, mask } => {
                    super::marks::mark_target(mark, mask, env);
                    i = after;
                }
                Target::Connmark(ref c) => {
                    super::marks::connmark_target(c, env);
                    i = after;
                }
            }
        }
    }
}
