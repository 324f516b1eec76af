// SPDX-License-Identifier: GPL-2.0
//! Network namespaces, as `nf_conntrack` treats them
//! (net/netfilter/nf_conntrack_standalone.c): per namespace the hooks,
//! nf_defrag and the settings in force (the C glue keeps them, with the
//! namespace's files); a namespace going away takes its connections with it.

use kernel::prelude::*;

use crate::conntrack::conn::{Config, Timeout};
use crate::conntrack::tcp::{TcpSettings, TcpState};
use crate::ct_glue::{self, CtNet, NetConfig};
use crate::glue::{self, bindings};
use crate::glue::hook::Net;
use crate::glue::pernet::PernetHandler;
use crate::tracker::{forget, tracker};

/// The tracking settings of a namespace as the hook reads them: one value
/// at a time from its live variables ([`NetConfig`]), the timeouts by
/// `enum rnf_ct_timeout`, the TCP switches by `enum rnf_ct_setting`.
impl Config for NetConfig<'_> {
    // Inlined: the tracking hook asks for constant timeouts, which then
    // fold to one load (arm64 made this a call once Conn::packet was
    // inlined into the hook).
    #[inline(always)]
    fn timeout(&self, which: Timeout) -> u32 {
        self.timeout(timeout_index(which))
    }

    fn tcp(&self) -> TcpSettings {
        TcpSettings {
            loose: self.setting(bindings::rnf_ct_setting_RNF_CT_SET_TCP_LOOSE) != 0,
            be_liberal: self.setting(bindings::rnf_ct_setting_RNF_CT_SET_TCP_BE_LIBERAL) != 0,
            ignore_invalid_rst: self.setting(bindings::rnf_ct_setting_RNF_CT_SET_TCP_IGNORE_INVALID_RST) != 0,
            max_retrans: self.setting(bindings::rnf_ct_setting_RNF_CT_SET_TCP_MAX_RETRANS).min(255) as u8,
        }
    }
}

/// The index of timeout `which` in `enum rnf_ct_timeout` (SYN_SENT2 has
/// SYN_SENT's, as in the kernel's `tcp_timeouts[]`; NONE has none: 0 s).
#[inline(always)]
fn timeout_index(which: Timeout) -> bindings::rnf_ct_timeout {
    match which {
        Timeout::Tcp(state) => match state {
            TcpState::SynSent | TcpState::SynSent2 => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_SYN_SENT,
            TcpState::SynRecv => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_SYN_RECV,
            TcpState::Established => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_ESTABLISHED,
            TcpState::FinWait => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_FIN_WAIT,
            TcpState::CloseWait => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_CLOSE_WAIT,
            TcpState::LastAck => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_LAST_ACK,
            TcpState::TimeWait => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_TIME_WAIT,
            TcpState::Close => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_CLOSE,
            _ => bindings::rnf_ct_timeout_RNF_CT_TMO_MAX,
        },
        Timeout::TcpUnack => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_UNACK,
        Timeout::TcpRetrans => bindings::rnf_ct_timeout_RNF_CT_TMO_TCP_RETRANS,
        Timeout::UdpUnreplied => bindings::rnf_ct_timeout_RNF_CT_TMO_UDP,
        Timeout::UdpReplied => bindings::rnf_ct_timeout_RNF_CT_TMO_UDP_STREAM,
        Timeout::Icmp => bindings::rnf_ct_timeout_RNF_CT_TMO_ICMP,
        Timeout::Icmpv6 => bindings::rnf_ct_timeout_RNF_CT_TMO_ICMPV6,
        Timeout::Generic => bindings::rnf_ct_timeout_RNF_CT_TMO_GENERIC,
    }
}

/// A namespace's switches (`nf_conntrack_checksum`, ...), read from the
/// variables its sysctls write when the hook needs one.
#[derive(Clone, Copy)]
pub(crate) struct Switches<'a>(pub(crate) NetConfig<'a>);

impl Switches<'_> {
    /// `nf_conntrack_checksum`.
    pub(crate) fn checksum(&self) -> bool {
        self.0.setting(bindings::rnf_ct_setting_RNF_CT_SET_CHECKSUM) != 0
    }

    /// `nf_conntrack_log_invalid`: the protocol logged, 255 all, 0 none.
    pub(crate) fn log_invalid(&self) -> u8 {
        self.0.setting(bindings::rnf_ct_setting_RNF_CT_SET_LOG_INVALID).min(255) as u8
    }

    /// `nf_conntrack_acct`.
    pub(crate) fn acct(&self) -> bool {
        self.0.setting(bindings::rnf_ct_setting_RNF_CT_SET_ACCT) != 0
    }
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
