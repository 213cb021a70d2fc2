/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pager of the safety tests that pit the library against the gfns Xen
 * walks to itself (test_runstate, test_hypercall; docs/xen-hazards.md):
 * it pages the whole guest out, round and round, and serves its
 * page-ins, on a simulated guest whose vCPUs run a workload. The library
 * is opened either as it is or through a sim backend whose hv_gfns
 * operation the test replaces (NULL: the library cannot tell which gfns
 * Xen walks).
 */
#ifndef XPAGE_TESTS_SAFETY_WALKPAGER_H
#define XPAGE_TESTS_SAFETY_WALKPAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "fixture.h"
#include "private.h"
#include "simp_call.h"

#define WP_PAGES 256u
#define WP_BATCH 64u

struct pager {
	xpage_t *xp;
	uint8_t *store[WP_PAGES];
	uint64_t next;
	int populates;
	bool load_now;    /* populate loads at once (else the test does) */
};

/* A simulator, a guest on it, and a connection of the test's own attached
 * to the guest: what the library keeps to itself (the walks, a vCPU's
 * pause count, why the domain crashed). */
struct env {
	xpage_sim_t *sim;
	uint32_t domid;
	int raw;
};

/* A simulator and a guest of WP_PAGES pages and @vcpus on @pers; the
 * first @busy vCPUs run a workload (0: none). */
void wp_up(struct env *e, const char *pers, uint32_t vcpus, uint32_t busy);
void wp_down(struct env *e);

/* The library on the guest, through the sim backend as it is (@hv_gfns
 * false) or with its hv_gfns operation replaced by @hv (NULL: none). */
typedef int wp_hv_fn(struct xp_backend *be, uint64_t *gfns, size_t cap);
xpage_t *wp_open(struct env *e, struct pager *p, bool replace, wp_hv_fn *hv,
		 uint32_t flags);

/* Copy the nominated @gfns out through one mapping and evict them. */
void wp_write_out(struct pager *p, uint64_t *gfns, size_t n);
/* Page out and serve page-ins for @ms, or until the domain is lost;
 * every @wake_ms (0: never) a toolstack pause and unpause wakes every
 * vCPU, the idle ones too. */
void wp_run(struct env *e, struct pager *p, unsigned ms, unsigned wake_ms);
/* Why the domain crashed ("" if it did not), as the oracle reports it. */
void wp_crash_reason(struct env *e, char why[64]);
/* Load everything still out, close the library; then the oracle must find
 * nothing lost, corrupted or stuck. */
void wp_page_in_all(struct env *e, struct pager *p);
/* Close the library on a lost domain. */
void wp_abandon(struct pager *p);
/*
 * A pager pages a guest of @pers out and in, four vCPUs of which @busy
 * run a workload, all woken every @wake_ms (0: never). @guarded: through
 * the library as it is, for 800 ms; the domain must live, the walks be
 * refused and the oracle find nothing lost, corrupted or stuck. Else
 * through a library that knows only the walks @known_op gives (the other
 * hazard's; 0: none), until the domain is lost (at most 10 s): it must
 * be, for @why.
 */
void wp_one_run(const char *pers, uint32_t busy, unsigned wake_ms,
		bool guarded, uint16_t known_op, const char *why);
struct xpage_stats wp_stats(xpage_t *xp);
/* SIMP_RUNSTATE_GFNS / a vCPU's vm_event pause count, over the test's
 * own connection. */
void wp_runstate(struct env *e, struct simp_runstate *rs);
int32_t wp_pauses(struct env *e, uint32_t vcpu);
/* An hv_gfns operation that knows one kind of Xen's walks only: the gfns
 * @op (SIMP_RUNSTATE_GFNS or SIMP_STACK_GFNS) gives for @e's guest, read
 * once by wp_know(), as a backend of a library that knows one hazard and
 * not the other would answer. */
void wp_know(struct env *e, uint16_t op);
int wp_hv_known(struct xp_backend *be, uint64_t *gfns, size_t cap);

#endif
