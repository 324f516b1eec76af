// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's names for rnf_conntrack's state, while it tracks in place of
 * nf_conntrack (the two exclude each other, see nfct.c), after
 * net/netfilter/nf_conntrack_standalone.c (6.12):
 *
 *   /proc/net/nf_conntrack        the connections (0440, the namespace's
 *                                 root), ct_seq_show()'s lines; a write
 *                                 flushes as OpenWrt's patch does
 *   /proc/net/rnf_conntrack       the same file under rnf's old name (0444)
 *   /proc/net/stat/nf_conntrack   per-CPU statistics, ct_cpu_seq_show()'s
 *                                 columns
 *   /proc/net/stat/rnf_conntrack  the same plus rnf's "related" column
 *   /proc/sys/net/netfilter/nf_conntrack_*   nf_ct_sysctl_table's names,
 *                                 per namespace, with its modes
 *   /proc/sys/net/nf_conntrack_max           initial namespace only
 *   /proc/sys/net/rnf/conntrack_count_all    rnf's own, initial namespace
 *
 * Included by rnf_conntrack_glue.c (struct rnf_ct_net, the settings and
 * their ranges are there). The listing and the flush are Rust
 * (rnf_ct_proc_show, rnf_ct_proc_flush in rust/glue/conntrack/mod.rs).
 */
#include <linux/capability.h>
#include <linux/proc_fs.h>
#include <linux/seq_file_net.h>
#include <linux/uidgid.h>

/* Rust: the listing of the seq_file's namespace, and a write's flush (0 or
 * -EINVAL for a malformed address). */
void rnf_ct_proc_show(struct seq_file *m);
int rnf_ct_proc_flush(struct net *net, const char *buf, size_t len);

/* --- /proc/net/nf_conntrack and /proc/net/rnf_conntrack ----------------------- */

static int rnf_ct_seq_show(struct seq_file *m, void *v)
{
	rnf_ct_proc_show(m);
	return 0;
}

/*
 * OpenWrt's ct_file_write(): @buf is what was written, NUL-terminated
 * (proc_simple_write() refuses empty writes and writes past a page with
 * EINVAL first). Only a writer that opened the file with CAP_NET_ADMIN in
 * the namespace's user namespace may flush (EPERM): the patch relies on the
 * file's mode alone, which root's CAP_DAC_OVERRIDE passes.
 */
static int rnf_ct_proc_write(struct file *file, char *buf, size_t count)
{
	struct net *net = seq_file_single_net(file->private_data);

	if (!file_ns_capable(file, net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	return rnf_ct_proc_flush(net, buf, count);
}

/* --- /proc/net/stat/nf_conntrack and stat/rnf_conntrack ------------------------ */

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

/*
 * ct_cpu_seq_show()'s columns. What rnf cannot count is 0, as in the
 * kernel for the columns it retired (new, ignore, delete): chainlength
 * (chains are not capped), expect_new, expect_create and expect_delete (no
 * expectations: no helpers) and search_restart (lookups run under the
 * table lock, never restart).
 */
static void ct_cpu_seq_print(struct seq_file *seq, const struct rnf_ct_pcpu_stat *st)
{
	seq_printf(seq, "%08x  %08x %08x %08x %08x %08x %08x %08x "
		   "%08x %08x %08x %08x %08x  %08x %08x %08x %08x",
		   rnf_ct_net_count(rnf_ct_net(seq_file_net(seq))),
		   st->v[RNF_CT_STAT_CLASH_RESOLVE], st->v[RNF_CT_STAT_FOUND], 0,
		   st->v[RNF_CT_STAT_INVALID], 0, 0, 0,
		   st->v[RNF_CT_STAT_INSERT], st->v[RNF_CT_STAT_INSERT_FAILED],
		   st->v[RNF_CT_STAT_DROP], st->v[RNF_CT_STAT_EARLY_DROP],
		   st->v[RNF_CT_STAT_ICMP_ERROR], 0, 0, 0,
		   st->v[RNF_CT_STAT_SEARCH_RESTART]);
}

#define RNF_CT_STAT_HEADER "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart"

static int ct_cpu_seq_show(struct seq_file *seq, void *v)
{
	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, RNF_CT_STAT_HEADER "\n");
		return 0;
	}
	ct_cpu_seq_print(seq, v);
	seq_putc(seq, '\n');
	return 0;
}

/* rnf's own file: the kernel's columns, then ICMP errors found RELATED. */
static int rnf_cpu_seq_show(struct seq_file *seq, void *v)
{
	const struct rnf_ct_pcpu_stat *st = v;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, RNF_CT_STAT_HEADER " related\n");
		return 0;
	}
	ct_cpu_seq_print(seq, st);
	seq_printf(seq, " %08x\n", st->v[RNF_CT_STAT_RELATED]);
	return 0;
}

static const struct seq_operations ct_cpu_seq_ops = {
	.start = ct_cpu_seq_start,
	.next = ct_cpu_seq_next,
	.stop = ct_cpu_seq_stop,
	.show = ct_cpu_seq_show,
};

static const struct seq_operations rnf_cpu_seq_ops = {
	.start = ct_cpu_seq_start,
	.next = ct_cpu_seq_next,
	.stop = ct_cpu_seq_stop,
	.show = rnf_cpu_seq_show,
};

static void rnf_ct_remove_proc(struct net *net)
{
	remove_proc_entry("rnf_conntrack", net->proc_net_stat);
	remove_proc_entry("nf_conntrack", net->proc_net_stat);
	remove_proc_entry("rnf_conntrack", net->proc_net);
	remove_proc_entry("nf_conntrack", net->proc_net);
}

/* nf_conntrack_standalone_init_proc(), and rnf's names beside. */
static int rnf_ct_init_proc(struct net *net)
{
	struct proc_dir_entry *pde;
	kuid_t root_uid;
	kgid_t root_gid;

	pde = proc_create_net_single_write("nf_conntrack", 0440, net->proc_net,
					   rnf_ct_seq_show, rnf_ct_proc_write, NULL);
	if (!pde)
		return -ENOMEM;
	root_uid = make_kuid(net->user_ns, 0);
	root_gid = make_kgid(net->user_ns, 0);
	if (uid_valid(root_uid) && gid_valid(root_gid))
		proc_set_user(pde, root_uid, root_gid);
	if (!proc_create_net_single_write("rnf_conntrack", 0444, net->proc_net,
					  rnf_ct_seq_show, rnf_ct_proc_write, NULL))
		goto remove_nf;
	if (!proc_create_net("nf_conntrack", 0444, net->proc_net_stat, &ct_cpu_seq_ops,
			     sizeof(struct seq_net_private)))
		goto remove_rnf;
	if (!proc_create_net("rnf_conntrack", 0444, net->proc_net_stat, &rnf_cpu_seq_ops,
			     sizeof(struct seq_net_private)))
		goto remove_stat;
	return 0;

remove_stat:
	remove_proc_entry("nf_conntrack", net->proc_net_stat);
remove_rnf:
	remove_proc_entry("rnf_conntrack", net->proc_net);
remove_nf:
	remove_proc_entry("nf_conntrack", net->proc_net);
	return -ENOMEM;
}

/* --- sysctls -------------------------------------------------------------------- */

/*
 * nf_conntrack_buckets: reads the hash size, a write resizes the hash
 * (nf_conntrack_hash_sysctl(); writable in the initial namespace only).
 */
static int rnf_ct_buckets_sysctl(const struct ctl_table *table, int write,
				 void *buffer, size_t *lenp, loff_t *ppos)
{
	unsigned int n = READ_ONCE(hashsize);
	struct ctl_table tmp = *table;
	int ret;

	tmp.data = &n;
	ret = proc_douintvec(&tmp, write, buffer, lenp, ppos);
	if (ret < 0 || !write)
		return ret;
	return rnf_ct_resize(n);
}

/*
 * nf_conntrack_max (and net.nf_conntrack_max): 0 up to the most connections
 * the table can grow to (2^30 - 1, its slot numbering), where the kernel
 * takes up to INT_MAX: say why a value between is refused, once in a while.
 */
static int rnf_ct_max_sysctl(const struct ctl_table *table, int write,
			     void *buffer, size_t *lenp, loff_t *ppos)
{
	int ret = proc_douintvec_minmax(table, write, buffer, lenp, ppos);

	if (write && ret == -EINVAL)
		pr_warn_ratelimited("nf_conntrack_max: at most %u, the most connections the table can hold\n",
				    rnf_ct_ceiling);
	return ret;
}

/* Positions in rnf_ct_sysctl_table (nf_ct_sysctl_index's, without what rnf
 * does not have). */
enum {
	RNF_SYSCTL_MAX,
	RNF_SYSCTL_COUNT,
	RNF_SYSCTL_BUCKETS,
	RNF_SYSCTL_SET,
	RNF_SYSCTL_TMO = RNF_SYSCTL_SET + RNF_CT_SET_MAX,
	RNF_SYSCTL_LAST = RNF_SYSCTL_TMO + RNF_CT_TMO_MAX,
};

#define RNF_SETTING_SYSCTL(name, idx, max)					\
	[RNF_SYSCTL_SET + idx] = {						\
		.procname = "nf_conntrack_" name, .data = &settings[idx],	\
		.maxlen = sizeof(unsigned int), .mode = 0644,			\
		.proc_handler = proc_douintvec_minmax,				\
		.extra1 = SYSCTL_ZERO, .extra2 = max }

#define RNF_TIMEOUT_SYSCTL(name, idx)						\
	[RNF_SYSCTL_TMO + idx] = {						\
		.procname = "nf_conntrack_" name, .data = &timeouts[idx],	\
		.maxlen = sizeof(unsigned int), .mode = 0644,			\
		.proc_handler = proc_douintvec_minmax,				\
		.extra1 = SYSCTL_ZERO, .extra2 = &rnf_ct_tmo_ceiling }

/*
 * The template: init_net's data. Each namespace registers a copy pointing at
 * its own count, switches and timeouts; as
 * nf_conntrack_standalone_init_sysctl() does, the global settings
 * (nf_conntrack_max, nf_conntrack_buckets) are read-only outside init_net.
 * The kernel keeps the timeouts in jiffies behind proc_dointvec_jiffies and
 * the switches in u8 behind proc_dou8vec_minmax; here they are seconds and
 * unsigned ints with the same ranges, which reads and writes the same text
 * (a negative timeout, which the kernel stores, is refused).
 */
static const struct ctl_table rnf_ct_sysctl_table[RNF_SYSCTL_LAST] = {
	[RNF_SYSCTL_MAX] = {
		.procname = "nf_conntrack_max", .data = &conntrack_max,
		.maxlen = sizeof(unsigned int), .mode = 0644,
		.proc_handler = rnf_ct_max_sysctl,
		.extra1 = SYSCTL_ZERO, .extra2 = &rnf_ct_ceiling },
	[RNF_SYSCTL_COUNT] = {
		.procname = "nf_conntrack_count", .maxlen = sizeof(int),
		.mode = 0444, .proc_handler = proc_dointvec },
	[RNF_SYSCTL_BUCKETS] = {
		.procname = "nf_conntrack_buckets", .maxlen = sizeof(unsigned int),
		.mode = 0644, .proc_handler = rnf_ct_buckets_sysctl },
	RNF_SETTING_SYSCTL("checksum", RNF_CT_SET_CHECKSUM, &rnf_ct_one),
	RNF_SETTING_SYSCTL("log_invalid", RNF_CT_SET_LOG_INVALID, &rnf_ct_u8_max),
	RNF_SETTING_SYSCTL("acct", RNF_CT_SET_ACCT, &rnf_ct_one),
	RNF_SETTING_SYSCTL("tcp_loose", RNF_CT_SET_TCP_LOOSE, &rnf_ct_one),
	RNF_SETTING_SYSCTL("tcp_be_liberal", RNF_CT_SET_TCP_BE_LIBERAL, &rnf_ct_one),
	RNF_SETTING_SYSCTL("tcp_ignore_invalid_rst", RNF_CT_SET_TCP_IGNORE_INVALID_RST, &rnf_ct_one),
	RNF_SETTING_SYSCTL("tcp_max_retrans", RNF_CT_SET_TCP_MAX_RETRANS, &rnf_ct_u8_max),
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
	RNF_TIMEOUT_SYSCTL("tcp_timeout_max_retrans", RNF_CT_TMO_TCP_RETRANS),
};

/* nf_ct_netfilter_table: net.nf_conntrack_max, registered in init_net. */
static struct ctl_table rnf_ct_netfilter_table[] = {
	{
		.procname = "nf_conntrack_max", .data = &conntrack_max,
		.maxlen = sizeof(unsigned int), .mode = 0644,
		.proc_handler = rnf_ct_max_sysctl,
		.extra1 = SYSCTL_ZERO, .extra2 = &rnf_ct_ceiling },
};

/* rnf's own: the connections of all namespaces together, in init_net. */
static struct ctl_table rnf_ct_rnf_table[] = {
	{
		.procname = "conntrack_count_all", .data = &rnf_ct_count_all,
		.maxlen = sizeof(unsigned int), .mode = 0444,
		.proc_handler = proc_douintvec },
};

static void rnf_ct_exit_sysctl(struct net *net, struct rnf_ct_net *pn)
{
	const struct ctl_table *table = pn->sysctl->ctl_table_arg;

	if (pn->sysctl_rnf)
		unregister_net_sysctl_table(pn->sysctl_rnf);
	unregister_net_sysctl_table(pn->sysctl);
	kfree(table);
}

static struct ctl_table_header *rnf_ct_netfilter_header;

static int rnf_ct_init_sysctl(struct net *net, struct rnf_ct_net *pn)
{
	struct ctl_table *table;
	int i;

	table = kmemdup(rnf_ct_sysctl_table, sizeof(rnf_ct_sysctl_table), GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	table[RNF_SYSCTL_COUNT].data = &pn->count;
	for (i = 0; i < RNF_CT_SET_MAX; i++)
		table[RNF_SYSCTL_SET + i].data = &pn->set[i];
	for (i = 0; i < RNF_CT_TMO_MAX; i++)
		table[RNF_SYSCTL_TMO + i].data = &pn->tmo[i];
	if (!net_eq(net, &init_net)) {
		table[RNF_SYSCTL_MAX].mode = 0444;
		table[RNF_SYSCTL_BUCKETS].mode = 0444;
	}
	pn->sysctl = register_net_sysctl_sz(net, "net/netfilter", table, ARRAY_SIZE(rnf_ct_sysctl_table));
	if (!pn->sysctl) {
		kfree(table);
		return -ENOMEM;
	}
	if (net_eq(net, &init_net)) {
		pn->sysctl_rnf = register_net_sysctl(net, "net/rnf", rnf_ct_rnf_table);
		if (!pn->sysctl_rnf) {
			rnf_ct_exit_sysctl(net, pn);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The global names, once: net.nf_conntrack_max (nf_conntrack_standalone_init()). */
static int rnf_ct_names_init(void)
{
	rnf_ct_netfilter_header = register_net_sysctl(&init_net, "net", rnf_ct_netfilter_table);
	return rnf_ct_netfilter_header ? 0 : -ENOMEM;
}

static void rnf_ct_names_exit(void)
{
	unregister_net_sysctl_table(rnf_ct_netfilter_header);
}
