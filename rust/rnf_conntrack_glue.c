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
#include <linux/workqueue.h>

#include "glue/helpers.c"
#include "glue/rnf_conntrack_api.h"

static unsigned int hashsize;
module_param(hashsize, uint, 0444);
MODULE_PARM_DESC(hashsize, "hash buckets (0: derived from memory like nf_conntrack)");

static unsigned int conntrack_max;
module_param(conntrack_max, uint, 0444);
MODULE_PARM_DESC(conntrack_max, "maximum tracked connections (0: same as hashsize)");

static unsigned int udp_timeout = 30;
module_param(udp_timeout, uint, 0644);
MODULE_PARM_DESC(udp_timeout, "seconds an unreplied UDP flow lives (default 30; writable, takes effect at once)");

unsigned int rnf_ct_param_hashsize(void) { return hashsize; }
unsigned int rnf_ct_param_max(void) { return conntrack_max; }
unsigned int rnf_ct_param_udp_timeout(void) { return READ_ONCE(udp_timeout); }

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
