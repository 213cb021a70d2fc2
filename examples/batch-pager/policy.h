/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Victim choice, pluggable: a policy is a struct of function pointers
 * (struct policy_ops) behind a small base struct. The page-out loop asks
 * it for candidates and tells it what happened to them; whether a gfn may
 * be paged out at all (resident, not already in the store) is the pager's
 * business, passed in as a predicate.
 *
 * To add a policy: write a policy_ops in its own file and list it in
 * policy_find() (policy.c).
 */
#ifndef BATCH_PAGER_POLICY_H
#define BATCH_PAGER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xpage/xpage.h>

struct policy_params {
	uint64_t nr_gfns;
	/* gfns paged in within this many seconds are left alone */
	uint32_t recent_s;
	/* The guest's RAM (xpage_ram_ranges()), ascending: candidates come
	 * from there only. NULL: every gfn below nr_gfns. */
	const struct xpage_gfn_range *ram;
	size_t nram;
	/* logdirty: the handle whose log-dirty mode is on (the caller
	 * enabled it), the scan period and K, the scans a victim must have
	 * gone unwritten. */
	xpage_t *xp;
	uint32_t scan_ms;
	uint32_t idle_scans;
	uint64_t seed;           /* random */
};

/* May @gfn be paged out now (pager's view)? */
typedef bool (*policy_eligible_fn)(void *ctx, uint64_t gfn);

struct policy;

struct policy_ops {
	const char *name;
	struct policy *(*create)(const struct policy_params *pp);
	void (*destroy)(struct policy *pol);
	/* Up to @n candidates into @out, never one twice in a call. Returns
	 * how many; fewer than @n when no more are worth taking now. */
	size_t (*choose)(struct policy *pol, uint64_t *out, size_t n,
			 policy_eligible_fn eligible, void *ctx, uint64_t now_ns);
	/* @gfn came back in (the guest needed it). */
	void (*paged_in)(struct policy *pol, uint64_t gfn, uint64_t now_ns);
	/* The hypervisor refused to nominate @gfn (@err), or its evict
	 * failed because the guest touched it: leave it alone a while. */
	void (*refused)(struct policy *pol, uint64_t gfn, int err,
			uint64_t now_ns);
	/* Optional: its own figures, as JSON members ("name": value,\n). */
	void (*report)(struct policy *pol, FILE *f);
};

struct policy {
	const struct policy_ops *ops;
};

/* The policy named @name (NULL: the default), or NULL. */
const struct policy_ops *policy_find(const char *name);
/* Create the policy @name (NULL: the default) behind a guard that counts
 * the candidates it gives outside pp->ram, whatever the policy does with
 * the ranges (policy_non_ram()). NULL: unknown name, or no memory. */
struct policy *policy_create(const char *name, const struct policy_params *pp);
/* Candidates given so far that are not RAM (each is nominated); UINT64_MAX
 * when pp->ram was NULL, i.e. nobody knows. */
uint64_t policy_non_ram(const struct policy *pol);
/* The policy's name and figures into a JSON object being written. */
void policy_report(struct policy *pol, FILE *f);
/* Names, comma-separated, for --help. */
const char *policy_names(void);

#endif
