/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check boilerplate every suite shares: a test case with a timeout,
 * running a suite, main(). Only check is needed (tests/sim/test_sim_api.c
 * is built against the public library alone).
 */
#ifndef XPAGE_TESTS_CHECKRUN_H
#define XPAGE_TESTS_CHECKRUN_H

#include <check.h>
#include <stdlib.h>

/* A test case of @s named @name whose tests each have @secs to run. */
static inline TCase *check_tcase(Suite *s, const char *name, double secs)
{
	TCase *t = tcase_create(name);

	tcase_set_timeout(t, secs);
	suite_add_tcase(s, t);
	return t;
}

/* Run every test of @s in @mode (CK_FORK, CK_NOFORK, or CK_FORK_GETENV:
 * the CK_FORK environment variable decides); the number that failed. */
static inline int check_run_mode(Suite *s, enum fork_status mode)
{
	SRunner *sr = srunner_create(s);
	int failed;

	if (mode != CK_FORK_GETENV)
		srunner_set_fork_status(sr, mode);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

static inline int check_run(Suite *s)
{
	return check_run_mode(s, CK_FORK_GETENV);
}

/* main() of an executable whose tests need no shared simulator. */
static inline int check_main(Suite *(*make)(void))
{
	return check_run(make()) ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The same, in @mode. */
static inline int check_main_mode(Suite *(*make)(void), enum fork_status mode)
{
	return check_run_mode(make(), mode) ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
