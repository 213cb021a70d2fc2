/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage_frame_query(), xpage_frame_offline(), xpage_frame_online(): the
 * caller's frames in runs of consecutive numbers, one hypervisor call per
 * run (XEN_SYSCTL_page_offline_op takes a range), each frame's word
 * decoded by frame_status.c. The hypervisor stops a range at the first
 * frame that fails and leaves the words past it unwritten: the run goes
 * on from the next frame.
 */
#include "host_backend.h"
#include "opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Frames from @mfns that are consecutive numbers, at most a run. */
static size_t run_length(const uint64_t *mfns, size_t n)
{
	size_t len = 1;

	while (len < n && len < XP_HOST_RUN_MAX && mfns[0] + len > mfns[0] &&
	       mfns[len] == mfns[0] + len)
		len++;
	return len;
}

/* Where a call that failed with @ret stopped, of @len frames whose
 * first @reached words were written: the last written one when its word
 * says it failed (Xen wrote it, then gave up), else the first not
 * written (refused before its word was). */
static size_t stop_at(const uint32_t *words, size_t reached, size_t len)
{
	if (reached && (words[reached - 1] & XP_PG_OFFLINE_FAILED) &&
	    !(words[reached - 1] & XP_PG_OFFLINE_ANONYMOUS))
		return reached - 1;
	return reached < len ? reached : len - 1;
}

/* One run through the backend: each frame's answer into @res, and the
 * query word into @words_out (NULL: not kept). The number of frames
 * done (at least 1), or a negative errno for the whole call. */
static int one_run(struct xpage_host *h, unsigned cmd, const uint64_t *mfns,
		   size_t len, uint32_t *words, struct xp_frame_word *res)
{
	size_t reached = 0, stop = len;
	int ret;

	/* what Xen writes first, whatever reaches the words before it */
	memset(words, XP_PG_OFFLINE_INVALID, len * sizeof(*words));
	ret = h->ops->page_offline(h->hb, cmd, mfns[0], mfns[0] + len - 1,
				   words);

	while (reached < len && xp_frame_reached(words[reached]))
		reached++;
	if (ret < 0 && !reached && ret != -EINVAL)
		return ret; /* refused as a whole (privilege, no operation) */
	if (ret < 0)
		stop = stop_at(words, reached, len);
	for (size_t k = 0; k < stop; k++)
		xp_frame_decode(cmd, words[k], 0, &res[k]);
	if (stop == len)
		return (int)len;
	xp_frame_decode(cmd, words[stop], ret, &res[stop]);
	return (int)stop + 1;
}

/* Every frame through @cmd: 0, or a negative errno for the whole call
 * (the log says it). @words: room for @n words, each frame's. */
int xp_frames_run(struct xpage_host *h, unsigned cmd, const uint64_t *mfns,
		  size_t n, uint32_t *words, struct xp_frame_word *res)
{
	for (size_t i = 0; i < n;) {
		int done = one_run(h, cmd, mfns + i, run_length(mfns + i, n - i),
				   words + i, res + i);

		if (done < 0) {
			if (done == -ENOSYS)
				done = -EOPNOTSUPP;
			xp_host_log(h, XPAGE_LOG_ERROR, "page offline operation "
				    "on frame 0x%llx: %s",
				    (unsigned long long)mfns[i],
				    xpage_strerror(done));
			return done;
		}
		i += (size_t)done;
	}
	return 0;
}

int xp_frames_scratch(struct xp_frames_scratch *s, size_t n)
{
	s->words = malloc(n * sizeof(*s->words));
	s->res = malloc(n * sizeof(*s->res));
	return s->words && s->res ? 0 : -ENOMEM;
}

void xp_frames_scratch_put(struct xp_frames_scratch *s)
{
	free(s->words);
	free(s->res);
}

void xp_frames_dom0(struct xpage_host *h, const uint64_t *mfns, size_t n,
		    bool *owned)
{
	int rc = 0;

	memset(owned, 0, n * sizeof(*owned));
	if (h->ops->dom0_owns)
		rc = h->ops->dom0_owns(h->hb, mfns, n, owned);
	if (rc == 0)
		return;
	memset(owned, 0, n * sizeof(*owned));
	xp_host_log(h, XPAGE_LOG_WARN, "which frames dom0 owns cannot be "
		    "asked (%s): they are not told apart before marking",
		    xpage_strerror(rc));
}

/* The frames of @mfns an offline may mark: all but dom0's, whose status
 * is -EPERM (Xen never frees them, and the rig's one-CPU host stopped at
 * that call in three boots). Those kept into @keep, their positions into
 * @pos; how many, or -ENOMEM. */
static int markable(struct xpage_host *h, const uint64_t *mfns, size_t n,
		    int *status, uint64_t *keep, size_t *pos)
{
	bool *own = calloc(n, sizeof(*own));
	int k = 0;

	if (!own)
		return -ENOMEM;
	xp_frames_dom0(h, mfns, n, own);
	for (size_t i = 0; i < n; i++) {
		if (own[i]) {
			status[i] = -EPERM;
			xp_host_log(h, XPAGE_LOG_INFO, "frame 0x%llx is dom0's: "
				    "not marked", (unsigned long long)mfns[i]);
			continue;
		}
		keep[k] = mfns[i];
		pos[k++] = i;
	}
	free(own);
	return k;
}

/* offline / online: status per frame, the number with status 0. */
static int mark(struct xpage_host *h, unsigned cmd, const uint64_t *mfns,
		size_t n, unsigned flags, int *status)
{
	struct xp_frames_scratch s;
	uint64_t *keep = NULL;
	size_t *pos = NULL, k = n;
	int rc, ok = 0;

	if ((n && (!mfns || !status)) || flags)
		return -EINVAL;
	if (!n)
		return 0;
	rc = xp_frames_scratch(&s, n);
	if (rc == 0 && (!(keep = malloc(n * sizeof(*keep))) ||
			!(pos = malloc(n * sizeof(*pos)))))
		rc = -ENOMEM;
	if (rc == 0 && cmd == XP_PGOFF_OFFLINE) {
		rc = markable(h, mfns, n, status, keep, pos);
		k = rc < 0 ? 0 : (size_t)rc;
		rc = rc < 0 ? rc : 0;
	} else
		for (size_t i = 0; rc == 0 && i < n; i++) {
			keep[i] = mfns[i];
			pos[i] = i;
		}
	if (rc == 0 && k)
		rc = xp_frames_run(h, cmd, keep, k, s.words, s.res);
	for (size_t j = 0; rc == 0 && j < k; j++)
		status[pos[j]] = s.res[j].err;
	for (size_t i = 0; i < n; i++) {
		if (rc < 0)
			status[i] = rc;
		ok += status[i] == 0;
	}
	xp_frames_scratch_put(&s);
	free(keep);
	free(pos);
	return rc < 0 ? rc : ok;
}

XPAGE_API int xpage_frame_offline(xpage_host_t *h, const uint64_t *mfns,
				  size_t n, unsigned int flags, int *status)
{
	return HOST_GUARDED(h, mark(h, XP_PGOFF_OFFLINE, mfns, n, flags,
				    status));
}

XPAGE_API int xpage_frame_online(xpage_host_t *h, const uint64_t *mfns,
				 size_t n, unsigned int flags, int *status)
{
	return HOST_GUARDED(h, mark(h, XP_PGOFF_ONLINE, mfns, n, flags,
				    status));
}
