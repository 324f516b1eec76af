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

#include "rnf_conntrack_api.h"	/* struct rnf_tuple */

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

/* --- Module-private (rust/rnf_nat_glue.c) ------------------------------ */

/* What rnf_nat_call_lookup() returns when no nat table is registered. */
#define RNF_NAT_NO_TABLE 0x7fffffffU

/* Calls the registered lookup of @pf (under the hook's RCU read section),
 * with @target zeroed first; RNF_NAT_NO_TABLE when none is registered. */
unsigned int rnf_nat_call_lookup(u8 pf, struct sk_buff *skb, const struct nf_hook_state *state,
				 struct rnf_nat_target *target);

/*
 * Makes the first @need bytes of @skb (from its network header, which is
 * skb->data at the IP hooks) linear and writable (skb_ensure_writable) and
 * returns skb->data, with the linear length in *@linear and skb->len in
 * *@len; NULL if that fails (out of memory, or @need > skb->len).
 */
u8 *rnf_nat_writable(struct sk_buff *skb, unsigned int need, unsigned int *linear, unsigned int *len);
/* nf_ip_checksum()/nf_ip6_checksum() of the transport part at @dataoff: 0 when right. */
int rnf_nat_l4_checksum(struct sk_buff *skb, u8 pf, unsigned int hook, unsigned int dataoff, u8 proto);
/* skb_dst_drop(): routes again after DNAT at PRE_ROUTING. */
void rnf_nat_dst_drop(struct sk_buff *skb);
/* ip_route_me_harder()/ip6_route_me_harder() after DNAT at LOCAL_OUT: 0 or -errno. */
int rnf_nat_route_me_harder(struct sk_buff *skb, const struct nf_hook_state *state);
/* skb_orphan() of a packet early demux gave a socket, after NAT at LOCAL_IN
 * changed its source (the nf_nat_edemux fix), unless the socket is transparent. */
void rnf_nat_local_in_orphan(struct sk_buff *skb);
/* MASQUERADE's address (nf_nat_masquerade_ipv4/6): into @addr[16]; 0,
 * -EADDRNOTAVAIL (the device has none: "ate my IP address"). */
int rnf_nat_masq_addr(struct sk_buff *skb, const struct nf_hook_state *state, u8 *addr);
/* REDIRECT's address (nf_nat_redirect_ipv4/6): the loopback address at
 * LOCAL_OUT, else the input device's first usable one; 0 or -EADDRNOTAVAIL. */
int rnf_nat_redirect_addr(struct sk_buff *skb, const struct nf_hook_state *state, u8 *addr);

/*
 * struct rnf_nat_pkt - what rnf_nat's hook reads of a packet first, in one
 * call (rnf_nat_pkt_start()): of the connection it carries, @status
 * (IPS_* bits), @ctinfo (enum ip_conntrack_info) and @masq_index (the
 * output interface MASQUERADE mapped it for, 0 if none); of the hook,
 * @out_ifindex (the output device's, 0 without one); of the skb, its
 * checksum state @ip_summed (CHECKSUM_*), @csum (skb->csum, meaningful
 * with CHECKSUM_COMPLETE) and @len (skb->len, bytes). @has_other says
 * whether the call also wrote the other direction's tuple.
 */
struct rnf_nat_pkt {
	u32 status;
	s32 masq_index;
	s32 out_ifindex;
	u32 csum;
	u32 len;
	u8 ctinfo;
	u8 ip_summed;
	u8 has_other;
	u8 pad;
};

/*
 * rnf_nat_pkt_start - the start of nf_nat_inet_fn() for @skb at the hook of
 * @state, in one call: reads the connection @skb carries (through its
 * object, glue/conntrack/object.h, without a call into rnf_conntrack) with
 * the hook's output device and the skb's checksum state into *@p, and
 * counts the packet by its ctinfo (or as untracked) in this CPU's counters
 * (rnf_nat_seen_inc()). When the status has a bit of @want_orig (for a
 * packet of the original direction) or of @want_reply (of the reply
 * direction), also writes the tuple of the direction opposite the
 * packet's into *@other (as rnf_ct_nat_tuple() gives it) and sets
 * @p->has_other: the caller passes the bits that say its hook rewrites
 * the packet (nf_nat_packet()'s statusbit), so the common rewrite needs no
 * second call. 0 with every field of *@p written, or -ENOENT when @skb
 * carries no connection (then nothing is written).
 */
int rnf_nat_pkt_start(const struct sk_buff *skb, const struct nf_hook_state *state, u32 want_orig,
		      u32 want_reply, struct rnf_nat_pkt *p, struct rnf_tuple *other);

/*
 * What rnf_nat's hooks saw, for its unload summary: rnf_nat_seen_inc()
 * counts a packet in this CPU's counter @i (its ctinfo 0..4, or
 * RNF_NAT_SEEN_UNTRACKED; any other value counts nothing), with no atomic
 * read-modify-write and no cache line shared between CPUs;
 * rnf_nat_seen_sum() sums counter @i over every possible CPU.
 */
#define RNF_NAT_SEEN_UNTRACKED 5
#define RNF_NAT_SEEN_MAX 6
void rnf_nat_seen_inc(unsigned int i);
u64 rnf_nat_seen_sum(unsigned int i);

/* Registers (0 or -errno) and removes the notifiers that delete
 * MASQUERADE's connections of a device going down or an address removed. */
int rnf_nat_masq_init(void);
void rnf_nat_masq_exit(void);

#endif /* RNF_NAT_API_H */
