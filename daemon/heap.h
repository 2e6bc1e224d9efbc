/* SPDX-License-Identifier: MIT */
/*
 * A binary min-heap of timed entries, ordered by due time: the scheduler's
 * queue of what is due next (scenario slots, incomplete attempts, the
 * housekeeping tick). Entries are embedded in their owners and know their
 * own position, so moving or removing one is O(log n) with no search.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct heap_entry {
	int64_t due_ms; /* epoch ms */
	size_t index; /* position in the heap; meaningful only while queued */
	bool queued;
};

struct heap {
	struct heap_entry **items; /* owned array; the entries are borrowed */
	size_t count;
	size_t capacity;
};

void heap_init(struct heap *heap);
void heap_done(struct heap *heap);
/* Queues `entry` at `due_ms`, or moves it there when already queued. */
void heap_set(struct heap *heap, struct heap_entry *entry, int64_t due_ms);
/* Takes `entry` out; nothing happens when it is not queued. */
void heap_remove(struct heap *heap, struct heap_entry *entry);
/* The entry due first, or NULL when the heap is empty. */
struct heap_entry *heap_peek(const struct heap *heap);
