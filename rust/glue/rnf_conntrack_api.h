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

/*
 * Settings: each is a module parameter (so the loader can save and re-apply
 * it) and a sysctl under /proc/sys/net/rnf/, both backed by one variable.
 * Timeouts are in seconds; index with enum rnf_ct_timeout.
 */
enum rnf_ct_timeout {
	RNF_CT_TMO_TCP_SYN_SENT,
	RNF_CT_TMO_TCP_SYN_RECV,
	RNF_CT_TMO_TCP_ESTABLISHED,
	RNF_CT_TMO_TCP_FIN_WAIT,
	RNF_CT_TMO_TCP_CLOSE_WAIT,
	RNF_CT_TMO_TCP_LAST_ACK,
	RNF_CT_TMO_TCP_TIME_WAIT,
	RNF_CT_TMO_TCP_CLOSE,
	RNF_CT_TMO_TCP_UNACK,
	RNF_CT_TMO_UDP,
	RNF_CT_TMO_UDP_STREAM,
	RNF_CT_TMO_ICMP,
	RNF_CT_TMO_ICMPV6,
	RNF_CT_TMO_GENERIC,
	RNF_CT_TMO_MAX,
};

/* Hash buckets and table size at load (0 = derive the default). */
unsigned int rnf_ct_param_hashsize(void);
unsigned int rnf_ct_param_max(void);
/* Publishes the table size chosen at load: the ceiling of conntrack_max. */
void rnf_ct_set_limits(unsigned int buckets, unsigned int capacity);
/* The conntrack_max in force (<= capacity). */
unsigned int rnf_ct_max(void);
/* Copies the timeouts in force (seconds) into @out[RNF_CT_TMO_MAX]. */
void rnf_ct_timeouts(u32 *out);
/* Publishes the number of tracked connections (conntrack_count). */
void rnf_ct_set_count(unsigned int count);

/*
 * Per-CPU statistics, /proc/net/stat/rnf_conntrack (the columns of
 * /proc/net/stat/nf_conntrack, then rnf's own: related).
 */
enum rnf_ct_stat {
	RNF_CT_STAT_FOUND,
	RNF_CT_STAT_INVALID,
	RNF_CT_STAT_INSERT,
	RNF_CT_STAT_INSERT_FAILED,
	RNF_CT_STAT_DROP,
	RNF_CT_STAT_EARLY_DROP,
	RNF_CT_STAT_ICMP_ERROR,
	RNF_CT_STAT_SEARCH_RESTART,
	RNF_CT_STAT_RELATED,
	RNF_CT_STAT_MAX,
};
void rnf_ct_stat_inc(enum rnf_ct_stat which);

/* Registers the stats file and sysctls (init) and removes them (exit). */
int rnf_ct_controls_init(void);
void rnf_ct_controls_exit(void);
/* Total RAM in bytes, for the kernel's default table size. */
u64 rnf_totalram_bytes(void);
/* Start and stop (waiting for it) the periodic GC work. */
void rnf_ct_gc_start(void);
void rnf_ct_gc_stop(void);

#endif /* RNF_CONNTRACK_API_H */
