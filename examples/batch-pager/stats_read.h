/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a --stats-json file back, for the batch pager's tests and
 * xpage-bench.
 */
#ifndef BATCH_PAGER_STATS_READ_H
#define BATCH_PAGER_STATS_READ_H

/* The first number named @key ("key": value) in @file (its first 64
 * KiB), or -1 when the file, the key or a number (null) is missing. */
double stats_json_num(const char *file, const char *key);

#endif
