/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the batch calls share (batch.c): the opening every call makes, the
 * per-gfn check loop, the scratch array of paging operations, and the way
 * a call that fails as a whole reports it. The calls themselves live by
 * direction: batch_pageout.c (nominate, evict), batch_map.c (map, unmap),
 * unnominate.c, batch_pagein.c (load, resume, adopt).
 *
 * Every batch call follows the same shape:
 *   1. batch_open(): arguments, flags, an enabled ring, and (for calls
 *      that act on what the hypervisor holds) a ring not found corrupt;
 *   2. batch_check(): each gfn in range, listed once, and in the state
 *      the call needs, without touching anything; the ones that pass
 *      are queued, each operation carrying its caller position (idx);
 *   3. the hypervisor step(s), in one trap where it allows;
 *   4. batch_apply(): each result back to its caller position.
 */
#ifndef XPAGE_BATCH_H
#define XPAGE_BATCH_H

#include "private.h"

/* One batch call in progress. */
struct batch {
	struct xpage *xp;
	const uint64_t *gfns;
	size_t n;
	int *status;          /* the caller's, one per gfn */
	/* The gfns refused for their state (-EINVAL): the first is named in
	 * one log line with both states, however many there were. */
	const char *call;     /* "xpage_evict" */
	const char *need;     /* the state the call needs, in words */
	size_t misfits;
	uint64_t misfit_gfn;
	const char *misfit_have;
};

/* batch_open() @needs */
#define BATCH_TRUSTS_RING (1u << 0) /* refused (-EPROTO) once it is corrupt */

/*
 * Start a batch call: 0 to go on, 1 when there is nothing to do (n = 0),
 * or a negative errno (-EINVAL: NULL array with n > 0 or a flag outside
 * @known_flags; -ESHUTDOWN: paging is not enabled; -EPROTO: @needs has
 * BATCH_TRUSTS_RING and the ring was found corrupt).
 */
int batch_open(struct batch *b, struct xpage *xp, const uint64_t *gfns,
	       size_t n, int *status, unsigned flags, unsigned known_flags,
	       unsigned needs);

/* The answer of a call that batch_open() stopped (0 for n = 0). */
static inline int batch_opened(int rc)
{
	return rc < 0 ? xp_err(-rc) : 0;
}

/*
 * A call's own test of one gfn, after range and duplicate checks passed:
 * 0 when the gfn passes (the call queues it), else its status (use
 * batch_misfit() for a wrong state).
 */
typedef int (*batch_check_fn)(struct batch *b, size_t i, void *ctx);

/* Check every gfn: status[i] is -ERANGE (beyond the guest), -EALREADY
 * (listed before in this call) or what @check says. Logs the misfits.
 * Returns how many passed. */
size_t batch_check(struct batch *b, batch_check_fn check, void *ctx);

/* The status of gfn i refused for its state; @have: the state in words
 * (NULL: the table's). */
int batch_misfit(struct batch *b, size_t i, const char *have);

/* Room for @n paging operations in the handle's scratch array (which
 * every batch call reuses: one call's operations are gone at the next
 * call), or NULL. */
struct xp_paging_op *batch_ops(struct xpage *xp, size_t n);

/* Queue an operation on gfn i of the call. */
static inline struct xp_paging_op batch_op(const struct batch *b, size_t i,
					   uint32_t op)
{
	return (struct xp_paging_op){ .op = op, .gfn = b->gfns[i], .idx = i };
}

/* Each operation's result into its caller's status; a success moves the
 * gfn to state @to. Returns the successes. */
size_t batch_apply(struct batch *b, const struct xp_paging_op *ops, size_t k,
		   unsigned to);

/*
 * A call that failed as a whole after queueing work, with @rc: every gfn
 * not already refused reports @rc (none may read as done), the failure is
 * logged, and the call's answer is returned (-ESHUTDOWN when the domain
 * died or paging went away, -EPROTO marks the handle's ring untrusted).
 */
int batch_failed(struct batch *b, int rc);

/* Log and classify a hypervisor failure of a whole call (see above);
 * returns the call's answer as a negative errno. */
int xp_call_failed(struct xpage *xp, int rc);

/* Map @n gfns with the backend in one call, counted as a hypercall. */
void *xp_map_counted(struct xpage *xp, const uint64_t *gfns, size_t n,
		     int prot, int *err);

/* The body of a public batch call with the usual parameters (xp, gfns,
 * n, flags, status): @call inside the guard (guard.c). */
#define BATCH_ENTRY(call) \
	{ return XP_GUARDED(xp, XP_NEEDS_HV, call(xp, gfns, n, flags, status)); }

/*
 * batch_pageout.c: run @k queued nominate operations, each op's rc
 * filled; at age 2 each gfn is mapped while it is nominated (one mapping
 * call), and one that cannot be mapped answers -EBUSY. 0 or the negative
 * errno of a batch that could not be issued.
 */
int xp_nominate_ops(struct xpage *xp, struct xp_paging_op *ops, size_t k);

/*
 * unnominate.c: make @n NOMINATED gfns ordinary resident pages again.
 * The gfns are in range, listed once and not mapped by the handle (the
 * caller checked). err[j] gets 0 (the gfn is RESIDENT now) or why not
 * (the gfn keeps its state, or is EVICTED when its load back failed).
 * Returns 0, or the negative errno of a step that failed as a whole
 * (err[] then holds it for every gfn not yet settled). Uses the handle's
 * scratch operations.
 */
int xp_unnominate(struct xpage *xp, const uint64_t *gfns, size_t n,
		  int *err);

#endif
