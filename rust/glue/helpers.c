// SPDX-License-Identifier: GPL-2.0
/*
 * Bodies of the helpers declared in rnf_helpers.h. Not built on its own:
 * each module's glue C file includes it, so every module carries a private
 * copy (the symbols are not exported and do not clash).
 */
#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <net/net_namespace.h>
#include <kunit/test.h>

#include "rnf_helpers.h"

const u8 *rnf_skb_network_bytes(const struct sk_buff *skb, u8 *buf, u32 *len)
{
	int off = skb_network_offset(skb);
	u32 avail;

	if (off < 0 || skb->len <= (unsigned int)off)
		return NULL;
	avail = skb->len - off;
	if (*len > avail)
		*len = avail;
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

bool rnf_dev_is_loopback(const struct net_device *dev)
{
	return dev && (dev->flags & IFF_LOOPBACK);
}

void rnf_spin_lock_init(spinlock_t *lock)
{
	spin_lock_init(lock);
}

void rnf_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void rnf_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

unsigned long rnf_spinlock_size(void)
{
	return sizeof(spinlock_t);
}

bool rnf_net_ratelimit(void)
{
	return net_ratelimit();
}

void rnf_kunit_fail(struct kunit *test, const char *msg, unsigned long len)
{
	KUNIT_FAIL(test, "%.*s", (int)len, msg);
}
