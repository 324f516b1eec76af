/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rnf_conntrack offers other modules (exported with EXPORT_SYMBOL_GPL,
 * so modpost records the dependency in the user's `depends=`), and its
 * module-private C glue (parameters, GC work).
 */
#ifndef RNF_CONNTRACK_API_H
#define RNF_CONNTRACK_API_H

#include <linux/types.h>

struct net;
struct sk_buff;

/*
 * struct rnf_ct_lookup - what rnf_conntrack knows about a packet.
 * @status: IPS_* bits of the connection (nf_conntrack_common.h).
 * @ctinfo: enum ip_conntrack_info value for this packet.
 * @dir:    IP_CT_DIR_ORIGINAL (0) or IP_CT_DIR_REPLY (1).
 * @proto:  IPPROTO_* of the connection.
 *
 * A snapshot taken under the table lock: it holds no reference, so it stays
 * meaningful only for the packet it was taken for.
 */
struct rnf_ct_lookup {
	u32 status;
	u8 ctinfo;
	u8 dir;
	u8 proto;
	u8 pad;
};

/*
 * rnf_ct_lookup - find the tracked connection of @skb.
 * @net: the packet's namespace; @pf: NFPROTO_IPV4 or NFPROTO_IPV6.
 * Returns 0 and fills @out, -ENOENT if the packet belongs to no tracked
 * connection (yet), -EINVAL if it cannot be parsed. Callable from hooks
 * (softirq) and process context; does not sleep.
 */
int rnf_ct_lookup(struct net *net, u8 pf, const struct sk_buff *skb, struct rnf_ct_lookup *out);

/* Module parameters of rnf_conntrack (0 = derive the default). */
unsigned int rnf_ct_param_hashsize(void);
unsigned int rnf_ct_param_max(void);
unsigned int rnf_ct_param_udp_timeout(void);
/* Total RAM in bytes, for the kernel's default table size. */
u64 rnf_totalram_bytes(void);
/* Start and stop (waiting for it) the periodic GC work. */
void rnf_ct_gc_start(void);
void rnf_ct_gc_stop(void);

#endif /* RNF_CONNTRACK_API_H */
