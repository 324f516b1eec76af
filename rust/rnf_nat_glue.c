// SPDX-License-Identifier: GPL-2.0
/* rnf_nat's C glue: only the shared static-inline helpers. */
#include "glue/helpers.c"
