/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rnf_nat offers the module that provides the nat tables
 * (rnf_tables_nat, as iptable_nat registers its lookups with nf_nat:
 * nf_nat_ipv4_register_fn in net/netfilter/nf_nat_proto.c). Exported with
 * EXPORT_SYMBOL_GPL, so the table module's `depends=` names rnf_nat.
 */
#ifndef RNF_NAT_API_H
#define RNF_NAT_API_H

#include <linux/types.h>

struct sk_buff;
struct nf_hook_state;

/* The NAT targets a nat table rule can end in. */
enum rnf_nat_kind {
	RNF_NAT_NONE = 0,	/* no rule mapped the connection: null binding */
	RNF_NAT_SNAT = 1,
	RNF_NAT_DNAT = 2,
	RNF_NAT_MASQUERADE = 3,
	RNF_NAT_REDIRECT = 4,
	RNF_NAT_NETMAP = 5,
};

/*
 * struct rnf_nat_target - the target of the rule that matched, with its
 * range (struct nf_nat_range2, include/uapi/linux/netfilter/nf_nat.h).
 * @kind:      enum rnf_nat_kind.
 * @flags:     NF_NAT_RANGE_* bits, as the rule carries them.
 * @min_addr, @max_addr: address range, network order (IPv4: first 4 bytes).
 * @min_proto, @max_proto, @base_proto: port (or ICMP id) range, host order.
 */
struct rnf_nat_target {
	u32 kind;
	u32 flags;
	u8 min_addr[16];
	u8 max_addr[16];
	u16 min_proto;
	u16 max_proto;
	u16 base_proto;
	u16 pad;
};

/*
 * rnf_nat_lookup_fn - walks the nat table of the hook's family for the
 * first packet of a connection at a NAT hook (state->hook: PRE_ROUTING,
 * LOCAL_IN, LOCAL_OUT or POST_ROUTING), as ipt_do_table on the nat table.
 * Returns NF_DROP, or NF_ACCEPT with @target filled (kind RNF_NAT_NONE when
 * the chain's policy was reached or a rule accepted). Called in the hook's
 * context (softirq or BHs off, under RCU); must not sleep.
 */
typedef unsigned int (*rnf_nat_lookup_fn)(struct sk_buff *skb, const struct nf_hook_state *state,
					  struct rnf_nat_target *target);

/*
 * Registers @fn as the nat table of family @pf (NFPROTO_IPV4 or
 * NFPROTO_IPV6): -EBUSY if one is registered, -EINVAL for another family.
 * rnf_nat_unregister_lookup() removes it and waits until no hook runs it
 * (synchronize_rcu: process context).
 */
int rnf_nat_register_lookup(u8 pf, rnf_nat_lookup_fn fn);
void rnf_nat_unregister_lookup(u8 pf);

/* Module-private: calls the registered lookup of @pf (RCU); returns 0 and
 * leaves @target zeroed (RNF_NAT_NONE) when none is registered. */
unsigned int rnf_nat_call_lookup(u8 pf, struct sk_buff *skb, const struct nf_hook_state *state,
				 struct rnf_nat_target *target);

#endif /* RNF_NAT_API_H */
