/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's min-heap (heap.h): a textbook binary heap over an array
 * of pointers, each entry remembering its index so that heap_set and
 * heap_remove need no search. Hand-written because no Debian library offers
 * an intrusive heap, and the whole thing is sixty lines.
 */
#include "daemon/heap.h"

#include <stdlib.h>

#include "util/xalloc.h"

void heap_init(struct heap *heap)
{
	*heap = (struct heap){ 0 };
}

void heap_done(struct heap *heap)
{
	for (size_t i = 0; i < heap->count; i++)
		heap->items[i]->queued = false;
	free(heap->items);
	*heap = (struct heap){ 0 };
}

static void place(struct heap *heap, size_t i, struct heap_entry *entry)
{
	heap->items[i] = entry;
	entry->index = i;
}

static void sift_up(struct heap *heap, size_t i)
{
	struct heap_entry *entry = heap->items[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (heap->items[parent]->due_ms <= entry->due_ms)
			break;
		place(heap, i, heap->items[parent]);
		i = parent;
	}
	place(heap, i, entry);
}

static void sift_down(struct heap *heap, size_t i)
{
	struct heap_entry *entry = heap->items[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= heap->count)
			break;
		if (child + 1 < heap->count &&
		    heap->items[child + 1]->due_ms < heap->items[child]->due_ms)
			child++;
		if (entry->due_ms <= heap->items[child]->due_ms)
			break;
		place(heap, i, heap->items[child]);
		i = child;
	}
	place(heap, i, entry);
}

void heap_set(struct heap *heap, struct heap_entry *entry, int64_t due_ms)
{
	if (entry->queued) {
		entry->due_ms = due_ms;
		sift_up(heap, entry->index);
		sift_down(heap, entry->index);
		return;
	}
	if (heap->count == heap->capacity) {
		heap->capacity = heap->capacity ? 2 * heap->capacity : 64;
		heap->items = xrealloc(heap->items, heap->capacity * sizeof(*heap->items));
	}
	entry->due_ms = due_ms;
	entry->queued = true;
	place(heap, heap->count++, entry);
	sift_up(heap, entry->index);
}

void heap_remove(struct heap *heap, struct heap_entry *entry)
{
	size_t i = entry->index;
	struct heap_entry *last;

	if (!entry->queued)
		return;
	entry->queued = false;
	last = heap->items[--heap->count];
	if (last == entry)
		return;
	place(heap, i, last);
	sift_up(heap, i);
	sift_down(heap, last->index);
}

struct heap_entry *heap_peek(const struct heap *heap)
{
	return heap->count > 0 ? heap->items[0] : NULL;
}
