// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_conntrack's C glue: module parameters, the per-namespace data (count,
 * timeouts and switches, statistics), the kernel's names for them
 * (glue/conntrack/names.c: sysctls, /proc files), the checksum check and
 * invalid-packet log of the kernel's protocol trackers, the GC delayed work,
 * and the exports of the Rust-implemented entry points. The logic is in
 * Rust (rnf_conntrack_main.rs); this file only wires it to kernel macros.
 */
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netfilter.h>
#include <linux/nsproxy.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sysctl.h>
#include <linux/udp.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_log.h>
#include <net/netns/generic.h>

#include "glue/helpers.c"
#include "glue/rnf_conntrack_api.h"
#include "glue/conntrack/nfct.c"

/*
 * hashsize: the hash buckets, as nf_conntrack's parameter of that name: at
 * load, the size to start with (0: derived from memory like the kernel's);
 * afterwards the current size, and a write (initial namespace only) resizes
 * the table like nf_conntrack_buckets.
 */
static unsigned int hashsize;

/* Rust (rust/glue/conntrack/mod.rs): resizes the hash, 0 or -errno
 * (-ENODEV while the module is not set up). */
int rnf_ct_resize(unsigned int buckets);

static int rnf_ct_set_hashsize(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err;

	if (current->nsproxy->net_ns != &init_net)
		return -EOPNOTSUPP;
	err = kstrtouint(val, 0, &n);
	if (err)
		return err;
	err = rnf_ct_resize(n);
	/* Before init (insmod's arguments): the size to start with. */
	return err == -ENODEV ? param_set_uint(val, kp) : err;
}

module_param_call(hashsize, rnf_ct_set_hashsize, param_get_uint, &hashsize, 0644);
MODULE_PARM_DESC(hashsize, "hash buckets (0 at load: derived from memory like nf_conntrack); sysctl net.netfilter.nf_conntrack_buckets");

/* conntrack_max: the limit of each namespace's count (nf_conntrack_max; 0:
 * no limit but the table's ceiling). 0 at load: as many as the buckets,
 * the kernel's default. The table grows as connections come, whatever it
 * is. */
static unsigned int conntrack_max;

/*
 * The parameters below are the initial namespace's settings (its sysctls'
 * variables), so, as hashsize above and nf_conntrack_set_hashsize(), a
 * write from a task in another network namespace is EOPNOTSUPP: there the
 * same settings are the namespace's own sysctls (nf_conntrack_max and
 * nf_conntrack_buckets even read-only, as nf_conntrack_standalone.c makes
 * them outside init_net), and root there must not change the initial
 * namespace's through /sys/module.
 */
static int rnf_ct_param_from_init_net(void)
{
	return current->nsproxy->net_ns == &init_net ? 0 : -EOPNOTSUPP;
}

static int rnf_ct_param_set_max(const char *val, const struct kernel_param *kp)
{
	return rnf_ct_param_from_init_net() ?: param_set_uint(val, kp);
}

static const struct kernel_param_ops rnf_ct_param_ops_max = {
	.set = rnf_ct_param_set_max, .get = param_get_uint,
};
module_param_cb(conntrack_max, &rnf_ct_param_ops_max, &conntrack_max, 0644);
MODULE_PARM_DESC(conntrack_max, "maximum tracked connections per namespace (0 at load: same as hashsize); sysctl net.netfilter.nf_conntrack_max");

/* The most connections the table can grow to (global, like the kernel's
 * table): the ceiling of nf_conntrack_max, and what 0 there means. */
static unsigned int rnf_ct_ceiling;
/* Connections in the table, all namespaces together (net.rnf.conntrack_count_all). */
static unsigned int rnf_ct_count_all;

/*
 * The timeouts and switches of the initial namespace. They are also the
 * module parameters, so what the loader saves and re-applies is init_net's
 * setting; a namespace created later starts from these values.
 */
static unsigned int timeouts[RNF_CT_TMO_MAX] = {
	[RNF_CT_TMO_TCP_SYN_SENT] = 120,
	[RNF_CT_TMO_TCP_SYN_RECV] = 60,
	[RNF_CT_TMO_TCP_ESTABLISHED] = 432000,
	[RNF_CT_TMO_TCP_FIN_WAIT] = 120,
	[RNF_CT_TMO_TCP_CLOSE_WAIT] = 60,
	[RNF_CT_TMO_TCP_LAST_ACK] = 30,
	[RNF_CT_TMO_TCP_TIME_WAIT] = 120,
	[RNF_CT_TMO_TCP_CLOSE] = 10,
	[RNF_CT_TMO_TCP_UNACK] = 300,
	[RNF_CT_TMO_UDP] = 30,
	[RNF_CT_TMO_UDP_STREAM] = 120,
	[RNF_CT_TMO_ICMP] = 30,
	[RNF_CT_TMO_ICMPV6] = 30,
	[RNF_CT_TMO_GENERIC] = 600,
	[RNF_CT_TMO_TCP_RETRANS] = 300,
};

static unsigned int settings[RNF_CT_SET_MAX] = {
	[RNF_CT_SET_CHECKSUM] = 1,
	[RNF_CT_SET_LOG_INVALID] = 0,
	[RNF_CT_SET_ACCT] = 0,
	[RNF_CT_SET_TCP_LOOSE] = 1,
	[RNF_CT_SET_TCP_BE_LIBERAL] = 0,
	[RNF_CT_SET_TCP_IGNORE_INVALID_RST] = 0,
	[RNF_CT_SET_TCP_MAX_RETRANS] = 3,
};

/* The ranges the sysctls allow (proc_dou8vec_minmax's and
 * proc_dointvec_jiffies's), for the parameters too. */
static unsigned int rnf_ct_one = 1, rnf_ct_u8_max = 255, rnf_ct_tmo_ceiling = INT_MAX / HZ;

static int rnf_ct_param_set_01(const char *val, const struct kernel_param *kp)
{
	return rnf_ct_param_from_init_net() ?: param_set_uint_minmax(val, kp, 0, rnf_ct_one);
}

static int rnf_ct_param_set_u8(const char *val, const struct kernel_param *kp)
{
	return rnf_ct_param_from_init_net() ?: param_set_uint_minmax(val, kp, 0, rnf_ct_u8_max);
}

static int rnf_ct_param_set_tmo(const char *val, const struct kernel_param *kp)
{
	return rnf_ct_param_from_init_net() ?: param_set_uint_minmax(val, kp, 0, rnf_ct_tmo_ceiling);
}

static const struct kernel_param_ops rnf_ct_param_ops_01 = {
	.set = rnf_ct_param_set_01, .get = param_get_uint,
};
static const struct kernel_param_ops rnf_ct_param_ops_u8 = {
	.set = rnf_ct_param_set_u8, .get = param_get_uint,
};
static const struct kernel_param_ops rnf_ct_param_ops_tmo = {
	.set = rnf_ct_param_set_tmo, .get = param_get_uint,
};

#define RNF_TIMEOUT_PARAM(pname, idx, what)					\
	module_param_cb(pname, &rnf_ct_param_ops_tmo, &timeouts[idx], 0644);	\
	MODULE_PARM_DESC(pname, "seconds " what " (initial namespace); sysctl net.netfilter.nf_conntrack_" #pname)

RNF_TIMEOUT_PARAM(tcp_timeout_syn_sent, RNF_CT_TMO_TCP_SYN_SENT, "in SYN_SENT and SYN_SENT2");
RNF_TIMEOUT_PARAM(tcp_timeout_syn_recv, RNF_CT_TMO_TCP_SYN_RECV, "in SYN_RECV");
RNF_TIMEOUT_PARAM(tcp_timeout_established, RNF_CT_TMO_TCP_ESTABLISHED, "in ESTABLISHED");
RNF_TIMEOUT_PARAM(tcp_timeout_fin_wait, RNF_CT_TMO_TCP_FIN_WAIT, "in FIN_WAIT");
RNF_TIMEOUT_PARAM(tcp_timeout_close_wait, RNF_CT_TMO_TCP_CLOSE_WAIT, "in CLOSE_WAIT");
RNF_TIMEOUT_PARAM(tcp_timeout_last_ack, RNF_CT_TMO_TCP_LAST_ACK, "in LAST_ACK");
RNF_TIMEOUT_PARAM(tcp_timeout_time_wait, RNF_CT_TMO_TCP_TIME_WAIT, "in TIME_WAIT");
RNF_TIMEOUT_PARAM(tcp_timeout_close, RNF_CT_TMO_TCP_CLOSE, "in CLOSE");
RNF_TIMEOUT_PARAM(tcp_timeout_max_retrans, RNF_CT_TMO_TCP_RETRANS,
		  "at most after tcp_max_retrans retransmissions or a zero window");
RNF_TIMEOUT_PARAM(tcp_timeout_unacknowledged, RNF_CT_TMO_TCP_UNACK,
		  "at most, with unacknowledged data or before a reply");
RNF_TIMEOUT_PARAM(udp_timeout, RNF_CT_TMO_UDP, "an unreplied UDP flow lives");
RNF_TIMEOUT_PARAM(udp_timeout_stream, RNF_CT_TMO_UDP_STREAM, "a UDP stream lives");
RNF_TIMEOUT_PARAM(icmp_timeout, RNF_CT_TMO_ICMP, "an ICMP echo lives");
RNF_TIMEOUT_PARAM(icmpv6_timeout, RNF_CT_TMO_ICMPV6, "an ICMPv6 echo lives");
RNF_TIMEOUT_PARAM(generic_timeout, RNF_CT_TMO_GENERIC, "other protocols live");

#define RNF_SETTING_PARAM(pname, idx, ops, what)				\
	module_param_cb(pname, &ops, &settings[idx], 0644);			\
	MODULE_PARM_DESC(pname, what " (initial namespace); sysctl net.netfilter.nf_conntrack_" #pname)

RNF_SETTING_PARAM(checksum, RNF_CT_SET_CHECKSUM, rnf_ct_param_ops_01,
		  "1: packets with a bad TCP, UDP, ICMP or ICMPv6 checksum are INVALID");
RNF_SETTING_PARAM(log_invalid, RNF_CT_SET_LOG_INVALID, rnf_ct_param_ops_u8,
		  "protocol number whose INVALID packets are logged (255: all, 0: none)");
RNF_SETTING_PARAM(acct, RNF_CT_SET_ACCT, rnf_ct_param_ops_01,
		  "1: new connections count packets and bytes per direction");
RNF_SETTING_PARAM(tcp_loose, RNF_CT_SET_TCP_LOOSE, rnf_ct_param_ops_01,
		  "1: TCP connections may be picked up mid-stream");
RNF_SETTING_PARAM(tcp_be_liberal, RNF_CT_SET_TCP_BE_LIBERAL, rnf_ct_param_ops_01,
		  "1: TCP segments outside the window are not INVALID");
RNF_SETTING_PARAM(tcp_ignore_invalid_rst, RNF_CT_SET_TCP_IGNORE_INVALID_RST, rnf_ct_param_ops_01,
		  "1: a TCP RST below the peer's highest ACK is not INVALID");
RNF_SETTING_PARAM(tcp_max_retrans, RNF_CT_SET_TCP_MAX_RETRANS, rnf_ct_param_ops_u8,
		  "identical TCP ACKs after which tcp_timeout_max_retrans applies");

unsigned int rnf_ct_param_hashsize(void) { return READ_ONCE(hashsize); }
unsigned int rnf_ct_param_max(void) { return READ_ONCE(conntrack_max); }

void rnf_ct_set_limits(unsigned int buckets, unsigned int ceiling, unsigned int max)
{
	WRITE_ONCE(hashsize, buckets);
	rnf_ct_ceiling = ceiling;
	WRITE_ONCE(conntrack_max, max);
}

void rnf_ct_set_buckets(unsigned int buckets)
{
	WRITE_ONCE(hashsize, buckets);
}

unsigned int rnf_ct_max(void)
{
	unsigned int max = READ_ONCE(conntrack_max);

	return max ? min(max, rnf_ct_ceiling) : rnf_ct_ceiling;
}

void rnf_ct_set_count_all(unsigned int count)
{
	WRITE_ONCE(rnf_ct_count_all, count);
}

/* --- per-namespace data ------------------------------------------------------ */

struct rnf_ct_pcpu_stat {
	unsigned int v[RNF_CT_STAT_MAX];
};

/*
 * What rnf_conntrack keeps per namespace, as the kernel's struct
 * nf_conntrack_net plus net->ct.stat, the sysctl_* switches and the
 * per-protocol nets. Allocated and zeroed by the namespace core
 * (net_generic, rnf_ct_net_id) before rnf_ct_net_init() and freed after
 * rnf_ct_net_exit().
 */
struct rnf_ct_net {
	/* Connections of this namespace (nf_conntrack_count); changed only
	 * under the table lock, read without it. */
	atomic_t count;
	/* The timeouts and switches in force: the module's arrays in
	 * init_net, own_* in any other namespace. */
	unsigned int *tmo;
	unsigned int own_tmo[RNF_CT_TMO_MAX];
	unsigned int *set;
	unsigned int own_set[RNF_CT_SET_MAX];
	struct rnf_ct_pcpu_stat __percpu *stats;
	struct ctl_table_header *sysctl;
	struct ctl_table_header *sysctl_rnf;
	u32 inum;
};

static unsigned int rnf_ct_net_id __read_mostly;

/* Namespace inode number -> struct rnf_ct_net, for the GC, which finds an
 * entry's namespace only by the number stored in it. */
static DEFINE_XARRAY(rnf_ct_nets);

struct rnf_ct_net *rnf_ct_net(const struct net *net)
{
	return net_generic(net, rnf_ct_net_id);
}

void rnf_ct_net_stat_inc(struct rnf_ct_net *pn, enum rnf_ct_stat which)
{
	if (which < RNF_CT_STAT_MAX)
		this_cpu_inc(pn->stats->v[which]);
}

void rnf_ct_net_config(const struct rnf_ct_net *pn, const unsigned int **tmo, const unsigned int **set)
{
	*tmo = pn->tmo;
	*set = pn->set;
}

unsigned int rnf_ct_net_count(const struct rnf_ct_net *pn)
{
	return atomic_read(&pn->count);
}

void rnf_ct_net_count_add(struct rnf_ct_net *pn, int delta)
{
	atomic_add(delta, &pn->count);
}

void rnf_ct_count_sub_inum(u32 inum, unsigned int n)
{
	struct rnf_ct_net *pn = xa_load(&rnf_ct_nets, inum);

	if (pn)
		atomic_sub(n, &pn->count);
}

/* rnf_ct_in_start()'s copy of headers not in the linear area, out of line
 * and called last: the common path makes no call and needs no frame. */
static noinline void rnf_ct_in_copy(const struct sk_buff *skb, int off, struct rnf_ct_in *in, u8 *buf)
{
	in->data = skb_copy_bits(skb, off, buf, in->data_len) < 0 ? NULL : buf;
}

/* rnf_ct_in_start() once the template question is settled: everything
 * but in->tmpl (and the template's fields). */
static __always_inline void rnf_ct_in_fill(const struct nf_hook_state *state, struct sk_buff *skb,
					   struct rnf_ct_in *in, u8 *buf, u32 buf_len)
{
	int off = skb_network_offset(skb);
	struct rnf_ct_net *pn;

	in->present = skb->_nfct != 0;
	in->loopback_in = state->hook == NF_INET_PRE_ROUTING && state->in &&
			  (state->in->flags & IFF_LOOPBACK);
	in->pn = NULL;
	if (in->present || in->loopback_in)
		return;
	pn = rnf_ct_net(state->net);
	in->pn = pn;
	if (!pn)
		return;
	in->now = get_jiffies_64();
	in->inum = state->net->ns.inum;
	rnf_ct_net_config(pn, &in->tmo, &in->set);
	/* rnf_skb_network_bytes(): at most @buf_len bytes from the network
	 * header on, in place when linear (skb_header_pointer()'s test). */
	in->data = NULL;
	in->data_len = buf_len;
	if (!rnf_skb_network_span(skb, off, &in->data_len))
		return;
	if (likely(skb_headlen(skb) >= (unsigned int)off + in->data_len)) {
		in->data = skb->data + off;
		return;
	}
	rnf_ct_in_copy(skb, off, in, buf);
}

/* rnf_ct_in_start() for an skb that carries something: a template to
 * take off, or a connection (then not tracked again). */
static noinline void rnf_ct_in_carried(const struct nf_hook_state *state, struct sk_buff *skb,
				       struct rnf_ct_in *in, u8 *buf, u32 buf_len)
{
	in->tmpl = rnf_nfct_take_template(skb, &in->zone_id, &in->zone_dir, &in->from_mark, &in->mark);
	rnf_ct_in_fill(state, skb, in, buf, buf_len);
}

void rnf_ct_in_start(const struct nf_hook_state *state, struct sk_buff *skb, struct rnf_ct_in *in,
		     u8 *buf, u32 buf_len)
{
	if (unlikely(skb->_nfct)) {
		rnf_ct_in_carried(state, skb, in, buf, buf_len);
		return;
	}
	in->tmpl = false;
	rnf_ct_in_fill(state, skb, in, buf, buf_len);
}

void rnf_ct_stat_inc_inum(u32 inum, enum rnf_ct_stat which)
{
	struct rnf_ct_net *pn = xa_load(&rnf_ct_nets, inum);

	if (pn)
		rnf_ct_net_stat_inc(pn, which);
}

bool rnf_ct_checksum_bad(struct sk_buff *skb, unsigned int hook, unsigned int l4off, u8 proto, u8 pf)
{
	unsigned int dataoff = skb_network_offset(skb) + l4off;

	if (hook != NF_INET_PRE_ROUTING)
		return false;
	switch (proto) {
	case IPPROTO_UDP: {
		__sum16 _check, *check;

		/* udp_error(): a datagram without a checksum is not checked. */
		check = skb_header_pointer(skb, dataoff + offsetof(struct udphdr, check),
					   sizeof(_check), &_check);
		if (!check || !*check)
			return false;
		break;
	}
	case IPPROTO_TCP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		break;
	default:
		return false;
	}
	return nf_checksum(skb, hook, dataoff, proto, pf) != 0;
}

void rnf_ct_log_invalid(const struct nf_hook_state *state, struct sk_buff *skb, u8 proto, const char *msg)
{
	struct rnf_ct_net *pn = rnf_ct_net(state->net);
	unsigned int level = READ_ONCE(pn->set[RNF_CT_SET_LOG_INVALID]);

	if (level != proto && level != IPPROTO_RAW)
		return;
	nf_log_packet(state->net, state->pf, 0, skb, state->in, state->out, NULL,
		      "nf_ct_proto_%d: %s ", proto, msg);
}

/* The kernel's names: the sysctls, /proc/net/nf_conntrack and the statistics. */
#include "glue/conntrack/names.c"

/* --- namespace set-up and tear-down -------------------------------------------- */

static int rnf_ct_net_init(struct net *net)
{
	struct rnf_ct_net *pn = rnf_ct_net(net);
	int i, err;

	if (net_eq(net, &init_net)) {
		pn->tmo = timeouts;
		pn->set = settings;
	} else {
		for (i = 0; i < RNF_CT_TMO_MAX; i++)
			pn->own_tmo[i] = READ_ONCE(timeouts[i]);
		for (i = 0; i < RNF_CT_SET_MAX; i++)
			pn->own_set[i] = READ_ONCE(settings[i]);
		pn->tmo = pn->own_tmo;
		pn->set = pn->own_set;
	}
	pn->inum = net->ns.inum;
	pn->stats = alloc_percpu(struct rnf_ct_pcpu_stat);
	if (!pn->stats)
		return -ENOMEM;
	err = rnf_ct_init_sysctl(net, pn);
	if (err)
		goto free_stats;
	err = rnf_ct_init_proc(net);
	if (err)
		goto exit_sysctl;
	err = xa_err(xa_store(&rnf_ct_nets, pn->inum, pn, GFP_KERNEL));
	if (err)
		goto remove_proc;
	return 0;

remove_proc:
	rnf_ct_remove_proc(net);
exit_sysctl:
	rnf_ct_exit_sysctl(net, pn);
free_stats:
	free_percpu(pn->stats);
	return err;
}

/*
 * Runs after rnf_conntrack_main.rs's own pernet exit (registered later, so
 * torn down first) has unregistered the hooks, waited for a grace period and
 * flushed the namespace's entries: nothing refers to @pn any more but the
 * files removed here, which wait for their readers.
 */
static void rnf_ct_net_exit(struct net *net)
{
	struct rnf_ct_net *pn = rnf_ct_net(net);

	xa_erase(&rnf_ct_nets, pn->inum);
	rnf_ct_remove_proc(net);
	rnf_ct_exit_sysctl(net, pn);
	free_percpu(pn->stats);
}

static struct pernet_operations rnf_ct_net_ops = {
	.init = rnf_ct_net_init,
	.exit = rnf_ct_net_exit,
	.id = &rnf_ct_net_id,
	.size = sizeof(struct rnf_ct_net),
};

/*
 * Sets up every namespace's data, sysctls and statistics file (and any
 * namespace created later). Must run before the hooks are registered in
 * any namespace, so that rnf_ct_net() is valid wherever a hook runs.
 */
int rnf_ct_controls_init(void)
{
	int err = rnf_ct_names_init();

	if (err)
		return err;
	err = register_pernet_subsys(&rnf_ct_net_ops);
	if (err)
		rnf_ct_names_exit();
	return err;
}

/* Called after the hooks are gone in every namespace and a grace period has
 * passed, and after the GC work is stopped. */
void rnf_ct_controls_exit(void)
{
	unregister_pernet_subsys(&rnf_ct_net_ops);
	rnf_ct_names_exit();
}

u64 rnf_totalram_bytes(void)
{
	return (u64)totalram_pages() << PAGE_SHIFT;
}

EXPORT_SYMBOL_GPL(rnf_ct_nat_setup);
EXPORT_SYMBOL_GPL(rnf_ct_flush_masq);
EXPORT_SYMBOL_GPL(rnf_ct_kill);
EXPORT_SYMBOL_GPL(rnf_ct_nat_cleanup);

/* Implemented in Rust: reclaims a batch of expired entries, returns the
 * delay in jiffies until the next batch. */
unsigned long rnf_ct_gc_run(void);

static struct delayed_work rnf_ct_gc_work;

static void rnf_ct_gc_worker(struct work_struct *work)
{
	queue_delayed_work(system_unbound_wq, &rnf_ct_gc_work, rnf_ct_gc_run());
}

/*
 * On an unbound workqueue, as the kernel's conntrack GC is on
 * system_power_efficient_wq: a kick from the packet path (the table asks
 * to grow) must not wait for the CPU whose softirq is busy with packets.
 */
void rnf_ct_gc_start(void)
{
	INIT_DELAYED_WORK(&rnf_ct_gc_work, rnf_ct_gc_worker);
	queue_delayed_work(system_unbound_wq, &rnf_ct_gc_work, HZ);
}

void rnf_ct_gc_kick(void)
{
	mod_delayed_work(system_unbound_wq, &rnf_ct_gc_work, 0);
}

void rnf_ct_gc_stop(void)
{
	cancel_delayed_work_sync(&rnf_ct_gc_work);
}
