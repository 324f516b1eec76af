// SPDX-License-Identifier: GPL-2.0
//! Arbitrary packets through real rule tables: the matches and targets
//! that read packet bytes (addresses, protocol, fragments, tcp/udp/icmp
//! headers and TCP options, multiport, length, dscp, tcpmss, LOG's
//! formatting of every header, REJECT's choice) walked on bytes that may be
//! truncated or malformed anywhere.
//!
//! The tables are xt_replace's seeds (rust/rnf_core/fuzz/seeds/xt_replace,
//! read once at start; every one that translates), so new seeds widen this
//! target too. Input: the table (byte 0, modulo their number), the hook
//! (byte 1), what `skb->len` adds to the bytes given (byte 2), the devices
//! (byte 3), the MAC header's length (byte 4, up to 15 bytes from the
//! input), then the packet from its network header on.
//!
//! Oracles: no panic; a LOG line never exceeds its 512-byte buffer; the
//! classified walk gives the linear walk's verdict, counters and marks.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rnf_core::xt::*;
use rnf_core_fuzz::xt_env::FuzzEnv;
use rnf_core_fuzz::Input;

struct Loaded {
    def: TableDef,
    hdr: ReplaceHeader,
    entries: Vec<u8>,
    sizes: Sizes,
}

fn tables() -> &'static [Loaded] {
    static T: OnceLock<Vec<Loaded>> = OnceLock::new();
    T.get_or_init(|| {
        let defs = [FILTER_IPV4, FILTER_IPV6, NAT_IPV4, NAT_IPV6, MANGLE_IPV4, MANGLE_IPV6, RAW_IPV4, RAW_IPV6];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/xt_replace");
        let mut files: Vec<_> = std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        files.sort();
        let mut v = Vec::new();
        for f in files {
            let Ok(data) = std::fs::read(&f) else { continue };
            let Some((&sel, blob)) = data.split_first() else { continue };
            let def = defs[usize::from(sel & 1 | (sel >> 1) & 6)];
            let Ok((hdr, entries)) = ReplaceHeader::parse(blob) else { continue };
            let Ok(sizes) = measure(&def, &hdr, entries) else { continue };
            let l = Loaded { def, hdr, entries: entries.to_vec(), sizes };
            if load(&l).is_ok() {
                v.push(l);
            }
        }
        v
    })
}

type T = Table<Vec<u8>, Vec<Rule>, Vec<Match>>;

fn load(l: &Loaded) -> Result<T, Error> {
    let rules: Vec<Rule> = (0..l.sizes.rules).map(|_| Rule::default()).collect();
    let matches: Vec<Match> = (0..l.sizes.matches).map(|_| Match::default()).collect();
    Table::translate(&l.def, &l.hdr, l.entries.clone(), rules, matches)
}

fuzz_target!(|data: &[u8]| {
    let ts = tables();
    if ts.is_empty() {
        return;
    }
    let mut inp = Input::new(data);
    let l = &ts[usize::from(inp.u8()) % ts.len()];
    let hook = u32::from(inp.u8() % 6);
    let extra = u32::from(inp.u8());
    let devs = inp.u8();
    // The link-layer header: read into the environment, which hands it to
    // a LOG rule (`Env::link_header`).
    let mac_len = usize::from(inp.u8() % 16);
    let mac = inp.bytes(mac_len).to_vec();
    let headers = inp.rest();
    let dev = |on: bool| if on { *b"eth0\0\0\0\0\0\0\0\0\0\0\0\0" } else { [0u8; 16] };
    let (in_dev, out_dev) = (dev(devs & 1 != 0), dev(devs & 2 != 0));
    let pk = Packet { hook, in_dev: &in_dev, out_dev: &out_dev, len: headers.len() as u32 + extra, headers };

    let t = load(l).expect("translated at start");
    let t2 = load(l).expect("translated at start");
    let mut scratch = vec![[0u64; 2]; Plan::scratch_len(&t2)];
    let plan = Plan::new(&t2, &mut scratch).expect("plan with scratch_len entries");
    let cls = Classifier::build(&t2, &plan, &mut scratch, vec![0u64; plan.words()]).expect("build as planned");
    let seed = u64::from(devs) << 8 | u64::from(hook);
    let mut lin = FuzzEnv::new(seed);
    lin.4 = mac.clone();
    let a = t.evaluate(&pk, &mut lin);
    let mut c = FuzzEnv::new(seed);
    c.4 = mac;
    let b = t2.evaluate_classified(&cls, &pk, &mut c);
    assert_eq!((a, &lin.1, lin.2, lin.3), (b, &c.1, c.2, c.3), "classifier differs from the linear walk");
});
