/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Zero pages in a simulated guest, for the batch pager's --sim-zero-pct,
 * its tests and xpage-bench. A new simulated guest holds none: every RAM
 * page starts with its pattern (a lazy guest is all zero).
 */
#ifndef BATCH_PAGER_SIM_ZERO_H
#define BATCH_PAGER_SIM_ZERO_H

#include <stdbool.h>
#include <stdint.h>

#include <xpage/sim.h>

/* Is @gfn one of the @pct % that sim_zero_share() makes zero for @seed? */
bool sim_zero_pick(uint64_t seed, uint64_t gfn, uint32_t pct);

/*
 * Make @pct % of RAM gfns [0, @pages) of guest @domid all zero, the same
 * gfns for the same @seed: each is ballooned out and read back by vCPU
 * 0, which gives it a fresh zero frame (the simulator's oracle then
 * expects zeros there). For a guest no pager serves yet. Returns how
 * many gfns were made zero, or a negative errno.
 */
int64_t sim_zero_share(xpage_sim_t *sim, uint32_t domid, uint64_t pages,
		       uint32_t pct, uint64_t seed);

#endif
