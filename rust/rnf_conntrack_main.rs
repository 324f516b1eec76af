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
//! The kernel's `nf_defrag_ipv4` and `nf_defrag_ipv6` reassemble fragments
//! before tracking (priority -400); this module enables them per namespace
//! by calling their enable functions, which makes the dependency visible to
//! `modinfo -F depends`.

use core::ffi::{c_int, c_ulong, CStr};

use kernel::prelude::*;

/// Kernel glue: the only `unsafe` code (see `rust/glue/mod.rs`).
#[path = "glue/mod.rs"]
pub mod glue;

#[path = "rnf_core/src/conn.rs"]
pub mod conn;
#[path = "rnf_core/src/nat.rs"]
pub mod nat;
#[path = "rnf_core/src/packet.rs"]
pub mod packet;
#[path = "rnf_core/src/procfmt.rs"]
pub mod procfmt;
#[path = "rnf_core/src/selftest.rs"]
pub mod selftest;
#[path = "rnf_core/src/table.rs"]
pub mod table;
#[path = "rnf_core/src/tcp.rs"]
pub mod tcp;
#[path = "rnf_core/src/tuple.rs"]
pub mod tuple;

use conn::{Conn, CtInfo, Direction, Outcome, Timeouts, IPS_SEEN_REPLY};
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
pub(crate) const SELFTEST_SUITES: &[&selftest::Suite] = &selftest::ALL;

#[cfg(CONFIG_KUNIT)]
kunit_suites! {
    0 => CASES_0, SUITE_0;
    1 => CASES_1, SUITE_1;
    2 => CASES_2, SUITE_2;
    3 => CASES_3, SUITE_3;
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
    /// Defaults; see [`Tracker::timeouts`] for the ones in force.
    timeouts: Timeouts,
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

/// Why a packet is not tracked.
enum Untracked {
    /// Malformed or truncated headers (`-EINVAL` to other modules).
    Malformed,
    /// Well-formed but without a tuple of its own: a later fragment, an
    /// ICMP error or neighbour discovery message (`-ENOENT`).
    NoTuple,
}

/// Parses the packet into its header summary and tuple.
fn classify(skb: &Skb<'_>, pf: u8) -> core::result::Result<(PacketInfo, Tuple), Untracked> {
    let l3 = l3_of(pf).ok_or(Untracked::NoTuple)?;
    let mut buf = [0u8; HEADER_BYTES];
    let bytes = skb.network_bytes(&mut buf).ok_or(Untracked::Malformed)?;
    let p = packet::parse(l3, bytes).map_err(|_| Untracked::Malformed)?;
    let t = Tuple::from_packet(&p).map_err(|_| Untracked::NoTuple)?;
    Ok((p, t))
}

impl Tracker {
    /// The timeouts in force: the defaults with the writable parameters
    /// applied (read each time, so a write to the parameter takes effect on
    /// the next packet).
    fn timeouts(&self) -> Timeouts {
        // SAFETY: reads a module parameter with READ_ONCE; no preconditions.
        let udp = unsafe { bindings::rnf_ct_param_udp_timeout() };
        Timeouts { udp_unreplied: udp, ..self.timeouts }
    }

    /// PRE_ROUTING / LOCAL_OUT: update the state of a known connection.
    fn track(&self, skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        let Ok((p, t)) = classify(skb, st.pf()) else { return Verdict::Accept };
        let netns = st.net().id();
        let now = glue::jiffies();
        let mut g = self.state.lock();
        let Some((i, dir)) = g.table.find(&t, netns) else { return Verdict::Accept };
        let outcome = match g.table.get_mut(i) {
            Some(c) if c.expired(now) => Outcome::Reopen,
            Some(c) => c.packet(dir, &p, now, self.hz, &self.timeouts()),
            None => return Verdict::Accept,
        };
        if matches!(outcome, Outcome::Kill(_) | Outcome::Reopen) {
            g.table.remove(i);
        }
        Verdict::Accept
    }

    /// POST_ROUTING / LOCAL_IN: insert the connection of a packet that
    /// opens one. A full table evicts an unassured entry or drops the packet.
    fn confirm(&self, skb: &Skb<'_>, st: &HookState<'_>) -> Verdict {
        let Ok((p, t)) = classify(skb, st.pf()) else { return Verdict::Accept };
        let netns = st.net().id();
        let now = glue::jiffies();
        let mut g = self.state.lock();
        if let Some((i, _)) = g.table.find(&t, netns) {
            if !g.table.get(i).is_some_and(|c| c.expired(now)) {
                return Verdict::Accept;
            }
            g.table.remove(i);
        }
        let Ok(mut conn) = Conn::new(&t, &p, netns, now, self.hz, &self.timeouts()) else {
            // Cannot open a connection (e.g. an echo reply): untracked.
            return Verdict::Accept;
        };
        conn.status |= conn::IPS_CONFIRMED;
        match g.table.insert(conn) {
            Ok(_) | Err(InsertError::Clash) => Verdict::Accept,
            Err(InsertError::Full) => {
                let bucket = g.table.bucket_of(&t, netns);
                if g.table.early_drop(bucket, now) && g.table.insert(conn).is_ok() {
                    return Verdict::Accept;
                }
                drop(g);
                if glue::net_ratelimit() {
                    pr_warn!("table full, dropping packet\n");
                }
                Verdict::Drop
            }
        }
    }

    /// Looks a packet up for another module (see `rnf_ct_lookup`). A packet
    /// that would open a connection not yet confirmed is NEW with a status
    /// lacking `IPS_CONFIRMED`, as the kernel's unconfirmed conntrack is.
    fn lookup(&self, net: Net, pf: u8, skb: &Skb<'_>) -> Result<bindings::rnf_ct_lookup> {
        let (p, t) = classify(skb, pf).map_err(|u| match u {
            Untracked::Malformed => EINVAL,
            Untracked::NoTuple => ENOENT,
        })?;
        let netns = net.id();
        let now = glue::jiffies();
        let g = self.state.lock();
        let found = g.table.find(&t, netns).and_then(|(i, dir)| g.table.get(i).map(|c| (c, dir)));
        let (status, ctinfo, dir) = match found {
            Some((c, dir)) if !c.expired(now) => {
                let ctinfo = match dir {
                    Direction::Reply => CtInfo::EstablishedReply,
                    Direction::Original if c.status & IPS_SEEN_REPLY != 0 => CtInfo::Established,
                    Direction::Original => CtInfo::New,
                };
                (c.status, ctinfo, dir)
            }
            _ => {
                drop(g);
                Conn::new(&t, &p, netns, now, self.hz, &self.timeouts()).map_err(|_| ENOENT)?;
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
        // SAFETY: `net` is live during pernet init.
        kernel::error::to_result(unsafe { bindings::nf_defrag_ipv4_enable(net.as_ptr()) })?;
        // SAFETY: as above.
        if let Err(e) = kernel::error::to_result(unsafe { bindings::nf_defrag_ipv6_enable(net.as_ptr()) }) {
            // SAFETY: enabled just above in this namespace.
            unsafe { bindings::nf_defrag_ipv4_disable(net.as_ptr()) };
            return Err(e);
        }
        let res = t.hooks.register(net).and_then(|()| {
            glue::proc::create::<ProcConntrack>(net, PROC_NAME, 0o444).inspect_err(|_| t.hooks.unregister(net))
        });
        if res.is_err() {
            // SAFETY: both were enabled above in this namespace.
            unsafe {
                bindings::nf_defrag_ipv6_disable(net.as_ptr());
                bindings::nf_defrag_ipv4_disable(net.as_ptr());
            }
        }
        res
    }

    fn exit(net: Net) {
        let Some(t) = tracker() else { return };
        glue::proc::remove(net, PROC_NAME);
        t.hooks.unregister(net);
        // Hooks that started before the unregistration may still insert.
        glue::synchronize_rcu();
        t.state.lock().table.flush(Some(net.id()));
        // SAFETY: enabled in `init` for this namespace.
        unsafe {
            bindings::nf_defrag_ipv6_disable(net.as_ptr());
            bindings::nf_defrag_ipv4_disable(net.as_ptr());
        }
    }
}

/// Reclaims a batch of expired connections; returns jiffies until the next
/// batch. Called by the GC delayed work (process context).
#[no_mangle]
pub extern "C" fn rnf_ct_gc_run() -> c_ulong {
    let Some(t) = tracker() else { return c_ulong::MAX >> 1 };
    let now = glue::jiffies();
    let mut g = t.state.lock();
    let batch = (g.table.buckets() / (GC_RUNS_PER_SEC * 5)).max(GC_MIN_BUCKETS);
    let start = g.gc_next;
    let (_, next) = g.table.gc(now, start, batch);
    g.gc_next = next;
    c_ulong::from((t.hz / GC_RUNS_PER_SEC).max(1))
}

/// Exported to other modules (see `rnf_conntrack_api.h`).
///
/// # Safety
///
/// `net` and `skb` must be live for the call and `out` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn rnf_ct_lookup(
    net: *mut bindings::net,
    pf: u8,
    skb: *const bindings::sk_buff,
    out: *mut bindings::rnf_ct_lookup,
) -> c_int {
    let Some(t) = tracker() else { return ENODEV.to_errno() };
    // SAFETY: guaranteed by the caller for the duration of this call.
    let (net, skb) = unsafe { (Net::from_raw(net), Skb::from_raw(skb.cast_mut())) };
    match t.lookup(net, pf, &skb) {
        Ok(r) => {
            // SAFETY: the caller guarantees `out` is writable.
            unsafe { out.write(r) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

struct RnfConntrack {
    pernet: Option<Pernet>,
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
        // SAFETY: these read module parameters, set before init runs.
        let (hashsize, max) = unsafe { (bindings::rnf_ct_param_hashsize(), bindings::rnf_ct_param_max()) };
        // SAFETY: no preconditions.
        let ram = unsafe { bindings::rnf_totalram_bytes() };
        let buckets = if hashsize > 0 { hashsize } else { table::default_buckets(ram, 8) };
        let max = if max > 0 { max } else { buckets }.min(table::MAX_ENTRIES as u32);
        let slots = KVVec::from_elem(Slot::EMPTY, max as usize, GFP_KERNEL)?;
        let heads = KVVec::from_elem(table::NIL, buckets as usize, GFP_KERNEL)?;
        let state = State { table: ConnTable::new(slots, heads, glue::random_u32()), gc_next: 0 };
        let timeouts = Timeouts::default();
        let tracker = KBox::new(
            Tracker { state: BhSpinLock::new_boxed(state, GFP_KERNEL)?, hooks: build_hooks()?, hz: glue::hz(), timeouts },
            GFP_KERNEL,
        )?;
        TRACKER.set(tracker);
        // SAFETY: no preconditions; stopped in `drop`.
        unsafe { bindings::rnf_ct_gc_start() };
        let pernet = match Pernet::register::<PerNet>() {
            Ok(p) => p,
            Err(e) => {
                free_tracker();
                return Err(e);
            }
        };
        pr_info!(
            "{} buckets, max {} connections, {} bytes each\n",
            buckets,
            max,
            core::mem::size_of::<Slot>()
        );
        Ok(RnfConntrack { pernet: Some(pernet) })
    }
}

/// Stops the GC and frees the tracker. Hooks must be unregistered already.
fn free_tracker() {
    // SAFETY: started in init; waits for a running batch to finish.
    unsafe { bindings::rnf_ct_gc_stop() };
    glue::synchronize_rcu();
    drop(TRACKER.take());
}

impl Drop for RnfConntrack {
    fn drop(&mut self) {
        // Unregisters hooks and proc files in every namespace, flushing each.
        drop(self.pernet.take());
        free_tracker();
        pr_info!("unloaded\n");
    }
}
