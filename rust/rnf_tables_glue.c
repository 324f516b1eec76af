// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_tables' C glue: the shared static-inline helpers, the export of
 * the Rust-implemented table registration and walk (rnf_tables_api.h,
 * rust/glue/tables/api.rs), the hook's device names the walk matches
 * -i/-o against, and what the xt matches and targets read and write of a
 * packet (rnf_helpers.h: marks, the untracked mark, the path MTU, the
 * packet type, the Ethernet source, address types as xt_addrtype.c finds
 * them, the link-layer header and log lines of LOG, the edits of TCPMSS,
 * DSCP and TOS). The socket options, hooks and per-namespace tables are
 * registered from Rust (rust/glue/sockopt.rs, hook.rs, pernet.rs); REJECT
 * calls nf_send_reset* and nf_send_unreach* of nf_reject_ipv4/6 directly
 * (rust/glue/tables/).
 */
#include <linux/export.h>
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter_ipv6.h>
#include <linux/netfilter/xt_addrtype.h>
#include <net/dst.h>
#include <net/flow.h>
#include <net/ip6_fib.h>
#include <net/ip6_route.h>
#include <net/route.h>
#include <net/netfilter/nf_conntrack.h>
#include <linux/printk.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/mm.h>

#include "glue/helpers.c"
#include "glue/skb_csum.c"
#include "glue/rnf_tables_api.h"

EXPORT_SYMBOL_GPL(rnf_tables_register_table);
EXPORT_SYMBOL_GPL(rnf_tables_unregister_table);
EXPORT_SYMBOL_GPL(rnf_tables_walk);

/* --- what the xt matches and targets read and write (rnf_helpers.h) --- */

u32 rnf_skb_mark(const struct sk_buff *skb)
{
	return skb->mark;
}

void rnf_skb_set_mark(struct sk_buff *skb, u32 mark)
{
	skb->mark = mark;
}

/*
 * rnf_conntrack attaches a real struct nf_conn to skb->_nfct (nfct.c):
 * nf_ct_get() and ct->mark are a header inline and a field, so reading
 * them needs no symbol of the kernel's nf_conntrack (as xt_connmark.c).
 */
int rnf_skb_ct_mark(const struct sk_buff *skb, u32 *mark)
{
	enum ip_conntrack_info ctinfo;
	const struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct)
		return -ENOENT;
	*mark = READ_ONCE(ct->mark);
	return 0;
}

int rnf_skb_ct_expires(const struct sk_buff *skb, u32 *secs)
{
	enum ip_conntrack_info ctinfo;
	const struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct)
		return -ENOENT;
	*secs = nf_ct_expires(ct) / HZ;
	return 0;
}

void rnf_skb_set_ct_mark(struct sk_buff *skb, u32 mark)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	/* No nf_conntrack_event_cache(IPCT_MARK): rnf has no event listeners. */
	if (ct)
		WRITE_ONCE(ct->mark, mark);
}

bool rnf_skb_untracked(const struct sk_buff *skb)
{
	return skb->_nfct == IP_CT_UNTRACKED;
}

bool rnf_skb_set_untracked(struct sk_buff *skb)
{
	if (skb->_nfct)
		return false;
	nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
	return true;
}

u32 rnf_skb_path_mtu(struct sk_buff *skb, struct net *net, u8 pf)
{
	struct dst_entry *dst = skb_dst(skb), *rt = NULL;
	u32 in_mtu = ~0U;
	struct flowi fl;

	/* tcpmss_reverse_mtu */
	if (pf == NFPROTO_IPV4) {
		memset(&fl.u.ip4, 0, sizeof(fl.u.ip4));
		fl.u.ip4.daddr = ip_hdr(skb)->saddr;
	} else {
		memset(&fl.u.ip6, 0, sizeof(fl.u.ip6));
		fl.u.ip6.daddr = ipv6_hdr(skb)->saddr;
	}
	nf_route(net, &rt, &fl, false, pf);
	if (rt) {
		in_mtu = dst_mtu(rt);
		dst_release(rt);
	}
	if (!dst)
		return 0;
	return min(dst_mtu(dst), in_mtu);
}

u8 rnf_skb_pkt_type(const struct sk_buff *skb)
{
	return skb->pkt_type;
}

bool rnf_skb_eth_source(const struct sk_buff *skb, u8 *out)
{
	if (skb->dev == NULL || skb->dev->type != ARPHRD_ETHER)
		return false;
	if (!skb_mac_header_was_set(skb) || skb_mac_header_len(skb) < ETH_HLEN)
		return false;
	ether_addr_copy(out, eth_hdr(skb)->h_source);
	return true;
}

const u8 *rnf_skb_mac_header(const struct sk_buff *skb, u32 *len)
{
	int room;

	*len = 0;
	if (!skb->dev || !skb->dev->hard_header_len || !skb_mac_header_was_set(skb) ||
	    skb->mac_header == skb->network_header)
		return NULL;
	room = (int)skb->network_header - (int)skb->mac_header;
	if (room <= 0)
		return NULL;
	*len = min_t(u32, skb->dev->hard_header_len, room);
	return skb_mac_header(skb);
}

#if IS_ENABLED(CONFIG_IPV6)
/* match_lookup_rt6() of xt_addrtype.c, as if every type were asked for. */
static u16 rnf_addr_type6(struct net *net, const struct net_device *dev, const struct in6_addr *addr)
{
	struct flowi6 flow;
	struct rt6_info *rt;
	u16 ret = 0;
	int route_err;

	memset(&flow, 0, sizeof(flow));
	flow.daddr = *addr;
	if (dev)
		flow.flowi6_oif = dev->ifindex;

	if (dev && nf_ipv6_chk_addr(net, addr, dev, true))
		ret = XT_ADDRTYPE_LOCAL;

	route_err = nf_ip6_route(net, (struct dst_entry **)&rt, flowi6_to_flowi(&flow), false);
	if (route_err)
		return XT_ADDRTYPE_UNREACHABLE;

	if (rt->rt6i_flags & RTF_REJECT)
		ret = XT_ADDRTYPE_UNREACHABLE;

	if (dev == NULL && rt->rt6i_flags & RTF_LOCAL)
		ret |= XT_ADDRTYPE_LOCAL;
	if (ipv6_anycast_destination((struct dst_entry *)rt, addr))
		ret |= XT_ADDRTYPE_ANYCAST;

	dst_release(&rt->dst);
	return ret;
}
#endif

u16 rnf_addr_type(struct net *net, const struct net_device *dev, const u8 *addr, u8 pf)
{
	if (pf == NFPROTO_IPV4) {
		__be32 a;

		memcpy(&a, addr, sizeof(a));
		return 1 << inet_dev_addr_type(net, dev, a);
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (pf == NFPROTO_IPV6) {
		struct in6_addr a;

		memcpy(&a, addr, sizeof(a));
		return rnf_addr_type6(net, dev, &a);
	}
#endif
	return 0;
}

/* --- kernel log lines: LOG, rnf_tables' warnings (rnf_helpers.h) --- */

void rnf_printk(int level, const char *buf, unsigned long len)
{
	int n = (int)min_t(unsigned long, len, 1024);

	switch (level) {
	case 0: printk(KERN_EMERG "%.*s\n", n, buf); break;
	case 1: printk(KERN_ALERT "%.*s\n", n, buf); break;
	case 2: printk(KERN_CRIT "%.*s\n", n, buf); break;
	case 3: printk(KERN_ERR "%.*s\n", n, buf); break;
	case 4: printk(KERN_WARNING "%.*s\n", n, buf); break;
	case 5: printk(KERN_NOTICE "%.*s\n", n, buf); break;
	case 6: printk(KERN_INFO "%.*s\n", n, buf); break;
	default: printk(KERN_DEBUG "%.*s\n", n, buf); break;
	}
}

/* --- packet editing, for TCPMSS, DSCP and TOS (rnf_helpers.h) --- */

int rnf_skb_copy_network(const struct sk_buff *skb, u8 *buf, u32 *len)
{
	int off = skb_network_offset(skb);

	if (off < 0 || skb->len <= (unsigned int)off)
		return -EINVAL;
	if (*len > skb->len - off)
		*len = skb->len - off;
	return skb_copy_bits(skb, off, buf, *len);
}

u8 *rnf_skb_edit(struct sk_buff *skb, unsigned int need, unsigned int grow, unsigned int *linear, unsigned int *len)
{
	int off = skb_network_offset(skb);

	if (off < 0 || (unsigned int)off > skb->len)
		return NULL;
	if (grow) {
		if (skb_is_nonlinear(skb))
			return NULL;
		if (skb_tailroom(skb) < grow &&
		    pskb_expand_head(skb, 0, grow - skb_tailroom(skb), GFP_ATOMIC))
			return NULL;
		skb_put(skb, grow);
	}
	if (need > skb->len - off || skb_ensure_writable(skb, off + need))
		return NULL;
	*linear = skb_headlen(skb) - off;
	*len = skb->len - off;
	return skb_network_header(skb);
}

/* --- the hashlimit match's /proc files (rnf_helpers.h) --- */

struct proc_dir_entry *rnf_proc_mkdir_net(struct net *net, const char *name)
{
	return proc_mkdir(name, net->proc_net);
}

struct proc_dir_entry *rnf_proc_create_data(const char *name, struct proc_dir_entry *parent,
					    int (*show)(struct seq_file *, void *), void *data)
{
	/* Mode 0 as xt_hashlimit.c's proc_create_seq_data: S_IRUGO. */
	return proc_create_single_data(name, 0, parent, show, data);
}

void *rnf_seq_private(struct seq_file *m)
{
	return m->private;
}

unsigned long rnf_totalram_pages(void)
{
	return totalram_pages();
}

unsigned long rnf_page_size(void)
{
	return PAGE_SIZE;
}
