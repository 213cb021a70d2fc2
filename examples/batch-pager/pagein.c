/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page-in: populate callbacks queue the gfn; after each dispatch the queue
 * is served at once, coalesced: the slots are read in slot order with one
 * vectored read per run, and one xpage_load(XPAGE_LOAD_RESUME) gives every
 * page back and answers every waiting vCPU. A drop frees the slot without
 * I/O. Also the bulk page-in (the drain at exit, a raised target) and the
 * re-attach after a crash.
 *
 * Why a pager killed with SIGKILL at any point loses nothing
 * ----------------------------------------------------------
 * The index (store.h) has, for every gfn the hypervisor holds evicted, a
 * WRITTEN record naming a slot with its contents, or a ZERO record saying
 * its contents are zero: the data is written and fdatasync'd, then the
 * record, then the index is fdatasync'd, and only then is the gfn
 * evicted. A ZERO record is handled as a WRITTEN one throughout, its
 * page loaded from zero_page instead of a slot. A record is never needed before the evict, so
 * a crash anywhere before it loses nothing that was not still in the
 * guest. Sequence numbers make the newest record of a gfn win.
 *
 * Records can be stale after a crash: a page loaded back whose FREE
 * record was not written yet, a page evicted after a touched nominate,
 * the batch being written (INTENT records). The restarted pager opens
 * with XPAGE_OPEN_TAKEOVER (the library re-attaches to the ring and
 * releases the vCPUs the dead pager left paused; they fault again and
 * ask anew), then sorts the records out by asking the hypervisor:
 *
 *   nominate each recorded gfn (a probe):
 *     succeeds      -> the page is resident: the record was stale; it is
 *                      un-nominated and its slot freed
 *     EBUSY         -> paged out, being paged in, or still nominated by
 *                      the dead pager: WRITTEN records are adopted
 *                      (xpage_adopt), so populates and the drain load
 *                      them from the store; INTENT ones were never
 *                      evicted (evict only follows WRITTEN): they are
 *                      nominated at worst, and are finished as a
 *                      page-out (pageout_stuck), their records kept
 *                      until then
 *
 * Loading an adopted gfn whose frame never left (nominated, or touched
 * since) copies nothing: the hypervisor keeps the frame, so a stale copy
 * can never overwrite newer guest data. Loading a gfn that is resident
 * fails with -ENOENT and changes nothing.
 *
 * Kill points and why each is safe:
 *   - during the batch write: the batch is nominated, INTENT records
 *     only; nothing was evicted. Restart: INTENT gfns are probed and
 *     any left nominated are returned to the guest.
 *   - between index sync and evict: WRITTEN records for nominated
 *     gfns. Restart adopts them; a guest touch is an evict failure (the
 *     frame is there), the drain loads the others (no copy needed).
 *   - after evict: the ordinary case, the store has the pages.
 *   - during page-in (read, before load; or loaded, FREE record not yet
 *     written): the vCPU is released by the takeover and asks again;
 *     the adopted gfn is loaded from its slot, or, if it was already
 *     loaded, the probe finds it resident.
 */
#include "pager.h"
#include "zero.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Latency samples: all of them up to LAT_MAX, then a uniform reservoir. */

#define LAT_MAX (1u << 20)

void lat_add(struct lat_samples *l, uint32_t us)
{
	l->seen++;
	if (l->n < LAT_MAX) {
		if (grow(&l->us, &l->cap, l->n + 1, sizeof(*l->us)) == 0)
			l->us[l->n++] = us;
		return;
	}
	l->rng = l->rng * 6364136223846793005ull + 1442695040888963407ull;
	uint64_t j = (l->rng >> 11) % l->seen;

	if (j < LAT_MAX)
		l->us[j] = us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t lat_pct(struct lat_samples *l, double pct)
{
	size_t i;

	if (!l->n)
		return 0;
	qsort(l->us, l->n, sizeof(*l->us), cmp_u32);
	i = (size_t)(pct / 100.0 * (double)(l->n - 1) + 0.5);
	return l->us[i < l->n ? i : l->n - 1];
}

/* ------------------------------------------------------------------ */
/* Callbacks (run inside xpage_dispatch: they only record)              */

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	struct pager *p = user;
	uint64_t g = ev->gfn;

	(void)xp;
	if (g >= p->nr_gfns || (p->gfl[g] & (GF_QUEUED | GF_CORRUPT)))
		return;
	if (!(p->gfl[g] & GF_OUT)) {
		errx_("the guest needs gfn %#llx, which is not in this pager's "
		      "store: its vCPU stays paused (was the store of a "
		      "previous pager lost?)", (unsigned long long)g);
		return;
	}
	if (grow(&p->q, &p->cap_q, p->nq + 1, sizeof(*p->q)) < 0) {
		errx_("out of memory queueing a page-in");
		return;
	}
	p->q[p->nq++] = (struct pagein_req){ .gfn = g, .t_ns = now_ns() };
	p->gfl[g] |= GF_QUEUED;
}

static void cb_evict_fail(xpage_t *xp, uint64_t gfn, void *user)
{
	struct pager *p = user;

	(void)xp;
	if (gfn >= p->nr_gfns)
		return;
	p->st.evict_fail++;
	/* the guest uses it: a sign to leave it alone a while */
	p->pol->ops->paged_in(p->pol, gfn, now_ns());
	pageout_spoil(p, gfn);
}

static void cb_drop(xpage_t *xp, uint64_t gfn, void *user)
{
	struct pager *p = user;

	(void)xp;
	if (gfn >= p->nr_gfns)
		return;
	p->st.drops++;
	p->gfl[gfn] &= (uint16_t)~GF_QUEUED; /* nobody waits for it now */
	pageout_spoil(p, gfn);
}

const struct xpage_callbacks pager_callbacks_template = {
	.sz = sizeof(struct xpage_callbacks),
	.populate = cb_populate,
	.evict_fail = cb_evict_fail,
	.drop = cb_drop,
};

/* ------------------------------------------------------------------ */

static int io_reserve(struct pager *p, size_t pages)
{
	if (pages <= p->io_cap)
		return 0;
	free(p->io_buf);
	p->io_buf = aligned_alloc(XPAGE_PAGE_SIZE, pages * XPAGE_PAGE_SIZE);
	p->io_cap = p->io_buf ? pages : 0;
	return p->io_buf ? 0 : -ENOMEM;
}

static int cmp_ld(const void *a, const void *b)
{
	const struct ld *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* A page whose data failed its check (store_read): never loaded. The
 * gfn stays paged out with its record and slot (the store is kept at
 * exit, since a page is still out), and a vCPU that needs it stays
 * paused: the guest waits rather than run on with wrong memory. */
static void refuse_corrupt(struct pager *p, uint64_t g, uint32_t slot)
{
	p->gfl[g] &= (uint16_t)~GF_QUEUED;
	if (p->gfl[g] & GF_CORRUPT)
		return;
	p->gfl[g] |= GF_CORRUPT;
	p->nr_corrupt++;
	p->st.corrupt_records++;
	errx_("store %s: the data of gfn %#llx (slot %u) does not match the "
	      "length and crc32c of its record: it is not loaded, the gfn "
	      "stays paged out and a vCPU that needs it stays paused",
	      store_path(p->store), (unsigned long long)g, slot);
}

/* Of the @n pages read into @bufs, those whose check failed (@rst) are
 * refused and taken out of @v, @g and @bufs. Returns how many are
 * left. */
static size_t drop_corrupt(struct pager *p, struct ld *v, uint64_t *g,
			   void **bufs, const int *rst, size_t nd, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (i < nd && rst[i] < 0) {
			refuse_corrupt(p, v[i].gfn, v[i].slot);
			continue;
		}
		v[i].ram = i < nd && rst[i] == 1;
		v[k] = v[i];
		g[k] = g[i];
		bufs[k++] = bufs[i];
	}
	return k;
}

/*
 * Read and load @n gfns (sorted here by slot: zero pages, which have
 * none, come last and load from zero_page); a page that fails its check
 * is refused (refuse_corrupt) and taken out of the set. st[i] gets the
 * status of each gfn left in v[i] and g[i]. Returns how many those are,
 * or a negative errno for the whole call.
 */
static int load_set(struct pager *p, struct ld *v, size_t n, int *st,
		    uint64_t *g, void **bufs, bool bulk)
{
	uint32_t *slots = malloc(n * sizeof(*slots));
	int *rst = malloc(n * sizeof(*rst));
	size_t nd = 0;
	int64_t rd;
	int rc = slots && rst ? io_reserve(p, n) : -ENOMEM;

	if (rc < 0) {
		free(slots);
		free(rst);
		return rc;
	}
	qsort(v, n, sizeof(*v), cmp_ld);
	for (size_t i = 0; i < n; i++) {
		g[i] = v[i].gfn;
		slots[i] = v[i].slot;
		bufs[i] = p->io_buf + i * XPAGE_PAGE_SIZE;
		if (v[i].slot == STORE_NO_SLOT)
			bufs[i] = zero_page;
		else
			nd++;
	}
	rd = store_read(p->store, slots, bufs, nd, rst);
	free(slots);
	if (rd < 0) {
		free(rst);
		errx_("reading the store %s: %s", store_path(p->store),
		      strerror((int)-rd));
		return (int)rd;
	}
	p->st.io_bytes_read += (uint64_t)rd;
	n = drop_corrupt(p, v, g, bufs, rst, nd, n);
	free(rst);
	crash_point("pagein");
	if (bulk) {
		/* Take the requests the guest made meanwhile first: their
		 * gfns are loaded by this call and their vCPUs answered with
		 * it, instead of waiting for the next batch. (Before libxpage
		 * 6e08b21 a request read after the load of its gfn also
		 * became a populate nobody could answer.) */
		rc = xpage_dispatch(p->xp, 0);
		if (rc < 0)
			return rc;
	}
	rc = xpage_load(p->xp, g, n, bufs, XPAGE_LOAD_RESUME, st);
	if (rc < 0)
		return rc;
	crash_point("loaded");
	return (int)n;
}

enum load_kind { LOAD_DEMAND, LOAD_BULK, LOAD_AHEAD };

/* What a load status means for the gfn's slot. @l: the gfn as loaded. */
static void after_load(struct pager *p, const struct ld *l, int st,
		       enum load_kind kind, uint64_t t_req)
{
	uint64_t g = l->gfn;
	uint64_t t = now_ns();

	if (!(p->gfl[g] & GF_OUT)) {
		/* dropped or touched meanwhile: its slot is already free */
		p->gfl[g] &= (uint16_t)~GF_QUEUED;
		return;
	}
	if (st == -ENOMEM)
		return; /* the hypervisor is short of memory: later */
	if (st == 0) {
		p->st.pages_in++;
		if (kind == LOAD_DEMAND) {
			uint32_t us = (uint32_t)((t - t_req) / 1000);

			p->st.pages_in_demand++;
			lat_add(&p->st.lat, us);
			lat_add(l->ram ? &p->st.lat_ram : &p->st.lat_file, us);
		} else if (kind == LOAD_AHEAD) {
			p->st.pages_in_prefetch++;
			prefetch_loaded(p, g);
		} else {
			p->st.pages_in_drain++;
		}
		p->pol->ops->paged_in(p->pol, g, t);
	} else if (st == -EBUSY) {
		/* Only nominated, never evicted (the pager that died did not
		 * get to it), and touched since: the frame holds the page and
		 * the evict_fail notice now on its way makes it present. */
	} else if (st == -ENOENT && (p->gfl[g] & GF_ADOPTED)) {
		/* The hypervisor has a frame for it: resident, or still
		 * nominated by the pager that died. Its record stays until
		 * pageout_stuck() settles which. */
		pager_hold_stuck(p, g);
		return;
	} else if (st != -EINVAL && st != -EALREADY) {
		warnx_("loading gfn %#llx: %s", (unsigned long long)g,
		       xpage_strerror(st));
	}
	p->gfl[g] &= (uint16_t)~GF_QUEUED;
	pager_release_slot(p, g);
}

/* The queued populates into @v, each followed by what prefetch_pick()
 * loads with it (GF_QUEUED while they wait). Returns how many. */
static size_t demand_set(struct pager *p, struct ld *v)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nq; i++) {
		uint64_t x = p->q[i].gfn;

		if (!(p->gfl[x] & GF_QUEUED) || !(p->gfl[x] & GF_OUT)) {
			p->gfl[x] &= (uint16_t)~GF_QUEUED; /* dropped meanwhile */
			continue;
		}
		v[n++] = (struct ld){ .gfn = x, .slot = p->slot[x], .qi = (uint32_t)i };
		n += prefetch_pick(p, x, v + n, p->pf.depth);
	}
	return n;
}

/* The pages a demand_set() load took ahead: nobody waits for them. */
static void unqueue_ahead(struct pager *p, const struct ld *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].qi == UINT32_MAX)
			p->gfl[v[i].gfn] &= (uint16_t)~GF_QUEUED;
}

/* The statuses of the @n gfns a demand_set() load left in @v. */
static void after_demand(struct pager *p, const struct ld *v, size_t n,
			 const int *st)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].qi != UINT32_MAX)
			after_load(p, &v[i], st[i], LOAD_DEMAND,
				   p->q[v[i].qi].t_ns);
		else
			after_load(p, &v[i], st[i], LOAD_AHEAD, 0);
	unqueue_ahead(p, v, n);
}

int pagein_serve(struct pager *p)
{
	size_t cap = p->nq * (1 + (size_t)p->pf.depth), n, k = 0;
	struct ld *v;
	uint64_t *g;
	void **bufs;
	int *st, rc = 0;

	if (!p->nq)
		return 0;
	v = malloc(cap * sizeof(*v));
	g = malloc(cap * sizeof(*g));
	bufs = malloc(cap * sizeof(*bufs));
	st = malloc(cap * sizeof(*st));
	if (!v || !g || !bufs || !st) {
		rc = -ENOMEM;
		goto out;
	}
	n = demand_set(p, v);
	if (n) {
		rc = load_set(p, v, n, st, g, bufs, false);
		if (rc < 0) {
			/* (load_set may have taken corrupt pages out of v:
			 * its n entries still name every gfn left queued) */
			unqueue_ahead(p, v, n);
			goto out;
		}
		n = (size_t)rc;
		after_demand(p, v, n, st);
	}
	/* Keep what must be tried again (-ENOMEM). */
	for (size_t i = 0; i < p->nq; i++)
		if (p->gfl[p->q[i].gfn] & GF_QUEUED)
			p->q[k++] = p->q[i];
	p->nq = k;
	rc = (int)n;
out:
	free(v);
	free(g);
	free(bufs);
	free(st);
	return rc;
}

int pagein_bulk(struct pager *p, uint64_t max, bool progress)
{
	size_t b = p->o.batch;
	struct ld *v = malloc(b * sizeof(*v));
	uint64_t *g = malloc(b * sizeof(*g)), done = 0, cursor = 0;
	void **bufs = malloc(b * sizeof(*bufs));
	int *st = malloc(b * sizeof(*st)), rc = 0;
	uint64_t stall_since = 0;

	if (!v || !g || !bufs || !st) {
		rc = -ENOMEM;
		goto out;
	}
	while (p->nr_out > p->nr_corrupt && (!max || done < max)) {
		size_t n = 0;
		uint64_t before = p->st.pages_in;

		/* demand first */
		rc = xpage_dispatch(p->xp, 0);
		if (rc < 0)
			goto out;
		rc = pagein_serve(p);
		if (rc < 0)
			goto out;
		for (uint64_t seen = 0; seen < p->nr_gfns && n < b &&
		     (!max || done + n < max); seen++) {
			uint64_t x = cursor;

			cursor = cursor + 1 == p->nr_gfns ? 0 : cursor + 1;
			if ((p->gfl[x] & (GF_OUT | GF_QUEUED | GF_CORRUPT)) ==
			    GF_OUT)
				v[n++] = (struct ld){ .gfn = x, .slot = p->slot[x],
						      .qi = UINT32_MAX };
		}
		if (n) {
			rc = load_set(p, v, n, st, g, bufs, true);
			if (rc < 0)
				goto out;
			n = (size_t)rc;
			for (size_t i = 0; i < n; i++)
				after_load(p, &v[i], st[i], LOAD_BULK, 0);
		}
		done += p->st.pages_in - before;
		if (progress)
			report_progress(p, false);
		if (p->st.pages_in == before) {
			/* nothing moved (the hypervisor is out of memory, or
			 * only queued gfns are left): wait a little */
			uint64_t t = now_ns();

			if (!stall_since)
				stall_since = t;
			else if (t - stall_since > 60ull * 1000000000ull) {
				errx_("page-in made no progress for 60 s with "
				      "%llu pages still out",
				      (unsigned long long)p->nr_out);
				rc = -ETIMEDOUT;
				goto out;
			}
			rc = xpage_dispatch(p->xp, 10);
			if (rc < 0 && rc != -EINTR)
				goto out;
		} else {
			stall_since = 0;
		}
		rc = 0;
	}
out:
	free(v);
	free(g);
	free(bufs);
	free(st);
	return rc < 0 ? rc : (int)done;
}

/* ------------------------------------------------------------------ */
/* Re-attach                                                            */

int pagein_reattach(struct pager *p, const struct store_recovery *rec)
{
	enum { CH = 512 };
	uint64_t g[CH], probe_ok[CH], adopt[CH];
	int st[CH];
	size_t n_ok = 0, n_ad = 0;
	uint64_t resident = 0;

	for (size_t i = 0; i < rec->n; i++) {
		store_claim(p->store, rec->live[i].slot);
		p->slot[rec->live[i].gfn] = rec->live[i].slot;
		if (rec->live[i].state == REC_ZERO)
			p->gfl[rec->live[i].gfn] |= GF_ZERO;
	}
	for (size_t i = 0; i < rec->n; i += CH) {
		size_t n = rec->n - i < CH ? rec->n - i : CH;
		int rc;

		for (size_t j = 0; j < n; j++)
			g[j] = rec->live[i + j].gfn;
		rc = xpage_nominate(p->xp, g, n, 0, st);
		if (rc < 0)
			return rc;
		n_ok = n_ad = 0;
		for (size_t j = 0; j < n; j++) {
			const struct store_live *l = &rec->live[i + j];

			if (st[j] == 0) {
				probe_ok[n_ok++] = l->gfn;
			} else if (st[j] == -EBUSY && l->state != REC_INTENT) {
				adopt[n_ad++] = l->gfn;
			} else {
				if (st[j] == -EBUSY)
					/* nominated by the dead pager, or
					 * busy elsewhere: the record stays */
					pager_hold_stuck(p, l->gfn);
				else
					pager_release_slot(p, l->gfn);
			}
		}
		if (n_ok) {
			/* resident: the record was stale */
			xpage_unnominate(p->xp, probe_ok, n_ok, 0, st);
			for (size_t j = 0; j < n_ok; j++)
				pager_release_slot(p, probe_ok[j]);
			resident += n_ok;
		}
		if (n_ad) {
			rc = xpage_adopt(p->xp, adopt, n_ad, 0, st);
			if (rc < 0)
				return rc;
			for (size_t j = 0; j < n_ad; j++) {
				uint64_t x = adopt[j];

				if (st[j]) {
					warnx_("cannot adopt gfn %#llx: %s",
					       (unsigned long long)x,
					       xpage_strerror(st[j]));
					pager_release_slot(p, x);
					continue;
				}
				p->gfl[x] |= GF_OUT | GF_ADOPTED;
				p->nr_out++;
				p->st.adopted++;
			}
		}
	}
	p->st.recovered_free = resident + rec->stale_records;
	say("re-attached to store %s: %llu pages held, %llu stale records, "
	    "%llu damaged records ignored", store_path(p->store),
	    (unsigned long long)p->st.adopted,
	    (unsigned long long)(resident + rec->stale_records),
	    (unsigned long long)rec->bad_records);
	crash_point("reattached");
	return 0;
}

/*
 * Every adopted page is loaded at once, before paging out again. The dead
 * pager may have taken populate requests off the ring without answering
 * them; the takeover releases their vCPUs, but their gfns stay paging_in.
 * A vCPU faulting on a paging_in gfn is neither paused nor announced
 * again on Xen (only paged and paging_out gfns raise a request from the
 * guest's page fault path): it re-executes the access until the gfn is
 * loaded. Which adopted gfns are paging_in cannot be asked, so all of
 * them are loaded; the policy pages out again from there. The domain is
 * paused meanwhile (XPAGE_OPEN_KEEP_PAUSED, dropped by main.c after this):
 * a running vCPU whose gfns, or the gfns Xen's scheduler touches for it,
 * are still out raises request after request, and on Xen a full ring then
 * crashes the domain (docs/xen-hazards.md).
 */
int pagein_adopted(struct pager *p)
{
	if (!p->nr_out && !p->nstuck)
		return 0;
	say("loading the %llu adopted pages back first, the domain paused "
	    "(vCPUs the dead pager left waiting need them)",
	    (unsigned long long)p->nr_out);
	return pagein_everything(p, false);
}

/*
 * Everything back in: the stuck gfns first (pageout_stuck: finished as a
 * page-out, so that their records name their contents), then every page
 * out. A load can find an adopted gfn still nominated (-ENOENT) and make
 * it stuck, hence a second round. Returns pages loaded or a negative
 * fatal errno.
 */
int pagein_everything(struct pager *p, bool progress)
{
	int rc = 0, total = 0;

	for (int round = 0; round < 3 && (p->nstuck || p->nr_out > p->nr_corrupt);
	     round++) {
		if (p->nstuck) {
			rc = pageout_stuck(p);
			if (rc < 0)
				return rc;
		}
		rc = pagein_bulk(p, 0, progress);
		if (rc < 0)
			return rc;
		total += rc;
	}
	return total;
}
