/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hook helpers of the modules that add built-in tables to rnf_tables and
 * hook them themselves (rnf_tables_mangle; rnf_tables_raw needs none): the
 * parts of a table's hook that read and compare packet headers, kept in C
 * beside the kernel's own inline accessors. Each is defined in the C glue
 * of the one module that calls it.
 */
#ifndef RNF_TABLE_HOOKS_H
#define RNF_TABLE_HOOKS_H

#include <linux/types.h>

struct sk_buff;
struct nf_hook_state;

/*
 * The mangle table at LOCAL_OUT, as ipt_mangle_out() / ip6t_mangle_out():
 * saves what routing depends on (IPv4: saddr, daddr, tos and skb->mark;
 * IPv6: saddr, daddr, skb->mark, hop_limit and the first 32-bit word, with
 * traffic class and flow label), walks table @id of family @pf
 * (rnf_tables_walk) and, unless it dropped the packet, re-routes it with
 * ip_route_me_harder() (IPv6: nf_ip6_route_me_harder()) when any of them
 * changed.
 * Returns NF_ACCEPT or NF_DROP (NF_DROP_ERR of a failed re-route).
 * Called from a LOCAL_OUT hook; does not sleep.
 */
unsigned int rnf_mangle_out(u8 pf, int id, struct sk_buff *skb, const struct nf_hook_state *state);

#endif /* RNF_TABLE_HOOKS_H */
