/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated guest of the safety tests that run against xpage-simd
 * (test_logs, test_repro, test_ring_gfn): each test starts its own
 * simulator, creates its guests and opens the library on them.
 *
 * The tests run without fork (CK_NOFORK), so that a failed assertion
 * comes back to the runner and the teardown stops the test's simulator;
 * in fork mode the test process _exit()s and the simulator outlives it.
 */
#ifndef XPAGE_TESTS_SAFETY_FIXTURE_H
#define XPAGE_TESTS_SAFETY_FIXTURE_H

#include <check.h>
#include <stdint.h>

#include <xpage/sim.h>

/* Start the test's simulator (@o may be NULL); fails the test if it does
 * not start. The teardown stops it if the test does not. */
xpage_sim_t *fx_sim_start(const struct xpage_sim_opts *o);
/* Stop the test's simulator, if one runs (the teardown, too). */
void fx_sim_stop(void);
/* A guest on @sim: @pages pages, @vcpus vCPUs, personality @pers (NULL:
 * the simulator's default), contents from @seed. Returns its domid. */
uint32_t fx_guest(xpage_sim_t *sim, const char *pers, uint32_t vcpus,
		  uint64_t pages, uint64_t seed);
/* xpage_open of the guest @domid on @sim (the simulator backend, every
 * age), with the flags, features and log settings of @o (NULL: none).
 * Fails the test with "<@fmt...>: <strerror(errno)>" if the open fails. */
xpage_t *fx_open(xpage_sim_t *sim, uint32_t domid,
		 const struct xpage_open_opts *o,
		 const struct xpage_callbacks *cb, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The oracle's verdict on @domid (flags as xpage_sim_report()'s): fails
 * the test, naming @when, if a page was lost or corrupted, a vCPU stuck
 * for 2 s, or the domain crashed. */
void fx_verdict(xpage_sim_t *sim, uint32_t domid, unsigned flags,
		const char *when);
/* main(): 77 (skipped) when $XPAGE_SIMD names no simulator; else runs
 * the tests @add puts in test case @tcase of suite @suite (each with
 * @secs to run) without fork, and returns 1 if any failed, else 0. */
int fx_main(const char *suite, const char *tcase, double secs,
	    void (*add)(TCase *tc));

#endif
