/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rnf_conntrack's connection object, as skb->_nfct carries it: a struct
 * nf_conn (the layout of the kernel built against) inside struct rnf_ct.
 * rnf_conntrack's glue (nfct.c) allocates, fills and frees it; rnf_nat's
 * glue (rnf_nat_glue.c) reads the connection a packet carries through it
 * in its hook's first call, as the kernel's nf_nat reads nf_conn and its
 * NAT extension, instead of one call into rnf_conntrack per field.
 * Everything read here is written by rnf_conntrack with WRITE_ONCE (the
 * status, the MASQUERADE interface) or before the tuples' readers can see
 * them (a tuple changes only while the connection is unconfirmed, which
 * only the packet being mapped carries).
 *
 * Kernel references: include/net/netfilter/nf_conntrack.h (struct
 * nf_conn, nf_ct_get), include/net/netfilter/nf_conntrack_tuple.h.
 */
#ifndef RNF_GLUE_CONNTRACK_OBJECT_H
#define RNF_GLUE_CONNTRACK_OBJECT_H

#include <linux/string.h>
#include <net/netfilter/nf_conntrack.h>

#include "glue/rnf_conntrack_api.h"

struct rnf_ct {
	struct nf_conn ct;	/* first: &ct.ct_general is what _nfct holds */
	u32 slot;		/* table slot, RNF_CT_NO_SLOT once it has none */
	int masq_index;		/* MASQUERADE's output interface (nf_conn_nat's), 0 */
};

/* The Rust side reads an skb's _nfct as a struct rnf_ct pointer
 * (SkbCt::unconfirmed() in rust/glue/conntrack/nfct.rs). */
static_assert(offsetof(struct rnf_ct, ct) == 0);

static inline struct rnf_ct *rnf_ct_of(struct nf_conn *ct)
{
	return container_of(ct, struct rnf_ct, ct);
}

/*
 * The kernel's tuple @k as rnf's struct rnf_tuple (ports and the ICMP
 * identifier in host order, the ICMP type and code as type << 8 | code),
 * every byte of *@t written.
 */
static inline void rnf_tuple_of_nf(const struct nf_conntrack_tuple *k, struct rnf_tuple *t)
{
	memcpy(t->src, &k->src.u3, sizeof(t->src));
	memcpy(t->dst, &k->dst.u3, sizeof(t->dst));
	t->proto = k->dst.protonum;
	t->l3 = k->src.l3num;
	if (t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6) {
		t->src_id = ntohs(k->src.u.icmp.id);
		t->dst_id = (u16)k->dst.u.icmp.type << 8 | k->dst.u.icmp.code;
	} else {
		t->src_id = ntohs(k->src.u.all);
		t->dst_id = ntohs(k->dst.u.all);
	}
	t->pad = 0;
}

/*
 * The connection @skb carries (nf_ct_get()), with what NAT reads of it
 * first: its status (IPS_* bits), the packet's ctinfo and MASQUERADE's
 * output interface (0 if none). NULL, with nothing written, when @skb
 * carries none. Shared by rnf_ct_nat_status() (rnf_conntrack) and
 * rnf_nat_pkt_start() (rnf_nat), so the two read them alike.
 */
static inline struct rnf_ct *rnf_ct_nat_view(const struct sk_buff *skb, enum ip_conntrack_info *ctinfo,
					     u32 *status, s32 *masq_index)
{
	struct nf_conn *ct = nf_ct_get(skb, ctinfo);

	if (!ct)
		return NULL;
	*status = (u32)READ_ONCE(ct->status);
	*masq_index = READ_ONCE(rnf_ct_of(ct)->masq_index);
	return rnf_ct_of(ct);
}

#endif /* RNF_GLUE_CONNTRACK_OBJECT_H */
