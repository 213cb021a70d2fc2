/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library against hypercall argument copies (docs/xen-hazards.md,
 * section 3, as the simulator models it: sim/hypercall.c). Xen copies a
 * vCPU's timer hypercall arguments from its kernel stack through a walk
 * of the guest's page tables; a paging gfn on the walk fails the call,
 * and the guest BUGs on the failure.
 *
 * A pager paging the whole guest out and in, two vCPUs busy and two idle
 * (woken now and then, as timers and interrupts do), never loses the
 * domain: xpage_nominate refuses the walks' gfns (stats.hv_refused), and
 * the oracle finds nothing lost, corrupted or stuck. The same pager on a
 * library that cannot see those walks (a sim backend whose hv_gfns knows
 * the runstate walks only, test_runstate's hazard) loses the domain, for
 * the reason the guest would give.
 *
 * Every personality with paging built in: every release copies hypercall
 * arguments that way.
 */
#include <check.h>

#include "walkpager.h"

#define CRASH_WHY "hypercall argument copy failed (-EFAULT): guest BUG"
#define WAKE_MS 10u

static const char *const pers[] = {
	"xen-4.2", "xen-4.5", "xen-4.6", "xen-4.8", "xen-4.11", "xen-4.12",
	"xen-4.13", "xen-4.14", "xen-4.15", "xen-4.2-age2", "xen-4.17-pvh",
};
#define NPERS (sizeof(pers) / sizeof(pers[0]))

/* Four vCPUs, two busy, all woken every WAKE_MS; the library blind to
 * the walks to the stacks knows the runstate walks. */
static void one_run(const char *name, bool guarded)
{
	wp_one_run(name, 2, WAKE_MS, guarded, SIMP_RUNSTATE_GFNS, CRASH_WHY);
}

START_TEST(guarded_pager_keeps_domain)
{
	for (size_t i = 0; i < NPERS; i++)
		one_run(pers[i], true);
}
END_TEST

START_TEST(blind_pager_loses_domain)
{
	for (size_t i = 0; i < NPERS; i++)
		one_run(pers[i], false);
}
END_TEST

static void add(TCase *tc)
{
	tcase_add_test(tc, guarded_pager_keeps_domain);
	tcase_add_test(tc, blind_pager_loses_domain);
}

int main(void)
{
	return fx_main("hypercall", "hypercall", 240, add);
}
