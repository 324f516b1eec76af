/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rnf_tables offers the modules that provide more built-in tables
 * than its own `filter` (rnf_tables_nat, as iptable_nat.c uses x_tables:
 * xt_register_template, ipt_register_table and ipt_do_table). Exported
 * with EXPORT_SYMBOL_GPL from rust/rnf_tables_glue.c (implemented in Rust,
 * rust/glue/tables/api.rs), so the user's `depends=` names rnf_tables.
 */
#ifndef RNF_TABLES_API_H
#define RNF_TABLES_API_H

#include <linux/types.h>

#include "rnf_nat_api.h"

struct sk_buff;
struct nf_hook_state;

/*
 * Creates the table @name of family @pf (NFPROTO_IPV4 or NFPROTO_IPV6) in
 * every network namespace, present and future, with the kernel's initial
 * content (an ACCEPT policy per built-in chain), so the ip(6)_tables socket
 * options answer for it as for the kernel's table of that name. Only tables
 * the engine has a definition for can be registered ("nat"), with exactly
 * their @valid_hooks (bit 1 << NF_INET_*). Process context (sleeps).
 * Returns the table's id (small, non-negative), or -EINVAL (family,
 * hooks), -ENOENT (unknown table), -EEXIST (registered, or "filter"),
 * -ENOSPC, -ENOMEM.
 */
int rnf_tables_register_table(u8 pf, const char *name, unsigned int valid_hooks);

/*
 * Removes table @id of family @pf from every namespace, rules loaded or
 * not, after every walk that may still read it has returned (RCU).
 * Process context (sleeps). Unknown ids are ignored.
 */
void rnf_tables_unregister_table(u8 pf, int id);

/*
 * Walks table @id of family @pf in the namespace of @state for @skb at
 * state->hook, as ipt_do_table: the same per-CPU counters, conntrack
 * state, LOG and REJECT as the filter tables. Returns NF_ACCEPT or NF_DROP;
 * when the walk ends in a NAT target, @target (if not NULL) gets it and the
 * result is NF_ACCEPT, otherwise @target is zeroed (RNF_NAT_NONE). A
 * namespace without the table accepts. Called from a netfilter hook
 * (softirq or process context, under rcu_read_lock()); does not sleep.
 */
unsigned int rnf_tables_walk(u8 pf, int id, struct sk_buff *skb, const struct nf_hook_state *state,
			     struct rnf_nat_target *target);

#endif /* RNF_TABLES_API_H */
