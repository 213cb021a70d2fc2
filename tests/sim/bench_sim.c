/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Round-trip cost of the simulator's hypercalls: one SIMP_PAGING_OP, and
 * SIMP_MULTICALL batches of 256 nominates, 256 evicts and 256 preps.
 * Usage: XPAGE_SIMD=... bench_sim [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simclient.h"

#define BATCH 256

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static struct {
	struct simp_multicall h;
	struct simp_paging_op o[BATCH];
} mc;
static struct { struct simp_results h; int32_t rc[BATCH]; } res;

static int multicall(struct tc *c, uint32_t op, uint64_t base)
{
	mc.h.n = BATCH;
	for (unsigned i = 0; i < BATCH; i++) {
		mc.o[i].op = op;
		mc.o[i].bounce_slot = op == SIMP_PAGING_PREP ? i : SIMP_NO_BUFFER;
		mc.o[i].gfn = base + i;
	}
	if (tc_call(c, SIMP_MULTICALL, &mc, sizeof(mc), &res, sizeof(res),
		    NULL) < 0)
		return -1;
	for (unsigned i = 0; i < BATCH; i++)
		if (res.rc[i] != 0)
			return -1;
	return 0;
}

/* The simclient helpers use check's asserts; this program only uses the
 * ones that do not. */
int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 20;
	uint64_t pages = (uint64_t)rounds * BATCH;
	struct simd s;
	struct tc c;
	struct simp_u32 d;
	struct simp_guest g;
	double t, t_single = 0, t_nom = 0, t_ev = 0, t_prep = 0, t_pair = 0;
	unsigned n_single = 20000;

	memset(&g, 0, sizeof(g));
	g.pages = pages + BATCH;
	g.vcpus = 1;
	simd_start(&s, NULL);
	if (tc_connect(&c, &s) < 0 ||
	    tc_call(&c, SIMP_CREATE_GUEST, &g, sizeof(g), &d, sizeof(d),
		    NULL) < 0) {
		fprintf(stderr, "cannot create a guest\n");
		return 1;
	}
	{
		/* attach + enable without check's asserts */
		struct simp_u32 a = { d.v, 0 }, port;
		struct simp_dominfo di;
		int fds[2], nfds = 2;

		if (simp_call(c.sock, SIMP_ATTACH, &a, sizeof(a), &di,
			      sizeof(di), NULL, fds, &nfds) < 0)
			return 1;
		c.domid = d.v;
		a.v = 0;
		nfds = 2;
		if (simp_call(c.sock, SIMP_ENABLE, &a, sizeof(a), &port,
			      sizeof(port), NULL, fds, &nfds) < 0)
			return 1;
	}

	/* One SIMP_PAGING_OP: a nominate refused at once (no state change),
	 * so the number is the trap itself. */
	{
		struct simp_paging_op o = { SIMP_PAGING_EVICT, SIMP_NO_BUFFER, 0 };

		for (unsigned i = 0; i < 1000; i++)
			tc_call(&c, SIMP_PAGING_OP, &o, sizeof(o), NULL, 0, NULL);
		t = now_us();
		for (unsigned i = 0; i < n_single; i++)
			tc_call(&c, SIMP_PAGING_OP, &o, sizeof(o), NULL, 0, NULL);
		t_single = (now_us() - t) / n_single;
	}
	/* Page-out one gfn per trap: nominate + evict, BATCH gfns. */
	t = now_us();
	for (unsigned i = 0; i < BATCH; i++) {
		struct simp_paging_op o = { SIMP_PAGING_NOMINATE, SIMP_NO_BUFFER,
					    pages + i };

		if (tc_call(&c, SIMP_PAGING_OP, &o, sizeof(o), NULL, 0, NULL))
			return 1;
		o.op = SIMP_PAGING_EVICT;
		if (tc_call(&c, SIMP_PAGING_OP, &o, sizeof(o), NULL, 0, NULL))
			return 1;
	}
	t_pair = (now_us() - t) / BATCH;

	for (unsigned r = 0; r < rounds; r++) {
		uint64_t base = (uint64_t)r * BATCH;

		t = now_us();
		if (multicall(&c, SIMP_PAGING_NOMINATE, base))
			return 1;
		t_nom += now_us() - t;
		t = now_us();
		if (multicall(&c, SIMP_PAGING_EVICT, base))
			return 1;
		t_ev += now_us() - t;
		t = now_us();
		if (multicall(&c, SIMP_PAGING_PREP, base))
			return 1;
		t_prep += now_us() - t;
	}
	printf("SIMP_PAGING_OP round trip:           %7.2f us\n", t_single);
	printf("page-out, one trap per op:           %7.2f us/page "
	       "(nominate + evict)\n", t_pair);
	printf("SIMP_MULTICALL 256 nominates:        %7.1f us (%.2f us/op)\n",
	       t_nom / rounds, t_nom / rounds / BATCH);
	printf("SIMP_MULTICALL 256 evicts:           %7.1f us (%.2f us/op)\n",
	       t_ev / rounds, t_ev / rounds / BATCH);
	printf("SIMP_MULTICALL 256 preps (loads):    %7.1f us (%.2f us/op)\n",
	       t_prep / rounds, t_prep / rounds / BATCH);
	tc_close(&c);
	return simd_stop(&s) == 0 ? 0 : 1;
}
