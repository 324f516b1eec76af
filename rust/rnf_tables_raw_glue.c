// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_tables_raw's C glue: only the shared static-inline helpers. The
 * tables are registered, and their hooks run, from Rust
 * (rust/glue/tables_reg/) through rnf_tables' exports (rnf_tables_api.h).
 */
#include "glue/helpers.c"
