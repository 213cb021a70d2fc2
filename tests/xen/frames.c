/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-rig-frames: machine frames for the rig's page-offline phase, in
 * dom0 through the library's host API.
 *
 *   xpage-rig-frames find DOMID GFN_LO GFN_HI N
 *       N frames that domain DOMID owns for gfns in [GFN_LO, GFN_HI), and
 *       one frame of dom0's: "XPRIG frames_found guest=MFN,... dom0=MFN".
 *   xpage-rig-frames state MFN...
 *       each frame's state: "XPRIG frame_state mfn=... state=... ..."
 *   xpage-rig-frames online MFN...
 *       put frames back in service (the phase's clean-up).
 * On Xen, in dom0.
 *
 * Xen tells dom0 no owner for a frame in service; the offline operation
 * answers it for a frame it leaves pending. So find scans the host's
 * frames from the top down, a window at a time: the machine-to-phys
 * table names a gfn for each frame, those in range are marked offline,
 * the owners read, and every frame marked is put back in service at
 * once. Frames it finds are as they were before. (A frame freed since
 * its owner used it keeps its stale entry: it is offlined at once and
 * goes back to the free memory.)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xpage/xpage.h>

#define WINDOW 512u
#define MFN_LIMIT (1ull << 28) /* 1 TiB: above any rig host */
#define MAX_FOUND 256u

static void on_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "xpage-rig-frames: %s\n", msg);
}

/* The frames of @w in service whose M2P entry is in @lo..@hi, into
 * @cand. */
static size_t candidates(const struct xpage_frame_info *w, size_t n,
			 uint64_t lo, uint64_t hi, uint64_t *cand)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (w[i].reason != XPAGE_FRAME_REASON_NO_FRAME &&
		    w[i].state == XPAGE_FRAME_ONLINE &&
		    w[i].gfn >= lo && w[i].gfn < hi)
			cand[k++] = w[i].mfn;
	return k;
}

/* Mark @cand offline, read the owners of those left pending, put all of
 * them back in service; each step says what it did. Owners into @info.
 * 0, or -1 when a call failed. */
static int probe(xpage_host_t *h, const uint64_t *cand, size_t k,
		 struct xpage_frame_info *info)
{
	int st[WINDOW], rc, now = 0, pending = 0;

	printf("XPRIG frames_step what=offline first=0x%" PRIx64 " n=%zu\n",
	       cand[0], k);
	if (xpage_frame_offline(h, cand, k, 0, st) < 0)
		return -1;
	for (size_t i = 0; i < k; i++) {
		now += st[i] == 0;
		pending += st[i] == -EAGAIN;
	}
	info[0].sz = sizeof(info[0]);
	rc = xpage_frame_query(h, cand, k, info);
	printf("XPRIG frames_step what=online offlined_at_once=%d pending=%d "
	       "other=%zu\n", now, pending, k - now - pending);
	if (xpage_frame_online(h, cand, k, 0, st) < 0 || rc < 0)
		return -1;
	return 0;
}

/* The first frame number past the host's memory: the hypervisor knows
 * every frame below it (RAM or not) and none above. */
static uint64_t host_top(xpage_host_t *h)
{
	uint64_t known = 0, past = MFN_LIMIT;

	printf("XPRIG frames_top_search\n");
	while (past - known > 1) {
		uint64_t mid = known + (past - known) / 2;
		struct xpage_frame_info info = { .sz = sizeof(info) };

		if (xpage_frame_query(h, &mid, 1, &info) < 0)
			return 0;
		if (info.reason == XPAGE_FRAME_REASON_NO_FRAME)
			past = mid;
		else
			known = mid;
	}
	return past;
}

/* Probe the host's frames from @top down whose M2P entry is in @lo..@hi,
 * a window at a time, until @want of them are owned by @owner; their
 * numbers into @out. The number found, or -1. */
static int scan(xpage_host_t *h, uint64_t top, uint32_t owner, uint64_t lo,
		uint64_t hi, unsigned want, uint64_t *out)
{
	struct xpage_frame_info w[WINDOW], info[WINDOW];
	uint64_t mfns[WINDOW], cand[WINDOW];
	unsigned got = 0;

	for (; top >= WINDOW && got < want; top -= WINDOW) {
		size_t k;

		for (unsigned i = 0; i < WINDOW; i++)
			mfns[i] = top - WINDOW + i;
		w[0].sz = sizeof(w[0]);
		if (xpage_frame_query(h, mfns, WINDOW, w) < 0)
			return -1;
		k = candidates(w, WINDOW, lo, hi, cand);
		if (k && probe(h, cand, k, info) < 0)
			return -1;
		for (size_t i = 0; i < k && got < want; i++)
			if (info[i].state == XPAGE_FRAME_OFFLINE_PENDING &&
			    info[i].owner == owner)
				out[got++] = cand[i];
	}
	return (int)got;
}

/* A frame of dom0's from the top down, found by queries alone (the
 * library names dom0's frames without marking them). 0 when none. */
static uint64_t dom0_frame(xpage_host_t *h, uint64_t top)
{
	struct xpage_frame_info w[WINDOW];
	uint64_t mfns[WINDOW];

	for (; top >= WINDOW; top -= WINDOW) {
		for (unsigned i = 0; i < WINDOW; i++)
			mfns[i] = top - WINDOW + i;
		w[0].sz = sizeof(w[0]);
		if (xpage_frame_query(h, mfns, WINDOW, w) < 0)
			return 0;
		for (unsigned i = 0; i < WINDOW; i++)
			if (w[i].owner == 0 &&
			    w[i].reason == XPAGE_FRAME_REASON_DOM0)
				return mfns[i];
	}
	return 0;
}

/* The guest's frames, many per window (only frames whose M2P entry is in
 * the guest's range are marked), and a frame of dom0's, which is never
 * marked (the one-CPU emulated host stopped at such a call: RESULTS.md). */
static int find(xpage_host_t *h, uint32_t domid, uint64_t lo, uint64_t hi,
		unsigned want)
{
	static uint64_t guest[MAX_FOUND];
	uint64_t dom0, top = host_top(h);
	int n;

	want = want < MAX_FOUND ? want : MAX_FOUND;
	top = (top + WINDOW - 1) / WINDOW * WINDOW;
	n = scan(h, top, domid, lo, hi, want, guest);
	dom0 = dom0_frame(h, top);
	if (n < 0)
		return 1;
	printf("XPRIG frames_found domid=%u want=%u found=%d top=0x%" PRIx64
	       " guest=", domid, want, n, top);
	for (int i = 0; i < n; i++)
		printf("%s0x%" PRIx64, i ? "," : "", guest[i]);
	if (dom0)
		printf(" dom0=0x%" PRIx64 "\n", dom0);
	else
		printf(" dom0=none\n");
	return (unsigned)n == want && dom0 ? 0 : 1;
}

static int state(xpage_host_t *h, char **arg, int n)
{
	static const char *const names[] = { "online", "pending", "offlined" };

	for (int i = 0; i < n; i++) {
		struct xpage_frame_info info = { .sz = sizeof(info) };
		uint64_t mfn = strtoull(arg[i], NULL, 0);

		if (xpage_frame_query(h, &mfn, 1, &info) < 0)
			return 1;
		printf("XPRIG frame_state mfn=0x%" PRIx64 " state=%s owner=%u "
		       "gfn=0x%" PRIx64 " reason=%u\n", mfn,
		       info.state < 3 ? names[info.state] : "?", info.owner,
		       info.gfn, info.reason);
	}
	return 0;
}

static int online(xpage_host_t *h, char **arg, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		uint64_t mfn = strtoull(arg[i], NULL, 0);
		int st = 0;

		if (xpage_frame_online(h, &mfn, 1, 0, &st) < 0 || st)
			bad++;
	}
	printf("XPRIG frames_online n=%d failed=%d\n", n, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct xpage_host_opts o = XPAGE_OPTS(xpage_host_opts,
		.backend = XPAGE_BACKEND_XEN, .log_fn = on_log,
		.log_level = XPAGE_LOG_WARN);
	xpage_host_t *h;
	int rc = 2;

	if (argc < 2) {
		fprintf(stderr, "usage: xpage-rig-frames find DOMID GFN_LO "
			"GFN_HI N | state MFN... | online MFN...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	h = xpage_host_open(&o);
	if (!h) {
		printf("XPRIG frames_error open=%s\n", strerror(errno));
		return 2;
	}
	if (!strcmp(argv[1], "find") && argc == 6)
		rc = find(h, (uint32_t)strtoul(argv[2], NULL, 0),
			  strtoull(argv[3], NULL, 0),
			  strtoull(argv[4], NULL, 0),
			  (unsigned)strtoul(argv[5], NULL, 0));
	else if (!strcmp(argv[1], "state"))
		rc = state(h, argv + 2, argc - 2);
	else if (!strcmp(argv[1], "online"))
		rc = online(h, argv + 2, argc - 2);
	xpage_host_close(h);
	return rc;
}
