/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared main() of the simulator tests: one xpage-simd for the whole
 * executable (each test makes its own guests), stopped at the end; a
 * simulator that does not exit cleanly (crash, sanitizer report) fails
 * the executable.
 */
#ifndef XPAGE_TESTS_SIMTEST_H
#define XPAGE_TESTS_SIMTEST_H

#include <stdio.h>

#include "checkrun.h"
#include "simclient.h"

static struct simd S;

#define P2M_RW 0u
#define P2M_OUT 9u
#define P2M_PAGED 10u
#define P2M_IN 11u
#define P2M_INVALID 0xffu

static inline int simtest_main(Suite *(*make)(void))
{
	int failed, st;

	simd_start(&S, NULL);
	failed = check_run(make());
	st = simd_stop(&S);
	if (st != 0) {
		fprintf(stderr, "xpage-simd exited with status %d\n", st);
		failed++;
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
