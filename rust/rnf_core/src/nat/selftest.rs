// SPDX-License-Identifier: GPL-2.0
//! rnf_nat's self-test suite: the NAT checksum arithmetic.

use crate::selftest::{ensure, golden, Case, Suite};

fn incremental_update_matches_full_checksum() -> Result<(), &'static str> {
    use crate::nat::{checksum, csum_replace2, csum_replace4};
    // IPv4 header of the golden SYN with its checksum computed.
    let mut h = [0u8; 20];
    h.copy_from_slice(&golden::IPV4_TCP_SYN[..20]);
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    ensure(checksum(&h) == 0, "a header with its checksum sums to zero")?;
    // SNAT 10.1.0.2 -> 192.0.2.77, incrementally and from scratch.
    let from = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
    let to = u32::from_be_bytes([192, 0, 2, 77]);
    let inc = csum_replace4(c, from, to);
    h[12..16].copy_from_slice(&to.to_be_bytes());
    h[10..12].copy_from_slice(&[0, 0]);
    ensure(inc == checksum(&h), "address rewrite: RFC 1624 update equals recomputation")?;
    ensure(csum_replace2(csum_replace2(0x1234, 80, 8080), 8080, 80) == 0x1234, "port rewrite round trip")
}

/// NAT arithmetic suite.
pub const NAT: Suite = Suite {
    name: c"rnf_nat_csum",
    cases: &[Case { name: c"incremental_update_matches_full_checksum", run: incremental_update_matches_full_checksum }],
};

/// rnf_nat's suites, in the order KUnit runs them.
pub const SUITES: [&Suite; 1] = [&NAT];

#[cfg(test)]
mod nat_tests {
    #[test]
    fn nat_suite_passes() {
        for c in super::NAT.cases {
            assert_eq!((c.run)(), Ok(()), "{:?}", c.name);
        }
    }
}
