// SPDX-License-Identifier: GPL-2.0
//! rnf_conntrack: connection tracking for IPv4 and IPv6.
//!
//! Tracks TCP, UDP, ICMP and ICMPv6 echo, and any other protocol by address,
//! with the semantics and `/proc/net/nf_conntrack` line format of the
//! kernel's `nf_conntrack`. Hooks sit where the kernel's conntrack sits
//! (net/netfilter/nf_conntrack_proto.c): tracking at PRE_ROUTING and
//! LOCAL_OUT (priority `NF_IP_PRI_CONNTRACK`, -200) and confirmation at
//! POST_ROUTING and LOCAL_IN (`NF_IP_PRI_CONNTRACK_CONFIRM`, last). A new
//! connection enters the table only when its first packet is confirmed,
//! so a packet dropped by a filter in between leaves no entry.
//!
//! Per network namespace, as nf_conntrack: each namespace sees its own
//! connections and has its own count, timeouts, statistics and sysctls
//! (kept by the C glue, `struct rnf_ct_net`, reached through
//! `net_generic()`); `conntrack_max` is global and limits each namespace's
//! count. The entries of all namespaces share one table, keyed by namespace.
//!
//! The kernel's `nf_defrag_ipv4` and `nf_defrag_ipv6` reassemble fragments
//! before tracking (priority -400); this module enables them per namespace
//! by calling their enable functions, which makes the dependency visible to
//! `modinfo -F depends`.

use core::ffi::CStr;

use kernel::prelude::*;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

/// Glue only this module uses (its C glue, nf_defrag, the `rnf_ct_lookup`
/// export).
#[path = "glue/conntrack/mod.rs"]
pub mod ct_glue;

// The kernel-independent engines this module uses (rust/rnf_core/src): the
// packet views, the conntrack engine and the self-test harness. Mounted at
// the crate root under the names rust/rnf_core/src/lib.rs gives them, so
// their `crate::` paths resolve as in the rnf_core crate.
#[path = "rnf_core/src/conntrack/mod.rs"]
pub mod conntrack;
#[path = "rnf_core/src/packet/mod.rs"]
pub mod packet;
#[path = "rnf_core/src/selftest/mod.rs"]
pub mod selftest;

use conntrack::conn::{self, Conn, CtInfo, Direction, Outcome, Timeouts};
use conntrack::tcp::TcpState;
use conntrack::{icmp, procfmt, table, tuple};
use ct_glue::{Controls, CtNet, GcWork};
use glue::bindings;
use glue::global::Global;
use glue::hook::{Hook, HookOps, HookState, Net};
use glue::pernet::{Pernet, PernetHandler};
use glue::proc::{SeqFile, SeqShow};
use glue::skb::{Skb, HEADER_BYTES};
use glue::sync::BhSpinLock;
use glue::Verdict;
use packet::{L3Proto, PacketInfo};
use procfmt::FixedBuf;
use table::{ConnTable, InsertError, Slot};
use tuple::Tuple;

module! {
    type: RnfConntrack,
    name: "rnf_conntrack",
    author: "rnf developers",
    description: "Connection tracking for IPv4 and IPv6, in Rust",
    license: "GPL",
}

/// The self-test suites this module runs under KUnit.
#[cfg(CONFIG_KUNIT)]
pub(crate) const SELFTEST_SUITES: &[&selftest::Suite] = &conntrack::selftest::SUITES;

#[cfg(CONFIG_KUNIT)]
kunit_suites! {
    0 => CASES_0, SUITE_0;
    1 => CASES_1, SUITE_1;
    2 => CASES_2, SUITE_2;
    3 => CASES_3, SUITE_3;
    4 => CASES_4, SUITE_4;
}

const PROC_NAME: &CStr = c"rnf_conntrack";

/// Buckets the garbage collector visits per run at least, and runs per second.
const GC_MIN_BUCKETS: u32 = 64;
const GC_RUNS_PER_SEC: u32 = 10;

/// The connection table with its lock-protected state.
struct State {
    table: ConnTable<KVVec<Slot>, KVVec<u32>>,
    gc_next: u32,
}

/// Everything the hooks use; lives from init to exit.
struct Tracker {
    state: KBox<BhSpinLock<State>>,
    hooks: HookOps,
    hz: u32,
}

/// The live tracker, set at the end of init. Teardown rule (see
/// [`Global::get`]): it is taken in exit only after the hooks are
/// unregistered in every namespace and a grace period has passed, the GC
/// work is cancelled, the proc files are removed, and no module using
/// `rnf_ct_lookup` can still be loaded (they depend on this one).
static TRACKER: Global<Tracker> = Global::new();

fn tracker() -> Option<&'static Tracker> {
    TRACKER.get()
}

fn l3_of(pf: u8) -> Option<L3Proto> {
    L3Proto::from_nfproto(pf)
}

/// What a packet is to connection tracking.
enum Class {
    /// A packet with a tuple of its own.
    Tuple(PacketInfo, Tuple),
    /// An ICMP(v6) error about the packet whose tuple is given.
    Error(PacketInfo, Tuple),
}

/// Why a packet is not tracked.
enum Untracked {
    /// Malformed or truncated headers (`-EINVAL` to other modules).
    Malformed,
    /// Well-formed but with nothing to track: a later fragment, an error
    /// about nothing trackable, neighbour discovery (`-ENOENT`).
    NoTuple,
}

/// Parses the packet: its tuple, or the tuple an ICMP error embeds.
fn classify(skb: &Skb<'_>, pf: u8) -> core::result::Result<Class, Untracked> {
    let l3 = l3_of(pf).ok_or(Untracked::NoTuple)?;
    let mut buf = [0u8; HEADER_BYTES];
    let bytes = skb.network_bytes(&mut buf).ok_or(Untracked::Malformed)?;
    let p = packet::parse(l3, bytes).map_err(|_| Untracked::Malformed)?;
    match Tuple::from_packet(&p) {
        Ok(t) => Ok(Class::Tuple(p, t)),
        Err(tuple::NoTuple::IcmpNotQuery) => match p.l4 {
            packet::L4::Icmp { icmp_type, .. } if icmp::is_error(l3, icmp_type) => {
                match icmp::inner_tuple(&p, bytes) {
                    Ok(inner) => Ok(Class::Error(p, inner)),
                    Err(icmp::InnerError::Parse(_)) => Err(Untracked::Malformed),
                    Err(icmp::InnerError::NoTuple) => Err(Untracked::NoTuple),
                }
            }
            _ => Err(Untracked::NoTuple),
        },
        Err(tuple::NoTuple::Fragment) => Err(Untracked::NoTuple),
    }
}

/// The timeouts in force in the namespace of `pn` (see [`CtNet::timeouts`]).
fn timeouts_of(pn: CtNet) -> Timeouts {
    timeouts_from(&pn.timeouts())
}

impl State {
    /// Publishes the count over all namespaces (`net.rnf.conntrack_count_all`).
    fn publish_count(&self) {
        ct_glue::set_count_all(self.table.count());
    }

    /// The connection an ICMP error whose embedded tuple is `inner` is
    /// about, with the error's RELATED ctinfo and direction; `None` if it
    /// relates to no connection or fails the outer check.
    fn related(&self, p: &PacketInfo, inner: &Tuple, netns: u32, now: u64) -> Option<(&Conn, CtInfo, Direction)> {
        let (i, dir) = self.table.find(&inner.invert(), netns)?;
        let c = self.table.get(i).filter(|c| !c.expired(now))?;
        if !icmp::outer_fits(p, &c.tuple[dir as usize].dst) {
            return None;
        }
        let ctinfo = match dir {
            Direction::Original => CtInfo::Related,
            Direction::Reply => CtInfo::RelatedReply,
        };
        Some((c, ctinfo, dir))
    }
}

/// The timeouts, from seconds indexed by `enum rnf_ct_timeout`.
fn timeouts_from(v: &[u32]) -> Timeouts {
    let at = |i: bindings::rnf_ct_timeout| v.get(i as usize).copied().unwrap_or(0);
    let mut t = Timeouts::default();
    let tcp = [
        (TcpState::SynSent, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_SYN_SENT),
        (TcpState::SynSent2, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_SYN_SENT),
        (TcpState::SynRecv, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_SYN_RECV),
        (TcpState::Established, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_ESTABLISHED),
        (TcpState::FinWait, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_FIN_WAIT),
        (TcpState::CloseWait, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_CLOSE_WAIT),
        (TcpState::LastAck, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_LAST_ACK),
        (TcpState::TimeWait, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_TIME_WAIT),
        (TcpState::Close, bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_CLOSE),
    ];
    for (state, idx) in tcp {
        if let Some(slot) = t.tcp.get_mut(state as usize) {
            *slot = at(idx);
        }
    }
    t.tcp_unack = at(bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_UNACK);
    t.udp_unreplied = at(bindings::rnf_ct_timeout_RNF_CT_TMO_UDP);
    t.udp_replied = at(bindings::rnf_ct_timeout_RNF_CT_TMO_UDP_STREAM);
    t.icmp = at(bindings::rnf_ct_timeout_RNF_CT_TMO_ICMP);
    t.icmpv6 = at(bindings::rnf_ct_timeout_RNF_CT_TMO_ICMPV6);
    t.generic = at(bindings::rnf_ct_timeout_RNF_CT_TMO_GENERIC);
    t
}

impl Tracker {
    /// PRE_ROUTING / LOCAL_OUT: update the state of a known connection, or
    /// relate an ICMP error to the connection it is about.
    fn track(&self, skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        let Some(pn) = CtNet::of(st.net()) else { return Verdict::Accept };
        let (p, t) = match classify(skb, st.pf()) {
            Ok(Class::Tuple(p, t)) => (p, t),
            Ok(Class::Error(p, inner)) => {
                let g = self.state.lock();
                let related = g.related(&p, &inner, st.net().id(), glue::jiffies()).is_some();
                drop(g);
                pn.stat(if related {
                    bindings::rnf_ct_stat_RNF_CT_STAT_RELATED
                } else {
                    bindings::rnf_ct_stat_RNF_CT_STAT_ICMP_ERROR
                });
                return Verdict::Accept;
            }
            Err(Untracked::Malformed) => {
                pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INVALID);
                return Verdict::Accept;
            }
            Err(Untracked::NoTuple) => return Verdict::Accept,
        };
        let netns = st.net().id();
        let now = glue::jiffies();
        let tmo = timeouts_of(pn);
        let mut g = self.state.lock();
        let Some((i, dir)) = g.table.find(&t, netns) else { return Verdict::Accept };
        pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_FOUND);
        let outcome = match g.table.get_mut(i) {
            Some(c) if c.expired(now) => Outcome::Reopen,
            Some(c) => c.packet(dir, &p, now, self.hz, &tmo),
            None => return Verdict::Accept,
        };
        match outcome {
            Outcome::Kill(_) | Outcome::Reopen => {
                if g.table.remove(i).is_some() {
                    pn.count_add(-1);
                }
                g.publish_count();
            }
            Outcome::Invalid => pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INVALID),
            Outcome::Accept(_) => {}
        }
        Verdict::Accept
    }

    /// POST_ROUTING / LOCAL_IN: insert the connection of a packet that
    /// opens one. When the namespace has `conntrack_max` connections (the
    /// kernel's `nf_conntrack_alloc()` test of the per-net count against the
    /// global maximum), or every slot of the shared table is used, one of
    /// the namespace's unassured entries is evicted or the packet dropped.
    fn confirm(&self, skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        let Some(pn) = CtNet::of(st.net()) else { return Verdict::Accept };
        let Ok(Class::Tuple(p, t)) = classify(skb, st.pf()) else { return Verdict::Accept };
        let netns = st.net().id();
        let now = glue::jiffies();
        let tmo = timeouts_of(pn);
        let max = ct_glue::ct_max();
        let mut g = self.state.lock();
        // Most packets belong to a confirmed connection: look it up before
        // building a new entry (the kernel's nf_ct_is_confirmed() shortcut).
        let found = g.table.find(&t, netns).map(|(i, _)| i);
        if let Some(i) = found {
            if !g.table.get(i).is_some_and(|c| c.expired(now)) {
                return Verdict::Accept;
            }
        }
        let Ok(mut conn) = Conn::new(&t, &p, netns, now, self.hz, &tmo) else {
            // Cannot open a connection (e.g. an echo reply): untracked.
            return Verdict::Accept;
        };
        conn.status |= conn::IPS_CONFIRMED;
        if let Some(i) = found {
            if g.table.remove(i).is_some() {
                pn.count_add(-1);
            }
        }
        if pn.count() >= max || g.table.count() >= g.table.capacity() {
            let bucket = g.table.bucket_of(&t, netns);
            if !g.table.early_drop(bucket, now, netns) {
                g.publish_count();
                drop(g);
                pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_DROP);
                if glue::net_ratelimit() {
                    pr_warn!("table full, dropping packet\n");
                }
                return Verdict::Drop;
            }
            pn.count_add(-1);
            pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_EARLY_DROP);
        }
        let res = g.table.insert(conn);
        if res.is_ok() {
            pn.count_add(1);
        }
        g.publish_count();
        drop(g);
        match res {
            Ok(_) => pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INSERT),
            // Another CPU confirmed the same tuple first: its entry stands.
            Err(InsertError::Clash) => pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INSERT_FAILED),
            // Cannot happen after the test above; counted, the packet passes.
            Err(InsertError::Full) => pn.stat(bindings::rnf_ct_stat_RNF_CT_STAT_INSERT_FAILED),
        }
        Verdict::Accept
    }

    /// Looks a packet up for another module (see `rnf_ct_lookup`). A packet
    /// that would open a connection not yet confirmed is NEW with a status
    /// lacking `IPS_CONFIRMED`, as the kernel's unconfirmed conntrack is; an
    /// ICMP error about a connection is RELATED to it.
    fn lookup(&self, net: Net, pf: u8, skb: &Skb<'_>) -> Result<bindings::rnf_ct_lookup> {
        let pn = CtNet::of(net).ok_or(ENOENT)?;
        let netns = net.id();
        let now = glue::jiffies();
        let (p, t) = match classify(skb, pf) {
            Ok(Class::Tuple(p, t)) => (p, t),
            Ok(Class::Error(p, inner)) => {
                let g = self.state.lock();
                let (c, ctinfo, dir) = g.related(&p, &inner, netns, now).ok_or(ENOENT)?;
                return Ok(bindings::rnf_ct_lookup {
                    status: c.status,
                    ctinfo: ctinfo as u8,
                    dir: dir as u8,
                    proto: inner.proto,
                    pad: 0,
                });
            }
            Err(Untracked::Malformed) => return Err(EINVAL),
            Err(Untracked::NoTuple) => return Err(ENOENT),
        };
        let g = self.state.lock();
        let found = g.table.find(&t, netns).and_then(|(i, dir)| g.table.get(i).map(|c| (c, dir)));
        let (status, ctinfo, dir) = match found {
            Some((c, dir)) if !c.expired(now) => (c.status, c.ctinfo(dir), dir),
            _ => {
                drop(g);
                Conn::new(&t, &p, netns, now, self.hz, &timeouts_of(pn)).map_err(|_| ENOENT)?;
                (0, CtInfo::New, Direction::Original)
            }
        };
        Ok(bindings::rnf_ct_lookup { status, ctinfo: ctinfo as u8, dir: dir as u8, proto: t.proto, pad: 0 })
    }
}

struct TrackHook;
impl Hook for TrackHook {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        // Packets looped back were tracked on their way out (LOCAL_OUT).
        if st.hook() == bindings::nf_inet_hooks_NF_INET_PRE_ROUTING && st.input_is_loopback() {
            return Verdict::Accept;
        }
        tracker().map_or(Verdict::Accept, |t| t.track(skb, st))
    }
}

struct ConfirmHook;
impl Hook for ConfirmHook {
    fn run(skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        tracker().map_or(Verdict::Accept, |t| t.confirm(skb, st))
    }
}

struct ProcConntrack;
impl SeqShow for ProcConntrack {
    fn show(net: Net, seq: &mut SeqFile<'_>) {
        let Some(t) = tracker() else { return };
        let netns = net.id();
        let now = glue::jiffies();
        let g = t.state.lock();
        let mut line = FixedBuf::<512>::new();
        for (_, c) in g.table.iter().filter(|(_, c)| c.netns == netns && !c.expired(now)) {
            line.clear();
            if procfmt::write_conn(&mut line, c, now, t.hz, 1).is_ok() {
                seq.write(line.as_bytes());
            }
        }
    }
}

struct PerNet;
impl PernetHandler for PerNet {
    fn init(net: Net) -> Result {
        let t = tracker().ok_or(ENODEV)?;
        ct_glue::defrag_enable(net)?;
        let res = t.hooks.register(net).and_then(|()| {
            glue::proc::create::<ProcConntrack>(net, PROC_NAME, 0o444).inspect_err(|_| t.hooks.unregister(net))
        });
        if res.is_err() {
            ct_glue::defrag_disable(net);
        }
        res
    }

    fn exit(net: Net) {
        let Some(t) = tracker() else { return };
        glue::proc::remove(net, PROC_NAME);
        t.hooks.unregister(net);
        // Hooks that started before the unregistration may still insert.
        glue::synchronize_rcu();
        {
            let mut g = t.state.lock();
            let removed = g.table.flush(Some(net.id()));
            if let Some(pn) = CtNet::of(net) {
                pn.count_add(-(removed.min(i32::MAX as u32) as i32));
            }
            g.publish_count();
        }
        // Enabled in `init` for this namespace. Takes a mutex: the table
        // lock must not be held here.
        ct_glue::defrag_disable(net);
    }
}

/// Reclaims a batch of expired connections; returns jiffies until the next
/// batch, `None` without a tracker. Called by the GC delayed work (process
/// context) through `ct_glue::rnf_ct_gc_run`.
pub(crate) fn gc_run() -> Option<u32> {
    let t = tracker()?;
    let now = glue::jiffies();
    let mut g = t.state.lock();
    let batch = (g.table.buckets() / (GC_RUNS_PER_SEC * 5)).max(GC_MIN_BUCKETS);
    let start = g.gc_next;
    // Under the table lock, as the count's other writers (an entry of a
    // namespace whose data is gone is not in the table: the namespace's exit
    // flushed them first).
    let (removed, next) = g.table.gc(now, start, batch, |netns| ct_glue::count_sub_inum(netns, 1));
    g.gc_next = next;
    if removed > 0 {
        g.publish_count();
    }
    Some((t.hz / GC_RUNS_PER_SEC).max(1))
}

/// Looks `skb` (of protocol family `pf`, `NFPROTO_*`) up in namespace
/// `net` for another module: what `rnf_ct_lookup` (rnf_conntrack_api.h,
/// exported by `ct_glue`) returns. Errors: `ENOENT` (no connection),
/// `EINVAL` (unparsable headers), `ENODEV` (no tracker).
pub(crate) fn ct_lookup(net: Net, pf: u8, skb: &Skb<'_>) -> Result<bindings::rnf_ct_lookup> {
    tracker().ok_or(ENODEV)?.lookup(net, pf, skb)
}

struct RnfConntrack {
    pernet: Option<Pernet>,
    /// The GC work and the C glue's per-namespace data: dropped by
    /// [`free_tracker`] after the hooks are gone.
    gc: Option<GcWork>,
    controls: Option<Controls>,
}

fn build_hooks() -> Result<HookOps> {
    use bindings::{
        nf_inet_hooks_NF_INET_LOCAL_IN as LOCAL_IN, nf_inet_hooks_NF_INET_LOCAL_OUT as LOCAL_OUT,
        nf_inet_hooks_NF_INET_POST_ROUTING as POST_ROUTING, nf_inet_hooks_NF_INET_PRE_ROUTING as PRE_ROUTING,
    };
    let mut ops = HookOps::new();
    let track = bindings::nf_ip_hook_priorities_NF_IP_PRI_CONNTRACK;
    let confirm = bindings::nf_ip_hook_priorities_NF_IP_PRI_CONNTRACK_CONFIRM;
    for pf in [bindings::NFPROTO_IPV4, bindings::NFPROTO_IPV6] {
        ops.add::<TrackHook>(pf, PRE_ROUTING, track)?;
        ops.add::<TrackHook>(pf, LOCAL_OUT, track)?;
        ops.add::<ConfirmHook>(pf, POST_ROUTING, confirm)?;
        ops.add::<ConfirmHook>(pf, LOCAL_IN, confirm)?;
    }
    Ok(ops)
}

impl kernel::Module for RnfConntrack {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let (hashsize, max) = ct_glue::params();
        let ram = ct_glue::totalram_bytes();
        let buckets = if hashsize > 0 { hashsize } else { table::default_buckets(ram, 8) };
        let max = if max > 0 { max } else { buckets }.min(table::MAX_ENTRIES as u32);
        let slots = KVVec::from_elem(Slot::EMPTY, max as usize, GFP_KERNEL)?;
        let heads = KVVec::from_elem(table::NIL, buckets as usize, GFP_KERNEL)?;
        let state = State { table: ConnTable::new(slots, heads, glue::random_u32()), gc_next: 0 };
        let tracker = KBox::new(
            Tracker { state: BhSpinLock::new_boxed(state, GFP_KERNEL)?, hooks: build_hooks()?, hz: glue::hz() },
            GFP_KERNEL,
        )?;
        ct_glue::set_limits(buckets, max);
        // Per-namespace data, sysctls and statistics, before any hook: the
        // hooks' pernet operations (below) are registered after these, so
        // they run after them in a new namespace and before them in a dying
        // one.
        let controls = Controls::register()?;
        TRACKER.set(tracker);
        let gc = match GcWork::start() {
            Ok(gc) => gc,
            Err(e) => {
                free_tracker(None, controls);
                return Err(e);
            }
        };
        let pernet = match Pernet::register::<PerNet>() {
            Ok(p) => p,
            Err(e) => {
                free_tracker(Some(gc), controls);
                return Err(e);
            }
        };
        // For comparison: the kernel's `struct nf_conn` as bindgen laid it
        // out for this kernel (its slab rounds it up to a cache line).
        pr_info!(
            "{} buckets, max {} connections, {} bytes each (struct nf_conn: {} bytes)\n",
            buckets,
            max,
            core::mem::size_of::<Slot>(),
            core::mem::size_of::<bindings::nf_conn>()
        );
        Ok(RnfConntrack { pernet: Some(pernet), gc: Some(gc), controls: Some(controls) })
    }
}

/// Stops the GC (waiting for a running batch), removes the controls and
/// frees the tracker. Hooks must be unregistered already.
fn free_tracker(gc: Option<GcWork>, controls: Controls) {
    drop(gc);
    glue::synchronize_rcu();
    // No hook can count any more.
    drop(controls);
    drop(TRACKER.take());
}

impl Drop for RnfConntrack {
    fn drop(&mut self) {
        // Unregisters hooks and proc files in every namespace, flushing each.
        drop(self.pernet.take());
        if let Some(controls) = self.controls.take() {
            free_tracker(self.gc.take(), controls);
        }
        pr_info!("unloaded\n");
    }
}
