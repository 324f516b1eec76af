// SPDX-License-Identifier: GPL-2.0
/*
 * An skb's checksum state (skb->ip_summed, skb->csum; declared in
 * rnf_helpers.h), for the two modules that rewrite packets and keep
 * CHECKSUM_COMPLETE right: included by rnf_tables_glue.c (its editing
 * targets) and rnf_nat_glue.c (NAT's rewriting) alone, so the other modules
 * do not carry it.
 */

u8 rnf_skb_ip_summed(const struct sk_buff *skb)
{
	return skb->ip_summed;
}

u32 rnf_skb_csum(const struct sk_buff *skb)
{
	return (__force u32)skb->csum;
}

void rnf_skb_set_csum(struct sk_buff *skb, u32 csum)
{
	skb->csum = (__force __wsum)csum;
}
