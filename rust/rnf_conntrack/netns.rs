// SPDX-License-Identifier: GPL-2.0
//! Network namespaces, as `nf_conntrack` treats them
//! (net/netfilter/nf_conntrack_standalone.c): per namespace the hooks,
//! nf_defrag and the settings in force (the C glue keeps them, with the
//! namespace's files); a namespace going away takes its connections with it.

use kernel::prelude::*;

use crate::conntrack::conn::{Settings, Timeouts};
use crate::conntrack::tcp::{TcpSettings, TcpState};
use crate::ct_glue::{self, CtNet};
use crate::glue::{self, bindings};
use crate::glue::hook::Net;
use crate::glue::pernet::PernetHandler;
use crate::tracker::{forget, tracker};

/// The timeouts in force in the namespace of `pn` (see [`CtNet::timeouts`]).
pub(crate) fn timeouts_of(pn: CtNet) -> Timeouts {
    timeouts_from(&pn.timeouts())
}

/// A namespace's switches (`nf_conntrack_checksum`, ...), read from the
/// variables its sysctls write.
#[derive(Clone, Copy)]
pub(crate) struct Switches {
    /// `nf_conntrack_checksum`.
    pub(crate) checksum: bool,
    /// `nf_conntrack_log_invalid`: the protocol logged, 255 all, 0 none.
    pub(crate) log_invalid: u8,
    /// `nf_conntrack_acct`.
    pub(crate) acct: bool,
}

/// The tracking settings and switches of a namespace from its timeouts
/// (seconds, indexed by `enum rnf_ct_timeout`) and switches (indexed by
/// `enum rnf_ct_setting`), as `rnf_ct_in_start()` copies them.
pub(crate) fn settings_from(tmo: &[u32], v: &[u32]) -> (Settings, Switches) {
    let at = |i: bindings::rnf_ct_setting| v.get(i as usize).copied().unwrap_or(0);
    let tcp = TcpSettings {
        loose: at(bindings::rnf_ct_setting_RNF_CT_SET_TCP_LOOSE) != 0,
        be_liberal: at(bindings::rnf_ct_setting_RNF_CT_SET_TCP_BE_LIBERAL) != 0,
        ignore_invalid_rst: at(bindings::rnf_ct_setting_RNF_CT_SET_TCP_IGNORE_INVALID_RST) != 0,
        max_retrans: at(bindings::rnf_ct_setting_RNF_CT_SET_TCP_MAX_RETRANS).min(255) as u8,
    };
    let sw = Switches {
        checksum: at(bindings::rnf_ct_setting_RNF_CT_SET_CHECKSUM) != 0,
        log_invalid: at(bindings::rnf_ct_setting_RNF_CT_SET_LOG_INVALID).min(255) as u8,
        acct: at(bindings::rnf_ct_setting_RNF_CT_SET_ACCT) != 0,
    };
    (Settings { timeouts: timeouts_from(tmo), tcp }, sw)
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
    t.tcp_retrans = at(bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_RETRANS);
    t.udp_unreplied = at(bindings::rnf_ct_timeout_RNF_CT_TMO_UDP);
    t.udp_replied = at(bindings::rnf_ct_timeout_RNF_CT_TMO_UDP_STREAM);
    t.icmp = at(bindings::rnf_ct_timeout_RNF_CT_TMO_ICMP);
    t.icmpv6 = at(bindings::rnf_ct_timeout_RNF_CT_TMO_ICMPV6);
    t.generic = at(bindings::rnf_ct_timeout_RNF_CT_TMO_GENERIC);
    t
}

/// Sets a namespace up for tracking and tears it down.
pub(crate) struct PerNet;
impl PernetHandler for PerNet {
    fn init(net: Net) -> Result {
        let t = tracker().ok_or(ENODEV)?;
        ct_glue::defrag_enable(net)?;
        let res = t.hooks.register(net);
        if res.is_err() {
            ct_glue::defrag_disable(net);
        }
        res
    }

    fn exit(net: Net) {
        let Some(t) = tracker() else { return };
        t.hooks.unregister(net);
        // Hooks that started before the unregistration may still insert.
        glue::synchronize_rcu();
        {
            let mut g = t.state.lock();
            let st = &mut *g;
            let refs = &mut st.refs;
            let removed = st.table.flush(Some(net.id()), |slot| forget(refs, slot));
            if let Some(pn) = CtNet::of(net) {
                pn.count_add(-(removed.min(i32::MAX as u32) as i32));
            }
            g.publish_count();
        }
        // Unconfirmed connections of the namespace go with the packets that
        // hold them, which its devices' teardown frees (as the kernel's
        // nf_conntrack_cleanup_net_list waits for the count).
        if let Some(pn) = CtNet::of(net) {
            let mut waited = 0u32;
            while pn.count() > 0 {
                glue::msleep(10);
                waited = waited.wrapping_add(1);
                if waited % 1000 == 0 {
                    pr_warn!("namespace exit waits for {} connections held by packets\n", pn.count());
                }
            }
        }
        // Enabled in `init` for this namespace. Takes a mutex: the table
        // lock must not be held here.
        ct_glue::defrag_disable(net);
    }
}
