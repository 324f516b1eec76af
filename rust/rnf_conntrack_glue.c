// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_conntrack's C glue: module parameters, the GC delayed work, and the
 * export of the Rust-implemented rnf_ct_lookup(). The logic is in Rust
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
#include <net/net_namespace.h>

#include "glue/helpers.c"
#include "glue/rnf_conntrack_api.h"

static unsigned int hashsize;
module_param(hashsize, uint, 0444);
MODULE_PARM_DESC(hashsize, "hash buckets (0: derived from memory like nf_conntrack)");

/* conntrack_max: at load, the table size (0: same as hashsize); afterwards
 * the limit, writable up to that size. */
static unsigned int conntrack_max;
module_param(conntrack_max, uint, 0644);
MODULE_PARM_DESC(conntrack_max, "maximum tracked connections (0: same as hashsize); sysctl net.rnf.conntrack_max");

static unsigned int rnf_ct_buckets, rnf_ct_capacity, rnf_ct_count;

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
	MODULE_PARM_DESC(pname, "seconds " what "; sysctl net.rnf.conntrack_" #pname)

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

void rnf_ct_timeouts(u32 *out)
{
	int i;

	for (i = 0; i < RNF_CT_TMO_MAX; i++)
		out[i] = READ_ONCE(timeouts[i]);
}

void rnf_ct_set_count(unsigned int count)
{
	WRITE_ONCE(rnf_ct_count, count);
}

/* --- statistics ------------------------------------------------------------ */

struct rnf_ct_pcpu_stat {
	unsigned int v[RNF_CT_STAT_MAX];
};

static struct rnf_ct_pcpu_stat __percpu *rnf_ct_stats;

void rnf_ct_stat_inc(enum rnf_ct_stat which)
{
	if (which < RNF_CT_STAT_MAX)
		this_cpu_inc(rnf_ct_stats->v[which]);
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
		return per_cpu_ptr(rnf_ct_stats, cpu);
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
		return per_cpu_ptr(rnf_ct_stats, cpu);
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
		   READ_ONCE(rnf_ct_count), 0, st->v[RNF_CT_STAT_FOUND], 0,
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

/* --- sysctls: /proc/sys/net/rnf/ ---------------------------------------------- */

#define RNF_TIMEOUT_SYSCTL(name, idx)						\
	{ .procname = "conntrack_" name, .data = &timeouts[idx],		\
	  .maxlen = sizeof(unsigned int), .mode = 0644,			\
	  .proc_handler = proc_douintvec }

static struct ctl_table rnf_ct_sysctl_table[] = {
	{ .procname = "conntrack_max", .data = &conntrack_max, .maxlen = sizeof(unsigned int),
	  .mode = 0644, .proc_handler = proc_douintvec_minmax,
	  .extra1 = SYSCTL_ONE, .extra2 = &rnf_ct_capacity },
	{ .procname = "conntrack_count", .data = &rnf_ct_count, .maxlen = sizeof(unsigned int),
	  .mode = 0444, .proc_handler = proc_douintvec },
	{ .procname = "conntrack_buckets", .data = &rnf_ct_buckets, .maxlen = sizeof(unsigned int),
	  .mode = 0444, .proc_handler = proc_douintvec },
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
};

static struct ctl_table_header *rnf_ct_sysctl_header;

/*
 * The settings and statistics are global: the sysctls exist in the initial
 * namespace only (a namespace's root must not change the host's limits) and
 * the statistics file there too. Per-namespace settings are future work.
 */
int rnf_ct_controls_init(void)
{
	rnf_ct_stats = alloc_percpu(struct rnf_ct_pcpu_stat);
	if (!rnf_ct_stats)
		return -ENOMEM;
	if (!proc_create_seq("rnf_conntrack", 0444, init_net.proc_net_stat, &ct_cpu_seq_ops))
		goto free_stats;
	rnf_ct_sysctl_header = register_net_sysctl_sz(&init_net, "net/rnf", rnf_ct_sysctl_table,
						      ARRAY_SIZE(rnf_ct_sysctl_table));
	if (!rnf_ct_sysctl_header)
		goto remove_proc;
	return 0;

remove_proc:
	remove_proc_entry("rnf_conntrack", init_net.proc_net_stat);
free_stats:
	free_percpu(rnf_ct_stats);
	return -ENOMEM;
}

/* Called after the hooks are gone and a grace period has passed. */
void rnf_ct_controls_exit(void)
{
	unregister_net_sysctl_table(rnf_ct_sysctl_header);
	remove_proc_entry("rnf_conntrack", init_net.proc_net_stat);
	free_percpu(rnf_ct_stats);
}

u64 rnf_totalram_bytes(void)
{
	return (u64)totalram_pages() << PAGE_SHIFT;
}

EXPORT_SYMBOL_GPL(rnf_ct_lookup);

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
