// SPDX-License-Identifier: GPL-2.0
/*
 * insn_profile: a QEMU TCG plugin (QEMU 7.2, plugin API version 1) that
 * counts the guest instructions vCPU 0 executes, by translation block, and
 * writes the counts to a file each time the guest calls a marker function.
 * tests/bench/run.sh builds it (against the qemu-plugin.h that
 * scripts/setup.sh --qemu-plugin fetches) and loads it with
 *   -plugin file=insn_profile.so,marker=0xADDR,out=PREFIX
 *
 * Every translation block (TB) gets a counter of its executions on vCPU 0
 * (an execution callback that looks at the vCPU index; blocks with the same
 * start address and instruction count share one counter). When any vCPU
 * executes a TB that starts at the marker address (a guest kernel function
 * the bench calls only to mark a window, e.g. the sync(2) entry point), the
 * plugin writes PREFIX.N (N = 1, 2, ...: the Nth marker) with one line per
 * block executed since the previous marker:
 *   START_ADDRESS_HEX INSTRUCTIONS_IN_BLOCK EXECUTIONS
 * and sets the counters back to zero. A block's instructions are counted
 * whole at its start: one left by an exception or interrupt part-way is
 * counted in full (rare next to the blocks that run to their end).
 *
 * Plain C and libc: qemu-plugin.h needs no glib.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* One counter per (start address, instruction count) seen in translation. */
struct tb_count {
	uint64_t vaddr;
	uint64_t execs;		/* executions on vCPU 0 since the last marker */
	size_t insns;
	struct tb_count *next;	/* the hash chain */
};

#define HASH_BITS 18
static struct tb_count *table[1u << HASH_BITS];
/* Translation runs on every vCPU's thread; the dump too. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t marker;
static char *prefix;
static unsigned int windows;

static size_t hash(uint64_t vaddr, size_t insns)
{
	uint64_t h = (vaddr ^ (insns << 56)) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> (64 - HASH_BITS));
}

static struct tb_count *tb_count_get(uint64_t vaddr, size_t insns)
{
	size_t i = hash(vaddr, insns);
	struct tb_count *c;

	for (c = table[i]; c; c = c->next)
		if (c->vaddr == vaddr && c->insns == insns)
			return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->vaddr = vaddr;
	c->insns = insns;
	c->next = table[i];
	table[i] = c;
	return c;
}

static void tb_exec(unsigned int vcpu_index, void *udata)
{
	struct tb_count *c = udata;

	if (vcpu_index == 0)
		c->execs++;
}

/* Writes the counts since the last marker to PREFIX.N and resets them. */
static void dump(void)
{
	char path[4096];
	FILE *f;
	size_t i;
	struct tb_count *c;

	pthread_mutex_lock(&lock);
	windows++;
	snprintf(path, sizeof(path), "%s.%u", prefix, windows);
	f = fopen(path, "w");
	if (!f) {
		qemu_plugin_outs("insn_profile: cannot write the window file\n");
	}
	for (i = 0; i < (1u << HASH_BITS); i++)
		for (c = table[i]; c; c = c->next) {
			if (!c->execs)
				continue;
			if (f)
				fprintf(f, "%" PRIx64 " %zu %" PRIu64 "\n",
					c->vaddr, c->insns, c->execs);
			c->execs = 0;
		}
	if (f)
		fclose(f);
	pthread_mutex_unlock(&lock);
}

static void marker_exec(unsigned int vcpu_index, void *udata)
{
	tb_exec(vcpu_index, udata);
	dump();
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	size_t insns = qemu_plugin_tb_n_insns(tb);
	struct tb_count *c;

	pthread_mutex_lock(&lock);
	c = tb_count_get(vaddr, insns);
	pthread_mutex_unlock(&lock);
	if (!c)
		return;
	qemu_plugin_register_vcpu_tb_exec_cb(tb, vaddr == marker ? marker_exec : tb_exec,
					     QEMU_PLUGIN_CB_NO_REGS, c);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	if (!info->system_emulation) {
		fprintf(stderr, "insn_profile: system emulation only\n");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "marker=", 7)) {
			marker = strtoull(argv[i] + 7, NULL, 0);
		} else if (!strncmp(argv[i], "out=", 4)) {
			prefix = strdup(argv[i] + 4);
		} else {
			fprintf(stderr, "insn_profile: unknown argument %s (marker=ADDR, out=PREFIX)\n",
				argv[i]);
			return -1;
		}
	}
	if (!marker || !prefix) {
		fprintf(stderr, "insn_profile: marker=ADDR and out=PREFIX are needed\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	return 0;
}
