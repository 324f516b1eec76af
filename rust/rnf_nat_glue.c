// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_nat's C glue: the shared static-inline helpers, and the registration
 * of the nat tables' lookups (rnf_nat_api.h), one RCU pointer per family.
 */
#include <linux/export.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

#include "glue/helpers.c"
#include "glue/rnf_nat_api.h"

static rnf_nat_lookup_fn __rcu *rnf_nat_lookups[2];
static DEFINE_MUTEX(rnf_nat_lookup_mutex);

static int rnf_nat_pf_index(u8 pf)
{
	switch (pf) {
	case NFPROTO_IPV4:
		return 0;
	case NFPROTO_IPV6:
		return 1;
	}
	return -1;
}

int rnf_nat_register_lookup(u8 pf, rnf_nat_lookup_fn fn)
{
	int i = rnf_nat_pf_index(pf), err = 0;

	if (i < 0 || !fn)
		return -EINVAL;
	mutex_lock(&rnf_nat_lookup_mutex);
	if (rcu_access_pointer(rnf_nat_lookups[i]))
		err = -EBUSY;
	else
		rcu_assign_pointer(rnf_nat_lookups[i], (rnf_nat_lookup_fn __rcu *)fn);
	mutex_unlock(&rnf_nat_lookup_mutex);
	return err;
}
EXPORT_SYMBOL_GPL(rnf_nat_register_lookup);

void rnf_nat_unregister_lookup(u8 pf)
{
	int i = rnf_nat_pf_index(pf);

	if (i < 0)
		return;
	mutex_lock(&rnf_nat_lookup_mutex);
	RCU_INIT_POINTER(rnf_nat_lookups[i], NULL);
	mutex_unlock(&rnf_nat_lookup_mutex);
	synchronize_rcu();
}
EXPORT_SYMBOL_GPL(rnf_nat_unregister_lookup);

unsigned int rnf_nat_call_lookup(u8 pf, struct sk_buff *skb, const struct nf_hook_state *state,
				 struct rnf_nat_target *target)
{
	int i = rnf_nat_pf_index(pf);
	rnf_nat_lookup_fn fn;

	memset(target, 0, sizeof(*target));
	if (i < 0)
		return NF_ACCEPT;
	fn = (rnf_nat_lookup_fn)rcu_dereference(rnf_nat_lookups[i]);
	return fn ? fn(skb, state, target) : NF_ACCEPT;
}
