// SPDX-License-Identifier: GPL-2.0
//! The packet path: the filter hooks at LOCAL_IN, FORWARD and LOCAL_OUT
//! (`NF_IP_PRI_FILTER` / `NF_IP6_PRI_FILTER`, 0), like iptable_filter.c
//! and ipt_do_table, and the walk of a registered table that another
//! module's hook asks for ([`table_walk`], behind `rnf_tables_walk`).
//!
//! Hooks run under `rcu_read_lock()` in softirq or process context. The
//! walk itself runs with bottom halves disabled, so the per-CPU counters the
//! engine bumps (through [`Env::count`]) have one writer per CPU, and the
//! walk finds its CPU's counters once
//! ([`PerCpuCounters::this_cpu`](crate::glue::percpu::PerCpuCounters::this_cpu)).
//!
//! A table with a target that edits the packet (`TCPMSS`, `DSCP`, `TOS`:
//! [`xt::Table::edits`]) is walked over a copy of the headers, never a
//! view into the skb, because the edit may rewrite or move the skb's data;
//! the engine reads the edited packet back ([`Env::reread`]) for the rules
//! after an edit. The link-layer header is read from the skb only when a
//! LOG rule prints it ([`Env::link_header`]), at that moment, so it needs
//! no copy.

use crate::glue::bindings;
use crate::glue::hook::{Hook, HookOps, HookState};
use crate::glue::percpu::ThisCpu;
use crate::glue::rcu::{BhDisabled, RcuBox};
use crate::glue::skb::{HeaderBuf, Skb, HEADER_BYTES};
use crate::tables_glue::{self as tglue, Csum, CtLookup, Reject};
use crate::glue::{self, Verdict};
use crate::instance::Instance;
use crate::netns::{self, Fam, IPV4, IPV6, MAX_TABLES};
use crate::packet as pkt;
use crate::nat::checksum::Summed;
use crate::xt::{self, Action, AddrDev, CtState, CtTuple, Env, NatTarget, RejectWith};

use kernel::prelude::*;

/// What the engine asks of the kernel while it walks one packet.
struct HookEnv<'a> {
    inst: &'a Instance,
    /// This CPU's rule counters, for the walk's BH-disabled section.
    cpu: ThisCpu<'a>,
    skb: &'a Skb<'a>,
    state: &'a HookState<'a>,
    headers: &'a [u8],
    ipv6: bool,
    len: u64,
    /// The conntrack answer, asked at most once per packet.
    ct: Option<CtState>,
}

/// ICMPv6 types the kernel's conntrack leaves UNTRACKED rather than
/// INVALID (`noct_valid_new` in nf_conntrack_proto_icmpv6.c): MLD and
/// neighbour discovery.
fn icmpv6_untracked(headers: &[u8]) -> bool {
    match pkt::parse(pkt::L3Proto::Ipv6, headers) {
        Ok(p) => match p.l4 {
            pkt::L4::Icmp { icmp_type, .. } if p.proto == pkt::IPPROTO_ICMPV6 => {
                matches!(icmp_type, 130..=137 | 143)
            }
            _ => false,
        },
        Err(_) => false,
    }
}

impl Env for HookEnv<'_> {
    fn count(&mut self, index: usize) {
        self.cpu.add(index, 1, self.len);
    }

    fn conntrack(&mut self) -> CtState {
        if let Some(c) = self.ct {
            return c;
        }
        let c = match tglue::ct_lookup(self.skb, self.state) {
            CtLookup::Found(r) => CtState::Tracked { ctinfo: r.ctinfo, status: r.status, dir: r.dir, proto: r.proto },
            CtLookup::Untracked => CtState::Untracked,
            // The kernel attaches no conntrack to these: INVALID to
            // `state`/`conntrack`, except what it marks UNTRACKED.
            CtLookup::NoConnection if self.ipv6 && icmpv6_untracked(self.headers) => CtState::Untracked,
            CtLookup::NoConnection | CtLookup::Unparsable => CtState::Invalid,
        };
        self.ct = Some(c);
        c
    }

    fn log(&mut self, level: u8, line: &[u8]) {
        tglue::printk(level, line);
    }

    fn jiffies(&mut self) -> u64 {
        glue::jiffies()
    }

    fn hz(&self) -> u32 {
        glue::hz()
    }

    fn edit<R>(&mut self, need: usize, grow: usize, edit: impl FnOnce(&mut [u8], usize, &mut Summed) -> R) -> Option<R> {
        tglue::edit(self.skb, need, grow, |buf, len, cs| {
            let mut summed = match cs.ip_summed {
                1 => Summed::Unnecessary,
                2 => Summed::Complete(cs.csum),
                3 => Summed::Partial,
                _ => Summed::None,
            };
            let r = edit(buf, len, &mut summed);
            if let Summed::Complete(c) = summed {
                *cs = Csum { csum: c, ..*cs };
            }
            r
        })
    }

    fn reread(&mut self, buf: &mut [u8]) -> Option<(usize, u32)> {
        let n = tglue::network_copy(self.skb, buf)?;
        let len = self.skb.len();
        // Counters after an edit count the packet's new length, as the
        // kernel's do (TCPMSS may have grown it).
        self.len = u64::from(len);
        Some((n, len))
    }

    fn path_mtu(&mut self) -> u32 {
        let pf = if self.ipv6 { bindings::NFPROTO_IPV6 } else { bindings::NFPROTO_IPV4 };
        tglue::path_mtu(self.skb, self.state.net(), pf as u8)
    }

    fn set_untracked(&mut self) {
        if tglue::set_untracked(self.skb) {
            self.ct = Some(CtState::Untracked);
        }
    }

    fn ct_template(&mut self, slot: u32) {
        // The template reads as a NEW connection to later rules, as
        // nf_ct_get() answers for the kernel's: ask again.
        if self.inst.ct_tmpl.get(slot as usize).is_some_and(|t| t.attach(self.skb)) {
            self.ct = None;
        }
    }

    fn warn(&mut self, line: &[u8]) {
        if glue::net_ratelimit() {
            let mut b = [0u8; 96];
            let p = b"rnf_tables: ";
            let n = (p.len() + line.len()).min(b.len());
            for (d, s) in b.iter_mut().zip(Iterator::chain(p.iter(), line.iter())) {
                *d = *s;
            }
            tglue::printk(3, b.get(..n).unwrap_or(&[]));
        }
    }

    fn mark(&mut self) -> u32 {
        tglue::skb_mark(self.skb)
    }

    fn set_mark(&mut self, mark: u32) {
        tglue::set_skb_mark(self.skb, mark)
    }

    fn ct_mark(&mut self) -> Option<u32> {
        tglue::ct_mark(self.skb)
    }

    fn set_ct_mark(&mut self, mark: u32) {
        tglue::set_ct_mark(self.skb, mark)
    }

    fn pkt_type(&mut self) -> u8 {
        tglue::pkt_type(self.skb)
    }

    fn mac_source(&mut self) -> Option<[u8; 6]> {
        tglue::eth_source(self.skb)
    }

    fn link_header<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        // Read now, after any edit the walk made: the view is used only
        // inside `f`, before a later edit can move the skb's data (edits
        // keep the headroom, so these bytes are the ones the hook got).
        f(tglue::mac_header(self.skb))
    }

    fn addr_type(&mut self, addr: &[u8], dev: AddrDev) -> u16 {
        tglue::addr_type(self.state, addr, dev)
    }

    fn hashlimit<R>(&mut self, slot: u32, run: impl FnOnce(&mut dyn xt::hashlimit::Htable) -> R) -> Option<R> {
        let t = self.inst.hashlimit.get(slot as usize)?;
        let mut store = t.table().store().lock();
        Some(run(&mut *store))
    }

    fn ct_tuples(&mut self) -> Option<[CtTuple; 2]> {
        let t = tglue::ct_tuples(self.skb)?;
        let one = |t: &bindings::rnf_tuple| CtTuple {
            src: u128::from_ne_bytes(t.src),
            dst: u128::from_ne_bytes(t.dst),
            src_port: t.src_id,
            dst_port: t.dst_id,
        };
        Some([one(&t[0]), one(&t[1])])
    }

    fn ct_expires(&mut self) -> Option<u32> {
        tglue::ct_expires(self.skb)
    }
}

/// The ICMP(v6) code or RST a REJECT target answers with.
fn reject_of(with: RejectWith) -> Reject {
    use RejectWith as W;
    let code = match with {
        W::TcpReset => return Reject::TcpReset,
        W::IcmpNetUnreach => bindings::ICMP_NET_UNREACH,
        W::IcmpHostUnreach => bindings::ICMP_HOST_UNREACH,
        W::IcmpProtoUnreach => bindings::ICMP_PROT_UNREACH,
        W::IcmpPortUnreach => bindings::ICMP_PORT_UNREACH,
        W::IcmpNetProhibited => bindings::ICMP_NET_ANO,
        W::IcmpHostProhibited => bindings::ICMP_HOST_ANO,
        W::IcmpAdminProhibited => bindings::ICMP_PKT_FILTERED,
        W::Icmp6NoRoute => bindings::ICMPV6_NOROUTE,
        W::Icmp6AdmProhibited => bindings::ICMPV6_ADM_PROHIBITED,
        W::Icmp6NotNeighbour => bindings::ICMPV6_NOT_NEIGHBOUR,
        W::Icmp6AddrUnreach => bindings::ICMPV6_ADDR_UNREACH,
        W::Icmp6PortUnreach => bindings::ICMPV6_PORT_UNREACH,
        W::Icmp6PolicyFail => bindings::ICMPV6_POLICY_FAIL,
        W::Icmp6RejectRoute => bindings::ICMPV6_REJECT_ROUTE,
    };
    Reject::Unreach(code as u8)
}

/// What the walk of one table decided about a packet.
pub(crate) enum Outcome {
    /// A verdict (a REJECT's answer already sent).
    Verdict(Verdict),
    /// A NAT target: the caller maps the connection and accepts the packet.
    Nat(NatTarget),
}

/// Walks the table in `slot` (of family `fam`, in the packet's namespace)
/// for one packet at the hook of `state`. An empty slot accepts.
#[inline(always)]
fn walk(fam: &Fam, slot: &RcuBox<Instance>, skb: &Skb<'_>, state: &HookState<'_>) -> Outcome {
    // The hook's own read-side section, as ipt_do_table reads the table
    // under it with no rcu_read_lock() of its own.
    let rcu = state.rcu();
    let Some(inst) = slot.read(&rcu) else {
        return Outcome::Verdict(Verdict::Accept);
    };
    // A hook whose first rule decides every packet (a chain with nothing
    // but its policy): that rule counted, as the walk would, and no header
    // read, no device name, no walk set up.
    if let Some((i, action)) = inst.table.decided_at(state.hook()) {
        let bh = BhDisabled::new();
        inst.counters.add(&bh, i, 1, u64::from(skb.len()));
        drop(bh);
        return Outcome::Verdict(if action == Action::Accept { Verdict::Accept } else { Verdict::Drop });
    }
    // A table that edits gets copies (module docs); the others views, with
    // stack space that is written (and so initialised) only when the
    // headers are not linear. The copies' buffers are only zeroed on the
    // path that uses them.
    let edits = inst.table.edits();
    let mut view_buf = HeaderBuf::new();
    let mut copy_buf: [u8; HEADER_BYTES];
    let (headers, len) = if edits {
        copy_buf = [0u8; HEADER_BYTES];
        let h = tglue::network_copy(skb, &mut copy_buf).and_then(|n| copy_buf.get(..n)).unwrap_or(&[]);
        (h, skb.len())
    } else {
        let (h, len) = skb.network_bytes_len(&mut view_buf);
        (h.unwrap_or(&[]), len)
    };
    let (in_dev, out_dev) = tglue::dev_names(state);
    let p = xt::Packet { hook: state.hook(), in_dev, out_dev, len, headers };
    let bh = BhDisabled::new();
    let cpu = inst.counters.this_cpu(&bh);
    let mut env = HookEnv { inst, cpu, skb, state, headers, ipv6: fam.ipv6, len: u64::from(len), ct: None };
    let action = match &inst.classifier {
        Some(cls) => inst.table.evaluate_classified(cls, &p, &mut env),
        None => inst.table.evaluate(&p, &mut env),
    };
    let outcome = match action {
        Action::Accept => Outcome::Verdict(Verdict::Accept),
        Action::Drop => Outcome::Verdict(Verdict::Drop),
        // Sent with BHs still disabled, as ipt_do_table runs ipt_REJECT.
        Action::Reject(r) => {
            tglue::send_reject(skb, state, fam.ipv6, reject_of(r));
            Outcome::Verdict(Verdict::Drop)
        }
        Action::Nat(t) => Outcome::Nat(t),
    };
    drop(bh);
    outcome
}

/// Judges one packet against the filter table of `fam` in its namespace.
fn filter(fam: &Fam, skb: &Skb<'_>, state: &HookState<'_>) -> Verdict {
    match walk(fam, netns::tables(state.net()).filter(fam), skb, state) {
        Outcome::Verdict(v) => v,
        // NAT targets are refused outside the nat table at SET_REPLACE
        // (checkentry), so a filter walk cannot end in one; fail closed.
        Outcome::Nat(_) => Verdict::Drop,
    }
}

/// Walks table `id` of family `pf` (`NFPROTO_*`) in the namespace of
/// `state` for `skb` at `state`'s hook: what `rnf_tables_walk` answers.
/// Accepts, with no NAT target, when the family or id is unknown or the
/// namespace has no such table (not set up yet, or being unregistered).
pub(crate) fn table_walk(pf: u8, id: i32, skb: &Skb<'_>, state: &HookState<'_>) -> Outcome {
    let accept = Outcome::Verdict(Verdict::Accept);
    let Some(fam) = netns::fam_of(pf) else { return accept };
    let Some(id) = usize::try_from(id).ok().filter(|&i| i < MAX_TABLES) else { return accept };
    let Some(tables) = netns::try_tables(state.net()) else { return accept };
    walk(fam, &tables.slots(fam)[id], skb, state)
}

struct Filter4;
impl Hook for Filter4 {
    fn run(skb: &Skb<'_>, state: &HookState<'_>) -> Verdict {
        filter(&IPV4, skb, state)
    }
}

struct Filter6;
impl Hook for Filter6 {
    fn run(skb: &Skb<'_>, state: &HookState<'_>) -> Verdict {
        filter(&IPV6, skb, state)
    }
}

/// The filter hooks of one family (IPv6 when `ipv6`) at LOCAL_IN, FORWARD
/// and LOCAL_OUT, registered in a namespace when its filter table comes
/// (`netns::instantiate`), as `ipt_register_table()` registers
/// iptable_filter's.
pub(crate) fn build_hooks(ipv6: bool) -> Result<HookOps> {
    use bindings::{
        nf_inet_hooks_NF_INET_FORWARD as FORWARD, nf_inet_hooks_NF_INET_LOCAL_IN as LOCAL_IN,
        nf_inet_hooks_NF_INET_LOCAL_OUT as LOCAL_OUT,
    };
    let mut ops = HookOps::new();
    for hook in [LOCAL_IN, FORWARD, LOCAL_OUT] {
        if ipv6 {
            ops.add::<Filter6>(bindings::NFPROTO_IPV6, hook, bindings::nf_ip6_hook_priorities_NF_IP6_PRI_FILTER)?;
        } else {
            ops.add::<Filter4>(bindings::NFPROTO_IPV4, hook, bindings::nf_ip_hook_priorities_NF_IP_PRI_FILTER)?;
        }
    }
    Ok(ops)
}
