/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Validation of caller-sized structs (a leading size_t sz).
 *
 * A caller built against an older header passes a smaller sz: accepted as
 * long as it covers at least `sz` itself. A caller built against a newer
 * header passes a larger sz: accepted only if every byte past what this
 * library knows is zero (-E2BIG otherwise), as libbpf's OPTS_VALID and the
 * kernel's extensible-struct system calls do.
 */
#ifndef XPAGE_OPTS_H
#define XPAGE_OPTS_H

#include <stddef.h>
#include <string.h>

/* Bytes of `type` up to and including its last known field. */
#define XP_KNOWN_SIZE(type) \
	(offsetof(struct type, type##__last_field) + \
	 sizeof(((struct type *)0)->type##__last_field))

/*
 * 0, -EINVAL (NULL, or an sz no release of the struct ever had) or -E2BIG.
 * A caller's sz is the sizeof of the struct in the header it was built
 * with. Accepted: @min, the size 1.0 published, and any size from
 * @known (this library's sizeof) up, with zeroes past @known. Anything
 * else (shorter than 1.0's, or between 1.0's and this library's, so
 * ending inside a field) is refused: reading half a pointer is worse than
 * refusing. Bytes up to sizeof count as known: the tail padding of a
 * caller's struct may hold anything, and a field added later starts past
 * it (abi/README.md). The sizes between @min and @known are refused as a
 * whole, which is right while one release at most grew a struct: the
 * second release that grows one must pass the list of published sizes.
 */
int xp_opts_valid(const void *opts, size_t min, size_t known);

/* The sizeof of each public struct as 1.0 published it. A struct grown
 * since ends its 1.0 part before its first new member. */
#define XP_V1_0_SIZE_xpage_open_opts      sizeof(struct xpage_open_opts)
#define XP_V1_0_SIZE_xpage_callbacks      sizeof(struct xpage_callbacks)
#define XP_V1_0_SIZE_xpage_info           sizeof(struct xpage_info)
#define XP_V1_0_SIZE_xpage_stats          offsetof(struct xpage_stats, hv_refused)
#define XP_V1_0_SIZE_xpage_sim_opts       sizeof(struct xpage_sim_opts)
#define XP_V1_0_SIZE_xpage_sim_guest_opts sizeof(struct xpage_sim_guest_opts)
#define XP_V1_0_SIZE_xpage_sim_workload   sizeof(struct xpage_sim_workload)
#define XP_V1_0_SIZE_xpage_sim_faults     sizeof(struct xpage_sim_faults)
#define XP_V1_0_SIZE_xpage_sim_report     sizeof(struct xpage_sim_report)

/* xp_opts_valid() for a caller's struct @type (see above). */
#define XP_OPTS_VALID(p, type) \
	xp_opts_valid((p), XP_V1_0_SIZE_##type, sizeof(struct type))

/* Copy a caller's struct into a zeroed full-size one (fields the caller
 * does not know stay zero). Call after xp_opts_valid() succeeded. */
void xp_opts_copy(void *dst, size_t dst_size, const void *src);

/* Write @src (a full struct of this library) into the caller's struct of
 * sz bytes: only the bytes both know, and sz is preserved. */
void xp_opts_export(void *dst, const void *src, size_t known);

#endif
