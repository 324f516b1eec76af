// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_tables_mangle's C glue: the shared static-inline helpers and the
 * LOCAL_OUT walk with its re-route (rnf_table_hooks.h), which reads the
 * headers through the kernel's own accessors as iptable_mangle.c and
 * ip6table_mangle.c do. The table is registered, and the other hooks run,
 * from Rust (rust/glue/tables_reg/).
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <net/route.h>

#include "glue/helpers.c"
#include "glue/rnf_tables_api.h"
#include "glue/rnf_table_hooks.h"

static unsigned int rnf_mangle_out4(int id, struct sk_buff *skb, const struct nf_hook_state *state)
{
	const struct iphdr *iph = ip_hdr(skb);
	__be32 saddr = iph->saddr, daddr = iph->daddr;
	u32 mark = skb->mark;
	u8 tos = iph->tos;
	unsigned int ret;
	int err;

	ret = rnf_tables_walk(NFPROTO_IPV4, id, skb, state, NULL);
	if (ret == NF_DROP)
		return ret;
	iph = ip_hdr(skb);
	if (iph->saddr != saddr || iph->daddr != daddr || skb->mark != mark || iph->tos != tos) {
		err = ip_route_me_harder(state->net, state->sk, skb, RTN_UNSPEC);
		if (err < 0)
			return NF_DROP_ERR(err);
	}
	return ret;
}

static unsigned int rnf_mangle_out6(int id, struct sk_buff *skb, const struct nf_hook_state *state)
{
	struct in6_addr saddr = ipv6_hdr(skb)->saddr, daddr = ipv6_hdr(skb)->daddr;
	u8 hop_limit = ipv6_hdr(skb)->hop_limit;
	/* Version, traffic class and flow label, as ip6t_mangle_out(). */
	u32 flowlabel = *(u32 *)ipv6_hdr(skb);
	u32 mark = skb->mark;
	unsigned int ret;
	int err;

	ret = rnf_tables_walk(NFPROTO_IPV6, id, skb, state, NULL);
	if (ret == NF_DROP)
		return ret;
	if (!ipv6_addr_equal(&ipv6_hdr(skb)->saddr, &saddr) ||
	    !ipv6_addr_equal(&ipv6_hdr(skb)->daddr, &daddr) || skb->mark != mark ||
	    ipv6_hdr(skb)->hop_limit != hop_limit || flowlabel != *(u32 *)ipv6_hdr(skb)) {
		err = nf_ip6_route_me_harder(state->net, state->sk, skb);
		if (err < 0)
			return NF_DROP_ERR(err);
	}
	return ret;
}

unsigned int rnf_mangle_out(u8 pf, int id, struct sk_buff *skb, const struct nf_hook_state *state)
{
	return pf == NFPROTO_IPV6 ? rnf_mangle_out6(id, skb, state) : rnf_mangle_out4(id, skb, state);
}
