/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated guest of the safety tests; see fixture.h. */
#include "fixture.h"
#include "checkrun.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static xpage_sim_t *running_sim;

xpage_sim_t *fx_sim_start(const struct xpage_sim_opts *o)
{
	xpage_sim_t *sim = xpage_sim_start(o);

	ck_assert_msg(sim, "xpage_sim_start: %s", strerror(errno));
	running_sim = sim;
	return sim;
}

void fx_sim_stop(void)
{
	if (running_sim)
		xpage_sim_stop(running_sim);
	running_sim = NULL;
}

uint32_t fx_guest(xpage_sim_t *sim, const char *pers, uint32_t vcpus,
		  uint64_t pages, uint64_t seed)
{
	struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = vcpus, .pages = pages, .personality = pers,
		.seed = seed);
	int domid = xpage_sim_create_guest(sim, &g);

	ck_assert_int_gt(domid, 0);
	return (uint32_t)domid;
}

xpage_t *fx_open(xpage_sim_t *sim, uint32_t domid,
		 const struct xpage_open_opts *o,
		 const struct xpage_callbacks *cb, const char *fmt, ...)
{
	struct xpage_open_opts oo = XPAGE_OPTS(xpage_open_opts,
		.domid = domid, .backend = XPAGE_BACKEND_SIM,
		.sim_socket = xpage_sim_socket(sim), .ages = XPAGE_AGES_ALL);
	xpage_t *xp;

	if (o) {
		oo.flags = o->flags;
		oo.features_required = o->features_required;
		oo.features_wanted = o->features_wanted;
		oo.log_fn = o->log_fn;
		oo.log_ctx = o->log_ctx;
		oo.log_level = o->log_level;
	}
	xp = xpage_open(&oo, cb);
	if (!xp) {
		int err = errno;
		char what[256];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		ck_abort_msg("%s: %s", what, strerror(err));
	}
	return xp;
}

void fx_verdict(xpage_sim_t *sim, uint32_t domid, unsigned flags,
		const char *when)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	ck_assert_int_eq(xpage_sim_report(sim, domid, flags, 2000, &r), 0);
	ck_assert_msg(!r.lost && !r.corrupted && !r.stuck && !r.crashed,
		      "%s: lost %llu, corrupted %llu, stuck %llu, crashed %u",
		      when, (unsigned long long)r.lost,
		      (unsigned long long)r.corrupted,
		      (unsigned long long)r.stuck, r.crashed);
}

int fx_main(const char *suite, const char *tcase, double secs,
	    void (*add)(TCase *tc))
{
	Suite *s;
	TCase *tc;

	if (!getenv("XPAGE_SIMD") || access(getenv("XPAGE_SIMD"), X_OK) < 0) {
		printf("no xpage-simd (XPAGE_SIMD): skipped\n");
		return 77;
	}
	s = suite_create(suite);
	tc = tcase_create(tcase);
	tcase_set_timeout(tc, secs);
	add(tc);
	tcase_add_checked_fixture(tc, NULL, fx_sim_stop);
	suite_add_tcase(s, tc);
	return check_run_mode(s, CK_NOFORK) ? EXIT_FAILURE : EXIT_SUCCESS;
}
