// SPDX-License-Identifier: GPL-2.0
//! Host tests of the table engine.

use super::*;
use std::vec;
use std::vec::Vec;

pub(super) struct NoEnv;
impl Env for NoEnv {
    fn count(&mut self, _: usize) {}
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

pub(super) fn load(def: &TableDef, buf: &[u8]) -> Result<Table<Vec<u8>, Vec<Rule>, Vec<Match>>, Error> {
    let (h, e) = ReplaceHeader::parse(buf)?;
    let s = measure(def, &h, e)?;
    let rules = (0..s.rules).map(|_| Rule::default()).collect();
    let matches = (0..s.matches).map(|_| Match::default()).collect();
    Table::translate(def, &h, e.to_vec(), rules, matches)
}

#[test]
fn initial_tables_translate_and_accept() {
    for def in [FILTER_IPV4, FILTER_IPV6] {
        let mut blob = vec![0u8; initial_size(&def)];
        let h = initial_table(&def, &mut blob).unwrap();
        let mut buf = h.to_bytes().to_vec();
        buf.extend_from_slice(&blob);
        let t = load(&def, &buf).unwrap();
        assert_eq!(t.num_entries(), 4);
        let pkt = match def.family {
            Family::Ipv4 => &crate::selftest::golden::IPV4_TCP_SYN[..],
            Family::Ipv6 => &crate::selftest::golden::IPV6_UDP[..],
        };
        let p = Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: pkt.len() as u32, headers: pkt, mac: &[] };
        assert_eq!(t.evaluate(&p, &mut NoEnv), Action::Accept);
        let mut out = vec![0u8; t.size() as usize];
        t.copy_entries(&mut out, |i| (i as u64, 100 * i as u64)).unwrap();
        assert_eq!(out.len(), blob.len());
    }
}
