// SPDX-License-Identifier: GPL-2.0
//! The connection table (`conntrack::table::ConnTable`: the slot arena, the
//! hash chains of both directions, the free list and the by-source index)
//! driven by a sequence of operations and compared with a plain model.
//!
//! Input: three bytes size the table (1-16 slots, 1-8 buckets, 1-4
//! by-source buckets), four give its hash seed, then operations until the
//! input ends (at most 256), each an opcode byte and its operands: insert,
//! alloc, hash (confirm), find, remove, change an unconfirmed entry's reply
//! tuple (as NAT does) or any entry's timeout and status, gc, flush,
//! early drop, link into and unlink from the by-source index, walk the
//! same-source chain. Tuples come from a small pool so that clashes happen.
//!
//! Oracles: no panic; every answer is the model's (clash and full
//! errors, the slot and direction found, what gc, flush and early drop
//! remove, the by-source walk's set); after every operation the count is
//! the model's; after every `FULL_CHECK_EVERY` operations and after the
//! last, every slot is the model's, every confirmed entry is found by both
//! its tuples, nothing unconfirmed is found, and the listing is the
//! model's confirmed set. (The whole-table check after every operation
//! made this target the slowest by far, about 1,000 executions a second;
//! a corruption stays until it is checked, since the answers of the
//! operations in between are checked too.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnf_core::conntrack::conn::{Conn, Direction, ProtoTrack, IPS_ASSURED};
use rnf_core::conntrack::table::{ConnTable, InsertError, Slot, EVICTION_RANGE};
use rnf_core::conntrack::tuple::Tuple;
use rnf_core::packet::L3Proto;
use rnf_core_fuzz::Input;

#[derive(Clone, Copy)]
struct Entry {
    conn: Conn,
    hashed: bool,
    bysrc: bool,
}

fn tuple(inp: &mut Input) -> Tuple {
    let b = inp.u8();
    let l3 = if b & 0x80 == 0 { L3Proto::Ipv4 } else { L3Proto::Ipv6 };
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src[0] = 10;
    dst[0] = 10;
    src[3] = b & 3;
    dst[3] = (b >> 2) & 3;
    Tuple { src, dst, src_id: u16::from((b >> 4) & 1), dst_id: 80, proto: if b & 0x40 == 0 { 6 } else { 17 }, l3 }
}

fn conn(inp: &mut Input) -> Conn {
    let t = tuple(inp);
    let c = inp.u8();
    let reply = if c & 1 == 0 { t.invert() } else { tuple(inp) };
    Conn {
        tuple: [t, reply],
        status: if c & 2 != 0 { IPS_ASSURED } else { 0 },
        expires: u64::from(c >> 4),
        netns: u32::from((c >> 2) & 1) + 1,
        zone: Default::default(),
        proto: ProtoTrack::Generic,
    }
}

type Table = ConnTable<Vec<Slot>, Vec<u32>>;

/// The model's answer to `find`: the hashed entries with tuple `t`.
fn model_find(m: &[Option<Entry>], t: &Tuple, netns: u32) -> Vec<(u32, Direction)> {
    let mut v = Vec::new();
    for (i, e) in m.iter().enumerate() {
        if let Some(e) = e.filter(|e| e.hashed && e.conn.netns == netns) {
            for d in [Direction::Original, Direction::Reply] {
                if e.conn.tuple[d as usize] == *t {
                    v.push((i as u32, d));
                }
            }
        }
    }
    v
}

fn clashes(m: &[Option<Entry>], c: &Conn) -> bool {
    !model_find(m, &c.tuple[0], c.netns).is_empty() || !model_find(m, &c.tuple[1], c.netns).is_empty()
}

/// Operations between two whole-table checks (`check`).
const FULL_CHECK_EVERY: usize = 16;

fn check_count(t: &Table, m: &[Option<Entry>]) {
    assert_eq!(t.count() as usize, m.iter().flatten().count(), "count");
}

fn check(t: &Table, m: &[Option<Entry>]) {
    check_count(t, m);
    for (i, e) in m.iter().enumerate() {
        let got = t.get(i as u32).copied();
        assert_eq!(got, e.map(|e| e.conn), "slot {i}");
        assert_eq!(t.is_hashed(i as u32), e.map_or(false, |e| e.hashed));
        assert_eq!(t.is_bysource(i as u32), e.map_or(false, |e| e.bysrc));
        if let Some(e) = e {
            for d in [Direction::Original, Direction::Reply] {
                let tu = &e.conn.tuple[d as usize];
                let found = t.find(tu, e.conn.netns);
                let want = model_find(m, tu, e.conn.netns);
                if e.hashed {
                    assert!(found.map_or(false, |f| want.contains(&f)), "a confirmed entry is not found by its {d:?} tuple");
                } else {
                    assert!(found.map_or(want.is_empty(), |f| want.contains(&f)), "an unconfirmed entry was found");
                }
            }
        }
    }
    let listed: Vec<u32> = t.iter().map(|(i, _)| i).collect();
    let want: Vec<u32> = m.iter().enumerate().filter(|(_, e)| e.map_or(false, |e| e.hashed)).map(|(i, _)| i as u32).collect();
    assert_eq!(listed, want, "listing");
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let cap = 1 + usize::from(inp.u8() % 16);
    let nb = 1 + usize::from(inp.u8() % 8);
    let nsb = 1 + usize::from(inp.u8() % 4);
    let seed = inp.u32();
    let mut t: Table = ConnTable::new(vec![Slot::EMPTY; cap], vec![0; nb], vec![0; nsb], seed);
    let mut m: Vec<Option<Entry>> = vec![None; cap];
    let pick = |inp: &mut Input, cap: usize| u32::from(inp.u8()) % (cap as u32 + 1);

    for op in 1..=256 {
        if inp.is_empty() {
            break;
        }
        match inp.u8() % 13 {
            0 => {
                let c = conn(&mut inp);
                let full = m.iter().all(Option::is_some);
                match t.insert(c) {
                    Ok(i) => {
                        assert!(!clashes(&m, &c) && !full);
                        assert!(m[i as usize].is_none(), "insert into a used slot");
                        m[i as usize] = Some(Entry { conn: c, hashed: true, bysrc: false });
                    }
                    Err(InsertError::Clash) => assert!(clashes(&m, &c)),
                    Err(InsertError::Full) => assert!(full && !clashes(&m, &c)),
                }
            }
            1 => {
                let c = conn(&mut inp);
                match t.alloc(c) {
                    Ok(i) => {
                        assert!(m[i as usize].is_none(), "alloc of a used slot");
                        m[i as usize] = Some(Entry { conn: c, hashed: false, bysrc: false });
                    }
                    Err(e) => assert!(e == InsertError::Full && m.iter().all(Option::is_some)),
                }
            }
            2 => {
                let i = pick(&mut inp, m.len());
                let r = t.hash(i);
                match m.get(i as usize).copied().flatten() {
                    Some(e) if !e.hashed => {
                        if clashes(&m, &e.conn) {
                            assert_eq!(r, Err(InsertError::Clash));
                        } else {
                            assert_eq!(r, Ok(()));
                            m[i as usize] = Some(Entry { hashed: true, ..e });
                        }
                    }
                    _ => assert_eq!(r, Err(InsertError::Full)),
                }
            }
            3 => {
                let tu = tuple(&mut inp);
                let netns = u32::from(inp.u8() & 1) + 1;
                let want = model_find(&m, &tu, netns);
                match t.find(&tu, netns) {
                    Some(f) => assert!(want.contains(&f), "found {f:?}, model {want:?}"),
                    None => assert!(want.is_empty(), "not found, model {want:?}"),
                }
            }
            4 => {
                let i = pick(&mut inp, m.len());
                let got = t.remove(i);
                assert_eq!(got, m.get(i as usize).copied().flatten().map(|e| e.conn));
                if let Some(s) = m.get_mut(i as usize) {
                    *s = None;
                }
            }
            5 => {
                let i = pick(&mut inp, m.len());
                let b = inp.u8();
                let reply = tuple(&mut inp);
                if let (Some(c), Some(Some(e))) = (t.get_mut(i), m.get_mut(i as usize)) {
                    c.expires = u64::from(b >> 4);
                    c.status = if b & 1 != 0 { IPS_ASSURED } else { 0 };
                    // Only an unconfirmed entry's reply tuple may change.
                    if !e.hashed && b & 2 != 0 {
                        c.tuple[1] = reply;
                    }
                    e.conn = *c;
                } else {
                    assert!(t.get_mut(i).is_none() && m.get(i as usize).copied().flatten().is_none());
                }
            }
            6 => {
                let now = u64::from(inp.u8() & 0x1f);
                let start = u32::from(inp.u8());
                let maxb = u32::from(inp.u8() % 10);
                let nbu = nb as u32;
                let visited: Vec<u32> = (0..maxb.min(nbu)).map(|k| (start % nbu + k) % nbu).collect();
                let mut gone = Vec::new();
                let (n, next) = t.gc(now, start, maxb, |i, ns| gone.push((i, ns)));
                assert_eq!(next, (start % nbu + maxb.min(nbu)) % nbu);
                let mut want = Vec::new();
                for (i, e) in m.iter().enumerate() {
                    if let Some(e) = e.filter(|e| e.hashed && e.conn.expired(now)) {
                        if visited.contains(&t.bucket_of(&e.conn.tuple[0], e.conn.netns)) {
                            want.push((i as u32, e.conn.netns));
                        }
                    }
                }
                gone.sort_unstable();
                assert_eq!((n as usize, &gone), (want.len(), &want), "gc");
                for (i, _) in gone {
                    m[i as usize] = None;
                }
            }
            7 => {
                let ns = match inp.u8() % 3 {
                    0 => None,
                    n => Some(u32::from(n)),
                };
                let mut gone = Vec::new();
                let n = t.flush(ns, |i| gone.push(i));
                let want: Vec<u32> = m
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.map_or(false, |e| e.hashed && ns.map_or(true, |n| n == e.conn.netns)))
                    .map(|(i, _)| i as u32)
                    .collect();
                assert_eq!((n as usize, &gone), (want.len(), &want), "flush");
                for i in gone {
                    m[i as usize] = None;
                }
            }
            8 => {
                let bucket = u32::from(inp.u8());
                let now = u64::from(inp.u8() & 0x1f);
                let netns = u32::from(inp.u8() & 1) + 1;
                let nbu = nb as u32;
                let scanned: Vec<u32> = (0..EVICTION_RANGE.min(nbu)).map(|k| bucket.wrapping_add(k) % nbu).collect();
                // The entries early drop may pick in bucket b: confirmed, of
                // this namespace, with a node there, expired or not ASSURED.
                let eligible = |b: u32| -> Vec<(u32, bool)> {
                    m.iter()
                        .enumerate()
                        .filter_map(|(i, e)| {
                            let e = e.filter(|e| e.hashed && e.conn.netns == netns)?;
                            let here = e.conn.tuple.iter().any(|tu| t.bucket_of(tu, netns) == b);
                            let exp = e.conn.expired(now);
                            (here && (exp || e.conn.status & IPS_ASSURED == 0)).then_some((i as u32, exp))
                        })
                        .collect()
                };
                let first = scanned.iter().map(|&b| eligible(b)).find(|v| !v.is_empty());
                match t.early_drop(bucket, now, netns) {
                    Some(v) => {
                        let cands = first.expect("early drop evicted though nothing was eligible");
                        let exp_any = cands.iter().any(|c| c.1);
                        let got = cands.iter().find(|c| c.0 == v).expect("the victim is in the first bucket with a candidate");
                        assert!(got.1 || !exp_any, "an expired entry goes first");
                        m[v as usize] = None;
                    }
                    None => assert!(first.is_none(), "early drop found nothing though {first:?} was eligible"),
                }
            }
            9 => {
                let i = pick(&mut inp, m.len());
                let linked = t.link_bysource(i);
                match m.get_mut(i as usize) {
                    Some(Some(e)) => {
                        assert!(linked);
                        e.bysrc = true;
                    }
                    _ => assert!(!linked),
                }
            }
            10 => {
                let i = pick(&mut inp, m.len());
                t.unlink_bysource_slot(i);
                if let Some(Some(e)) = m.get_mut(i as usize) {
                    e.bysrc = false;
                }
            }
            11 => {
                // A larger arena (or one no larger, refused): every slot
                // keeps its entry, the new ones are free.
                let new_cap = m.len() + usize::from(inp.u8() % 8);
                match t.grow(vec![Slot::EMPTY; new_cap]) {
                    Ok(old) => {
                        assert!(new_cap > m.len() && old.len() == m.len());
                        m.resize(new_cap, None);
                    }
                    Err(back) => assert!(new_cap == m.len() && back.len() == new_cap),
                }
                assert_eq!(t.capacity() as usize, m.len());
                check(&t, &m);
            }
            _ => {
                let o = tuple(&mut inp);
                let netns = u32::from(inp.u8() & 1) + 1;
                let mut seen = Vec::new();
                t.for_each_same_src(netns, o.proto, o.l3, &o.src, o.src_id, |i, c| {
                    assert_eq!(Some(*c), t.get(i).copied());
                    seen.push(i);
                    false
                });
                seen.sort_unstable();
                let want: Vec<u32> = m
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| {
                        e.map_or(false, |e| {
                            let s = &e.conn.tuple[0];
                            e.bysrc && e.conn.netns == netns && (s.proto, s.l3, s.src, s.src_id) == (o.proto, o.l3, o.src, o.src_id)
                        })
                    })
                    .map(|(i, _)| i as u32)
                    .collect();
                assert_eq!(seen, want, "same-source walk");
            }
        }
        if op % FULL_CHECK_EVERY == 0 {
            check(&t, &m);
        } else {
            check_count(&t, &m);
        }
    }
    check(&t, &m);
});
