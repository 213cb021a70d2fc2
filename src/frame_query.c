/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage_frame_query(): each frame's offline state (Xen's query), its
 * owner where Xen tells it, and its gfn from the machine-to-phys table.
 *
 * Xen's query says only the state. The owner of a pending frame comes
 * from the offline operation, which changes nothing for a frame pending
 * already (mark_page_offline() leaves an offlining frame as it is) and
 * answers OWNED | PENDING with the owner's domid: the library asks it for
 * each pending frame. A frame in service has no owner Xen tells dom0,
 * except dom0's own: the backend tells those apart without marking them
 * (xen_host.c), and they are never marked.
 */
#include "host_backend.h"
#include "opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The owner of each pending frame, from the offline operation. */
static int owners(struct xpage_host *h, const uint64_t *mfns, size_t n,
		  struct xp_frame_word *q)
{
	for (size_t i = 0; i < n; i++) {
		struct xp_frame_word r;
		uint32_t w;
		int rc;

		if (q[i].err || q[i].state != XPAGE_FRAME_OFFLINE_PENDING ||
		    q[i].reason == XPAGE_FRAME_REASON_DOM0)
			continue; /* (dom0's frames are never marked) */
		rc = xp_frames_run(h, XP_PGOFF_OFFLINE, &mfns[i], 1, &w, &r);
		if (rc < 0)
			return rc;
		q[i].owner = r.owner;
		q[i].reason = r.reason;
		q[i].state = r.state; /* offlined meanwhile, perhaps */
	}
	return 0;
}

/* dom0's frames, asked without marking them: owner and reason. */
static int dom0_frames(struct xpage_host *h, const uint64_t *mfns, size_t n,
		       struct xp_frame_word *q)
{
	bool *own = calloc(n, sizeof(*own));

	if (!own)
		return -ENOMEM;
	xp_frames_dom0(h, mfns, n, own);
	for (size_t i = 0; i < n; i++)
		if (own[i] && !q[i].err) {
			q[i].owner = 0;
			q[i].reason = XPAGE_FRAME_REASON_DOM0;
		}
	free(own);
	return 0;
}

/* The M2P entries; none where the table cannot be read (said once). */
static void m2p(struct xpage_host *h, const uint64_t *mfns, size_t n,
		uint64_t *gfns, uint64_t *max)
{
	int rc = h->ops->m2p(h->hb, mfns, n, gfns, max);

	if (rc == 0)
		return;
	xp_host_log(h, XPAGE_LOG_INFO, "the machine-to-phys table cannot be "
		    "read (%s): no gfn reported", xpage_strerror(rc));
	for (size_t i = 0; i < n; i++)
		gfns[i] = XPAGE_GFN_INVALID;
}

/* One frame's info, as its element (@sz bytes) takes it. */
static void fill(struct xpage_frame_info *dst, size_t sz, uint64_t mfn,
		 const struct xp_frame_word *q, uint32_t word, uint64_t gfn,
		 uint64_t max)
{
	struct xpage_frame_info i = { .sz = sz, .mfn = mfn, .state = q->state,
		.owner = q->owner, .gfn = gfn, .reason = q->reason,
		.broken = q->broken, .xen_status = word };

	if (q->err) {
		/* Xen knows no such frame (past memory) or it is not RAM */
		i.reason = max && mfn >= max ? XPAGE_FRAME_REASON_NO_FRAME
					     : XPAGE_FRAME_REASON_NOT_RAM;
		i.state = XPAGE_FRAME_ONLINE;
		i.xen_status = 0;
	}
	if (i.owner == XPAGE_OWNER_XEN || i.owner == XPAGE_OWNER_NONE ||
	    i.owner == XPAGE_OWNER_IO)
		i.gfn = XPAGE_GFN_INVALID;
	memcpy(dst, &i, sz < sizeof(i) ? sz : sizeof(i));
}

static int query(struct xpage_host *h, const uint64_t *mfns, size_t n,
		 struct xpage_frame_info *info)
{
	struct xp_frames_scratch s;
	uint64_t *gfns = NULL, max = 0;
	size_t sz;
	int rc, known = 0;

	if (n && (!mfns || !info))
		return -EINVAL;
	if (!n)
		return 0;
	if ((rc = xp_opts_valid(info, sizeof(*info), sizeof(*info))) < 0)
		return rc;
	sz = info->sz;
	rc = xp_frames_scratch(&s, n);
	if (rc == 0 && !(gfns = malloc(n * sizeof(*gfns))))
		rc = -ENOMEM;
	if (rc == 0)
		rc = xp_frames_run(h, XP_PGOFF_QUERY, mfns, n, s.words, s.res);
	if (rc == 0)
		rc = dom0_frames(h, mfns, n, s.res);
	if (rc == 0)
		rc = owners(h, mfns, n, s.res);
	if (rc == 0)
		m2p(h, mfns, n, gfns, &max);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		fill((void *)((char *)info + i * sz), sz, mfns[i], &s.res[i],
		     s.words[i], gfns[i], max);
		known += !s.res[i].err;
	}
	xp_frames_scratch_put(&s);
	free(gfns);
	return rc < 0 ? rc : known;
}

XPAGE_API int xpage_frame_query(xpage_host_t *h, const uint64_t *mfns,
				size_t n, struct xpage_frame_info *info)
{
	return HOST_GUARDED(h, query(h, mfns, n, info));
}
