// SPDX-License-Identifier: GPL-2.0
//! A deterministic `xt::Env` for walking tables in the fuzz targets: the
//! conntrack answer, the clock, the marks, the packet type, the MAC and
//! the address types all follow from one seed, so two walks of the same
//! packet (linear and classified) can be compared exactly (xt_replace,
//! xt_eval).

use rnf_core::xt::{AddrDev, CtState, CtTuple, Env};

/// The environment: seed, counted rule indices, the packet's mark, the
/// connection's mark (`None`: no connection), the link-layer header.
pub struct FuzzEnv(pub u64, pub Vec<usize>, pub u32, pub Option<u32>, pub Vec<u8>);

impl FuzzEnv {
    /// The environment of `seed`.
    pub fn new(seed: u64) -> Self {
        FuzzEnv(seed, Vec::new(), seed as u32 >> 1, (seed % 3 != 0).then_some(seed as u32), Vec::new())
    }
}

impl Env for FuzzEnv {
    fn mark(&mut self) -> u32 {
        self.2
    }
    fn set_mark(&mut self, mark: u32) {
        self.2 = mark;
    }
    fn ct_mark(&mut self) -> Option<u32> {
        self.3
    }
    fn set_ct_mark(&mut self, mark: u32) {
        if self.3.is_some() {
            self.3 = Some(mark);
        }
    }
    fn pkt_type(&mut self) -> u8 {
        (self.0 % 6) as u8
    }
    fn mac_source(&mut self) -> Option<[u8; 6]> {
        (self.0 & 2 != 0).then_some([2, 0, 0, 0, 0, (self.0 & 0xff) as u8])
    }
    fn addr_type(&mut self, addr: &[u8], _dev: AddrDev) -> u16 {
        1 << (addr.iter().fold(self.0 as u32, |a, &b| a.wrapping_add(u32::from(b))) % 12)
    }
    fn ct_tuples(&mut self) -> Option<[CtTuple; 2]> {
        let t = CtTuple { src: u128::from(self.0), dst: !u128::from(self.0), src_port: self.0 as u16, dst_port: 80 };
        (self.0 % 7 < 5).then_some([t, CtTuple { src: t.dst, dst: t.src, src_port: 80, dst_port: t.src_port }])
    }
    fn count(&mut self, i: usize) {
        self.1.push(i);
    }
    fn conntrack(&mut self) -> CtState {
        match self.0 % 7 {
            5 => CtState::Invalid,
            6 => CtState::Untracked,
            n => CtState::Tracked { ctinfo: (n % 5) as u8, status: 0x30, dir: (self.0 & 1) as u8, proto: 6 },
        }
    }
    fn log(&mut self, _: u8, line: &[u8]) {
        assert!(line.len() <= 512, "a LOG line of {} bytes", line.len());
    }
    fn jiffies(&mut self) -> u64 {
        self.0.wrapping_mul(7)
    }
    fn hz(&self) -> u32 {
        250
    }
    fn link_header<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&self.4)
    }
}
