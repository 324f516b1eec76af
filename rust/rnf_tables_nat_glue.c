// SPDX-License-Identifier: GPL-2.0
/*
 * rnf_tables_nat's C glue: only the shared static-inline helpers. The
 * tables and lookups are registered from Rust (rust/glue/tables_nat/)
 * through the exports of rnf_tables (rnf_tables_api.h) and rnf_nat
 * (rnf_nat_api.h).
 */
#include "glue/helpers.c"
