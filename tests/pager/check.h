/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CHECK(cond, fmt, ...): the pager tests' assertion. A false condition
 * prints where and why, counts one in the including file's `failures`,
 * and the test goes on, so that one run shows every failure.
 */
#ifndef PAGER_TEST_CHECK_H
#define PAGER_TEST_CHECK_H

#include <stdio.h>

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		failures++; \
	} \
} while (0)

#endif
