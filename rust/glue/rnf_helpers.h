/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers shared by the rnf modules: the kernel functions Rust cannot call
 * directly because they are static inline or macros. Each is a one-line
 * wrapper; the logic lives in Rust. Included by each module's C glue file
 * (a C object can belong to only one module) and by rnf_bindings.h, so
 * bindgen sees the same prototypes the linker resolves.
 */
#ifndef RNF_HELPERS_H
#define RNF_HELPERS_H

#include <linux/types.h>
#include <linux/sockptr.h>

struct sk_buff;
struct net;
struct net_device;
struct nf_hook_state;
struct seq_file;
struct kunit;
struct sock;
typedef struct spinlock spinlock_t;

/*
 * Returns a pointer to the first @len bytes of @skb's network header, either
 * in the skb's linear area or copied into @buf (which holds @len bytes).
 * @len is clamped to the bytes the skb holds from the network header on and
 * written back. NULL if the skb has no such bytes. *@skb_len is set to
 * skb->len in every case, so a caller needs no second call for it.
 */
const u8 *rnf_skb_network_bytes(const struct sk_buff *skb, u8 *buf, u32 *len, u32 *skb_len);

/* jiffies_64 and HZ. */
u64 rnf_jiffies(void);
u32 rnf_hz(void);

/* The network namespace's inode number: unique among live namespaces. */
u32 rnf_net_id(const struct net *net);
/* net->proc_net, the /proc/net directory of @net. */
struct proc_dir_entry *rnf_net_proc_dir(struct net *net);
/* The namespace of a single_open seq_file created by proc_create_net_single. */
struct net *rnf_seq_net(struct seq_file *m);

/* Spinlocks, taken with bottom halves disabled: hooks run in softirq. */
void rnf_spin_lock_init(spinlock_t *lock);
/*
 * spin_lock_bh(), or spin_lock() alone when bottom halves are off already
 * (softirq_count(): a hook in softirq, or under local_bh_disable()), which
 * protects from a softirq on this CPU just the same. Returns whether it
 * disabled them, which rnf_spin_unlock_bh() takes to undo exactly that.
 */
bool rnf_spin_lock_bh(spinlock_t *lock);
void rnf_spin_unlock_bh(spinlock_t *lock, bool bh);

/* net_ratelimit(), for admin-facing log lines from the packet path. */
bool rnf_net_ratelimit(void);
/* msleep(): sleeps at least @ms milliseconds (process context). */
void rnf_msleep(unsigned int ms);

/* Marks a KUnit case failed with a message of @len bytes. */
void rnf_kunit_fail(struct kunit *test, const char *msg, unsigned long len);

/* The data of pernet_operations @id in @net (net_generic()). */
void *rnf_net_generic(const struct net *net, unsigned int id);

/* RCU read side and bottom halves (rcu_read_lock(), local_bh_disable()). */
void rnf_rcu_read_lock(void);
void rnf_rcu_read_unlock(void);
void rnf_local_bh_disable(void);
void rnf_local_bh_enable(void);

/*
 * Per-CPU memory (alloc_percpu-style): @size zeroed bytes per possible CPU,
 * 8-byte aligned, or NULL. this_cpu_ptr() with BHs (hence preemption)
 * disabled, per_cpu_ptr() for @cpu, and the possible CPU after @cpu (-1 to
 * start), nr_cpu_ids when there is none.
 */
void *rnf_percpu_alloc(unsigned long size);
void rnf_percpu_free(void *p);
void *rnf_percpu_this(void *p);
void *rnf_percpu_cpu(void *p, unsigned int cpu);
unsigned int rnf_cpu_next_possible(int cpu);
unsigned int rnf_nr_cpu_ids(void);

/* sock_net(@sk), and whether the caller has CAP_NET_ADMIN in @net's user ns. */
struct net *rnf_sock_net(const struct sock *sk);
bool rnf_net_admin_capable(const struct net *net);

/* User (or sockptr) memory: 0, or -EFAULT if any byte could not be copied. */
int rnf_copy_from_sockptr(void *dst, const sockptr_t *src, unsigned long offset, unsigned long n);
int rnf_copy_from_user(void *dst, const void __user *src, unsigned long n);
int rnf_copy_to_user(void __user *dst, const void *src, unsigned long n);

/* skb->len: the packet's length in bytes from its network header on. */
u32 rnf_skb_len(const struct sk_buff *skb);

/*
 * What the xt matches and targets read and write of a packet, defined in
 * rnf_tables_glue.c (rnf_tables alone calls them). Hook context.
 */
/* skb->mark, and setting it. */
u32 rnf_skb_mark(const struct sk_buff *skb);
void rnf_skb_set_mark(struct sk_buff *skb, u32 mark);
/*
 * The mark of the connection @skb carries (nf_ct_get(), READ_ONCE(ct->mark)):
 * 0 and *@mark, or -ENOENT when it carries none (untracked included).
 */
int rnf_skb_ct_mark(const struct sk_buff *skb, u32 *mark);
/*
 * The seconds the connection @skb carries has left, nf_ct_expires(ct) / HZ
 * as xt_conntrack.c computes them: 0 and *@secs, or -ENOENT without one.
 */
int rnf_skb_ct_expires(const struct sk_buff *skb, u32 *secs);
/* WRITE_ONCE(ct->mark, @mark) on @skb's connection; nothing without one. */
void rnf_skb_set_ct_mark(struct sk_buff *skb, u32 mark);
/*
 * Whether @skb is marked untracked (skb->_nfct == IP_CT_UNTRACKED, as
 * nf_ct_set(skb, NULL, IP_CT_UNTRACKED) leaves it: CT --notrack, NOTRACK).
 */
bool rnf_skb_untracked(const struct sk_buff *skb);
/*
 * NOTRACK / CT --notrack (xt_CT.c): when the skb carries no conntrack
 * (skb->_nfct == 0), marks it untracked (nf_ct_set(skb, NULL,
 * IP_CT_UNTRACKED)) and returns true; false, unchanged, otherwise.
 */
bool rnf_skb_set_untracked(struct sk_buff *skb);
/*
 * The path MTU TCPMSS --clamp-mss-to-pmtu clamps to: the smaller of
 * dst_mtu(skb_dst(skb)) and the MTU of the route in @net back to the
 * packet's source (tcpmss_reverse_mtu: nf_route(), ~0U without one), for
 * family @pf (NFPROTO_IPV4/IPV6). 0 when the skb has no route (the kernel's
 * target would dereference it; the target then drops the packet).
 */
u32 rnf_skb_path_mtu(struct sk_buff *skb, struct net *net, u8 pf);
/* skb->pkt_type (PACKET_*). */
u8 rnf_skb_pkt_type(const struct sk_buff *skb);
/*
 * The Ethernet source address as xt_mac.c reads it into @out (6 bytes):
 * true, or false when skb->dev is not ARPHRD_ETHER or the MAC header is
 * unset or shorter than ETH_HLEN.
 */
bool rnf_skb_eth_source(const struct sk_buff *skb, u8 *out);
/*
 * The link-layer header as nf_log prints it (MAC=): skb_mac_header() for
 * skb->dev->hard_header_len bytes, clamped to the bytes before the network
 * header; NULL with *len = 0 if there is none.
 */
const u8 *rnf_skb_mac_header(const struct sk_buff *skb, u32 *len);
/*
 * xt_addrtype.c's view of @addr (network order; 4 bytes for NFPROTO_IPV4,
 * 16 for NFPROTO_IPV6 in @pf) in @net, restricted to @dev (may be NULL):
 * IPv4 1 << inet_dev_addr_type(); IPv6 match_lookup_rt6()'s bits
 * (XT_ADDRTYPE_LOCAL, _ANYCAST, _UNREACHABLE) for every type. 0 for
 * another @pf.
 */
u16 rnf_addr_type(struct net *net, const struct net_device *dev, const u8 *addr, u8 pf);
/*
 * printk of @len bytes (at most 1024) at KERN_<@level> (0 emerg .. 7
 * debug), one line: the LOG target's lines and rnf_tables' warnings.
 */
void rnf_printk(int level, const char *buf, unsigned long len);

/*
 * The hashlimit match's /proc files (rnf_tables_glue.c, process context):
 * proc_mkdir(@name, net->proc_net); proc_create_single_data(@name, 0444,
 * @parent, @show, @data) (@show finds @data with rnf_seq_private); the
 * seq_file's private pointer; totalram_pages() (htable_create's default
 * size).
 */
struct proc_dir_entry *rnf_proc_mkdir_net(struct net *net, const char *name);
struct proc_dir_entry *rnf_proc_create_data(const char *name, struct proc_dir_entry *parent,
					    int (*show)(struct seq_file *, void *), void *data);
void *rnf_seq_private(struct seq_file *m);
unsigned long rnf_totalram_pages(void);
unsigned long rnf_page_size(void);

/*
 * Packet editing, for the targets that change a packet (TCPMSS, DSCP, TOS),
 * defined in rnf_tables_glue.c (rnf_tables alone calls them).
 *
 * rnf_skb_copy_network() copies the first *@len bytes from the network header
 * into @buf (skb_copy_bits), clamping *@len to what the skb holds; 0, or
 * -EINVAL when there is nothing to copy. Unlike rnf_skb_network_bytes(), the
 * result never points into the skb, so it stays valid across an edit.
 *
 * rnf_skb_edit() first grows the skb by @grow bytes at its tail when @grow
 * is not zero (a linear skb only: pskb_expand_head() when the tailroom is
 * short, then skb_put(), as xt_TCPMSS.c), then makes the first @need bytes
 * from the network header linear, writable and the skb's own
 * (skb_ensure_writable()). Returns the network header, with *@linear the
 * bytes from there in the linear area and *@len those in the whole skb; NULL
 * when the skb cannot be grown or made writable (or holds fewer than @need
 * bytes). The data may have moved: pointers into the skb taken before are
 * stale. Softirq context (GFP_ATOMIC).
 */
int rnf_skb_copy_network(const struct sk_buff *skb, u8 *buf, u32 *len);
u8 *rnf_skb_edit(struct sk_buff *skb, unsigned int need, unsigned int grow, unsigned int *linear, unsigned int *len);
/* skb->ip_summed (CHECKSUM_NONE 0, UNNECESSARY 1, COMPLETE 2, PARTIAL 3),
 * skb->csum: defined in glue/skb_csum.c, which rnf_tables_glue.c and
 * rnf_nat_glue.c include. */
u8 rnf_skb_ip_summed(const struct sk_buff *skb);
u32 rnf_skb_csum(const struct sk_buff *skb);
void rnf_skb_set_csum(struct sk_buff *skb, u32 csum);

#endif /* RNF_HELPERS_H */
