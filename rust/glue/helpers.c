// SPDX-License-Identifier: GPL-2.0
/*
 * Bodies of the helpers declared in rnf_helpers.h, but for those rnf_tables
 * alone calls (rnf_tables_glue.c defines them). Not built on its own: each
 * module's glue C file includes it, so every module carries a private copy
 * (the symbols are not exported and do not clash).
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/bottom_half.h>
#include <linux/uaccess.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <linux/netdevice.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/netfilter.h>
#include <net/net_namespace.h>
#include <kunit/test.h>

#include "rnf_helpers.h"

/*
 * Whether @skb holds bytes from @off (its network offset) on; if so, *@len
 * is cut to how many of them there are. rnf_skb_network_bytes()'s first
 * step, and rnf_ct_in_start()'s, which then copies out of line.
 */
static __always_inline bool rnf_skb_network_span(const struct sk_buff *skb, int off, u32 *len)
{
	if (off < 0 || skb->len <= (unsigned int)off)
		return false;
	if (*len > skb->len - off)
		*len = skb->len - off;
	return true;
}

const u8 *rnf_skb_network_bytes(const struct sk_buff *skb, u8 *buf, u32 *len, u32 *skb_len)
{
	int off = skb_network_offset(skb);

	*skb_len = skb->len;
	if (!rnf_skb_network_span(skb, off, len))
		return NULL;
	return skb_header_pointer(skb, off, *len, buf);
}

u64 rnf_jiffies(void)
{
	return get_jiffies_64();
}

u32 rnf_hz(void)
{
	return HZ;
}

u32 rnf_net_id(const struct net *net)
{
	return net->ns.inum;
}

struct proc_dir_entry *rnf_net_proc_dir(struct net *net)
{
	return net->proc_net;
}

struct net *rnf_seq_net(struct seq_file *m)
{
	return seq_file_single_net(m);
}

void rnf_spin_lock_init(spinlock_t *lock)
{
	spin_lock_init(lock);
}

bool rnf_spin_lock_bh(spinlock_t *lock)
{
	if (softirq_count()) {
		spin_lock(lock);
		return false;
	}
	spin_lock_bh(lock);
	return true;
}

void rnf_spin_unlock_bh(spinlock_t *lock, bool bh)
{
	if (bh)
		spin_unlock_bh(lock);
	else
		spin_unlock(lock);
}

void rnf_msleep(unsigned int ms)
{
	msleep(ms);
}

bool rnf_net_ratelimit(void)
{
	return net_ratelimit();
}

#if IS_ENABLED(CONFIG_KUNIT)
/* Only the self-test suites call it, and they exist only with KUnit. */
void rnf_kunit_fail(struct kunit *test, const char *msg, unsigned long len)
{
	KUNIT_FAIL(test, "%.*s", (int)len, msg);
}
#endif

void *rnf_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

void rnf_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rnf_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

void rnf_local_bh_disable(void)
{
	local_bh_disable();
}

void rnf_local_bh_enable(void)
{
	local_bh_enable();
}

void *rnf_percpu_alloc(unsigned long size)
{
	return (void __force *)__alloc_percpu_gfp(size, sizeof(u64), GFP_KERNEL);
}

void rnf_percpu_free(void *p)
{
	free_percpu((void __percpu __force *)p);
}

void *rnf_percpu_this(void *p)
{
	return this_cpu_ptr((void __percpu __force *)p);
}

void *rnf_percpu_cpu(void *p, unsigned int cpu)
{
	return per_cpu_ptr((void __percpu __force *)p, cpu);
}

unsigned int rnf_cpu_next_possible(int cpu)
{
	return cpumask_next(cpu, cpu_possible_mask);
}

unsigned int rnf_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

struct net *rnf_sock_net(const struct sock *sk)
{
	return sock_net(sk);
}

bool rnf_net_admin_capable(const struct net *net)
{
	return ns_capable(net->user_ns, CAP_NET_ADMIN);
}

int rnf_copy_from_sockptr(void *dst, const sockptr_t *src, unsigned long offset, unsigned long n)
{
	return copy_from_sockptr_offset(dst, *src, offset, n) ? -EFAULT : 0;
}

int rnf_copy_from_user(void *dst, const void __user *src, unsigned long n)
{
	return copy_from_user(dst, src, n) ? -EFAULT : 0;
}

int rnf_copy_to_user(void __user *dst, const void *src, unsigned long n)
{
	return copy_to_user(dst, src, n) ? -EFAULT : 0;
}

u32 rnf_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}
