/* SPDX-License-Identifier: MIT */
/*
 * builtin.array_aggregator's output, for the executor. The aggregator has no
 * start(): the executor collects, per operation of the source module (the
 * iterator or search named by `source`), one value per bundle that reaches
 * the aggregator (the mapped `value`, or the whole bundle) and, with
 * `group_by`, one key per bundle; when the source's operation is done it
 * calls aggregator_output_build() to get the bundles to emit (Fusion's
 * Array aggregator, fusion-semantics.md §1.6).
 */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

/**
 * Builds the aggregator's output bundles.
 *
 * `values` is a JSON array, one item per collected bundle in arrival order;
 * `keys` is NULL without group_by, else an array of the same length holding
 * each bundle's group_by value. Both are borrowed (items are copied).
 *
 * Without group_by: one bundle {array: [values…]}; when nothing was
 * collected that is {array: []}, or no bundle at all when `stop_if_empty`.
 * With group_by: one bundle {key, array} per distinct key, in the order each
 * key was first seen, each array in arrival order; nothing collected gives
 * no bundle. Keys are compared by their text (json_to_text: 1 and "1" are
 * one group, null and "" too, as Fusion's text keys are); `key` holds the
 * first value seen for the group.
 *
 * Returns 0 and *ret_bundles (a JSON array the caller owns), or -EINVAL when
 * `values` is not an array or `keys` is not an array of the same length.
 */
int aggregator_output_build(const cJSON *values, const cJSON *keys, bool stop_if_empty,
			    cJSON **ret_bundles);
