/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check boilerplate of the simulator tests, shared by those that run
 * one simulator for the whole executable (simtest.h) and those that start
 * their own or none (test_sim_cli.c, test_sim_api.c: the latter is built
 * against the public library alone, so this header needs check only).
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

/* Run every test of @s; the number that failed. */
static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

/* main() of an executable whose tests need no shared simulator. */
static inline int check_main(Suite *(*make)(void))
{
	return check_run(make()) ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
