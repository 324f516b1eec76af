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

struct sk_buff;
struct net;
struct net_device;
struct seq_file;
struct kunit;
typedef struct spinlock spinlock_t;

/*
 * Returns a pointer to the first @len bytes of @skb's network header, either
 * in the skb's linear area or copied into @buf (which holds @len bytes).
 * @len is clamped to the bytes the skb holds from the network header on and
 * written back. NULL if the skb has no such bytes.
 */
const u8 *rnf_skb_network_bytes(const struct sk_buff *skb, u8 *buf, u32 *len);

/* jiffies_64 and HZ. */
u64 rnf_jiffies(void);
u32 rnf_hz(void);

/* The network namespace's inode number: unique among live namespaces. */
u32 rnf_net_id(const struct net *net);
/* net->proc_net, the /proc/net directory of @net. */
struct proc_dir_entry *rnf_net_proc_dir(struct net *net);
/* The namespace of a single_open seq_file created by proc_create_net_single. */
struct net *rnf_seq_net(struct seq_file *m);
/* Whether @dev is a loopback device (NULL is not). */
bool rnf_dev_is_loopback(const struct net_device *dev);

/* Spinlocks, taken with bottom halves disabled: hooks run in softirq. */
void rnf_spin_lock_init(spinlock_t *lock);
void rnf_spin_lock_bh(spinlock_t *lock);
void rnf_spin_unlock_bh(spinlock_t *lock);
unsigned long rnf_spinlock_size(void);

/* net_ratelimit(), for admin-facing log lines from the packet path. */
bool rnf_net_ratelimit(void);

/* Marks a KUnit case failed with a message of @len bytes. */
void rnf_kunit_fail(struct kunit *test, const char *msg, unsigned long len);

#endif /* RNF_HELPERS_H */
