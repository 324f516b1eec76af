// SPDX-License-Identifier: GPL-2.0
//! Self-test case of the extensions a router's firewall uses (marks,
//! `CONNMARK`, header and address matches, `conntrack`'s tuple tests) on
//! the golden packets, run by cargo test and by rnf_tables' KUnit (suite
//! `rnf_tables_eval`). No allocation: fixed buffers on the stack.

use crate::selftest::{ensure, golden};
use crate::xt::build::{Builder, IpSpec, TargetSpec};
use crate::xt::*;

const ACCEPT: i32 = -NF_ACCEPT - 1;
const DROP: i32 = -NF_DROP - 1;

/// Counts rules and keeps the marks and what the matches ask for.
struct MarkEnv {
    counted: [u32; 8],
    n: usize,
    mark: u32,
    ct_mark: Option<u32>,
    ct: CtState,
    tuples: Option<[CtTuple; 2]>,
    local: [u8; 4],
}

impl MarkEnv {
    fn new() -> Self {
        Self { counted: [u32::MAX; 8], n: 0, mark: 0, ct_mark: None, ct: CtState::Invalid, tuples: None, local: [0; 4] }
    }
    fn counted(&self) -> &[u32] {
        self.counted.get(..self.n.min(8)).unwrap_or(&[])
    }
}

impl Env for MarkEnv {
    fn count(&mut self, i: usize) {
        if let Some(c) = self.counted.get_mut(self.n) {
            *c = i as u32;
        }
        self.n += 1;
    }
    fn conntrack(&mut self) -> CtState {
        self.ct
    }
    fn log(&mut self, _: u8, _: &[u8]) {}
    fn jiffies(&mut self) -> u64 {
        0
    }
    fn hz(&self) -> u32 {
        250
    }
    fn mark(&mut self) -> u32 {
        self.mark
    }
    fn set_mark(&mut self, mark: u32) {
        self.mark = mark;
    }
    fn ct_mark(&mut self) -> Option<u32> {
        self.ct_mark
    }
    fn set_ct_mark(&mut self, mark: u32) {
        if self.ct_mark.is_some() {
            self.ct_mark = Some(mark);
        }
    }
    fn addr_type(&mut self, addr: &[u8], _dev: AddrDev) -> u16 {
        // RTN_LOCAL (2) for the one local address, RTN_UNICAST (1) otherwise.
        if addr == self.local {
            1 << 2
        } else {
            1 << 1
        }
    }
    fn ct_tuples(&mut self) -> Option<[CtTuple; 2]> {
        self.tuples
    }
}

type Rules = [Rule; 8];
type Matches = [Match; 4];
type Spec<'a> = (IpSpec, &'a [(&'a [u8], u8, &'a [u8])], TargetSpec<'a>);

/// The IPv4 filter table with `rules` in INPUT, every policy ACCEPT, as a
/// `SET_REPLACE` buffer in `out`; its length (0 if it did not fit).
fn blob(rules: &[Spec<'_>], out: &mut [u8; 2048]) -> usize {
    let (head, body) = out.split_at_mut(ReplaceHeader::SIZE);
    let mut b = Builder::new(Family::Ipv4, body);
    let any = IpSpec::default();
    for (ip, ms, t) in rules {
        b.entry(ip, ms, *t);
    }
    let pol = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    let f = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    let o = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
    if !b.ok {
        return 0;
    }
    let h = b.filter_header(&FILTER_IPV4, [0, f, o], [pol, f, o]);
    head.copy_from_slice(&h.to_bytes());
    ReplaceHeader::SIZE + b.offset() as usize
}

/// Translates `rules` and walks `pkt` through INPUT: the verdict, or the
/// errno of the translation. Not inlined, so that each call's buffers are
/// not added to the caller's stack frame.
#[inline(never)]
fn walk(rules: &[Spec<'_>], pkt: &[u8], env: &mut MarkEnv) -> Result<Action, i32> {
    let mut buf = [0u8; 2048];
    let n = blob(rules, &mut buf);
    let (mut rs, mut ms): (Rules, Matches) = Default::default();
    let (h, e) = ReplaceHeader::parse(buf.get(..n).unwrap_or(&[])).map_err(|e| e.errno)?;
    let s = measure(&FILTER_IPV4, &h, e).map_err(|e| e.errno)?;
    let rs = rs.get_mut(..s.rules).ok_or(errno::E2BIG)?;
    let ms = ms.get_mut(..s.matches).ok_or(errno::E2BIG)?;
    let t = Table::translate(&FILTER_IPV4, &h, e, rs, ms).map_err(|e| e.errno)?;
    let p = Packet { hook: NF_INET_LOCAL_IN, in_dev: &[0; 16], out_dev: &[0; 16], len: pkt.len() as u32, headers: pkt };
    Ok(t.evaluate(&p, env))
}

/// `xt_mark_mtinfo1` / `xt_connmark_mtinfo1` and `xt_mark_tginfo2`.
fn mark_data(value: u32, mask: u32, invert: u8) -> [u8; 16] {
    let mut d = [0u8; 16];
    d[0..4].copy_from_slice(&value.to_ne_bytes());
    d[4..8].copy_from_slice(&mask.to_ne_bytes());
    d[8] = invert;
    d
}

/// `xt_connmark_tginfo2`: ctmark, ctmask, nfmask, shift_dir, shift_bits, mode.
fn connmark_data(ctmark: u32, ctmask: u32, nfmask: u32, shift: (u8, u8), mode: u8) -> [u8; 16] {
    let mut d = [0u8; 16];
    d[0..4].copy_from_slice(&ctmark.to_ne_bytes());
    d[4..8].copy_from_slice(&ctmask.to_ne_bytes());
    d[8..12].copy_from_slice(&nfmask.to_ne_bytes());
    d[12] = shift.0;
    d[13] = shift.1;
    d[14] = mode;
    d
}

/// MARK, mark, CONNMARK (set, save, restore, shifts) and connmark, with
/// the kernel's checkentry errnos.
pub(super) fn xt_eval_marks() -> Result<(), &'static str> {
    let any = IpSpec::default();
    let pkt = &golden::IPV4_TCP_SYN;
    let xmark = mark_data(0x50, 0xf0, 0);
    let m53 = mark_data(0x53, 0xff, 0);
    let mut e = MarkEnv::new();
    e.mark = 0x1_0023;
    let rules: [Spec<'_>; 2] =
        [(any, &[], TargetSpec::Other(b"MARK", 2, &xmark[..8])), (any, &[(b"mark", 1, &m53[..12])], TargetSpec::Standard(DROP))];
    ensure(walk(&rules, pkt, &mut e) == Ok(Action::Drop), "MARK then mark: the second rule drops")?;
    ensure(e.mark == 0x1_0053 && e.counted() == [0, 1], "MARK --set-xmark 0x50/0xf0 continues")?;
    // CONNMARK: restore (nothing yet), mark new flows, save; then again.
    let restore = connmark_data(0, 0xff, 0xff, (0, 0), 2);
    let save = connmark_data(0, 0xff, 0xff, (0, 0), 1);
    let m0 = mark_data(0, 0xff, 0);
    let set9 = mark_data(9, 0xffff_ffff, 0);
    let cm9 = mark_data(9, 0xff, 0);
    let rules: [Spec<'_>; 4] = [
        (any, &[], TargetSpec::Other(b"CONNMARK", 2, &restore)),
        (any, &[(b"mark", 1, &m0[..12])], TargetSpec::Other(b"MARK", 2, &set9[..8])),
        (any, &[], TargetSpec::Other(b"CONNMARK", 2, &save)),
        (any, &[(b"connmark", 1, &cm9[..12])], TargetSpec::Standard(DROP)),
    ];
    let mut first = MarkEnv::new();
    first.ct_mark = Some(0);
    ensure(walk(&rules, pkt, &mut first) == Ok(Action::Drop), "CONNMARK save: connmark matches")?;
    ensure(first.mark == 9 && first.ct_mark == Some(9) && first.counted() == [0, 1, 2, 3], "first packet: marked and saved")?;
    let mut next = MarkEnv::new();
    next.ct_mark = first.ct_mark;
    ensure(walk(&rules, pkt, &mut next) == Ok(Action::Drop), "next packet dropped")?;
    ensure(next.mark == 9 && next.counted() == [0, 2, 3], "next packet: the mark restored, not set again")?;
    let mut untracked = MarkEnv::new();
    ensure(walk(&rules, pkt, &mut untracked) == Ok(Action::Accept), "no connection: connmark never matches")?;
    ensure(untracked.mark == 9, "no connection: restore changes nothing, MARK still marks")?;
    let shift = connmark_data(0, 0xff00, 0xff, (0, 8), 1);
    let mut s = MarkEnv::new();
    s.mark = 0x12;
    s.ct_mark = Some(0);
    walk(&[(any, &[], TargetSpec::Other(b"CONNMARK", 2, &shift))], pkt, &mut s).map_err(|_| "CONNMARK shift refused")?;
    ensure(s.ct_mark == Some(0x1200), "CONNMARK --save-mark --left-shift-mark 8")?;
    let bad = connmark_data(0, 0, 0, (2, 0), 0);
    ensure(walk(&[(any, &[], TargetSpec::Other(b"CONNMARK", 2, &bad))], pkt, &mut MarkEnv::new()) == Err(errno::EINVAL), "CONNMARK shift_dir 2: EINVAL")?;
    let bad = connmark_data(0, 0, 0, (0, 32), 0);
    ensure(walk(&[(any, &[], TargetSpec::Other(b"CONNMARK", 2, &bad))], pkt, &mut MarkEnv::new()) == Err(errno::EINVAL), "CONNMARK shift 32: EINVAL")?;
    ensure(walk(&[(any, &[], TargetSpec::Other(b"MARK", 1, &xmark[..8]))], pkt, &mut MarkEnv::new()) == Err(errno::ENOENT), "MARK rev 1: ENOENT")?;
    ensure(find_revision(Family::Ipv6, true, b"CONNMARK", 1) == Ok(2), "CONNMARK best revision 2")
}

/// dscp, iprange, length, tcpmss, addrtype and conntrack's tuple tests on
/// the golden SYN (10.1.0.2:40000 -> 10.2.0.2:80, MSS 1460, 60 bytes).
pub(super) fn xt_eval_header_and_ct_matches() -> Result<(), &'static str> {
    let any = IpSpec::default();
    let tcp = IpSpec { proto: 6, ..any };
    let pkt = &golden::IPV4_TCP_SYN;
    let hit = |ip: IpSpec, m: &[(&[u8], u8, &[u8])], e: &mut MarkEnv| walk(&[(ip, m, TargetSpec::Standard(DROP))], pkt, e);
    let drop = Ok(Action::Drop);
    let accept = Ok(Action::Accept);
    ensure(hit(any, &[(b"dscp", 0, &[0, 0])], &mut MarkEnv::new()) == drop, "dscp 0")?;
    ensure(hit(any, &[(b"dscp", 0, &[0, 1])], &mut MarkEnv::new()) == accept, "! dscp 0")?;
    ensure(hit(any, &[(b"dscp", 0, &[64, 0])], &mut MarkEnv::new()) == Err(errno::EDOM), "dscp 64: EDOM")?;
    let mut ipr = [0u8; 72];
    ipr[0..4].copy_from_slice(&[10, 1, 0, 1]);
    ipr[16..20].copy_from_slice(&[10, 1, 0, 9]);
    ipr[64] = 1;
    ensure(hit(any, &[(b"iprange", 1, &ipr[..68])], &mut MarkEnv::new()) == drop, "iprange src 10.1.0.1-10.1.0.9")?;
    ipr[64] = 1 | 0x10;
    ensure(hit(any, &[(b"iprange", 1, &ipr[..68])], &mut MarkEnv::new()) == accept, "! iprange")?;
    let range = |lo: u16, hi: u16, inv: u8| {
        let mut d = [0u8; 8];
        d[0..2].copy_from_slice(&lo.to_ne_bytes());
        d[2..4].copy_from_slice(&hi.to_ne_bytes());
        d[4] = inv;
        d
    };
    ensure(hit(any, &[(b"length", 0, &range(60, 60, 0)[..6])], &mut MarkEnv::new()) == drop, "length 60")?;
    ensure(hit(any, &[(b"length", 0, &range(61, 99, 0)[..6])], &mut MarkEnv::new()) == accept, "length 61:99")?;
    ensure(hit(tcp, &[(b"tcpmss", 0, &range(1460, 1460, 0)[..6])], &mut MarkEnv::new()) == drop, "tcpmss 1460")?;
    ensure(hit(tcp, &[(b"tcpmss", 0, &range(0, 1459, 0)[..6])], &mut MarkEnv::new()) == accept, "tcpmss 0:1459")?;
    ensure(hit(any, &[(b"tcpmss", 0, &range(0, 1, 0)[..6])], &mut MarkEnv::new()) == Err(errno::EINVAL), "tcpmss without -p tcp")?;
    let mut at = [0u8; 8];
    at[2..4].copy_from_slice(&(1u16 << 2).to_ne_bytes());
    let mut e = MarkEnv::new();
    e.local = [10, 2, 0, 2];
    ensure(hit(any, &[(b"addrtype", 1, &at)], &mut e) == drop, "addrtype --dst-type LOCAL")?;
    ensure(hit(any, &[(b"addrtype", 1, &at)], &mut MarkEnv::new()) == accept, "addrtype: not local")?;
    at[4..8].copy_from_slice(&8u32.to_ne_bytes());
    ensure(hit(any, &[(b"addrtype", 1, &at)], &mut MarkEnv::new()) == Err(errno::EINVAL), "addrtype --limit-iface-out in INPUT")?;
    // conntrack rev 3: --ctorigsrc 10.1.0.0/24 --ctreplsrc 10.2.0.2 --ctorigdstport 80.
    let mut ct = [0u8; 168];
    ct[0..4].copy_from_slice(&[10, 1, 0, 0]);
    ct[16..20].copy_from_slice(&[255, 255, 255, 0]);
    ct[64..68].copy_from_slice(&[10, 2, 0, 2]);
    ct[80..84].copy_from_slice(&[255; 4]);
    ct[140..142].copy_from_slice(&80u16.to_ne_bytes());
    ct[156..158].copy_from_slice(&80u16.to_ne_bytes());
    ct[146..148].copy_from_slice(&(0x04u16 | 0x10 | 0x200).to_ne_bytes());
    let a = |b: [u8; 4]| {
        let mut x = [0u8; 16];
        x[..4].copy_from_slice(&b);
        u128::from_ne_bytes(x)
    };
    let mut e = MarkEnv::new();
    e.ct = CtState::Tracked { ctinfo: 0, status: 0, dir: 0, proto: 6 };
    e.tuples = Some([
        CtTuple { src: a([10, 1, 0, 2]), dst: a([10, 2, 0, 2]), src_port: 40000, dst_port: 80 },
        CtTuple { src: a([10, 2, 0, 2]), dst: a([10, 1, 0, 2]), src_port: 80, dst_port: 40000 },
    ]);
    ensure(hit(any, &[(b"conntrack", 3, &ct[..164])], &mut e) == drop, "conntrack origsrc, replsrc, origdstport")?;
    ct[64..68].copy_from_slice(&[10, 2, 0, 3]);
    e.n = 0;
    ensure(hit(any, &[(b"conntrack", 3, &ct[..164])], &mut e) == accept, "conntrack: another reply source")?;
    ct[148..150].copy_from_slice(&0x10u16.to_ne_bytes());
    e.n = 0;
    ensure(hit(any, &[(b"conntrack", 3, &ct[..164])], &mut e) == drop, "conntrack: ! --ctreplsrc")?;
    e.ct = CtState::Untracked;
    e.n = 0;
    ensure(hit(any, &[(b"conntrack", 3, &ct[..164])], &mut e) == accept, "conntrack tuple tests need a connection")
}
