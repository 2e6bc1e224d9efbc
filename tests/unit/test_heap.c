/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's heap (daemon/heap.c): entries come out in due order
 * whatever the sequence of inserts, moves and removals, checked against a
 * plain sorted list over many random operations, and every entry knows
 * whether it is queued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <stdlib.h>

#include "daemon/heap.h"

#define ENTRIES 500
#define STEPS 20000

/* A small deterministic generator, so a failure replays. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void check_order(struct heap *heap, struct heap_entry *entries)
{
	int64_t last = INT64_MIN;
	size_t queued = 0;

	for (size_t i = 0; i < ENTRIES; i++)
		queued += entries[i].queued;
	assert_int_equal(heap->count, queued);
	while (heap_peek(heap)) {
		struct heap_entry *e = heap_peek(heap);

		assert_true(e->queued);
		assert_true(e->due_ms >= last);
		last = e->due_ms;
		heap_remove(heap, e);
		assert_false(e->queued);
	}
}

static void test_random_operations_keep_due_order(void **state)
{
	struct heap_entry *entries = calloc(ENTRIES, sizeof(*entries));
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	struct heap heap;

	(void)state;
	heap_init(&heap);
	for (int step = 0; step < STEPS; step++) {
		struct heap_entry *e = &entries[next_random(&rng) % ENTRIES];
		int64_t due = (int64_t)(next_random(&rng) % 1000);

		switch (next_random(&rng) % 3) {
		case 0:
		case 1:
			heap_set(&heap, e, due); /* insert, or move when queued */
			assert_true(e->queued);
			assert_int_equal(e->due_ms, due);
			break;
		default:
			heap_remove(&heap, e); /* also when it is not queued */
			assert_false(e->queued);
			break;
		}
		if (heap_peek(&heap))
			for (size_t i = 0; i < ENTRIES; i++)
				if (entries[i].queued)
					assert_true(heap_peek(&heap)->due_ms <= entries[i].due_ms);
	}
	check_order(&heap, entries);
	heap_done(&heap);
	free(entries);
}

static void test_empty_and_done(void **state)
{
	struct heap_entry a = { 0 }, b = { 0 };
	struct heap heap;

	(void)state;
	heap_init(&heap);
	assert_null(heap_peek(&heap));
	heap_remove(&heap, &a);
	heap_set(&heap, &a, 5);
	heap_set(&heap, &b, 3);
	assert_ptr_equal(heap_peek(&heap), &b);
	heap_set(&heap, &b, 9);
	assert_ptr_equal(heap_peek(&heap), &a);
	heap_done(&heap);
	assert_false(a.queued);
	assert_false(b.queued);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_operations_keep_due_order),
		cmocka_unit_test(test_empty_and_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
