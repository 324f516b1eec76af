// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_nat's C glue: the shared static-inline helpers, and the registration
 * of the nat tables' lookups (rnf_nat_api.h), one RCU pointer per family.
 */
#include <linux/export.h>
#include <linux/inetdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <net/addrconf.h>
#include <net/inet_sock.h>
#include <net/ip6_route.h>
#include <net/route.h>

#include "glue/helpers.c"
#include "glue/skb_csum.c"
#include "glue/rnf_conntrack_api.h"
#include "glue/rnf_nat_api.h"
#include "glue/conntrack/object.h"

/* rnf_nat_seen_inc(): packets by ctinfo, per CPU. */
struct rnf_nat_seen {
	u64 v[RNF_NAT_SEEN_MAX];
};
static DEFINE_PER_CPU(struct rnf_nat_seen, rnf_nat_seen);

void rnf_nat_seen_inc(unsigned int i)
{
	if (i < RNF_NAT_SEEN_MAX)
		this_cpu_inc(rnf_nat_seen.v[i]);
}

u64 rnf_nat_seen_sum(unsigned int i)
{
	u64 sum = 0;
	int cpu;

	if (i >= RNF_NAT_SEEN_MAX)
		return 0;
	for_each_possible_cpu(cpu)
		sum += per_cpu(rnf_nat_seen, cpu).v[i];
	return sum;
}

static rnf_nat_lookup_fn __rcu *rnf_nat_lookups[2];
static DEFINE_MUTEX(rnf_nat_lookup_mutex);

static int rnf_nat_pf_index(u8 pf)
{
	switch (pf) {
	case NFPROTO_IPV4:
		return 0;
	case NFPROTO_IPV6:
		return 1;
	}
	return -1;
}

int rnf_nat_register_lookup(u8 pf, rnf_nat_lookup_fn fn)
{
	int i = rnf_nat_pf_index(pf), err = 0;

	if (i < 0 || !fn)
		return -EINVAL;
	mutex_lock(&rnf_nat_lookup_mutex);
	if (rcu_access_pointer(rnf_nat_lookups[i]))
		err = -EBUSY;
	else
		rcu_assign_pointer(rnf_nat_lookups[i], (rnf_nat_lookup_fn __rcu *)fn);
	mutex_unlock(&rnf_nat_lookup_mutex);
	return err;
}
EXPORT_SYMBOL_GPL(rnf_nat_register_lookup);

void rnf_nat_unregister_lookup(u8 pf)
{
	int i = rnf_nat_pf_index(pf);

	if (i < 0)
		return;
	mutex_lock(&rnf_nat_lookup_mutex);
	RCU_INIT_POINTER(rnf_nat_lookups[i], NULL);
	mutex_unlock(&rnf_nat_lookup_mutex);
	synchronize_rcu();
}
EXPORT_SYMBOL_GPL(rnf_nat_unregister_lookup);

unsigned int rnf_nat_call_lookup(u8 pf, struct sk_buff *skb, const struct nf_hook_state *state,
				 struct rnf_nat_target *target)
{
	int i = rnf_nat_pf_index(pf);
	rnf_nat_lookup_fn fn;

	memset(target, 0, sizeof(*target));
	if (i < 0)
		return RNF_NAT_NO_TABLE;
	fn = (rnf_nat_lookup_fn)rcu_dereference(rnf_nat_lookups[i]);
	return fn ? fn(skb, state, target) : RNF_NAT_NO_TABLE;
}

u8 *rnf_nat_writable(struct sk_buff *skb, unsigned int need, unsigned int *linear, unsigned int *len)
{
	if (need > skb->len || skb_ensure_writable(skb, need))
		return NULL;
	*linear = skb_headlen(skb);
	*len = skb->len;
	return skb->data;
}

int rnf_nat_l4_checksum(struct sk_buff *skb, u8 pf, unsigned int hook, unsigned int dataoff, u8 proto)
{
	if (pf == NFPROTO_IPV6)
		return nf_ip6_checksum(skb, hook, dataoff, proto) ? -EINVAL : 0;
	return nf_ip_checksum(skb, hook, dataoff, proto) ? -EINVAL : 0;
}

void rnf_nat_dst_drop(struct sk_buff *skb)
{
	skb_dst_drop(skb);
}

int rnf_nat_route_me_harder(struct sk_buff *skb, const struct nf_hook_state *state)
{
	if (state->pf == NFPROTO_IPV6)
		return nf_ip6_route_me_harder(state->net, state->sk, skb);
	return ip_route_me_harder(state->net, state->sk, skb, RTN_UNSPEC);
}

int rnf_nat_pkt_start(const struct sk_buff *skb, const struct nf_hook_state *state, u32 want_orig,
		      u32 want_reply, struct rnf_nat_pkt *p, struct rnf_tuple *other)
{
	enum ip_conntrack_info ctinfo;
	struct rnf_ct *c = rnf_ct_nat_view(skb, &ctinfo, &p->status, &p->masq_index);
	enum ip_conntrack_dir dir;

	if (!c) {
		rnf_nat_seen_inc(RNF_NAT_SEEN_UNTRACKED);
		return -ENOENT;
	}
	rnf_nat_seen_inc(ctinfo);
	p->out_ifindex = state->out ? state->out->ifindex : 0;
	p->ip_summed = rnf_skb_ip_summed(skb);
	p->csum = rnf_skb_csum(skb);
	p->len = skb->len;
	p->ctinfo = ctinfo;
	p->pad = 0;
	dir = CTINFO2DIR(ctinfo);
	p->has_other = (p->status & (dir == IP_CT_DIR_REPLY ? want_reply : want_orig)) != 0;
	if (p->has_other)
		rnf_tuple_of_nf(&c->ct.tuplehash[!dir].tuple, other);
	return 0;
}

void rnf_nat_local_in_orphan(struct sk_buff *skb)
{
	struct sock *sk = skb->sk;

	if (sk && !inet_sk_transparent(sk))
		skb_orphan(skb);
}

int rnf_nat_masq_addr(struct sk_buff *skb, const struct nf_hook_state *state, u8 *addr)
{
	const struct net_device *out = state->out;

	memset(addr, 0, 16);
	if (!out)
		return -EADDRNOTAVAIL;
	if (state->pf == NFPROTO_IPV6) {
		struct in6_addr src;

		if (ipv6_dev_get_saddr(state->net, out, &ipv6_hdr(skb)->daddr, 0, &src) < 0)
			return -EADDRNOTAVAIL;
		memcpy(addr, &src, 16);
		rnf_ct_set_masq_index(skb, out->ifindex);
		return 0;
	} else {
		const struct rtable *rt = skb_rtable(skb);
		__be32 nh, src;

		if (!rt)
			return -EADDRNOTAVAIL;
		nh = rt_nexthop(rt, ip_hdr(skb)->daddr);
		src = inet_select_addr(out, nh, RT_SCOPE_UNIVERSE);
		if (!src) {
			net_info_ratelimited("%s ate my IP address\n", out->name);
			return -EADDRNOTAVAIL;
		}
		memcpy(addr, &src, 4);
		rnf_ct_set_masq_index(skb, out->ifindex);
		return 0;
	}
}

/* nf_nat_redirect_ipv6_usable() (net/netfilter/nf_nat_redirect.c). */
static bool rnf_nat_redirect_ipv6_usable(const struct inet6_ifaddr *ifa, unsigned int scope)
{
	unsigned int type = ipv6_addr_type(&ifa->addr);

	if (type & IPV6_ADDR_MAPPED)
		return false;
	if ((ifa->flags & IFA_F_TENTATIVE) && !(ifa->flags & IFA_F_OPTIMISTIC))
		return false;
	if (scope && !(scope & (type & IPV6_ADDR_SCOPE_MASK)))
		return false;
	return true;
}

int rnf_nat_redirect_addr(struct sk_buff *skb, const struct nf_hook_state *state, u8 *addr)
{
	memset(addr, 0, 16);
	if (state->pf == NFPROTO_IPV6) {
		unsigned int scope = ipv6_addr_scope(&ipv6_hdr(skb)->daddr);
		const struct inet6_ifaddr *ifa;
		struct inet6_dev *idev;
		int err = -EADDRNOTAVAIL;

		if (state->hook == NF_INET_LOCAL_OUT) {
			memcpy(addr, &in6addr_loopback, 16);
			return 0;
		}
		idev = __in6_dev_get(skb->dev);
		if (!idev)
			return -EADDRNOTAVAIL;
		read_lock_bh(&idev->lock);
		list_for_each_entry(ifa, &idev->addr_list, if_list) {
			if (!rnf_nat_redirect_ipv6_usable(ifa, scope))
				continue;
			memcpy(addr, &ifa->addr, 16);
			err = 0;
			break;
		}
		read_unlock_bh(&idev->lock);
		return err;
	} else {
		const struct in_device *indev;
		const struct in_ifaddr *ifa;
		__be32 dst = 0;

		if (state->hook == NF_INET_LOCAL_OUT) {
			dst = htonl(INADDR_LOOPBACK);
		} else {
			indev = __in_dev_get_rcu(skb->dev);
			if (indev) {
				ifa = rcu_dereference(indev->ifa_list);
				if (ifa)
					dst = ifa->ifa_local;
			}
		}
		if (!dst)
			return -EADDRNOTAVAIL;
		memcpy(addr, &dst, 4);
		return 0;
	}
}

/*
 * MASQUERADE's connections go with their interface or address
 * (net/netfilter/nf_nat_masquerade.c): the notifiers schedule a work item
 * that deletes the connections mapped for it (rnf_ct_flush_masq), holding
 * the namespace and this module until it ran; at most 16 are pending, as
 * the kernel's MAX_MASQ_WORKER_COUNT, the rest just time out.
 */
struct rnf_masq_work {
	struct work_struct work;
	struct net *net;
	int ifindex;
	bool has_addr;
	u8 l3;
	u8 addr[16];
};

static atomic_t rnf_masq_pending = ATOMIC_INIT(0);

static void rnf_masq_worker(struct work_struct *work)
{
	struct rnf_masq_work *w = container_of(work, struct rnf_masq_work, work);

	rnf_ct_flush_masq(w->net, w->ifindex, w->has_addr ? w->addr : NULL, w->l3);
	put_net(w->net);
	kfree(w);
	atomic_dec(&rnf_masq_pending);
	module_put(THIS_MODULE);
}

static void rnf_masq_schedule(struct net *net, int ifindex, const void *addr, u8 l3, gfp_t gfp)
{
	struct rnf_masq_work *w;

	if (atomic_read(&rnf_masq_pending) > 16)
		return;
	net = maybe_get_net(net);
	if (!net)
		return;
	if (!try_module_get(THIS_MODULE))
		goto out_net;
	w = kzalloc(sizeof(*w), gfp);
	if (!w)
		goto out_module;
	INIT_WORK(&w->work, rnf_masq_worker);
	w->net = net;
	w->ifindex = ifindex;
	w->l3 = l3;
	if (addr) {
		memcpy(w->addr, addr, l3 == NFPROTO_IPV4 ? 4 : 16);
		w->has_addr = true;
	}
	atomic_inc(&rnf_masq_pending);
	schedule_work(&w->work);
	return;

out_module:
	module_put(THIS_MODULE);
out_net:
	put_net(net);
}

static int rnf_masq_dev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	const struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_DOWN)
		rnf_masq_schedule(dev_net(dev), dev->ifindex, NULL, 0, GFP_KERNEL);
	return NOTIFY_DONE;
}

static int rnf_masq_inet_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	const struct in_ifaddr *ifa = ptr;
	const struct in_device *idev = ifa->ifa_dev;

	/* A dying device is handled by the device notifier. */
	if (event == NETDEV_DOWN && !idev->dead)
		rnf_masq_schedule(dev_net(idev->dev), idev->dev->ifindex, &ifa->ifa_address,
				  NFPROTO_IPV4, GFP_KERNEL);
	return NOTIFY_DONE;
}

static int rnf_masq_inet6_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	const struct inet6_ifaddr *ifa = ptr;
	const struct net_device *dev = ifa->idev->dev;

	/* Called in atomic context. */
	if (event == NETDEV_DOWN)
		rnf_masq_schedule(dev_net(dev), dev->ifindex, &ifa->addr, NFPROTO_IPV6, GFP_ATOMIC);
	return NOTIFY_DONE;
}

static struct notifier_block rnf_masq_dev_nb = { .notifier_call = rnf_masq_dev_event };
static struct notifier_block rnf_masq_inet_nb = { .notifier_call = rnf_masq_inet_event };
static struct notifier_block rnf_masq_inet6_nb = { .notifier_call = rnf_masq_inet6_event };

int rnf_nat_masq_init(void)
{
	int err = register_netdevice_notifier(&rnf_masq_dev_nb);

	if (err)
		return err;
	err = register_inetaddr_notifier(&rnf_masq_inet_nb);
	if (err)
		goto out_dev;
	err = register_inet6addr_notifier(&rnf_masq_inet6_nb);
	if (err)
		goto out_inet;
	return 0;

out_inet:
	unregister_inetaddr_notifier(&rnf_masq_inet_nb);
out_dev:
	unregister_netdevice_notifier(&rnf_masq_dev_nb);
	return err;
}

void rnf_nat_masq_exit(void)
{
	unregister_inet6addr_notifier(&rnf_masq_inet6_nb);
	unregister_inetaddr_notifier(&rnf_masq_inet_nb);
	unregister_netdevice_notifier(&rnf_masq_dev_nb);
	/* Pending items hold a module reference: none is left at exit. */
}
