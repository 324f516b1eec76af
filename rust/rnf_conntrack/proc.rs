// SPDX-License-Identifier: GPL-2.0
//! `/proc/net/nf_conntrack` (and `/proc/net/rnf_conntrack`, the same file
//! under rnf's old name): the namespace's connections in the kernel's line
//! format (`ct_seq_show()` in net/netfilter/nf_conntrack_standalone.c; the
//! format is `conntrack::procfmt`), and OpenWrt's flush by writing to it
//! (`conntrack::flush`). The C glue (glue/conntrack/names.c) creates the
//! files in every namespace and checks the writer's capability.

use kernel::prelude::*;

use crate::conntrack::flush::FlushRequest;
use crate::conntrack::procfmt::{self, ConnExtras, Counter, FixedBuf, Zone};
use crate::ct_glue::nfct::CtRef;
use crate::ct_glue::CtNet;
use crate::glue;
use crate::glue::hook::Net;
use crate::glue::proc::SeqFile;
use crate::tracker::tracker;

/// What the listing prints from the connection's `struct nf_conn`.
fn extras(o: Option<&CtRef>) -> ConnExtras {
    let Some(o) = o else { return ConnExtras { use_count: 1, ..ConnExtras::default() } };
    ConnExtras {
        mark: o.mark(),
        zone: o.zone().map(|(id, dir)| Zone { id, dir }),
        acct: o.acct().map(|[p0, b0, p1, b1]| {
            [Counter { packets: p0, bytes: b0 }, Counter { packets: p1, bytes: b1 }]
        }),
        use_count: o.use_count(),
    }
}

/// Prints the connections of namespace `net`.
pub(crate) fn show(net: Net, seq: &mut SeqFile<'_>) {
    let Some(t) = tracker() else { return };
    let netns = net.id();
    let now = glue::jiffies();
    let g = t.state.lock();
    let mut line = FixedBuf::<640>::new();
    for (i, c) in g.table.iter().filter(|(_, c)| c.netns == netns && !c.expired(now)) {
        line.clear();
        // As ct_seq_show() holds a reference while it prints (so an idle
        // connection shows use=2): the table's reference is not the last
        // while the lock is held, so dropping this one here is safe.
        let held = g.obj(i).cloned();
        let x = extras(held.as_ref());
        drop(held);
        if procfmt::write_conn(&mut line, c, now, t.hz, &x).is_ok() {
            seq.write(line.as_bytes());
        }
    }
}

/// A write of `buf` to the file of namespace `net`: flushes what
/// [`FlushRequest::parse`] asks for (confirmed connections only, as
/// `nf_ct_iterate_cleanup_net()`). Errors: `EINVAL` for a malformed
/// address.
pub(crate) fn flush(net: Net, buf: &[u8]) -> Result {
    let req = FlushRequest::parse(buf).map_err(|_| EINVAL)?;
    let Some(t) = tracker() else { return Ok(()) };
    let netns = net.id();
    let mut g = t.state.lock();
    let st = &mut *g;
    let refs = &mut st.refs;
    let removed = st.table.flush_matching(
        |c| c.netns == netns && req.matches(c),
        |slot| crate::tracker::forget(refs, slot),
    );
    if let Some(pn) = CtNet::of(net) {
        pn.count_add(-i32::try_from(removed).unwrap_or(i32::MAX));
    }
    g.publish_count();
    Ok(())
}
