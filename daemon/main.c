/* SPDX-License-Identifier: MIT */
/*
 * scenariod: the daemon. Scheduling, the webhook listener and the control
 * socket land with the daemon issue; today it reports its version and the
 * schema version of the store it would open.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "store/store.h"

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("scenariod %s (store schema %d)\n", PACKAGE_VERSION, store_schema_version());
		return 0;
	}
	fprintf(stderr,
		"scenariod %s: the daemon is not implemented yet; "
		"use 'scenarioctl run' to run a scenario\n",
		PACKAGE_VERSION);
	return 69;
}
