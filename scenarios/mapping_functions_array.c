/* SPDX-License-Identifier: MIT */
/*
 * Fusion's array functions (being filled in).
 */
#include "scenarios/mapping_internal.h"

const struct mapping_function mapping_functions_array[] = {
	{ .name = NULL },
};
