/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of bindgen for the rnf modules: the kernel headers whose types and
 * functions the kernel's own `bindings` crate (6.12) lacks. Generated with
 * the module's C flags at build time, so the layout matches the kernel the
 * modules are built against. See Kbuild.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sockptr.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/ipv4/nf_defrag_ipv4.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>
#include <kunit/test.h>

#include "rnf_helpers.h"
#include "rnf_conntrack_api.h"
#include "rnf_nat_api.h"
#include "rnf_tables_api.h"
#include "rnf_table_hooks.h"

/*
 * Where a device's name lies in struct net_device (dev->name, IFNAMSIZ
 * bytes, NUL padded), which bindgen sees only as an opaque blob: the walk
 * reads a hook's device names in place (rust/glue/tables/mod.rs,
 * dev_names()), with no call and no copy.
 */
enum { RNF_NETDEV_NAME_OFFSET = offsetof(struct net_device, name) };

/*
 * Where an skb's connection lies (skb->_nfct: the struct nf_conntrack
 * pointer with the ctinfo in its low NFCT_INFOMASK bits), which bindgen
 * sees only as an opaque blob, and the bits the confirmation hook tests
 * in it and in nf_conn.status: the hook reads them in place
 * (rust/glue/conntrack/nfct.rs, SkbCt::unconfirmed()), with no call.
 */
enum {
	RNF_SKB_NFCT_OFFSET = offsetof(struct sk_buff, _nfct),
	RNF_NFCT_INFOMASK = NFCT_INFOMASK,
	RNF_IPS_CONFIRMED = IPS_CONFIRMED,
	RNF_IP_CT_IS_REPLY = IP_CT_IS_REPLY,
};
