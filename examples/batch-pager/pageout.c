/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page-out in batches, in the order that keeps every page safe if the
 * pager is killed at any point (the reasons are in pagein.c, which does
 * the re-attach). pageout_batch() runs five steps, one function each:
 *
 *   1. choose_victims: room in the store first (a full disk costs no
 *      nomination), victims from the policy, their slots (contiguous
 *      where possible), INTENT records (not synced)
 *   2. nominate_victims: nominate the batch (one hypervisor trap), then
 *      dispatch, so that evict_fail notices already in spoil their gfns
 *      before any I/O; with --settle-ms the ring is served that long
 *      first, and every page the guest still uses shows itself (its vCPU
 *      is held for one round trip) at no I/O cost
 *   3. write_victims: map the survivors in one call; the pages found
 *      all zero give their slots back (zero.h), the others are written
 *      with one vectored write per run of slots,
 *   4. then fdatasync the store (if anything was written), WRITTEN and
 *      ZERO records, fdatasync the index; unmap
 *   5. evict_victims: dispatch again (more evict_fail notices), evict the
 *      rest (one trap); touched gfns free their slots, refused evicts are
 *      retried later (pageout_retry) and finally un-nominated
 */
#include "pager.h"
#include "zero.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

int pageout_init(struct pager *p)
{
	size_t n = p->o.batch;

	p->b_gfn = calloc(n, sizeof(*p->b_gfn));
	p->b_slot = calloc(n, sizeof(*p->b_slot));
	p->b_st = calloc(n, sizeof(*p->b_st));
	p->b_buf = calloc(n, sizeof(*p->b_buf));
	p->b_wgfn = calloc(n, sizeof(*p->b_wgfn));
	p->b_wslot = calloc(n, sizeof(*p->b_wslot));
	p->b_zgfn = calloc(n, sizeof(*p->b_zgfn));
	p->b_hint = calloc(n, sizeof(*p->b_hint));
	p->b_cap = n;
	if (!p->b_gfn || !p->b_slot || !p->b_st || !p->b_buf || !p->b_wgfn ||
	    !p->b_wslot || !p->b_zgfn || !p->b_hint)
		return -ENOMEM;
	return 0;
}

void pageout_fini(struct pager *p)
{
	free(p->b_gfn);
	free(p->b_slot);
	free(p->b_st);
	free(p->b_buf);
	free(p->b_wgfn);
	free(p->b_wslot);
	free(p->b_zgfn);
	free(p->b_hint);
	free(p->retry);
	free(p->retry_tries);
}

static bool eligible(void *ctx, uint64_t gfn)
{
	struct pager *p = ctx;

	if (gfn >= p->nr_gfns || p->gfl[gfn])
		return false;
	return xpage_gfn_state(p->xp, gfn) == XPAGE_GFN_RESIDENT;
}

/* Drop from the @n gfns at @g the ones to leave resident, as one call of
 * xpage_gfn_hints() tells: a page the hypervisor touches itself
 * (nominate would refuse it) and, unless --page-code, code the guest
 * runs. Returns how many are left. */
static size_t drop_hinted(struct pager *p, uint64_t *g, size_t n)
{
	const uint32_t code = XPAGE_HINT_KERNEL_CODE | XPAGE_HINT_USER_CODE;
	uint32_t skip = XPAGE_HINT_HV_TOUCHED | (p->o.page_code ? 0 : code);
	size_t k = 0;

	if (xpage_gfn_hints(p->xp, g, n, 0, p->b_hint) < 0)
		return n;
	for (size_t i = 0; i < n; i++) {
		if (p->b_hint[i] & skip)
			continue;
		p->st.code_chosen += (p->b_hint[i] & code) != 0;
		g[k++] = g[i];
	}
	return k;
}

/* Up to @want victims from the policy less those drop_hinted() keeps
 * back, in a few rounds; each is marked GF_BATCH at once (so that the
 * next round does not choose it again). A gfn offered twice is taken
 * once: its second nomination would fail and spoil the first's slot. */
static size_t choose_unhinted(struct pager *p, size_t want, uint64_t t0)
{
	size_t n = 0;

	for (int round = 0; round < 8 && n < want; round++) {
		size_t m = p->pol->ops->choose(p->pol, p->b_gfn + n, want - n,
					       eligible, p, t0), k = n;

		if (!m)
			break;
		m = drop_hinted(p, p->b_gfn + n, m);
		for (size_t i = n; i < n + m; i++) {
			if (p->gfl[p->b_gfn[i]] & GF_BATCH)
				continue;
			p->gfl[p->b_gfn[i]] |= GF_BATCH;
			p->b_gfn[k++] = p->b_gfn[i];
		}
		n = k;
	}
	return n;
}

/* A batch given up before its nomination: no longer GF_BATCH. */
static void unchoose(struct pager *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p->gfl[p->b_gfn[i]] &= (uint16_t)~GF_BATCH;
}

void pager_release_slot(struct pager *p, uint64_t gfn)
{
	uint32_t s = p->slot[gfn];

	if (s != STORE_NO_SLOT) {
		store_free(p->store, s, gfn, true);
		p->slot[gfn] = STORE_NO_SLOT;
	} else if (p->gfl[gfn] & GF_ZERO) {
		/* not synced, as a slot's FREE record */
		store_record_gfns(p->store, &gfn, 1, REC_FREE, false);
	}
	if (p->gfl[gfn] & GF_OUT)
		p->nr_out--;
	if (p->gfl[gfn] & GF_CORRUPT)
		p->nr_corrupt--;
	p->gfl[gfn] &= (uint16_t)~(GF_OUT | GF_RETRY | GF_ADOPTED | GF_ZERO |
				   GF_CORRUPT);
}

void pageout_spoil(struct pager *p, uint64_t gfn)
{
	if (gfn >= p->nr_gfns)
		return;
	if (p->gfl[gfn] & GF_BATCH) {
		/* The batch loop frees it at its next step. */
		p->gfl[gfn] |= GF_SPOILED;
		return;
	}
	if (p->gfl[gfn] & (GF_RETRY | GF_OUT))
		pager_release_slot(p, gfn);
}

/* Give up on the first @n batch gfns: those still nominated are made
 * resident again (their slots are freed by drop_spoiled()). */
static void abandon(struct pager *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (xpage_gfn_state(p->xp, p->b_gfn[i]) == XPAGE_GFN_NOMINATED)
			p->b_wgfn[k++] = p->b_gfn[i];
	if (k)
		xpage_unnominate(p->xp, p->b_wgfn, k, 0, p->b_st);
}

/* Spoil the whole batch and give its nominated gfns back. */
static void give_back(struct pager *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p->gfl[p->b_gfn[i]] |= GF_SPOILED;
	abandon(p, n);
}

/* Keep the batch entries whose gfn is not spoiled; free the others'
 * slots. Returns the new count. */
static size_t drop_spoiled(struct pager *p, size_t n, bool before_io)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t g = p->b_gfn[i];

		if (p->gfl[g] & GF_SPOILED) {
			p->gfl[g] &= (uint16_t)~(GF_BATCH | GF_SPOILED);
			pager_release_slot(p, g);
			if (before_io)
				p->st.evict_fail_before_io++;
			continue;
		}
		p->b_gfn[k] = g;
		p->b_slot[k] = p->b_slot[i];
		k++;
	}
	return k;
}

static int dispatch_now(struct pager *p)
{
	int rc = xpage_dispatch(p->xp, 0);

	if (rc < 0)
		return rc;
	rc = pagein_serve(p);
	return rc < 0 ? rc : 0;
}

/* Serve the ring for --settle-ms (at least once): the nominated pages the
 * guest touches meanwhile come back as evict failures. */
static int settle(struct pager *p)
{
	uint64_t end = now_ns() + (uint64_t)p->o.settle_ms * 1000000u;
	struct pollfd pf = { .fd = xpage_fd(p->xp), .events = POLLIN };
	int rc;

	for (;;) {
		uint64_t t;

		rc = dispatch_now(p);
		if (rc < 0 || pf.fd < 0 || (t = now_ns()) >= end)
			return rc;
		if (poll(&pf, 1, (int)((end - t + 999999) / 1000000)) < 0 &&
		    errno != EINTR)
			return -errno;
	}
}

static void stop_pageout(struct pager *p, int err, const char *what)
{
	if (err == -ENOSPC || err == -EDQUOT || err == -EFBIG) {
		/* Not for good: slots freed by page-ins are used again, and
		 * the file grows again if space comes back. */
		if (!p->store_full)
			errx_("store %s: %s while %s: the disk is full; page-out "
			      "holds at %llu pages out (target not reached), "
			      "page-ins are still served", store_path(p->store),
			      strerror(-err), what,
			      (unsigned long long)p->nr_out);
		p->store_full = true;
		p->exit_code = 1;
		return;
	} else {
		errx_("store %s: %s while %s: page-out stopped",
		      store_path(p->store), strerror(-err), what);
	}
	p->pageout_stopped = true;
	p->exit_code = 1;
}

static void retry_add(struct pager *p, uint64_t gfn)
{
	if (grow(&p->retry, &p->cap_retry, p->nretry + 1, sizeof(*p->retry)) < 0)
		return;
	size_t cap = p->cap_retry;
	uint32_t *t = realloc(p->retry_tries, cap * sizeof(*t));

	if (!t)
		return;
	p->retry_tries = t;
	p->retry[p->nretry] = gfn;
	p->retry_tries[p->nretry] = 1;
	p->nretry++;
	p->gfl[gfn] |= GF_RETRY;
}

const char *const pageout_step_names[PO_STEPS] = {
	"choose", "nominate", "settle", "map", "write", "unmap", "evict",
};

/* The time since *@t goes to step @s; *@t moves on. */
static void lap(struct pager *p, enum pageout_step s, uint64_t *t)
{
	uint64_t now = now_ns();

	p->st.step_ns[s] += now - *t;
	if (p->st.traced < BATCH_TRACE)
		p->st.trace[p->st.traced].step_us[s] += (uint32_t)((now - *t) / 1000);
	*t = now;
}

/* Open the trace of the batch starting at @t0 with @n gfns. */
static void trace_batch(struct pager *p, uint64_t t0, size_t n)
{
	struct batch_trace *b = &p->st.trace[p->st.traced];

	if (p->st.traced >= BATCH_TRACE)
		return;
	if (!p->st.traced)
		p->st.trace_t0 = t0;
	b->at_ms = (uint32_t)((t0 - p->st.trace_t0) / 1000000);
	b->out_before = (uint32_t)p->nr_out;
	b->n = (uint32_t)n;
}

static void evicted(struct pager *p, uint64_t gfn)
{
	p->gfl[gfn] = (uint16_t)((p->gfl[gfn] & ~(GF_RETRY)) | GF_OUT);
	p->nr_out++;
	p->st.pages_out++;
	prefetch_evicted(p, gfn);
	if (p->gfl[gfn] & GF_ZERO)
		p->st.zero_pages_out++;
}

/* 1. Returns the batch's size, 0 when there is nothing to do now. */
static size_t choose_victims(struct pager *p, uint64_t t0)
{
	uint64_t resident = pager_resident(p);
	size_t want, n, k;
	int rc;

	if (p->pageout_stopped || p->target == UINT64_MAX || resident <= p->target)
		return 0;
	want = resident - p->target < p->o.batch ? (size_t)(resident - p->target)
						 : p->o.batch;
	rc = store_reserve(p->store, want);
	if (rc == -ENOSPC) {
		uint64_t room = store_room(p->store);

		if (!room) {
			stop_pageout(p, rc, "growing the store");
			return 0;
		}
		want = room < want ? (size_t)room : want;
	} else if (rc < 0) {
		stop_pageout(p, rc, "growing the store");
		return 0;
	}
	n = choose_unhinted(p, want, t0);
	if (!n)
		return 0;
	k = store_alloc(p->store, n, p->b_slot);
	if (k < n) {
		/* cannot happen after store_reserve; be safe */
		for (size_t i = 0; i < k; i++)
			store_free(p->store, p->b_slot[i], p->b_gfn[i], false);
		unchoose(p, n);
		return 0;
	}
	rc = store_record(p->store, p->b_gfn, p->b_slot, n, REC_INTENT, false);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			store_free(p->store, p->b_slot[i], p->b_gfn[i], false);
		unchoose(p, n);
		stop_pageout(p, rc, "writing the index");
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		p->slot[p->b_gfn[i]] = p->b_slot[i];
	if (!p->st.batches++)
		dbg(p, "first batch: %zu gfns", n);
	return n;
}

/* 2. Returns how many are left to write (0: none), or a negative errno
 * when the domain or the connection is gone. The nomination and the
 * settling are timed from *@tl (lap). */
static int nominate_victims(struct pager *p, size_t n, uint64_t t0,
			    uint64_t *tl)
{
	int rc = xpage_nominate(p->xp, p->b_gfn, n, 0, p->b_st);

	lap(p, PO_NOMINATE, tl);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++) {
			p->gfl[p->b_gfn[i]] &= (uint16_t)~GF_BATCH;
			pager_release_slot(p, p->b_gfn[i]);
		}
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (p->b_st[i] == 0)
			continue;
		p->st.nominate_fail++;
		p->pol->ops->refused(p->pol, p->b_gfn[i], p->b_st[i], t0);
		p->gfl[p->b_gfn[i]] |= GF_SPOILED;
	}
	n = drop_spoiled(p, n, false);
	rc = settle(p);
	lap(p, PO_SETTLE, tl);
	if (rc < 0)
		return rc;
	return (int)drop_spoiled(p, n, true);
}

/* A mapped page found all zero: its slot is given back (the INTENT
 * record left there is older than the ZERO record to come). */
static void zero_found(struct pager *p, uint64_t gfn, uint32_t slot)
{
	store_free(p->store, slot, gfn, false);
	p->slot[gfn] = STORE_NO_SLOT;
	p->gfl[gfn] |= GF_ZERO;
	p->b_zgfn[p->b_nz++] = gfn;
}

/* 3. The mapped pages of the batch with data into b_buf (the mapping)
 * and b_wgfn/b_wslot (their gfns and slots), the all-zero ones into
 * b_zgfn. A gfn that did not map is spoiled: -ENOENT, it is being paged
 * in and its notice follows; any other failure, the pager gives the page
 * back. Returns how many pages have data. */
static size_t mapped_pages(struct pager *p, size_t n, uint8_t *map)
{
	size_t k = 0;

	p->b_nz = 0;
	for (size_t i = 0; i < n; i++) {
		if (p->b_st[i]) {
			if (p->b_st[i] != -ENOENT) {
				uint64_t g1 = p->b_gfn[i];
				int s1;

				xpage_unnominate(p->xp, &g1, 1, 0, &s1);
			}
			p->gfl[p->b_gfn[i]] |= GF_SPOILED;
			continue;
		}
		if (page_is_zero(map + i * XPAGE_PAGE_SIZE)) {
			zero_found(p, p->b_gfn[i], p->b_slot[i]);
			continue;
		}
		p->b_buf[k] = map + i * XPAGE_PAGE_SIZE;
		p->b_wgfn[k] = p->b_gfn[i];
		p->b_wslot[k] = p->b_slot[i];
		k++;
	}
	return k;
}

/* 3. The written pages @i to @i + @k: store_write() packed them (and
 * compressed those that gain), so each gfn's record now starts at the
 * slot it names in b_wslot; the rest of their reservations is free. */
static int64_t write_some(struct pager *p, size_t i, size_t k)
{
	int64_t wr = store_write(p->store, p->b_wslot + i, p->b_buf + i, k);

	for (size_t j = i; wr >= 0 && j < i + k; j++)
		p->slot[p->b_wgfn[j]] = p->b_wslot[j];
	return wr;
}

/* 3. One vectored write per run of slots. The test hook
 * XPAGE_BATCH_PAGER_CRASH=write kills the pager with half the batch
 * written. Returns bytes written or a negative errno. */
static int64_t write_pages(struct pager *p, size_t k)
{
	int64_t wr, w2;

	if (k < 2 || !getenv("XPAGE_BATCH_PAGER_CRASH"))
		return write_some(p, 0, k);
	wr = write_some(p, 0, k / 2);
	crash_point("write");
	if (wr < 0)
		return wr;
	w2 = write_some(p, k / 2, k - k / 2);
	return w2 < 0 ? w2 : wr + w2;
}

/* 4. The data durable first, then the records that say so: WRITTEN for
 * the k pages written, ZERO for the zero ones, one index sync. */
static int make_durable(struct pager *p, size_t k, int64_t written)
{
	int rc = 0;

	if (written < 0)
		return (int)written;
	p->st.io_bytes_written += (uint64_t)written;
	if (k)
		rc = store_sync_data(p->store);
	if (rc == 0)
		rc = store_record(p->store, p->b_wgfn, p->b_wslot, k,
				  REC_WRITTEN, false);
	if (rc == 0)
		rc = store_record_gfns(p->store, p->b_zgfn, p->b_nz, REC_ZERO,
				       true);
	return rc;
}

/* 3 and 4. Returns how many are left to evict (0: none). The mapping
 * and the writing are timed from *@tl (lap); the unmap goes with the
 * notices that follow it (evict_victims). */
static int write_victims(struct pager *p, size_t n, uint64_t *tl)
{
	uint8_t *map = xpage_map(p->xp, p->b_gfn, n, 0, p->b_st);
	size_t k;
	int rc;

	lap(p, PO_MAP, tl);
	if (!map) {
		int e = errno;

		for (size_t i = 0; i < n; i++)
			p->gfl[p->b_gfn[i]] |= GF_SPOILED;
		if (e != ENOENT) {
			/* not the guest's doing: give the pages back */
			warnx_("mapping a batch of %zu gfns failed: %s", n,
			       xpage_strerror(e));
			abandon(p, n);
		}
		drop_spoiled(p, n, true);
		return 0;
	}
	k = mapped_pages(p, n, map);
	rc = make_durable(p, k, write_pages(p, k));
	if (rc < 0) {
		xpage_unmap(p->xp, map, n);
		stop_pageout(p, rc, "writing a batch");
		give_back(p, n);
		drop_spoiled(p, n, false);
		return 0;
	}
	crash_point("indexed");
	lap(p, PO_WRITE, tl);
	xpage_unmap(p->xp, map, n);
	return (int)n;
}

/* 5. Returns 0, or a negative errno when the domain or the connection is
 * gone. The last notices (with write_victims' unmap) and the eviction
 * are timed from *@tl (lap). */
static int evict_victims(struct pager *p, size_t n, uint64_t *tl)
{
	int rc = dispatch_now(p);

	lap(p, PO_UNMAP, tl);
	if (rc < 0)
		return rc;
	n = drop_spoiled(p, n, false);
	if (!n)
		return 0;
	rc = xpage_evict(p->xp, p->b_gfn, n, 0, p->b_st);
	lap(p, PO_EVICT, tl);
	if (rc < 0) {
		/* Some may be out: their WRITTEN records must survive. */
		p->evict_unknown = true;
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t g = p->b_gfn[i];

		p->gfl[g] &= (uint16_t)~(GF_BATCH | GF_SPOILED);
		if (p->b_st[i] == 0) {
			evicted(p, g);
			continue;
		}
		p->st.evict_refused++;
		if (xpage_gfn_state(p->xp, g) == XPAGE_GFN_NOMINATED)
			/* touched (its notice follows) or refused: keep the
			 * slot and the record, try again later */
			retry_add(p, g);
		else
			pager_release_slot(p, g);
	}
	return 0;
}

int pageout_batch(struct pager *p)
{
	uint64_t t0 = now_ns(), tl = t0, before = p->st.pages_out;
	size_t n = choose_victims(p, t0);
	int rc;

	if (!n)
		return 0;
	trace_batch(p, t0, n);
	lap(p, PO_CHOOSE, &tl);
	rc = nominate_victims(p, n, t0, &tl);
	if (rc > 0)
		rc = write_victims(p, (size_t)rc, &tl);
	if (rc > 0)
		rc = evict_victims(p, (size_t)rc, &tl);
	if (p->st.traced < BATCH_TRACE)
		p->st.traced++;
	if (rc < 0)
		return rc;
	p->st.pageout_ns += now_ns() - t0;
	return (int)(p->st.pages_out - before);
}

/* Keep the retry entries still marked GF_RETRY; with @nominated, only
 * those still NOMINATED (a touched gfn's evict_fail notice has made it
 * resident: its slot is freed). Returns how many are kept. */
static size_t retry_keep(struct pager *p, bool nominated)
{
	size_t k = 0;

	for (size_t i = 0; i < p->nretry; i++) {
		uint64_t x = p->retry[i];

		if (!(p->gfl[x] & GF_RETRY))
			continue;
		if (nominated &&
		    xpage_gfn_state(p->xp, x) != XPAGE_GFN_NOMINATED) {
			pager_release_slot(p, x);
			continue;
		}
		p->retry[k] = x;
		p->retry_tries[k] = p->retry_tries[i];
		k++;
	}
	p->nretry = k;
	return k;
}

/* Evict again the ones with tries left (none when @final). 0, or the
 * negative errno of an evict that failed as a whole. */
static int retry_evict(struct pager *p, bool final, uint64_t *g, int *st)
{
	size_t m = 0;
	int rc;

	for (size_t i = 0; i < p->nretry; i++)
		if (!final && p->retry_tries[i] < 8)
			g[m++] = p->retry[i];
	if (!m)
		return 0;
	rc = xpage_evict(p->xp, g, m, 0, st);
	if (rc < 0) {
		p->evict_unknown = true;
		return rc;
	}
	for (size_t i = 0; i < m; i++)
		if (st[i] == 0)
			evicted(p, g[i]);
	return 0;
}

/* Give up on the ones out of tries (all when @final): the page stays
 * with the guest. */
static void retry_give_up(struct pager *p, bool final, uint64_t *g, int *st)
{
	size_t q = 0;

	for (size_t i = 0; i < p->nretry; i++) {
		uint64_t x = p->retry[i];

		if ((p->gfl[x] & GF_RETRY) && (final || ++p->retry_tries[i] >= 8))
			g[q++] = x;
	}
	if (!q)
		return;
	xpage_unnominate(p->xp, g, q, 0, st);
	for (size_t i = 0; i < q; i++) {
		if (st[i] == 0 || st[i] == -EINVAL) {
			/* resident again (or the guest released it) */
			pager_release_slot(p, g[i]);
		} else if (st[i] == -ENOMEM) {
			/* evicted, not loaded back: its record holds it */
			evicted(p, g[i]);
		}
		/* -EBUSY: still nominated; it stays a retry, its record
		 * kept */
	}
}

/* Mark @gfn stuck (GF_STUCK): a dead pager may have left it nominated.
 * It keeps its slot and record; it is no longer counted out. */
void pager_hold_stuck(struct pager *p, uint64_t gfn)
{
	if (p->gfl[gfn] & GF_STUCK)
		return;
	if (grow(&p->stuck, &p->cap_stuck, p->nstuck + 1,
		 sizeof(*p->stuck)) < 0) {
		warnx_("gfn %#llx may still be nominated by the previous pager "
		       "(no memory to track it)", (unsigned long long)gfn);
		return;
	}
	if (p->gfl[gfn] & GF_OUT)
		p->nr_out--;
	p->gfl[gfn] = (uint16_t)(GF_STUCK | (p->gfl[gfn] & GF_ZERO));
	p->stuck[p->nstuck++] = gfn;
}

/* Up to a batch of stuck gfns, from p->stuck[*i] on, into b_gfn/b_slot,
 * adopted as nominated and marked GF_BATCH. Those that cannot go now (no
 * slot, refused adoption) are kept at p->stuck[*left]. Returns the
 * batch's size. */
static size_t stuck_batch(struct pager *p, size_t *i, size_t *left)
{
	size_t n = 0, k = 0;

	while (*i < p->nstuck && n < p->o.batch) {
		uint64_t g = p->stuck[(*i)++];

		/* A page is written again into a whole page group. A
		 * compressed record's slots are too few: they stay as they
		 * are (in use until the pager restarts) and the page gets a
		 * new group, so that its old record stays true meanwhile. */
		if (!store_slot_is_page(p->store, p->slot[g]) &&
		    (store_reserve(p->store, 1) < 0 ||
		     store_alloc(p->store, 1, &p->slot[g]) != 1)) {
			p->slot[g] = STORE_NO_SLOT;
			p->stuck[(*left)++] = g;
			continue;
		}
		p->b_gfn[n] = g;
		p->b_slot[n++] = p->slot[g];
	}
	if (n && xpage_adopt(p->xp, p->b_gfn, n, XPAGE_ADOPT_NOMINATED,
			     p->b_st) < 0) {
		for (size_t j = 0; j < n; j++)
			p->stuck[(*left)++] = p->b_gfn[j];
		return 0;
	}
	for (size_t j = 0; j < n; j++) {
		uint64_t g = p->b_gfn[j];

		if (p->b_st[j]) {
			p->stuck[(*left)++] = g;
			continue;
		}
		/* the data is written anew: a ZERO record may be stale */
		p->gfl[g] = GF_BATCH;
		p->b_gfn[k] = g;
		p->b_slot[k++] = p->b_slot[j];
	}
	return k;
}

/*
 * The stuck gfns are finished as a page-out, through steps 3 to 5:
 * adopted as nominated, mapped, written, indexed, evicted. Their contents
 * are in the guest's frame or in the store at every instant, and the
 * record stays until the gfn is out or resident, so a SIGKILL anywhere
 * loses nothing (xpage_unnominate() would hold the page only in this
 * process's memory for a moment). A page the guest touched meanwhile is
 * spoiled (resident); one whose evict is refused is retried. The caller
 * then loads what is out. 0, or a negative errno when the domain or the
 * connection is gone.
 */
int pageout_stuck(struct pager *p)
{
	size_t i = 0, left = 0;
	int rc = 0;

	while (i < p->nstuck) {
		uint64_t tl = now_ns();
		size_t n = stuck_batch(p, &i, &left);

		if (!n)
			continue;
		p->st.unstuck += n;
		rc = write_victims(p, n, &tl);
		if (rc > 0)
			rc = evict_victims(p, (size_t)rc, &tl);
		if (rc < 0)
			break;
	}
	while (i < p->nstuck)
		p->stuck[left++] = p->stuck[i++];
	p->nstuck = left;
	for (size_t j = 0; j < left; j++)
		warnx_("gfn %#llx may still be nominated by the previous pager: "
		       "its record is kept", (unsigned long long)p->stuck[j]);
	return rc < 0 ? rc : 0;
}

int pageout_retry(struct pager *p, bool final)
{
	size_t k;
	uint64_t *g;
	int *st, rc = 0;

	if (!p->nretry)
		return 0;
	/* Notices first: a touched gfn's evict_fail has freed it. */
	k = retry_keep(p, true);
	if (!k)
		return 0;
	g = malloc(k * sizeof(*g));
	st = malloc(k * sizeof(*st));
	if (g && st) {
		rc = retry_evict(p, final, g, st);
		if (rc == 0) {
			retry_give_up(p, final, g, st);
			retry_keep(p, false);
		}
	}
	free(g);
	free(st);
	return rc;
}
