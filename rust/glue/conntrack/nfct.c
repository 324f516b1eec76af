// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_conntrack's connection objects as the skb carries them: skb->_nfct
 * (with its ctinfo bits) points to a struct nf_conn inside struct rnf_ct,
 * reference counted through nf_conn.ct_general.use exactly as the kernel's
 * nf_conntrack does, so everything outside netfilter that reads the skb's
 * conntrack (nf_reset_ct, skb clones, icmp_ndo_send, the flow dissector,
 * nf_ct_attach from icmp_send and nf_reject) sees a valid object. While
 * rnf_conntrack is loaded it owns the kernel's nf_ct_hook (destroy, attach,
 * get_tuple_skb, set_closing, update, confirm), and it refuses the kernel's
 * nf_conntrack module, which would take that hook over.
 *
 * Included by rnf_conntrack_glue.c. The connection state itself (tuples as
 * Rust keeps them, protocol state, timeouts) lives in rnf_conntrack's table;
 * struct rnf_ct says which slot of it, and nf_conn's status and tuplehash
 * mirror what code outside reads.
 *
 * Kernel references: include/net/netfilter/nf_conntrack.h (struct nf_conn,
 * nf_ct_get, nf_ct_set), include/linux/netfilter.h (struct nf_ct_hook),
 * net/netfilter/nf_conntrack_core.c (nf_conntrack_attach, nf_ct_destroy).
 */
#include <linux/delay.h>
#include <linux/netfilter.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_acct.h>
#include <net/netfilter/nf_conntrack_extend.h>
#include <net/netfilter/nf_conntrack_zones.h>

#include "glue/conntrack/object.h"

static struct kmem_cache *rnf_ct_cache;
/* Objects allocated and not yet freed: module exit waits for zero. */
static atomic_t rnf_ct_live = ATOMIC_INIT(0);

/* Rust (rust/glue/conntrack/mod.rs). */
void rnf_ct_release_slot(u32 slot);
void rnf_ct_closing(struct net *net, u32 slot);
unsigned int rnf_ct_confirm_skb(struct net *net, struct sk_buff *skb);

struct rnf_ct *rnf_nfct_alloc(struct net *net, u32 slot, u32 status)
{
	struct rnf_ct *c = kmem_cache_zalloc(rnf_ct_cache, GFP_ATOMIC);

	if (!c)
		return NULL;
	atomic_inc(&rnf_ct_live);
	refcount_set(&c->ct.ct_general.use, 1);
	spin_lock_init(&c->ct.lock);
	write_pnet(&c->ct.ct_net, net);
	WRITE_ONCE(c->ct.status, status);
#ifdef CONFIG_NF_CONNTRACK_ZONES
	/* nf_ct_zone_dflt, as __nf_conntrack_alloc() gives every connection. */
	c->ct.zone.id = NF_CT_DEFAULT_ZONE_ID;
	c->ct.zone.flags = 0;
	c->ct.zone.dir = NF_CT_DEFAULT_ZONE_DIR;
#endif
	c->slot = slot;
	return c;
}

bool rnf_nfct_mark(const struct rnf_ct *c, u32 *mark)
{
#ifdef CONFIG_NF_CONNTRACK_MARK
	*mark = READ_ONCE(c->ct.mark);
	return true;
#else
	return false;
#endif
}

bool rnf_nfct_zone(const struct rnf_ct *c, u16 *id, u8 *dir)
{
#ifdef CONFIG_NF_CONNTRACK_ZONES
	*id = c->ct.zone.id;
	*dir = c->ct.zone.dir;
	return true;
#else
	return false;
#endif
}

/* Sets nf_conn.zone (the connection's zone, as nf_ct_zone_add()). */
void rnf_nfct_set_zone(struct rnf_ct *c, u16 id, u8 dir)
{
#ifdef CONFIG_NF_CONNTRACK_ZONES
	c->ct.zone.id = id;
	c->ct.zone.flags = 0;
	c->ct.zone.dir = dir;
#endif
}

/*
 * The CT target's template (nf_ct_tmpl_alloc(), xt_ct_tg_check()): an
 * object outside the table (no slot) with IPS_TEMPLATE and IPS_CONFIRMED,
 * carrying the zone, so nf_ct_is_template() and nf_ct_zone() read it as
 * the kernel's. Process context. A zone on a kernel without
 * CONFIG_NF_CONNTRACK_ZONES is EOPNOTSUPP, as xt_ct_tg_check() there.
 */
int rnf_ct_tmpl_alloc(struct net *net, u16 zone_id, u8 zone_dir, bool zone_mark, struct rnf_ct **out)
{
	struct rnf_ct *c;

#ifndef CONFIG_NF_CONNTRACK_ZONES
	if (zone_id || zone_dir != NF_CT_DEFAULT_ZONE_DIR || zone_mark)
		return -EOPNOTSUPP;
#endif
	c = kmem_cache_zalloc(rnf_ct_cache, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	atomic_inc(&rnf_ct_live);
	refcount_set(&c->ct.ct_general.use, 1);
	spin_lock_init(&c->ct.lock);
	write_pnet(&c->ct.ct_net, net);
	WRITE_ONCE(c->ct.status, IPS_TEMPLATE | IPS_CONFIRMED);
#ifdef CONFIG_NF_CONNTRACK_ZONES
	c->ct.zone.id = zone_id;
	c->ct.zone.flags = zone_mark ? NF_CT_FLAG_MARK : 0;
	c->ct.zone.dir = zone_dir;
#endif
	c->slot = RNF_CT_NO_SLOT;
	*out = c;
	return 0;
}
EXPORT_SYMBOL_GPL(rnf_ct_tmpl_alloc);

/* Gives up the rule's reference (xt_ct_tg_destroy()'s nf_ct_put()). */
void rnf_ct_tmpl_put(struct rnf_ct *c)
{
	nf_conntrack_put(&c->ct.ct_general);
}
EXPORT_SYMBOL_GPL(rnf_ct_tmpl_put);

/*
 * xt_ct_target(): a packet without _nfct takes the template, IP_CT_NEW;
 * returns whether it did.
 */
bool rnf_ct_tmpl_attach(struct sk_buff *skb, struct rnf_ct *c)
{
	if (skb->_nfct)
		return false;
	refcount_inc(&c->ct.ct_general.use);
	nf_ct_set(skb, &c->ct, IP_CT_NEW);
	return true;
}
EXPORT_SYMBOL_GPL(rnf_ct_tmpl_attach);

/*
 * nf_conntrack_in()'s start: if @skb carries a template, takes it off the
 * skb (skb->_nfct = 0, its reference dropped) and returns true with its
 * zone (id, dir, whether the id is the packet's mark) and the packet's
 * mark; false (nothing changed) otherwise. A template has no slot, so the
 * put never takes the table lock.
 */
bool rnf_nfct_take_template(struct sk_buff *skb, u16 *id, u8 *dir, bool *from_mark, u32 *mark)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct || !nf_ct_is_template(ct))
		return false;
#ifdef CONFIG_NF_CONNTRACK_ZONES
	*id = ct->zone.id;
	*dir = ct->zone.dir;
	*from_mark = ct->zone.flags & NF_CT_FLAG_MARK;
#else
	*id = NF_CT_DEFAULT_ZONE_ID;
	*dir = NF_CT_DEFAULT_ZONE_DIR;
	*from_mark = false;
#endif
	*mark = skb->mark;
	skb->_nfct = 0;
	nf_conntrack_put(&ct->ct_general);
	return true;
}

/*
 * The accounting extension as nf_ct_ext_add() lays it out: struct
 * nf_ct_ext (offsets by extension id), then the extension's data at the
 * next multiple of the struct's alignment. Only NF_CT_EXT_ACCT is present,
 * so nf_conn_acct_find() (an inline reading ct->ext) finds the counters and
 * every other extension's lookup finds nothing. Freed with the object.
 */
#define RNF_CT_ACCT_OFF ALIGN(sizeof(struct nf_ct_ext), __alignof__(struct nf_ct_ext))

bool rnf_nfct_acct_enable(struct rnf_ct *c)
{
	struct nf_ct_ext *e;

	BUILD_BUG_ON(RNF_CT_ACCT_OFF + sizeof(struct nf_conn_acct) > U8_MAX);
	if (c->ct.ext)
		return true;
	e = kzalloc(RNF_CT_ACCT_OFF + sizeof(struct nf_conn_acct), GFP_ATOMIC);
	if (!e)
		return false;
	e->offset[NF_CT_EXT_ACCT] = RNF_CT_ACCT_OFF;
	e->len = RNF_CT_ACCT_OFF + sizeof(struct nf_conn_acct);
	c->ct.ext = e;
	return true;
}

void rnf_nfct_acct_add(struct rnf_ct *c, u8 dir, unsigned int len)
{
	struct nf_conn_acct *acct = nf_conn_acct_find(&c->ct);

	if (!acct || dir > IP_CT_DIR_REPLY)
		return;
	atomic64_inc(&acct->counter[dir].packets);
	atomic64_add(len, &acct->counter[dir].bytes);
}

bool rnf_nfct_acct_read(const struct rnf_ct *c, u64 *out)
{
	const struct nf_conn_acct *acct = nf_conn_acct_find(&c->ct);
	int dir;

	if (!acct)
		return false;
	for (dir = IP_CT_DIR_ORIGINAL; dir <= IP_CT_DIR_REPLY; dir++) {
		out[2 * dir] = atomic64_read(&acct->counter[dir].packets);
		out[2 * dir + 1] = atomic64_read(&acct->counter[dir].bytes);
	}
	return true;
}

/*
 * Not nf_ct_put(): that calls nf_conntrack.ko's nf_ct_destroy directly (a
 * dependency on the module rnf_conntrack replaces); nf_conntrack_put()
 * goes through nf_ct_hook, to rnf_nfct_destroy below.
 */
void rnf_nfct_put(struct rnf_ct *c)
{
	nf_conntrack_put(&c->ct.ct_general);
}

void rnf_nfct_get(struct rnf_ct *c)
{
	refcount_inc(&c->ct.ct_general.use);
}

unsigned int rnf_nfct_use(const struct rnf_ct *c)
{
	return refcount_read(&c->ct.ct_general.use);
}

u32 rnf_nfct_slot(const struct rnf_ct *c)
{
	return READ_ONCE(c->slot);
}

void rnf_nfct_set_slot(struct rnf_ct *c, u32 slot)
{
	WRITE_ONCE(c->slot, slot);
}

u32 rnf_nfct_status(const struct rnf_ct *c)
{
	return (u32)READ_ONCE(c->ct.status);
}

void rnf_nfct_set_status(struct rnf_ct *c, u32 status)
{
	WRITE_ONCE(c->ct.status, status);
}

void rnf_nfct_set_timeout(struct rnf_ct *c, u32 timeout)
{
	WRITE_ONCE(c->ct.timeout, timeout);
}

u8 rnf_nfct_proto(const struct rnf_ct *c)
{
	return c->ct.tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.protonum;
}

/*
 * Sets tuplehash[dir].tuple from rnf's tuple: addresses in network order
 * (16 bytes, IPv4 in the first 4), ports or the ICMP id and type/code in
 * host order as rnf_conntrack keeps them (struct nf_conntrack_tuple,
 * include/net/netfilter/nf_conntrack_tuple.h).
 */
void rnf_nfct_set_tuple(struct rnf_ct *c, u8 dir, const u8 *src, const u8 *dst,
			u16 src_id, u16 dst_id, u8 proto, u8 l3num)
{
	struct nf_conntrack_tuple *t;

	if (dir > IP_CT_DIR_REPLY)
		return;
	t = &c->ct.tuplehash[dir].tuple;
	memset(t, 0, sizeof(*t));
	memcpy(&t->src.u3, src, sizeof(t->src.u3));
	memcpy(&t->dst.u3, dst, sizeof(t->dst.u3));
	t->src.l3num = l3num;
	t->dst.protonum = proto;
	t->dst.dir = dir;
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		t->src.u.icmp.id = htons(src_id);
		t->dst.u.icmp.type = dst_id >> 8;
		t->dst.u.icmp.code = dst_id & 0xff;
	} else {
		t->src.u.all = htons(src_id);
		t->dst.u.all = htons(dst_id);
	}
}

void rnf_nfct_get_tuple(const struct rnf_ct *c, u8 dir, struct rnf_tuple *t)
{
	if (dir > IP_CT_DIR_REPLY) {
		memset(t, 0, sizeof(*t));
		return;
	}
	rnf_tuple_of_nf(&c->ct.tuplehash[dir].tuple, t);
}

int rnf_ct_nat_info(const struct sk_buff *skb, struct rnf_ct_nat_info *out)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	struct rnf_ct *c;

	if (!ct)
		return -ENOENT;
	c = rnf_ct_of(ct);
	out->status = (u32)READ_ONCE(ct->status);
	out->ctinfo = ctinfo;
	out->dir = CTINFO2DIR(ctinfo);
	out->pad = 0;
	out->masq_index = READ_ONCE(c->masq_index);
	rnf_nfct_get_tuple(c, IP_CT_DIR_ORIGINAL, &out->tuple[0]);
	rnf_nfct_get_tuple(c, IP_CT_DIR_REPLY, &out->tuple[1]);
	return 0;
}
EXPORT_SYMBOL_GPL(rnf_ct_nat_info);

int rnf_ct_lookup(struct net *net, u8 pf, const struct sk_buff *skb, struct rnf_ct_lookup *out)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct)
		return -ENOENT;
	out->status = rnf_nfct_status(rnf_ct_of(ct));
	out->ctinfo = ctinfo;
	out->dir = CTINFO2DIR(ctinfo);
	out->proto = rnf_nfct_proto(rnf_ct_of(ct));
	out->pad = 0;
	return 0;
}
EXPORT_SYMBOL_GPL(rnf_ct_lookup);

int rnf_ct_nat_tuple(const struct sk_buff *skb, u8 dir, struct rnf_tuple *t)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct)
		return -ENOENT;
	if (dir > IP_CT_DIR_REPLY)
		return -EINVAL;
	rnf_nfct_get_tuple(rnf_ct_of(ct), dir, t);
	return 0;
}
EXPORT_SYMBOL_GPL(rnf_ct_nat_tuple);

int rnf_ct_nat_status(const struct sk_buff *skb, u32 *status, u8 *ctinfo, s32 *masq_index)
{
	enum ip_conntrack_info info;

	if (!rnf_ct_nat_view(skb, &info, status, masq_index))
		return -ENOENT;
	*ctinfo = info;
	return 0;
}
EXPORT_SYMBOL_GPL(rnf_ct_nat_status);

void rnf_ct_set_masq_index(struct sk_buff *skb, int ifindex)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (ct)
		WRITE_ONCE(rnf_ct_of(ct)->masq_index, ifindex);
}
EXPORT_SYMBOL_GPL(rnf_ct_set_masq_index);

int rnf_nfct_masq_index(const struct rnf_ct *c)
{
	return READ_ONCE(c->masq_index);
}

/* Attaches @c to @skb with @ctinfo; takes a reference. */
void rnf_nfct_attach(struct sk_buff *skb, struct rnf_ct *c, u8 ctinfo)
{
	rnf_nfct_get(c);
	nf_ct_set(skb, &c->ct, ctinfo);
}

/*
 * The object's part of a tracked packet in one call (nf_ct_refresh_acct()
 * and nf_ct_set() in nf_conntrack_in()): mirrors @status (written only
 * when it changed) and @timeout, counts @skb (skb->len bytes) in
 * direction @acct_dir when that is IP_CT_DIR_ORIGINAL or IP_CT_DIR_REPLY
 * and the object has accounting, and attaches the object to @skb with
 * @ctinfo, taking a reference.
 */
void rnf_nfct_refresh_attach(struct sk_buff *skb, struct rnf_ct *c, u8 ctinfo, u32 status,
			     u32 timeout, u8 acct_dir)
{
	if (READ_ONCE(c->ct.status) != status)
		WRITE_ONCE(c->ct.status, status);
	WRITE_ONCE(c->ct.timeout, timeout);
	if (acct_dir <= IP_CT_DIR_REPLY)
		rnf_nfct_acct_add(c, acct_dir, skb->len);
	/*
	 * rnf_nfct_attach() with the reference taken last, so that
	 * refcount_inc()'s only call (its warning) is a tail call and the
	 * function needs no frame. The caller's table slot holds a reference
	 * meanwhile, and the skb is this CPU's alone.
	 */
	nf_ct_set(skb, &c->ct, ctinfo);
	nf_conntrack_get(&c->ct.ct_general);
}

/*
 * Replaces @skb's connection with @c (a reference the caller gives away)
 * and drops the old one's reference. Not under the table lock: the old one
 * may be an unconfirmed connection whose release takes it.
 */
void rnf_nfct_replace(struct sk_buff *skb, struct rnf_ct *c, u8 ctinfo)
{
	struct nf_conntrack *old = skb_nfct(skb);

	nf_ct_set(skb, &c->ct, ctinfo);
	nf_conntrack_put(old);
}

/*
 * @skb's connection and ctinfo (no reference taken: valid while the skb
 * is). NULL when it has none or is untracked (*@ctinfo IP_CT_UNTRACKED).
 */
struct rnf_ct *rnf_nfct_of_skb(const struct sk_buff *skb, u8 *ctinfo)
{
	enum ip_conntrack_info info;
	struct nf_conn *ct = nf_ct_get(skb, &info);

	*ctinfo = info;
	return ct ? rnf_ct_of(ct) : NULL;
}

/* --- struct nf_ct_hook ------------------------------------------------- */

static void rnf_nfct_destroy(struct nf_conntrack *nfct)
{
	struct rnf_ct *c = rnf_ct_of(container_of(nfct, struct nf_conn, ct_general));
	u32 slot = READ_ONCE(c->slot);

	/*
	 * The last reference of an entry that still has a slot is an
	 * unconfirmed one's (the table holds a reference to every confirmed
	 * entry until it clears the slot): free the slot.
	 */
	if (slot != RNF_CT_NO_SLOT)
		rnf_ct_release_slot(slot);
	kfree(c->ct.ext);
	kmem_cache_free(rnf_ct_cache, c);
	atomic_dec(&rnf_ct_live);
}

static void rnf_nfct_hook_attach(struct sk_buff *nskb, const struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	/* This ICMP error or reset travels against the packet that caused it. */
	if (CTINFO2DIR(ctinfo) == IP_CT_DIR_ORIGINAL)
		ctinfo = IP_CT_RELATED_REPLY;
	else
		ctinfo = IP_CT_RELATED;
	nf_ct_set(nskb, ct, ctinfo);
	nf_conntrack_get(skb_nfct(nskb));
}

static bool rnf_nfct_get_tuple_skb(struct nf_conntrack_tuple *dst, const struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct)
		return false;
	*dst = ct->tuplehash[CTINFO2DIR(ctinfo)].tuple;
	return true;
}

static void rnf_nfct_set_closing(struct nf_conntrack *nfct)
{
	struct rnf_ct *c;

	if (!nfct)
		return;
	c = rnf_ct_of(container_of(nfct, struct nf_conn, ct_general));
	if (c->ct.tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.protonum == IPPROTO_TCP)
		rnf_ct_closing(nf_ct_net(&c->ct), READ_ONCE(c->slot));
}

/* nfnetlink_queue's re-lookup after user space: nothing to redo here. */
static int rnf_nfct_update(struct net *net, struct sk_buff *skb)
{
	return 0;
}

/* br_netfilter's confirmation of bridged packets. */
static int rnf_nfct_confirm(struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct)
		return NF_ACCEPT;
	return rnf_ct_confirm_skb(nf_ct_net(ct), skb);
}

static const struct nf_ct_hook rnf_nfct_hook = {
	.update = rnf_nfct_update,
	.destroy = rnf_nfct_destroy,
	.get_tuple_skb = rnf_nfct_get_tuple_skb,
	.attach = rnf_nfct_hook_attach,
	.set_closing = rnf_nfct_set_closing,
	.confirm = rnf_nfct_confirm,
};

/*
 * The kernel's nf_conntrack sets nf_ct_hook unconditionally when it loads
 * (nf_conntrack_init_end): refuse it while rnf_conntrack owns the hook.
 */
static int rnf_nfct_module_event(struct notifier_block *nb, unsigned long state, void *data)
{
	struct module *mod = data;

	if (state == MODULE_STATE_COMING && !strcmp(mod->name, "nf_conntrack")) {
		pr_err("refusing nf_conntrack: rnf_conntrack tracks connections (rmmod rnf_conntrack first)\n");
		return notifier_from_errno(-EBUSY);
	}
	return NOTIFY_DONE;
}

static struct notifier_block rnf_nfct_module_nb = {
	.notifier_call = rnf_nfct_module_event,
};

/* Bytes a connection object takes in its slab (struct rnf_ct, cache-aligned). */
unsigned int rnf_nfct_object_size(void)
{
	return kmem_cache_size(rnf_ct_cache);
}

int rnf_nfct_init(void)
{
	int err;

	rnf_ct_cache = kmem_cache_create("rnf_conntrack", sizeof(struct rnf_ct), 0,
					 SLAB_HWCACHE_ALIGN, NULL);
	if (!rnf_ct_cache)
		return -ENOMEM;
	err = register_module_notifier(&rnf_nfct_module_nb);
	if (err)
		goto out_cache;
	/* Claim the hook only if nobody (the kernel's nf_conntrack) has it. */
	if (cmpxchg((const struct nf_ct_hook **)&nf_ct_hook, NULL, &rnf_nfct_hook)) {
		pr_err("the kernel's nf_conntrack is loaded: only one connection tracker can own the skb's conntrack (rmmod nf_conntrack first)\n");
		err = -EBUSY;
		goto out_notifier;
	}
	return 0;

out_notifier:
	unregister_module_notifier(&rnf_nfct_module_nb);
out_cache:
	kmem_cache_destroy(rnf_ct_cache);
	return err;
}

/*
 * Waits until no skb holds a connection object any more, then gives the
 * hook back. Call after the hooks are unregistered and the table emptied
 * (process context; sleeps).
 */
void rnf_nfct_exit(void)
{
	unsigned int waited = 0;

	while (atomic_read(&rnf_ct_live) > 0) {
		msleep(20);
		if (++waited % 500 == 0)
			pr_warn("unload waits for %d connections still held by packets\n",
				atomic_read(&rnf_ct_live));
	}
	cmpxchg((const struct nf_ct_hook **)&nf_ct_hook, &rnf_nfct_hook, NULL);
	synchronize_rcu();
	unregister_module_notifier(&rnf_nfct_module_nb);
	kmem_cache_destroy(rnf_ct_cache);
}
