// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_tables' C glue: the shared static-inline helpers, and the export of
 * the Rust-implemented table registration and walk (rnf_tables_api.h,
 * rust/glue/tables/api.rs). The socket options, hooks and per-namespace
 * tables are registered from Rust (rust/glue/sockopt.rs, hook.rs,
 * pernet.rs); REJECT calls nf_send_reset* and nf_send_unreach* of
 * nf_reject_ipv4/6 directly (rust/glue/tables/).
 */
#include <linux/export.h>

#include "glue/helpers.c"
#include "glue/rnf_tables_api.h"

EXPORT_SYMBOL_GPL(rnf_tables_register_table);
EXPORT_SYMBOL_GPL(rnf_tables_unregister_table);
EXPORT_SYMBOL_GPL(rnf_tables_walk);
