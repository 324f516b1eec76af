// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_tables' C glue: only the shared static-inline helpers. The socket
 * options, hooks and per-namespace tables are registered from Rust
 * (rust/glue/sockopt.rs, hook.rs, pernet.rs); REJECT calls nf_send_reset*
 * and nf_send_unreach* of nf_reject_ipv4/6 directly (rust/glue/tables/).
 */
#include "glue/helpers.c"
