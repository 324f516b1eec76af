/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rnf_conntrack offers other modules (exported with EXPORT_SYMBOL_GPL,
 * so modpost records the dependency in the user's `depends=`), and its
 * module-private C glue (parameters, per-namespace data, GC work).
 */
#ifndef RNF_CONNTRACK_API_H
#define RNF_CONNTRACK_API_H

#include <linux/types.h>

struct net;
struct sk_buff;
struct nf_hook_state;

/*
 * struct rnf_ct_lookup - what rnf_conntrack knows about a packet.
 * @status: IPS_* bits of the connection (nf_conntrack_common.h).
 * @ctinfo: enum ip_conntrack_info value for this packet.
 * @dir:    IP_CT_DIR_ORIGINAL (0) or IP_CT_DIR_REPLY (1).
 * @proto:  IPPROTO_* of the connection.
 *
 * A snapshot of the connection the packet carries: it holds no reference,
 * so it stays meaningful only for the packet it was taken for.
 */
struct rnf_ct_lookup {
	u32 status;
	u8 ctinfo;
	u8 dir;
	u8 proto;
	u8 pad;
};

/*
 * rnf_ct_lookup - the tracked connection of @skb, as nf_ct_get() answers:
 * from the connection rnf_conntrack's tracking hook attached to the skb,
 * without parsing the packet again or taking the table lock (@status read
 * with READ_ONCE(); IPS_CONFIRMED is missing while the connection is
 * unconfirmed, NEW).
 * @net: the packet's namespace; @pf: NFPROTO_IPV4 or NFPROTO_IPV6 (kept in
 * the ABI for callers without an skb connection of their own; unused).
 * Returns 0 and fills @out, or -ENOENT when the skb carries no connection
 * (untracked, invalid, or not trackable). Callable from hooks (softirq)
 * and process context; takes no lock, does not sleep, changes no state and
 * counts in no statistics.
 */
int rnf_ct_lookup(struct net *net, u8 pf, const struct sk_buff *skb, struct rnf_ct_lookup *out);

/*
 * struct rnf_tuple - one direction of a connection as rnf keeps it.
 * @src, @dst: addresses, network order (IPv4 in the first 4 bytes, rest 0).
 * @src_id, @dst_id: host order; TCP/UDP ports, or for ICMP/ICMPv6 the echo
 *   identifier (@src_id) and type << 8 | code (@dst_id); 0 otherwise.
 * @proto: IPPROTO_*; @l3: NFPROTO_IPV4 or NFPROTO_IPV6.
 */
struct rnf_tuple {
	u8 src[16];
	u8 dst[16];
	u16 src_id;
	u16 dst_id;
	u8 proto;
	u8 l3;
	u16 pad;
};

/*
 * struct rnf_ct_nat_info - what NAT needs of the connection a packet carries:
 * @status: IPS_* bits; @ctinfo: enum ip_conntrack_info of the packet;
 * @dir: IP_CT_DIR_ORIGINAL (0) or IP_CT_DIR_REPLY (1);
 * @masq_index: the output interface MASQUERADE mapped it for, or 0;
 * @tuple: the original and the reply tuple (the reply as NAT set it).
 */
struct rnf_ct_nat_info {
	u32 status;
	u8 ctinfo;
	u8 dir;
	u16 pad;
	s32 masq_index;
	struct rnf_tuple tuple[2];
};

/*
 * rnf_ct_nat_info - the connection @skb carries, read from the skb's
 * object without a lock (as nf_ct_get() and the nf_conn fields are read).
 * 0 and *@out filled, or -ENOENT when the skb carries none.
 */
int rnf_ct_nat_info(const struct sk_buff *skb, struct rnf_ct_nat_info *out);

/*
 * rnf_ct_nat_tuple - the tuple of direction @dir (IP_CT_DIR_ORIGINAL or
 * IP_CT_DIR_REPLY) of the connection @skb carries, into *@t, read as
 * rnf_ct_nat_info() reads it: 0, or -ENOENT when @skb carries none,
 * -EINVAL for another @dir.
 */
int rnf_ct_nat_tuple(const struct sk_buff *skb, u8 dir, struct rnf_tuple *t);

/* The status, ctinfo and masq_index of rnf_ct_nat_info without the tuples:
 * 0, or -ENOENT when @skb carries no connection. */
int rnf_ct_nat_status(const struct sk_buff *skb, u32 *status, u8 *ctinfo, s32 *masq_index);

struct rnf_nat_target;

/* Records the interface MASQUERADE mapped @skb's connection for (nf_conn_nat's
 * masq_index): its connections go when it goes down or loses the address. */
void rnf_ct_set_masq_index(struct sk_buff *skb, int ifindex);

/* nf_nat_cleanup()'s walk when rnf_nat goes: deletes the connections NAT
 * changed, clears the NAT_DONE bits of the others; returns how many were
 * deleted. Process context, after rnf_nat's hooks are gone. */
unsigned int rnf_ct_nat_cleanup(void);

/* nf_ct_kill() of the connection @skb carries: it leaves the table (the
 * packet keeps its reference). Takes the table lock; hook context. */
void rnf_ct_kill(struct sk_buff *skb);

/*
 * rnf_ct_flush_masq - deletes the confirmed connections of @net that
 * MASQUERADE mapped for interface @ifindex and, when @addr (16 bytes,
 * family @l3) is given, whose reply goes to that address (the kernel's
 * device_cmp and inet_cmp in nf_nat_masquerade.c). Returns how many.
 * Process context.
 */
unsigned int rnf_ct_flush_masq(struct net *net, int ifindex, const u8 *addr, u8 l3);

/*
 * rnf_ct_nat_setup - nf_nat_setup_info() for the connection @skb carries:
 * chooses the tuple for manip @manip (0 source, 1 destination) within
 * @range (the range fields of struct rnf_nat_target, rnf_nat_api.h; kind
 * ignored) as get_unique_tuple() does, makes the reply tuple its inverse,
 * and sets IPS_SRC_NAT/IPS_DST_NAT if the tuple changed and
 * IPS_SRC_NAT_DONE/IPS_DST_NAT_DONE. Returns 0, -ENOENT (no connection),
 * or -EEXIST (confirmed, or this manip is set up already: unchanged).
 * Takes the table lock; hook context.
 */
int rnf_ct_nat_setup(struct sk_buff *skb, const struct rnf_nat_target *range, u8 manip);

/*
 * Settings, under the kernel's names (nf_conntrack_standalone.c's
 * nf_ct_sysctl_table, /proc/sys/net/netfilter/nf_conntrack_*), divided as
 * nf_conntrack divides them:
 * - global: nf_conntrack_max and nf_conntrack_buckets, writable in the
 *   initial namespace, read-only (0444) elsewhere; also the module
 *   parameters conntrack_max and hashsize, and nf_conntrack_max is
 *   net.nf_conntrack_max too. nf_conntrack_max limits each namespace's
 *   count, as the kernel's limits each net's ct count.
 * - per namespace: the timeouts (seconds; index with enum rnf_ct_timeout)
 *   and the switches (enum rnf_ct_setting). The initial namespace's are
 *   module parameters (what the loader saves and re-applies); a namespace
 *   created later starts from the initial namespace's values at that
 *   moment.
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
	/* nf_conntrack_tcp_timeout_max_retrans (TCP_CONNTRACK_RETRANS). */
	RNF_CT_TMO_TCP_RETRANS,
	RNF_CT_TMO_MAX,
};

/*
 * The per-namespace switches (net->ct.sysctl_* and struct nf_tcp_net's),
 * each the value of its nf_conntrack_* sysctl: checksum (0/1, default 1),
 * log_invalid (0-255: the IPPROTO_* whose invalid packets are logged, 255
 * all, default 0), acct (0/1, default 0), tcp_loose (0/1, default 1),
 * tcp_be_liberal (0/1, default 0), tcp_ignore_invalid_rst (0/1, default 0),
 * tcp_max_retrans (0-255, default 3).
 */
enum rnf_ct_setting {
	RNF_CT_SET_CHECKSUM,
	RNF_CT_SET_LOG_INVALID,
	RNF_CT_SET_ACCT,
	RNF_CT_SET_TCP_LOOSE,
	RNF_CT_SET_TCP_BE_LIBERAL,
	RNF_CT_SET_TCP_IGNORE_INVALID_RST,
	RNF_CT_SET_TCP_MAX_RETRANS,
	RNF_CT_SET_MAX,
};

/* Hash buckets and conntrack_max at load (0 = derive the default). */
unsigned int rnf_ct_param_hashsize(void);
unsigned int rnf_ct_param_max(void);
/* Publishes the table chosen at load: its buckets, the most connections it
 * can grow to (the ceiling of conntrack_max) and the limit conntrack_max. */
void rnf_ct_set_limits(unsigned int buckets, unsigned int ceiling, unsigned int max);
/* Publishes the number of hash buckets after a resize (nf_conntrack_buckets). */
void rnf_ct_set_buckets(unsigned int buckets);
/* The conntrack_max in force (<= the ceiling; 0 means the ceiling): the
 * limit of each namespace. */
unsigned int rnf_ct_max(void);
/* Publishes the number of connections of all namespaces together
 * (net.rnf.conntrack_count_all, initial namespace only). */
void rnf_ct_set_count_all(unsigned int count);

/*
 * Per-CPU statistics of a namespace, its /proc/net/stat/rnf_conntrack (the
 * columns of /proc/net/stat/nf_conntrack, then rnf's own: related).
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
	/* clash_resolve: the packet got the connection its flow's twin confirmed. */
	RNF_CT_STAT_CLASH_RESOLVE,
	RNF_CT_STAT_MAX,
};

/*
 * struct rnf_ct_net - rnf_conntrack's data for one namespace (count,
 * timeouts, statistics, sysctls), private to rnf_conntrack_glue.c. It lives
 * from the namespace's set-up by rnf_ct_controls_init()'s pernet operations
 * until their exit, which runs after the hooks are unregistered from the
 * namespace, a grace period has passed and its entries are flushed.
 */
struct rnf_ct_net;

/* @net's data (net_generic(): no lock, no sleep; callable from hooks). */
struct rnf_ct_net *rnf_ct_net(const struct net *net);
void rnf_ct_net_stat_inc(struct rnf_ct_net *pn, enum rnf_ct_stat which);
/*
 * Where @pn's timeouts in force (*@tmo: RNF_CT_TMO_MAX values, seconds,
 * indexed by enum rnf_ct_timeout) and switches (*@set: RNF_CT_SET_MAX
 * values, enum rnf_ct_setting) are: its live arrays, which its sysctls
 * write; read each value with READ_ONCE() when it is needed. Valid as long
 * as the namespace.
 */
void rnf_ct_net_config(const struct rnf_ct_net *pn, const unsigned int **tmo, const unsigned int **set);
/*
 * What the tracking hook needs of every packet before it looks at the
 * packet itself, filled by rnf_ct_in_start() in one call.
 */
struct rnf_ct_in {
	/* The namespace's data, NULL when it has none (then nothing below
	 * @present and @loopback_in is set). */
	struct rnf_ct_net *pn;
	/* get_jiffies_64() at the start of the hook. */
	u64 now;
	/* The namespace's inode number (what the table keys connections by). */
	u32 inum;
	/* skb->mark, when a template was taken (for NF_CT_FLAG_MARK). */
	u32 mark;
	/* The taken template's zone id and NF_CT_ZONE_DIR_* bits. */
	u16 zone_id;
	u8 zone_dir;
	/* A CT template was taken off the skb (rnf_nfct_take_template()). */
	bool tmpl;
	/* The template's zone id is to be the packet's mark. */
	bool from_mark;
	/* The skb still carries a connection or the untracked mark. */
	bool present;
	/* PRE_ROUTING with a loopback input device. */
	bool loopback_in;
	/* The namespace's timeouts in force (seconds, indexed by enum
	 * rnf_ct_timeout) and switches (enum rnf_ct_setting): its live
	 * arrays, which its sysctls write; read each value with READ_ONCE()
	 * when it is needed. Valid as long as the namespace. */
	const unsigned int *tmo;
	const unsigned int *set;
	/* The first @data_len bytes from the network header on, in the skb's
	 * linear area or copied into the caller's buffer
	 * (rnf_skb_network_bytes()); NULL when the skb has none. Set only
	 * when @pn is. */
	const u8 *data;
	u32 data_len;
};

/*
 * rnf_ct_in_start - nf_conntrack_in()'s start for @skb at the hook of
 * @state, in one call: takes a CT template off @skb (as
 * rnf_nfct_take_template()), then says whether @skb still carries a
 * connection and whether it came in on loopback at PRE_ROUTING; unless
 * either is so, fills the namespace's data, jiffies, inode number,
 * where its timeouts and switches are, and where the packet's first bytes
 * are (at most @buf_len, copied into @buf when not linear). Softirq or
 * BH-disabled context; takes no lock.
 */
void rnf_ct_in_start(const struct nf_hook_state *state, struct sk_buff *skb, struct rnf_ct_in *in,
		     u8 *buf, u32 buf_len);

/* Counts @which in the statistics of the namespace whose inode number is
 * @inum (for code that knows the namespace only by it); none if it has no
 * data. */
void rnf_ct_stat_inc_inum(u32 inum, enum rnf_ct_stat which);

/*
 * rnf_ct_checksum_bad - the check of nf_conntrack's tcp_error(),
 * udp_error(), nf_conntrack_icmpv4_error() and icmpv6_error(): whether
 * @skb's @proto (TCP, UDP, ICMP, ICMPv6; any other is not checked) header
 * at @l4off bytes from the network header fails nf_checksum() at @hook
 * (only PRE_ROUTING is checked; a UDP datagram with a zero checksum is
 * not). Hook context; may set skb->ip_summed, as the kernel's does.
 */
bool rnf_ct_checksum_bad(struct sk_buff *skb, unsigned int hook, unsigned int l4off, u8 proto, u8 pf);

/*
 * rnf_ct_log_invalid - nf_l4proto_log_invalid(): when @net's
 * nf_conntrack_log_invalid is @proto or 255, logs @skb through the
 * namespace's packet logger (nf_log_packet(), "nf_ct_proto_<proto>: <msg> ").
 * @state is the hook's (for the family and the devices). Hook context.
 */
void rnf_ct_log_invalid(const struct nf_hook_state *state, struct sk_buff *skb, u8 proto, const char *msg);
/* The namespace's connection count (net.rnf.conntrack_count), and changing
 * it; changed only under the table lock. */
unsigned int rnf_ct_net_count(const struct rnf_ct_net *pn);
void rnf_ct_net_count_add(struct rnf_ct_net *pn, int delta);
/* Subtracts @n from the count of the namespace whose inode number is @inum
 * (for the GC, which knows an entry's namespace only by that number); a
 * namespace without data is ignored. Under the table lock. */
void rnf_ct_count_sub_inum(u32 inum, unsigned int n);

/*
 * Registers the per-namespace data, sysctls and statistics files in every
 * namespace (init; before any hook) and removes them (exit; after the hooks
 * and the GC are gone).
 */
int rnf_ct_controls_init(void);
void rnf_ct_controls_exit(void);
/* Total RAM in bytes, for the kernel's default table size. */
u64 rnf_totalram_bytes(void);
/* Start and stop (waiting for it) the periodic GC work; rnf_ct_gc_kick()
 * runs it at once instead of at its next tick (mod_delayed_work(), any
 * context; only between start and stop). */
void rnf_ct_gc_start(void);
void rnf_ct_gc_kick(void);
void rnf_ct_gc_stop(void);

/*
 * The connection objects skb->_nfct points to (glue/conntrack/nfct.c): a
 * struct nf_conn plus the table slot of the connection, reference counted
 * as the kernel's are. rnf_nfct_init() claims the kernel's nf_ct_hook
 * (-EBUSY while the kernel's nf_conntrack is loaded) and refuses that
 * module afterwards; rnf_nfct_exit() waits until packets hold no object
 * and gives the hook back.
 */
struct rnf_ct;

/* The slot of an object that has none (left the table). */
#define RNF_CT_NO_SLOT 0xffffffffU

int rnf_nfct_init(void);
unsigned int rnf_nfct_object_size(void);
void rnf_nfct_exit(void);
/* A new object with one reference (the caller's), GFP_ATOMIC; NULL if out of memory. */
struct rnf_ct *rnf_nfct_alloc(struct net *net, u32 slot, u32 status);
void rnf_nfct_get(struct rnf_ct *c);
void rnf_nfct_put(struct rnf_ct *c);
unsigned int rnf_nfct_use(const struct rnf_ct *c);
u32 rnf_nfct_slot(const struct rnf_ct *c);
void rnf_nfct_set_slot(struct rnf_ct *c, u32 slot);
u32 rnf_nfct_status(const struct rnf_ct *c);
void rnf_nfct_set_status(struct rnf_ct *c, u32 status);
/*
 * Mirrors the connection's timeout into nf_conn.timeout as the kernel keeps
 * it (__nf_ct_refresh_acct): jiffies from now while unconfirmed, the
 * (u32) jiffies it expires at once confirmed; what nf_ct_expires() reads
 * (xt_conntrack's --ctexpire).
 */
void rnf_nfct_set_timeout(struct rnf_ct *c, u32 timeout);
u8 rnf_nfct_proto(const struct rnf_ct *c);
void rnf_nfct_set_tuple(struct rnf_ct *c, u8 dir, const u8 *src, const u8 *dst,
			u16 src_id, u16 dst_id, u8 proto, u8 l3num);
void rnf_nfct_attach(struct sk_buff *skb, struct rnf_ct *c, u8 ctinfo);
void rnf_nfct_replace(struct sk_buff *skb, struct rnf_ct *c, u8 ctinfo);
/*
 * The found path's object work in one call: @status (if changed) and
 * @timeout mirrored as rnf_nfct_set_status()/rnf_nfct_set_timeout() do,
 * @skb (skb->len bytes) counted in direction @acct_dir (0 or 1; any other
 * value counts nothing) as rnf_nfct_acct_add(), then rnf_nfct_attach().
 */
void rnf_nfct_refresh_attach(struct sk_buff *skb, struct rnf_ct *c, u8 ctinfo, u32 status,
			     u32 timeout, u8 acct_dir);
struct rnf_ct *rnf_nfct_of_skb(const struct sk_buff *skb, u8 *ctinfo);
int rnf_nfct_masq_index(const struct rnf_ct *c);
/* Reads tuplehash[@dir].tuple back into @t. */
void rnf_nfct_get_tuple(const struct rnf_ct *c, u8 dir, struct rnf_tuple *t);
/* nf_conn.mark into *@mark: false (nothing read) on a kernel without
 * CONFIG_NF_CONNTRACK_MARK. */
bool rnf_nfct_mark(const struct rnf_ct *c, u32 *mark);
/* nf_conn.zone's id and dir: false on a kernel without
 * CONFIG_NF_CONNTRACK_ZONES. */
bool rnf_nfct_zone(const struct rnf_ct *c, u16 *id, u8 *dir);
/*
 * Accounting (nf_conntrack_acct): rnf_nfct_acct_enable() gives a new,
 * unconfirmed object the kernel's accounting extension (nf_ct_ext with
 * NF_CT_EXT_ACCT, so nf_conn_acct_find() finds it; GFP_ATOMIC, false when
 * out of memory); rnf_nfct_acct_add() counts a packet of @len bytes in
 * direction @dir if the object has it; rnf_nfct_acct_read() fills
 * @out[4] (original packets, bytes, reply packets, bytes), false when it
 * has none.
 */
bool rnf_nfct_acct_enable(struct rnf_ct *c);
void rnf_nfct_acct_add(struct rnf_ct *c, u8 dir, unsigned int len);
bool rnf_nfct_acct_read(const struct rnf_ct *c, u64 *out);

/* Sets nf_conn.zone's id and dir (nothing without CONFIG_NF_CONNTRACK_ZONES). */
void rnf_nfct_set_zone(struct rnf_ct *c, u16 id, u8 dir);
/*
 * Takes a CT template off @skb (nf_conntrack_in()'s start): true with its
 * zone's id and dir, whether the id is to be @skb's mark
 * (NF_CT_FLAG_MARK) and the mark; false when @skb carries no template.
 */
bool rnf_nfct_take_template(struct sk_buff *skb, u16 *id, u8 *dir, bool *from_mark, u32 *mark);

/*
 * The raw table's CT templates (exported; xt_CT.c's nf_ct_tmpl_alloc(),
 * xt_ct_target(), xt_ct_tg_destroy()):
 *
 * rnf_ct_tmpl_alloc - a template of zone @zone_id, @zone_dir
 * (NF_CT_ZONE_DIR_* bits), with @zone_mark the id taken from the packet's
 * mark, in *@out with one reference (the rule's). Process context.
 * Returns 0, -ENOMEM, or -EOPNOTSUPP for a zone on a kernel without
 * CONFIG_NF_CONNTRACK_ZONES.
 *
 * rnf_ct_tmpl_attach - a packet without conntrack (skb->_nfct == 0) takes
 * the template with IP_CT_NEW and a reference (true; false when it had
 * conntrack already); rnf_conntrack's tracking hook takes it off and
 * tracks the packet in its zone. Any context.
 *
 * rnf_ct_tmpl_put - drops the rule's reference (after the table's grace
 * period); packets still carrying the template keep it alive.
 */
int rnf_ct_tmpl_alloc(struct net *net, u16 zone_id, u8 zone_dir, bool zone_mark, struct rnf_ct **out);
bool rnf_ct_tmpl_attach(struct sk_buff *skb, struct rnf_ct *c);
void rnf_ct_tmpl_put(struct rnf_ct *c);

#endif /* RNF_CONNTRACK_API_H */
