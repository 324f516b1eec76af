// SPDX-License-Identifier: GPL-2.0
//! rnf_tables' self-test suites: the table engine's ABI, checks, walk,
//! matches, LOG and classifier, on the golden packets.

use crate::selftest::{Case, Suite};

/// Table-engine checks (rnf_core::xt), run by cargo test and by rnf_tables' KUnit.
mod xt_cases {
    use crate::selftest::{ensure, golden};
    use crate::xt::build::{Builder, IpSpec, TargetSpec};
    use crate::xt::*;

    struct NoEnv(u32);
    impl Env for NoEnv {
        fn count(&mut self, _: usize) {
            self.0 = self.0.wrapping_add(1);
        }
        fn conntrack(&mut self) -> CtState {
            CtState::Invalid
        }
        fn log(&mut self, _: u8, _: &[u8]) {}
        fn jiffies(&mut self) -> u64 {
            0
        }
        fn hz(&self) -> u32 {
            250
        }
    }

    const N: usize = 8;

    fn table(buf: &[u8]) -> Result<Table<&[u8], [Rule; N], [Match; 0]>, Error> {
        let (h, e) = ReplaceHeader::parse(buf)?;
        let s = measure(&FILTER_IPV4, &h, e)?;
        if s.rules != N || s.matches != 0 {
            return Err(Error { errno: errno::E2BIG, reason: "test storage" });
        }
        let _ = s;
        Table::translate(&FILTER_IPV4, &h, e, Default::default(), [])
    }

    /// INPUT: -p icmp -j DROP, jump "c", policy ACCEPT; FORWARD/OUTPUT ACCEPT; c: RETURN.
    fn blob(out: &mut [u8; 1536], loop_back: bool) -> usize {
        let mut b = Builder::new(Family::Ipv4, &mut out[96..]);
        let any = IpSpec::default();
        let i0 = b.entry(&IpSpec { proto: 1, ..any }, &[], TargetSpec::Standard(-NF_DROP - 1));
        let j = b.entry(&any, &[], TargetSpec::Standard(1));
        let p = b.entry(&any, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
        let f = b.entry(&any, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
        let o = b.entry(&any, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
        b.entry(&any, &[], TargetSpec::Error(b"c"));
        let c = b.offset();
        let r = b.entry(&any, &[], TargetSpec::Standard(XT_RETURN));
        b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
        b.set_verdict(j, c as i32);
        if loop_back {
            b.set_verdict(r, j as i32);
        }
        let h = b.filter_header(&FILTER_IPV4, [i0, f, o], [p, f, o]);
        out[..96].copy_from_slice(&h.to_bytes());
        96 + h.size as usize
    }

    pub(super) fn xt_abi_sizes() -> Result<(), &'static str> {
        ensure(ReplaceHeader::SIZE == 96 && Info::SIZE == 84 && GET_ENTRIES_SIZE == 40, "header sizes")?;
        ensure(IPT_ENTRY_SIZE == 112 && IP6T_ENTRY_SIZE == 168, "entry sizes")?;
        ensure(find_revision(Family::Ipv4, false, b"conntrack", 1) == Ok(3), "conntrack best revision 3")?;
        ensure(find_revision(Family::Ipv4, true, b"REJECT", 1).map_err(|e| e.errno) == Err(errno::EPROTONOSUPPORT), "REJECT rev 1")
    }

    pub(super) fn xt_loop_refused_eloop() -> Result<(), &'static str> {
        let mut buf = [0u8; 1536];
        let n = blob(&mut buf, true);
        let r = table(&buf[..n]).err();
        ensure(r.map(|e| e.errno) == Some(errno::ELOOP), "loop → ELOOP")?;
        ensure(ReplaceHeader::parse(&buf[..n - 1]).is_err(), "truncated → error")
    }

    pub(super) fn xt_jump_return_policy() -> Result<(), &'static str> {
        let mut buf = [0u8; 1536];
        let n = blob(&mut buf, false);
        let t = table(&buf[..n]).map_err(|e| e.reason)?;
        let pk = |h: &'static [u8]| Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: 60, headers: h };
        let mut env = NoEnv(0);
        ensure(t.evaluate(&pk(&golden::IPV4_ICMP_ECHO), &mut env) == Action::Drop && env.0 == 1, "icmp dropped by rule 0")?;
        let mut env = NoEnv(0);
        ensure(t.evaluate(&pk(&golden::IPV4_TCP_SYN), &mut env) == Action::Accept && env.0 == 3, "tcp: jump, return, policy")
    }
}

/// Table engine suite.
pub const XT_CORE: Suite = Suite {
    name: c"rnf_tables_core",
    cases: &[
        Case { name: c"xt_abi_sizes", run: xt_cases::xt_abi_sizes },
        Case { name: c"xt_loop_refused_eloop", run: xt_cases::xt_loop_refused_eloop },
        Case { name: c"xt_jump_return_policy", run: xt_cases::xt_jump_return_policy },
    ],
};

/// Per-area table-engine checks (validation errnos, matches, LOG, the
/// classifier), run by cargo test and by rnf_tables' KUnit. No allocation:
/// fixed buffers on the stack (about 4 KiB per case).
mod xt_area_cases {
    use crate::selftest::{ensure, golden};
    use crate::xt::build::{Builder, IpSpec, TargetSpec};
    use crate::xt::*;

    const ACCEPT: i32 = -NF_ACCEPT - 1;
    const DROP: i32 = -NF_DROP - 1;

    /// Records counted rules, answers a fixed conntrack state, keeps the last LOG line.
    struct Rec {
        counted: [u32; 8],
        n: usize,
        ct: CtState,
        ct_calls: u32,
        line: [u8; 200],
        line_len: usize,
        now: u64,
        /// The link-layer header `link_header` hands out.
        mac: &'static [u8],
    }

    impl Rec {
        fn new() -> Self {
            Self { counted: [u32::MAX; 8], n: 0, ct: CtState::Invalid, ct_calls: 0, line: [0; 200], line_len: 0, now: 1000, mac: &[] }
        }
        fn counted(&self) -> &[u32] {
            self.counted.get(..self.n.min(8)).unwrap_or(&[])
        }
    }

    impl Env for Rec {
        fn count(&mut self, i: usize) {
            if let Some(c) = self.counted.get_mut(self.n) {
                *c = i as u32;
            }
            self.n = self.n.wrapping_add(1);
        }
        fn conntrack(&mut self) -> CtState {
            self.ct_calls = self.ct_calls.wrapping_add(1);
            self.ct
        }
        fn log(&mut self, _: u8, line: &[u8]) {
            let n = line.len().min(self.line.len());
            if let (Some(d), Some(s)) = (self.line.get_mut(..n), line.get(..n)) {
                d.copy_from_slice(s);
            }
            self.line_len = n;
        }
        fn jiffies(&mut self) -> u64 {
            self.now
        }
        fn hz(&self) -> u32 {
            250
        }
        fn link_header<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
            f(self.mac)
        }
    }

    type Rules = [Rule; 8];
    type Matches = [Match; 4];
    /// One rule for [`blob`]: ip part, matches (name, revision, data), target.
    type Spec<'a> = (IpSpec, &'a [(&'a [u8], u8, &'a [u8])], TargetSpec<'a>);
    /// A table over borrowed storage.
    type T<'a> = Table<&'a [u8], &'a mut [Rule], &'a mut [Match]>;

    /// Writes a filter SET_REPLACE buffer: INPUT = `rules` then policy ACCEPT,
    /// FORWARD, OUTPUT, ERROR. Returns its length.
    fn blob(family: Family, rules: &[Spec<'_>], out: &mut [u8; 2048]) -> usize {
        let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
        let (head, body) = out.split_at_mut(ReplaceHeader::SIZE);
        let mut b = Builder::new(family, body);
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
        let mut h = ReplaceHeader { valid_hooks: def.valid_hooks, num_entries: b.entries, size: b.offset(), num_counters: 1, ..Default::default() };
        if let Some(n) = h.name.get_mut(..6) {
            n.copy_from_slice(b"filter");
        }
        h.hook_entry = [0, 0, f, o, 0];
        h.underflow = [0, pol, f, o, 0];
        head.copy_from_slice(&h.to_bytes());
        ReplaceHeader::SIZE + b.offset() as usize
    }

    fn load<'a>(family: Family, buf: &'a [u8], rs: &'a mut Rules, ms: &'a mut Matches) -> Result<T<'a>, Error> {
        let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
        let (h, e) = ReplaceHeader::parse(buf)?;
        let s = measure(&def, &h, e)?;
        let rs = rs.get_mut(..s.rules).ok_or(Error { errno: errno::E2BIG, reason: "test storage" })?;
        let ms = ms.get_mut(..s.matches).ok_or(Error { errno: errno::E2BIG, reason: "test storage" })?;
        Table::translate(&def, &h, e, rs, ms)
    }

    /// The errno translating one INPUT rule gives (0 when accepted).
    #[inline(never)]
    fn errno_of(family: Family, ip: IpSpec, ms: &[(&[u8], u8, &[u8])], t: TargetSpec<'_>) -> i32 {
        let mut buf = [0u8; 2048];
        let n = blob(family, &[(ip, ms, t)], &mut buf);
        let (mut rs, mut mm): (Rules, Matches) = Default::default();
        match load(family, buf.get(..n).unwrap_or(&[]), &mut rs, &mut mm) {
            Ok(_) => 0,
            Err(e) => e.errno,
        }
    }

    #[inline(never)]
    /// Evaluates `pkt` on INPUT with one rule (DROP): Some(true) when the
    /// rule matched, Some(false) when the policy decided, None on a hotdrop.
    fn hit(family: Family, ip: IpSpec, ms: &[(&[u8], u8, &[u8])], pkt: &[u8], env: &mut Rec) -> Result<Option<bool>, &'static str> {
        let mut buf = [0u8; 2048];
        let n = blob(family, &[(ip, ms, TargetSpec::Standard(DROP))], &mut buf);
        let (mut rs, mut mm): (Rules, Matches) = Default::default();
        let t = load(family, buf.get(..n).unwrap_or(&[]), &mut rs, &mut mm).map_err(|e| e.reason)?;
        let p = Packet { hook: NF_INET_LOCAL_IN, in_dev: &[0; 16], out_dev: &[0; 16], len: pkt.len() as u32, headers: pkt };
        let before = env.n;
        let a = t.evaluate(&p, env);
        let first = env.counted.get(before).copied();
        Ok(match (a, first) {
            (Action::Drop, Some(0)) => Some(true),
            (Action::Accept, Some(1)) => Some(false),
            (Action::Drop, None) => None,
            _ => return Err("unexpected verdict"),
        })
    }

    fn tcp_data(dlo: u16, dhi: u16, option: u8, mask: u8, cmp: u8, inv: u8) -> [u8; 12] {
        let mut d = [0u8; 12];
        let f = [0u16, 65535, dlo, dhi];
        for (i, v) in f.iter().enumerate() {
            if let Some(x) = d.get_mut(2 * i..2 * i + 2) {
                x.copy_from_slice(&v.to_ne_bytes());
            }
        }
        if let Some(x) = d.get_mut(8..12) {
            x.copy_from_slice(&[option, mask, cmp, inv]);
        }
        d
    }

    const TCP: IpSpec = IpSpec { proto: 6, ..IpSpec::ANY };
    const ANY: IpSpec = IpSpec::ANY;

    pub(super) fn xt_validate_errnos() -> Result<(), &'static str> {
        let st = TargetSpec::Standard(ACCEPT);
        let tcp = tcp_data(80, 80, 0, 0, 0, 0);
        ensure(errno_of(Family::Ipv4, TCP, &[(b"tcp", 0, &tcp)], st) == 0, "tcp rule accepted")?;
        ensure(errno_of(Family::Ipv4, ANY, &[(b"tcp", 0, &tcp)], st) == errno::EINVAL, "tcp without -p tcp: EINVAL")?;
        ensure(errno_of(Family::Ipv4, IpSpec { invflags: 0x40, ..TCP }, &[(b"tcp", 0, &tcp)], st) == errno::EINVAL, "tcp with ! -p tcp: EINVAL")?;
        ensure(errno_of(Family::Ipv4, TCP, &[(b"tcp", 0, &tcp_data(0, 0, 0, 0, 0, 0x10))], st) == errno::EINVAL, "tcp invflags: EINVAL")?;
        ensure(errno_of(Family::Ipv4, TCP, &[(b"nosuch", 0, &tcp)], st) == errno::ENOENT, "unknown match: ENOENT")?;
        ensure(errno_of(Family::Ipv4, TCP, &[(b"tcp", 1, &tcp)], st) == errno::ENOENT, "tcp rev 1: ENOENT (per-family)")?;
        let c = [0u8; 256];
        ensure(errno_of(Family::Ipv4, ANY, &[(b"comment", 1, &c)], st) == errno::EPROTOTYPE, "comment rev 1: EPROTOTYPE (UNSPEC)")?;
        ensure(errno_of(Family::Ipv6, ANY, &[], TargetSpec::Other(b"LOG", 1, &[0; 32])) == errno::ENOENT, "LOG rev 1: ENOENT")?;
        ensure(errno_of(Family::Ipv4, TCP, &[(b"tcp", 0, &[0; 24])], st) == errno::EINVAL, "tcp data size: EINVAL")?;
        let mut lim = [0u8; 40];
        if let Some(x) = lim.get_mut(..4) {
            x.copy_from_slice(&2000u32.to_ne_bytes());
        }
        ensure(errno_of(Family::Ipv4, ANY, &[(b"limit", 0, &lim)], st) == errno::ERANGE, "limit burst 0: ERANGE")?;
        let ct = [0u8; 160];
        ensure(errno_of(Family::Ipv4, ANY, &[(b"conntrack", 3, &ct)], st) == errno::EINVAL, "conntrack rev 3 data size: EINVAL")?;
        ensure(errno_of(Family::Ipv4, ANY, &[], TargetSpec::Standard(-7)) == errno::EINVAL, "verdict out of range: EINVAL")?;
        ensure(errno_of(Family::Ipv4, ANY, &[], TargetSpec::Other(b"REJECT", 0, &[7, 0, 0, 0, 0, 0, 0, 0])) == errno::EINVAL, "tcp-reset without -p tcp")?;
        ensure(errno_of(Family::Ipv6, IpSpec { flags: 0x01, proto: 1, ..ANY }, &[(b"icmp", 0, &[8, 0, 255, 0])], st) == errno::ENOENT, "icmp in ip6tables: ENOENT")?;
        ensure(errno_of(Family::Ipv4, IpSpec { flags: 0x04, ..ANY }, &[], st) == errno::EINVAL, "IPT_F bit 2: EINVAL")
    }

    pub(super) fn xt_eval_ip_part() -> Result<(), &'static str> {
        let syn = &golden::IPV4_TCP_SYN;
        let mut e = Rec::new();
        let mut net = IpSpec { ..ANY };
        net.src[..2].copy_from_slice(&[10, 1]);
        net.smsk[..2].copy_from_slice(&[255, 255]);
        ensure(hit(Family::Ipv4, net, &[], syn, &mut e)? == Some(true), "-s 10.1.0.0/16")?;
        ensure(hit(Family::Ipv4, IpSpec { invflags: 0x08, ..net }, &[], syn, &mut e)? == Some(false), "! -s 10.1.0.0/16")?;
        ensure(hit(Family::Ipv4, IpSpec { proto: 17, invflags: 0x40, ..ANY }, &[], syn, &mut e)? == Some(true), "! -p udp")?;
        ensure(hit(Family::Ipv4, IpSpec { flags: 0x01, ..ANY }, &[], syn, &mut e)? == Some(false), "-f on a whole packet")?;
        let mut ifc = ANY;
        ifc.iniface[..3].copy_from_slice(b"eth");
        ifc.iniface_mask[..3].copy_from_slice(&[0xff; 3]);
        ensure(hit(Family::Ipv4, ifc, &[], syn, &mut e)? == Some(false), "-i eth+ without input device")?;
        // IPv6: the protocol behind hop-by-hop; a later fragment never matches udp ports.
        let p6 = IpSpec { proto: 58, flags: 0x01, ..ANY };
        ensure(hit(Family::Ipv6, p6, &[(b"icmp6", 0, &[128, 0, 255, 0])], &golden::IPV6_HBH_ECHO, &mut e)? == Some(true), "icmp6 echo behind HBH")?;
        let u6 = IpSpec { proto: 17, flags: 0x01, ..ANY };
        let mut udp = [0u8; 10];
        udp[..8].copy_from_slice(&tcp_data(53, 53, 0, 0, 0, 0)[..8]);
        ensure(hit(Family::Ipv6, u6, &[(b"udp", 0, &udp)], &golden::IPV6_FRAG_FIRST, &mut e)? == Some(true), "udp dport 53, first fragment")?;
        ensure(hit(Family::Ipv6, u6, &[(b"udp", 0, &udp)], &golden::IPV6_FRAG_LATER, &mut e)? == Some(false), "udp, later fragment")
    }

    pub(super) fn xt_eval_tcp_state_multiport() -> Result<(), &'static str> {
        let syn = &golden::IPV4_TCP_SYN; // dport 80, SYN, MSS option
        let mut e = Rec::new();
        let t = |d: [u8; 12], e: &mut Rec| hit(Family::Ipv4, TCP, &[(b"tcp", 0, &d)], syn, e);
        ensure(t(tcp_data(80, 80, 0, 0x17, 0x02, 0), &mut e)? == Some(true), "--dport 80 --syn")?;
        ensure(t(tcp_data(81, 90, 0, 0, 0, 0), &mut e)? == Some(false), "--dport 81:90")?;
        ensure(t(tcp_data(81, 90, 0, 0, 0, 0x02), &mut e)? == Some(true), "! --dport 81:90")?;
        ensure(t(tcp_data(0, 65535, 2, 0, 0, 0), &mut e)? == Some(true), "--tcp-option 2")?;
        ensure(t(tcp_data(0, 65535, 5, 0, 0, 0), &mut e)? == Some(false), "--tcp-option 5")?;
        ensure(t(tcp_data(0, 65535, 0, 0x12, 0x12, 0), &mut e)? == Some(false), "SYN,ACK SYN,ACK")?;
        ensure(e.ct_calls == 0, "no conntrack lookup without ct matches")?;
        // state: ctinfo 2 (NEW) is bit 3; invalid bit 0; untracked bit 6.
        let st = |mask: u32, ct: CtState| {
            let mut e = Rec::new();
            e.ct = ct;
            hit(Family::Ipv4, ANY, &[(b"state", 0, &mask.to_ne_bytes())], syn, &mut e).map(|h| (h, e.ct_calls))
        };
        let new = CtState::Tracked { ctinfo: 2, status: 0, dir: 0, proto: 6 };
        let est_reply = CtState::Tracked { ctinfo: 3, status: 0, dir: 1, proto: 6 };
        ensure(st(1 << 3, new)? == (Some(true), 1), "state NEW")?;
        ensure(st(1 << 1, est_reply)? == (Some(true), 1), "state ESTABLISHED (reply)")?;
        ensure(st(1 << 1, new)? == (Some(false), 1), "NEW is not ESTABLISHED")?;
        ensure(st(1, CtState::Invalid)? == (Some(true), 1), "state INVALID")?;
        ensure(st(1 << 6, CtState::Untracked)? == (Some(true), 1), "state UNTRACKED")?;
        // multiport rev 1: --dports 22,79:81 and inverted.
        let mut mp = [0u8; 48];
        mp[0] = 1;
        mp[1] = 3;
        for (i, p) in [22u16, 79, 81].iter().enumerate() {
            if let Some(x) = mp.get_mut(2 + 2 * i..4 + 2 * i) {
                x.copy_from_slice(&p.to_ne_bytes());
            }
        }
        mp[33] = 1;
        ensure(hit(Family::Ipv4, TCP, &[(b"multiport", 1, &mp)], syn, &mut e)? == Some(true), "multiport 22,79:81")?;
        mp[47] = 1;
        ensure(hit(Family::Ipv4, TCP, &[(b"multiport", 1, &mp)], syn, &mut e)? == Some(false), "! multiport 22,79:81")
    }

    pub(super) fn xt_eval_limit_and_log() -> Result<(), &'static str> {
        eval_limit()?;
        eval_log()
    }

    // Separate frames keep each case's stack use near 4 KiB.
    #[inline(never)]
    fn eval_limit() -> Result<(), &'static str> {
        // --limit 5/s --limit-burst 3 at HZ 250: 3 packets, then one per 50 jiffies.
        let mut lim = [0u8; 40];
        lim[..4].copy_from_slice(&2000u32.to_ne_bytes());
        lim[4..8].copy_from_slice(&3u32.to_ne_bytes());
        let mut buf = [0u8; 2048];
        let n = blob(Family::Ipv4, &[(ANY, &[(b"limit", 0, &lim)], TargetSpec::Standard(DROP))], &mut buf);
        let (mut rs, mut mm): (Rules, Matches) = Default::default();
        let t = load(Family::Ipv4, buf.get(..n).unwrap_or(&[]), &mut rs, &mut mm).map_err(|e| e.reason)?;
        let pkt = &golden::IPV4_ICMP_ECHO;
        let p = Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: 28, headers: pkt };
        let mut got = [Action::Accept; 7];
        for (g, now) in got.iter_mut().zip([1000u64, 1000, 1000, 1000, 1049, 1050, 1050]) {
            let mut e = Rec::new();
            e.now = now;
            *g = t.evaluate(&p, &mut e);
        }
        let (d, a) = (Action::Drop, Action::Accept);
        ensure(got == [d, d, d, a, a, d, a], "limit: burst 3 then 1 per 50 jiffies")
    }

    #[inline(never)]
    fn eval_log() -> Result<(), &'static str> {
        let pkt = &golden::IPV4_ICMP_ECHO;
        // LOG with prefix, ICMP echo, continue to the policy.
        let mut lg = [0u8; 32];
        lg[0] = 4;
        lg[2..6].copy_from_slice(b"fw: ");
        let mut buf = [0u8; 2048];
        let n = blob(Family::Ipv4, &[(ANY, &[], TargetSpec::Other(b"LOG", 0, &lg))], &mut buf);
        let (mut rs, mut mm): (Rules, Matches) = Default::default();
        let t = load(Family::Ipv4, buf.get(..n).unwrap_or(&[]), &mut rs, &mut mm).map_err(|e| e.reason)?;
        let mut e = Rec { mac: &[2, 0, 0, 0, 0, 1], ..Rec::new() };
        let p = Packet { hook: 1, in_dev: b"eth0\0\0\0\0\0\0\0\0\0\0\0\0", out_dev: &[0; 16], len: 28, headers: pkt };
        ensure(t.evaluate(&p, &mut e) == Action::Accept && e.counted() == [0, 1], "LOG continues")?;
        let want: &[u8] = b"fw: IN=eth0 OUT= MAC=02:00:00:00:00:01 SRC=10.1.0.2 DST=10.2.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=2 DF PROTO=ICMP TYPE=8 CODE=0 ID=4660 SEQ=1 ";
        ensure(e.line.get(..e.line_len) == Some(want), "LOG line as nf_log_syslog")
    }

    pub(super) fn xt_eval_classifier_exact() -> Result<(), &'static str> {
        // INPUT: -p tcp --dport 22/80/22/443 (ACCEPT except a LOG-free DROP on the
        // third), -p udp --dport 80; a packet to 80 must be counted on rule 1 only.
        let d22 = tcp_data(22, 22, 0, 0, 0, 0);
        let d80 = tcp_data(80, 80, 0, 0x3f, 0x3f, 0); // all flags: SYN alone fails
        let d443 = tcp_data(443, 443, 0, 0, 0, 0);
        let d80b = tcp_data(80, 80, 0, 0, 0, 0);
        let a = TargetSpec::Standard(ACCEPT);
        let mut buf = [0u8; 2048];
        let rules: [Spec<'_>; 5] = [
            (TCP, &[(b"tcp", 0, &d22)], a),
            (TCP, &[(b"tcp", 0, &d80)], a),
            (TCP, &[(b"tcp", 0, &d443)], a),
            (TCP, &[(b"tcp", 0, &d80b)], TargetSpec::Standard(DROP)),
            (IpSpec { proto: 17, ..ANY }, &[], a),
        ];
        let n = blob(Family::Ipv4, &rules, &mut buf);
        let mut rs: [Rule; 9] = Default::default();
        let mut mm: Matches = Default::default();
        let (h, e) = ReplaceHeader::parse(buf.get(..n).unwrap_or(&[])).map_err(|e| e.reason)?;
        let t = Table::translate(&FILTER_IPV4, &h, e, &mut rs[..], &mut mm[..]).map_err(|e| e.reason)?;
        let mut scratch = [[0u64; 2]; 24];
        let plan = Plan::new(&t, &mut scratch).map_err(|e| e.reason)?;
        // Protocol and destination port: the two dimensions this table constrains.
        ensure(plan.dimensions() == 2 && Plan::scratch_len(&t) <= scratch.len(), "classifier: 2 dimensions")?;
        let mut store = [0u64; 64];
        let cls = Classifier::build(&t, &plan, &mut scratch, &mut store[..]).map_err(|e| e.reason)?;
        let p = Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: 60, headers: &golden::IPV4_TCP_SYN };
        for on in [true, false] {
            let eval = |p: &Packet<'_>, e: &mut Rec| if on { t.evaluate_classified(&cls, p, e) } else { t.evaluate(p, e) };
            let mut e = Rec::new();
            ensure(eval(&p, &mut e) == Action::Drop && e.counted() == [3], "dport 80 SYN: rule 3 drops")?;
            let mut short = golden::IPV4_TCP_SYN;
            short[22..24].copy_from_slice(&23u16.to_be_bytes());
            let p2 = Packet { headers: &short, ..p };
            let mut e = Rec::new();
            ensure(eval(&p2, &mut e) == Action::Accept && e.counted() == [5], "dport 23: policy")?;
            // Truncated TCP header: the first tcp match hot-drops, never skipped.
            let p3 = Packet { headers: golden::IPV4_TCP_SYN.get(..30).unwrap_or(&[]), ..p };
            let mut e = Rec::new();
            ensure(eval(&p3, &mut e) == Action::Drop && e.n == 0, "truncated TCP: hotdrop")?;
        }
        Ok(())
    }
}

/// Table engine: checkentry errnos.
pub const XT_VALIDATE: Suite = Suite {
    name: c"rnf_tables_validate",
    cases: &[
        Case { name: c"xt_validate_errnos", run: xt_area_cases::xt_validate_errnos },
        Case { name: c"xt_validate_ct_errnos", run: super::selftest_mangle::xt_validate_ct_errnos },
    ],
};

/// Table engine: matches, LOG, the classifier and the editing targets.
pub const XT_EVAL: Suite = Suite {
    name: c"rnf_tables_eval",
    cases: &[
        Case { name: c"xt_eval_ip_part", run: xt_area_cases::xt_eval_ip_part },
        Case { name: c"xt_eval_tcp_state_multiport", run: xt_area_cases::xt_eval_tcp_state_multiport },
        Case { name: c"xt_eval_limit_and_log", run: xt_area_cases::xt_eval_limit_and_log },
        Case { name: c"xt_eval_classifier_exact", run: xt_area_cases::xt_eval_classifier_exact },
        Case { name: c"xt_mangle_tcpmss_option", run: super::selftest_mangle::xt_mangle_tcpmss_option },
        Case { name: c"xt_mangle_dsfield", run: super::selftest_mangle::xt_mangle_dsfield },
        Case { name: c"xt_eval_marks", run: super::selftest_router::xt_eval_marks },
        Case { name: c"xt_eval_header_and_ct_matches", run: super::selftest_router::xt_eval_header_and_ct_matches },
    ],
};

/// rnf_tables' suites, in the order KUnit runs them.
pub const SUITES: [&Suite; 3] = [&XT_CORE, &XT_VALIDATE, &XT_EVAL];

#[cfg(test)]
mod xt_suite_tests {
    #[test]
    fn xt_suites_pass() {
        for s in super::SUITES {
            for c in s.cases {
                assert_eq!((c.run)(), Ok(()), "{:?}", c.name);
            }
        }
    }
}
