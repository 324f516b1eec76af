// SPDX-License-Identifier: GPL-2.0
//! `/proc/net/rnf_conntrack`: the namespace's connections in the line format
//! of `/proc/net/nf_conntrack` (`ct_seq_show()` in
//! net/netfilter/nf_conntrack_standalone.c; the format is
//! `conntrack::procfmt`).

use core::ffi::CStr;

use crate::conntrack::procfmt::{self, ConnExtras, FixedBuf};
use crate::glue;
use crate::glue::hook::Net;
use crate::glue::proc::{SeqFile, SeqShow};
use crate::tracker::tracker;

/// The file's name in each namespace's `/proc/net`.
pub(crate) const PROC_NAME: &CStr = c"rnf_conntrack";

/// Prints the connections of the reading namespace.
pub(crate) struct ProcConntrack;
impl SeqShow for ProcConntrack {
    fn show(net: Net, seq: &mut SeqFile<'_>) {
        let Some(t) = tracker() else { return };
        let netns = net.id();
        let now = glue::jiffies();
        let g = t.state.lock();
        let mut line = FixedBuf::<512>::new();
        for (i, c) in g.table.iter().filter(|(_, c)| c.netns == netns && !c.expired(now)) {
            line.clear();
            // The object's reference count: the table's and the packets'.
            let use_count = g.obj(i).map_or(1, |o| o.use_count());
            let x = ConnExtras { mark: Some(0), use_count, ..ConnExtras::default() };
            if procfmt::write_conn(&mut line, c, now, t.hz, &x).is_ok() {
                seq.write(line.as_bytes());
            }
        }
    }
}
