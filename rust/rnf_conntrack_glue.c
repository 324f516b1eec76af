// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_conntrack's C glue: module parameters, the per-namespace data (count,
 * timeouts, statistics, sysctls), the GC delayed work, and the export of the
 * Rust-implemented rnf_ct_lookup(). The logic is in Rust
 * (rnf_conntrack_main.rs); this file only wires it to kernel macros.
 */
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/sysctl.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "glue/helpers.c"
#include "glue/rnf_conntrack_api.h"
#include "glue/conntrack/nfct.c"

static unsigned int hashsize;
module_param(hashsize, uint, 0444);
MODULE_PARM_DESC(hashsize, "hash buckets (0: derived from memory like nf_conntrack)");

/* conntrack_max: at load, the table size (0: same as hashsize); afterwards
 * the limit, writable up to that size. */
static unsigned int conntrack_max;
module_param(conntrack_max, uint, 0644);
MODULE_PARM_DESC(conntrack_max, "maximum tracked connections (0: same as hashsize); sysctl net.rnf.conntrack_max");

/* Global, like nf_conntrack_buckets and the kernel's table size. */
static unsigned int rnf_ct_buckets, rnf_ct_capacity;
/* Connections in the table, all namespaces together (net.rnf.conntrack_count_all). */
static unsigned int rnf_ct_count_all;

/*
 * The timeouts of the initial namespace. They are also the module parameters,
 * so what the loader saves and re-applies is init_net's setting; a namespace
 * created later starts from these values.
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
};

#define RNF_TIMEOUT_PARAM(pname, idx, what)					\
	module_param_named(pname, timeouts[idx], uint, 0644);			\
	MODULE_PARM_DESC(pname, "seconds " what " (initial namespace); sysctl net.rnf.conntrack_" #pname)

RNF_TIMEOUT_PARAM(tcp_timeout_syn_sent, RNF_CT_TMO_TCP_SYN_SENT, "in SYN_SENT and SYN_SENT2");
RNF_TIMEOUT_PARAM(tcp_timeout_syn_recv, RNF_CT_TMO_TCP_SYN_RECV, "in SYN_RECV");
RNF_TIMEOUT_PARAM(tcp_timeout_established, RNF_CT_TMO_TCP_ESTABLISHED, "in ESTABLISHED");
RNF_TIMEOUT_PARAM(tcp_timeout_fin_wait, RNF_CT_TMO_TCP_FIN_WAIT, "in FIN_WAIT");
RNF_TIMEOUT_PARAM(tcp_timeout_close_wait, RNF_CT_TMO_TCP_CLOSE_WAIT, "in CLOSE_WAIT");
RNF_TIMEOUT_PARAM(tcp_timeout_last_ack, RNF_CT_TMO_TCP_LAST_ACK, "in LAST_ACK");
RNF_TIMEOUT_PARAM(tcp_timeout_time_wait, RNF_CT_TMO_TCP_TIME_WAIT, "in TIME_WAIT");
RNF_TIMEOUT_PARAM(tcp_timeout_close, RNF_CT_TMO_TCP_CLOSE, "in CLOSE");
RNF_TIMEOUT_PARAM(tcp_timeout_unacknowledged, RNF_CT_TMO_TCP_UNACK,
		  "at most, with unacknowledged data, retransmissions or before a reply");
RNF_TIMEOUT_PARAM(udp_timeout, RNF_CT_TMO_UDP, "an unreplied UDP flow lives");
RNF_TIMEOUT_PARAM(udp_timeout_stream, RNF_CT_TMO_UDP_STREAM, "a UDP stream lives");
RNF_TIMEOUT_PARAM(icmp_timeout, RNF_CT_TMO_ICMP, "an ICMP echo lives");
RNF_TIMEOUT_PARAM(icmpv6_timeout, RNF_CT_TMO_ICMPV6, "an ICMPv6 echo lives");
RNF_TIMEOUT_PARAM(generic_timeout, RNF_CT_TMO_GENERIC, "other protocols live");

unsigned int rnf_ct_param_hashsize(void) { return hashsize; }
unsigned int rnf_ct_param_max(void) { return READ_ONCE(conntrack_max); }

void rnf_ct_set_limits(unsigned int buckets, unsigned int capacity)
{
	rnf_ct_buckets = buckets;
	rnf_ct_capacity = capacity;
	WRITE_ONCE(conntrack_max, capacity);
}

unsigned int rnf_ct_max(void)
{
	return min(READ_ONCE(conntrack_max), rnf_ct_capacity);
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
 * nf_conntrack_net plus net->ct.stat and the per-net timeouts. Allocated
 * and zeroed by the namespace core (net_generic, rnf_ct_net_id) before
 * rnf_ct_net_init() and freed after rnf_ct_net_exit().
 */
struct rnf_ct_net {
	/* Connections of this namespace (net.rnf.conntrack_count); changed
	 * only under the table lock, read without it. */
	atomic_t count;
	/* The timeouts in force: the module's array in init_net, own_tmo in
	 * any other namespace. */
	unsigned int *tmo;
	unsigned int own_tmo[RNF_CT_TMO_MAX];
	struct rnf_ct_pcpu_stat __percpu *stats;
	struct ctl_table_header *sysctl;
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

void rnf_ct_net_timeouts(const struct rnf_ct_net *pn, u32 *out)
{
	int i;

	for (i = 0; i < RNF_CT_TMO_MAX; i++)
		out[i] = READ_ONCE(pn->tmo[i]);
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

/* --- statistics: /proc/net/stat/rnf_conntrack, per namespace ----------------- */

static struct rnf_ct_pcpu_stat __percpu *seq_stats(struct seq_file *seq)
{
	return rnf_ct_net(seq_file_net(seq))->stats;
}

static void *ct_cpu_seq_start(struct seq_file *seq, loff_t *pos)
{
	int cpu;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	for (cpu = *pos - 1; cpu < nr_cpu_ids; ++cpu) {
		if (!cpu_possible(cpu))
			continue;
		*pos = cpu + 1;
		return per_cpu_ptr(seq_stats(seq), cpu);
	}
	return NULL;
}

static void *ct_cpu_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	int cpu;

	for (cpu = *pos; cpu < nr_cpu_ids; ++cpu) {
		if (!cpu_possible(cpu))
			continue;
		*pos = cpu + 1;
		return per_cpu_ptr(seq_stats(seq), cpu);
	}
	(*pos)++;
	return NULL;
}

static void ct_cpu_seq_stop(struct seq_file *seq, void *v)
{
}

/* The columns of nf_conntrack's ct_cpu_seq_show(), then "related". */
static int ct_cpu_seq_show(struct seq_file *seq, void *v)
{
	const struct rnf_ct_pcpu_stat *st = v;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart related\n");
		return 0;
	}
	seq_printf(seq, "%08x  %08x %08x %08x %08x %08x %08x %08x "
		   "%08x %08x %08x %08x %08x  %08x %08x %08x %08x %08x\n",
		   rnf_ct_net_count(rnf_ct_net(seq_file_net(seq))), 0,
		   st->v[RNF_CT_STAT_FOUND], 0,
		   st->v[RNF_CT_STAT_INVALID], 0, 0, 0,
		   st->v[RNF_CT_STAT_INSERT], st->v[RNF_CT_STAT_INSERT_FAILED],
		   st->v[RNF_CT_STAT_DROP], st->v[RNF_CT_STAT_EARLY_DROP],
		   st->v[RNF_CT_STAT_ICMP_ERROR], 0, 0, 0,
		   st->v[RNF_CT_STAT_SEARCH_RESTART], st->v[RNF_CT_STAT_RELATED]);
	return 0;
}

static const struct seq_operations ct_cpu_seq_ops = {
	.start = ct_cpu_seq_start,
	.next = ct_cpu_seq_next,
	.stop = ct_cpu_seq_stop,
	.show = ct_cpu_seq_show,
};

/* --- sysctls: /proc/sys/net/rnf/ in every namespace ---------------------------- */

/* Positions in rnf_ct_sysctl_table; the timeouts follow in enum order. */
enum {
	RNF_SYSCTL_MAX,
	RNF_SYSCTL_COUNT,
	RNF_SYSCTL_BUCKETS,
	RNF_SYSCTL_TMO,
	RNF_SYSCTL_COUNT_ALL = RNF_SYSCTL_TMO + RNF_CT_TMO_MAX,
	RNF_SYSCTL_LAST,
};

#define RNF_TIMEOUT_SYSCTL(name, idx)						\
	[RNF_SYSCTL_TMO + idx] = {						\
		.procname = "conntrack_" name, .data = &timeouts[idx],		\
		.maxlen = sizeof(unsigned int), .mode = 0644,			\
		.proc_handler = proc_douintvec }

/*
 * The template: init_net's data. Each namespace registers a copy pointing at
 * its own count and timeouts; as nf_conntrack_standalone_init_sysctl() does,
 * the global settings (conntrack_max, conntrack_buckets) are read-only
 * outside init_net, and the total over all namespaces (the last entry) is
 * shown in init_net only.
 */
static const struct ctl_table rnf_ct_sysctl_table[RNF_SYSCTL_LAST] = {
	[RNF_SYSCTL_MAX] = {
		.procname = "conntrack_max", .data = &conntrack_max,
		.maxlen = sizeof(unsigned int), .mode = 0644,
		.proc_handler = proc_douintvec_minmax,
		.extra1 = SYSCTL_ONE, .extra2 = &rnf_ct_capacity },
	[RNF_SYSCTL_COUNT] = {
		.procname = "conntrack_count", .maxlen = sizeof(int),
		.mode = 0444, .proc_handler = proc_dointvec },
	[RNF_SYSCTL_BUCKETS] = {
		.procname = "conntrack_buckets", .data = &rnf_ct_buckets,
		.maxlen = sizeof(unsigned int), .mode = 0444,
		.proc_handler = proc_douintvec },
	RNF_TIMEOUT_SYSCTL("tcp_timeout_syn_sent", RNF_CT_TMO_TCP_SYN_SENT),
	RNF_TIMEOUT_SYSCTL("tcp_timeout_syn_recv", RNF_CT_TMO_TCP_SYN_RECV),
	RNF_TIMEOUT_SYSCTL("tcp_timeout_established", RNF_CT_TMO_TCP_ESTABLISHED),
	RNF_TIMEOUT_SYSCTL("tcp_timeout_fin_wait", RNF_CT_TMO_TCP_FIN_WAIT),
	RNF_TIMEOUT_SYSCTL("tcp_timeout_close_wait", RNF_CT_TMO_TCP_CLOSE_WAIT),
	RNF_TIMEOUT_SYSCTL("tcp_timeout_last_ack", RNF_CT_TMO_TCP_LAST_ACK),
	RNF_TIMEOUT_SYSCTL("tcp_timeout_time_wait", RNF_CT_TMO_TCP_TIME_WAIT),
	RNF_TIMEOUT_SYSCTL("tcp_timeout_close", RNF_CT_TMO_TCP_CLOSE),
	RNF_TIMEOUT_SYSCTL("tcp_timeout_unacknowledged", RNF_CT_TMO_TCP_UNACK),
	RNF_TIMEOUT_SYSCTL("udp_timeout", RNF_CT_TMO_UDP),
	RNF_TIMEOUT_SYSCTL("udp_timeout_stream", RNF_CT_TMO_UDP_STREAM),
	RNF_TIMEOUT_SYSCTL("icmp_timeout", RNF_CT_TMO_ICMP),
	RNF_TIMEOUT_SYSCTL("icmpv6_timeout", RNF_CT_TMO_ICMPV6),
	RNF_TIMEOUT_SYSCTL("generic_timeout", RNF_CT_TMO_GENERIC),
	[RNF_SYSCTL_COUNT_ALL] = {
		.procname = "conntrack_count_all", .data = &rnf_ct_count_all,
		.maxlen = sizeof(unsigned int), .mode = 0444,
		.proc_handler = proc_douintvec },
};

static int rnf_ct_net_init_sysctl(struct net *net, struct rnf_ct_net *pn)
{
	size_t n = ARRAY_SIZE(rnf_ct_sysctl_table);
	struct ctl_table *table;
	int i;

	table = kmemdup(rnf_ct_sysctl_table, sizeof(rnf_ct_sysctl_table), GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	table[RNF_SYSCTL_COUNT].data = &pn->count;
	for (i = 0; i < RNF_CT_TMO_MAX; i++)
		table[RNF_SYSCTL_TMO + i].data = &pn->tmo[i];
	if (!net_eq(net, &init_net)) {
		table[RNF_SYSCTL_MAX].mode = 0444;
		table[RNF_SYSCTL_BUCKETS].mode = 0444;
		n = RNF_SYSCTL_COUNT_ALL;
	}
	pn->sysctl = register_net_sysctl_sz(net, "net/rnf", table, n);
	if (!pn->sysctl) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

static void rnf_ct_net_exit_sysctl(struct rnf_ct_net *pn)
{
	const struct ctl_table *table = pn->sysctl->ctl_table_arg;

	unregister_net_sysctl_table(pn->sysctl);
	kfree(table);
}

/* --- namespace set-up and tear-down -------------------------------------------- */

static int rnf_ct_net_init(struct net *net)
{
	struct rnf_ct_net *pn = rnf_ct_net(net);
	int i, err;

	if (net_eq(net, &init_net)) {
		pn->tmo = timeouts;
	} else {
		for (i = 0; i < RNF_CT_TMO_MAX; i++)
			pn->own_tmo[i] = READ_ONCE(timeouts[i]);
		pn->tmo = pn->own_tmo;
	}
	pn->inum = net->ns.inum;
	pn->stats = alloc_percpu(struct rnf_ct_pcpu_stat);
	if (!pn->stats)
		return -ENOMEM;
	err = rnf_ct_net_init_sysctl(net, pn);
	if (err)
		goto free_stats;
	err = -ENOMEM;
	if (!proc_create_net("rnf_conntrack", 0444, net->proc_net_stat, &ct_cpu_seq_ops,
			     sizeof(struct seq_net_private)))
		goto exit_sysctl;
	err = xa_err(xa_store(&rnf_ct_nets, pn->inum, pn, GFP_KERNEL));
	if (err)
		goto remove_proc;
	return 0;

remove_proc:
	remove_proc_entry("rnf_conntrack", net->proc_net_stat);
exit_sysctl:
	rnf_ct_net_exit_sysctl(pn);
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
	remove_proc_entry("rnf_conntrack", net->proc_net_stat);
	rnf_ct_net_exit_sysctl(pn);
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
	return register_pernet_subsys(&rnf_ct_net_ops);
}

/* Called after the hooks are gone in every namespace and a grace period has
 * passed, and after the GC work is stopped. */
void rnf_ct_controls_exit(void)
{
	unregister_pernet_subsys(&rnf_ct_net_ops);
}

u64 rnf_totalram_bytes(void)
{
	return (u64)totalram_pages() << PAGE_SHIFT;
}

EXPORT_SYMBOL_GPL(rnf_ct_lookup);
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
	schedule_delayed_work(&rnf_ct_gc_work, rnf_ct_gc_run());
}

void rnf_ct_gc_start(void)
{
	INIT_DELAYED_WORK(&rnf_ct_gc_work, rnf_ct_gc_worker);
	schedule_delayed_work(&rnf_ct_gc_work, HZ);
}

void rnf_ct_gc_stop(void)
{
	cancel_delayed_work_sync(&rnf_ct_gc_work);
}
