/* SPDX-License-Identifier: MIT */
/*
 * How many operations per second the store records when each one is its own
 * commit, the way the executor records them (store_operation_begin before a
 * module runs, store_operation_finish after, each committed at once). The
 * target is 5,000 per second (style.md 3.12: whether commits may run on the
 * loop thread is decided by this figure). For comparison it also measures
 * the same work grouped 100 operations to a transaction, and reports the
 * latency of one begin+finish pair.
 *
 *   bench_store [-n OPERATIONS] [-d STATE_DIR]   measure (default: a tmpdir)
 *   bench_store -c -d STATE_DIR                  open, check integrity, count
 *                                                executions left running
 *                                                (used after killing a run)
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define TARGET_OPS_PER_SECOND 5000.0
#define GROUP_SIZE 100

static int compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One operation as the executor records it: a mapped input, then one
 * output bundle. */
static int record_one(struct store *store, int64_t execution, const cJSON *input,
		      const cJSON *outputs)
{
	int64_t op;
	int r;

	r = store_operation_begin(store, execution, "2", "cloudconvert.convert", input, &op);
	if (r >= 0)
		r = store_operation_finish(store, op, "success", outputs, NULL);
	return r;
}

static int run(struct store *store, int n, bool grouped, int64_t *latencies, double *ret_rate)
{
	_cleanup_json_ cJSON *input = cJSON_Parse(
		"{\"input\":\"import-1\",\"output_format\":\"pdf\",\"engine\":\"office\","
		"\"filename\":\"report-2026-11.docx\"}");
	_cleanup_json_ cJSON *outputs = cJSON_Parse(
		"[{\"id\":\"5f0b6c3e-1c1a-4e0e-9d7e-6b2f0a1f7c11\",\"status\":\"finished\","
		"\"result\":{\"files\":[{\"filename\":\"report.pdf\",\"size\":123456}]}}]");
	int64_t execution, start;
	int r;

	r = store_execution_create(store, "bench", "manual", 0, &execution);
	if (r < 0)
		return r;
	start = now_us();
	for (int i = 0; i < n; i++) {
		int64_t t0 = now_us();

		if (grouped && i % GROUP_SIZE == 0 && (r = store_begin(store)) < 0)
			return r;
		r = record_one(store, execution, input, outputs);
		if (r < 0)
			return r;
		if (grouped && (i % GROUP_SIZE == GROUP_SIZE - 1 || i == n - 1) &&
		    (r = store_commit(store)) < 0)
			return r;
		if (latencies)
			latencies[i] = now_us() - t0;
	}
	*ret_rate = n / ((double)(now_us() - start) / 1e6);
	return store_execution_finish(store, execution, "success", NULL, NULL);
}

static int check(const char *dir)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_json_ cJSON *running = NULL;
	struct store_execution_filter filter = { .status = "running", .limit = 10000 };
	struct store *store = NULL;
	int r;

	r = store_open(dir, &store, &msg);
	if (r < 0) {
		fprintf(stderr, "open: %s\n", msg ? msg : strerror(-r));
		return 1;
	}
	r = store_check_integrity(store, &msg);
	if (r >= 0)
		r = store_execution_list(store, &filter, &running);
	if (r < 0) {
		fprintf(stderr, "check: %s\n", msg ? msg : strerror(-r));
		store_close(store);
		return 1;
	}
	/* Killed runs stay "running" until their lease expires; then the
	 * daemon's recovery finds them through store_execution_list_abandoned. */
	printf("integrity ok; %d execution(s) left running by killed processes\n",
	       cJSON_GetArraySize(running));
	store_close(store);
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ int64_t *latencies = NULL;
	const char *dir = NULL;
	struct store *store = NULL;
	double single, grouped;
	bool check_only = false;
	int n = 20000, opt, r;

	while ((opt = getopt(argc, argv, "n:d:c")) != -1) {
		if (opt == 'n')
			n = (int)strtol(optarg, NULL, 10);
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 'c')
			check_only = true;
		else
			return 2;
	}
	if (check_only)
		return dir ? check(dir) : 2;
	if (n <= 0 || n > 10000000)
		return 2;
	if (!dir) {
		const char *t = getenv("TMPDIR");

		tmp = xasprintf("%s/bench-store-XXXXXX", t ? t : "/tmp");
		if (!mkdtemp(tmp))
			return 1;
		dir = tmp;
	}

	r = store_open(dir, &store, &msg);
	if (r < 0) {
		fprintf(stderr, "open: %s\n", msg ? msg : strerror(-r));
		return 1;
	}
	latencies = xcalloc((size_t)n, sizeof(*latencies));
	r = run(store, n, false, latencies, &single);
	if (r >= 0)
		r = run(store, n, true, NULL, &grouped);
	store_close(store);
	if (r < 0) {
		fprintf(stderr, "bench: %s\n", strerror(-r));
		return 1;
	}
	qsort(latencies, (size_t)n, sizeof(*latencies), compare_int64);

	printf("state dir:           %s\n", dir);
	printf("operations:          %d per mode\n", n);
	printf("commit per op:       %.0f ops/s (%.2fx the %.0f ops/s target)\n", single,
	       single / TARGET_OPS_PER_SECOND, TARGET_OPS_PER_SECOND);
	printf("  begin+finish:      p50 %lld us, p99 %lld us, max %lld us\n",
	       (long long)latencies[n / 2], (long long)latencies[(int64_t)n * 99 / 100],
	       (long long)latencies[n - 1]);
	printf("%d ops per commit:  %.0f ops/s\n", GROUP_SIZE, grouped);
	return single >= TARGET_OPS_PER_SECOND ? 0 : 3;
}
