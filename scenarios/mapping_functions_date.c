/* SPDX-License-Identifier: MIT */
/*
 * Fusion's date functions (being filled in).
 */
#include "scenarios/mapping_internal.h"

const struct mapping_function mapping_functions_date[] = {
	{ .name = NULL },
};
