/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The oracle: what every guest page must contain.
 *
 * A page's contents are a pure function of (guest seed, gfn, generation):
 * a splitmix64 stream, so nothing but a 32-bit generation per gfn is
 * stored. A guest write bumps the generation and writes the new contents;
 * every guest read and every report scan compares the whole page against
 * it; a load (prep with a buffer) compares a sample of it (below). A
 * mismatch whose data is all zero counts as lost (the page's data is
 * gone), any other as corrupted. A bad gfn is counted once, until the
 * guest writes it again.
 *
 * The sample: words 0, 64, 128 ... 448 and 511 (one per 512 bytes, and
 * the last). Regenerating and comparing all 512 words costs 1.4-1.6 us
 * per page, on the page-in's critical path; the sample, nine words. The
 * mistakes a pager makes on a load differ from the expected page in
 * nearly every word: another gfn's or slot's contents, an older
 * generation, zeros, a page torn at any 512-byte boundary, a header word
 * overwritten. What a sample can miss (a few wrong bytes between the
 * sampled words) stays in guest memory, where the next guest read and
 * every report still compare the whole page: it is counted then, unless
 * the guest writes the whole page again first, as it would overwrite it
 * on Xen too.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "text.h"

uint64_t sim_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define GOLDEN 0x9e3779b97f4a7c15ull

static inline uint64_t stream_start(const struct sim_guest *g, uint64_t gfn,
				    uint32_t gen)
{
	return sim_mix64(g->seed ^ sim_mix64(gfn * GOLDEN + 1) ^
			 ((uint64_t)gen << 32 | gen));
}

/* Word @i of a page from the stream's value @m: random bits (the first
 * word never zero), or text (SIM_GUEST_TEXT). */
static inline uint64_t page_word(const struct sim_guest *g, uint64_t m,
				 unsigned i)
{
	if (g->flags & SIM_GUEST_TEXT)
		return sim_text_word(m);
	return i == 0 ? m | 1 : m;
}

void oracle_fill(const struct sim_guest *g, uint64_t gfn, void *dst)
{
	const struct sim_gfn *s = &g->gfn[gfn];
	uint64_t st, w[SIM_PAGE / 8];

	if (s->flags & SG_ZERO) {
		memset(dst, 0, SIM_PAGE);
		return;
	}
	st = stream_start(g, gfn, s->gen);
	for (unsigned i = 0; i < SIM_PAGE / 8; i++) {
		st += GOLDEN;
		w[i] = page_word(g, sim_mix64(st), i); /* never all zero */
	}
	memcpy(dst, w, SIM_PAGE);
}

static bool all_zero(const uint8_t *p)
{
	uint64_t acc = 0, w;

	for (unsigned i = 0; i < SIM_PAGE; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	return acc == 0;
}

/* Word @i of the page that begins the stream at @st (oracle_fill's loop,
 * without the words before it). */
static inline uint64_t expected_word(const struct sim_guest *g, uint64_t st,
				     unsigned i)
{
	return page_word(g, sim_mix64(st + (uint64_t)(i + 1) * GOLDEN), i);
}

static const uint16_t sample_words[] = {
	0, 64, 128, 192, 256, 320, 384, 448, SIM_PAGE / 8 - 1,
};

int oracle_check_sampled(const struct sim_guest *g, uint64_t gfn,
			 const void *data)
{
	const struct sim_gfn *s = &g->gfn[gfn];
	const uint8_t *p = data;
	uint64_t st = 0, d;
	bool zero = s->flags & SG_ZERO;

	if (!zero)
		st = stream_start(g, gfn, s->gen);
	for (size_t k = 0; k < sizeof(sample_words) / sizeof(sample_words[0]);
	     k++) {
		unsigned i = sample_words[k];

		memcpy(&d, p + (size_t)i * 8, 8);
		if (d != (zero ? 0 : expected_word(g, st, i)))
			return zero || !all_zero(p) ? 2 : 1;
	}
	return 0;
}

int oracle_check(const struct sim_guest *g, uint64_t gfn, const void *data)
{
	const struct sim_gfn *s = &g->gfn[gfn];
	const uint8_t *p = data;
	uint64_t st, w, d;

	if (s->flags & SG_ZERO)
		return all_zero(p) ? 0 : 2;
	st = stream_start(g, gfn, s->gen);
	for (unsigned i = 0; i < SIM_PAGE / 8; i++) {
		st += GOLDEN;
		w = page_word(g, sim_mix64(st), i);
		memcpy(&d, p + i * 8, 8);
		if (d != w)
			return all_zero(p) ? 1 : 2;
	}
	return 0;
}

int oracle_verify(struct sim_guest *g, uint64_t gfn, const void *data,
		  enum oracle_by by)
{
	static const char *const what[] = {
		[ORACLE_BY_LOAD] = "a load (sampled)",
		[ORACLE_BY_READ] = "a guest read",
		[ORACLE_BY_REPORT] = "a report",
	};
	int r;

	if (gfn >= g->pages)
		return 0; /* special pages have no expected contents */
	r = by == ORACLE_BY_LOAD ? oracle_check_sampled(g, gfn, data) :
				   oracle_check(g, gfn, data);
	if (r && !(g->gfn[gfn].flags & SG_BAD)) {
		g->gfn[gfn].flags |= SG_BAD;
		if (r == 1)
			g->st.lost++;
		else
			g->st.corrupted++;
		sim_log(SIM_LOG_WARN, "d%u: gfn %#llx %s, found by %s "
			"(generation %u)", g->domid, (unsigned long long)gfn,
			r == 1 ? "lost" : "corrupted", what[by],
			g->gfn[gfn].gen);
	}
	return r;
}

void oracle_write(struct sim_guest *g, uint64_t gfn)
{
	struct sim_gfn *s = &g->gfn[gfn];

	if (gfn >= g->pages) {
		/* A special page: no oracle, but the write still happens. */
		memset(guest_page(g, gfn), 0xa5, 64);
		return;
	}
	s->gen++;
	s->flags &= (uint8_t)~(SG_ZERO | SG_BAD);
	oracle_fill(g, gfn, guest_page(g, gfn));
}

bool oracle_page_is_hole(const struct sim_guest *g, uint64_t gfn)
{
	off_t off = (off_t)(gfn * SIM_PAGE);
	off_t d = lseek(g->seekfd, off, SEEK_DATA);

	return d < 0 ? errno == ENXIO : d >= off + (off_t)SIM_PAGE;
}

#define REPORT_CHUNK 4096u

/* Where the memfd has data: [data, hole) around @gfn, in gfns. Reading a
 * hole through the mapping would allocate it (shmem has no shared zero
 * page), so the scan asks the file instead: a hole reads as zeros. */
struct extent { uint64_t data, hole; };

static void find_extent(const struct sim_guest *g, uint64_t gfn,
			struct extent *e)
{
	off_t d = lseek(g->seekfd, (off_t)(gfn * SIM_PAGE), SEEK_DATA), h;

	if (d < 0) {
		/* ENXIO: holes to the end of the file. */
		e->data = e->hole = UINT64_MAX;
		return;
	}
	h = lseek(g->seekfd, d, SEEK_HOLE);
	e->data = (uint64_t)d / SIM_PAGE;
	e->hole = h < 0 ? UINT64_MAX : ((uint64_t)h + SIM_PAGE - 1) / SIM_PAGE;
}

/* Verify every RAM page the guest holds, REPORT_CHUNK gfns per hold of
 * the guest lock. Returns, for a @final report, the gfns that are out
 * with no frame (paged out and never loaded back: lost). */
static uint64_t verify_all(struct sim_guest *g, bool final)
{
	static const uint8_t zero[SIM_PAGE];
	struct extent e = { 0, 0 };
	uint64_t out = 0;

	for (uint64_t base = 0; base < g->pages; base += REPORT_CHUNK) {
		uint64_t end = base + REPORT_CHUNK;

		if (end > g->pages)
			end = g->pages;
		guest_lock(g);
		e.hole = 0; /* the file may have changed while unlocked */
		for (uint64_t gfn = base; gfn < end; gfn++) {
			const struct sim_gfn *s = &g->gfn[gfn];

			if ((s->flags & SG_FRAME) && !(s->flags & SG_BAD) &&
			    s->p2mt != SIMP_P2M_INVALID) {
				/* Known from the last lookup (made at a gfn
				 * <= this one): holes up to e.data, data up
				 * to e.hole. */
				if (gfn >= e.hole)
					find_extent(g, gfn, &e);
				if (gfn >= e.data && gfn < e.hole)
					oracle_verify(g, gfn,
						      guest_page(g, gfn),
						      ORACLE_BY_REPORT);
				else if (!(s->flags & SG_ZERO))
					oracle_verify(g, gfn, zero,
						      ORACLE_BY_REPORT);
			}
			if (final && !(s->flags & SG_FRAME) &&
			    (s->p2mt == SIMP_P2M_RAM_PAGED ||
			     s->p2mt == SIMP_P2M_RAM_PAGING_IN))
				out++;
		}
		guest_unlock(g);
	}
	return out;
}

/* Locked: is vCPU @v stuck? In a @final report any vCPU paused, blocked,
 * waiting or spinning is; otherwise one paused or spinning for longer
 * than @limit_ns. */
static bool vcpu_stuck(const struct sim_guest *g, const struct sim_vcpu *v,
		       bool final, uint64_t now, uint64_t limit_ns)
{
	bool paused = v->vm_event_pause != 0;
	/* Spinning on a gfn that is still paging_in (once it is RAM the
	 * vCPU's next retry succeeds: not stuck). */
	bool spinning = v->spin_since_ns &&
			v->pending.kind == SIM_PEND_ACCESS &&
			g->gfn[v->pending.gfn].p2mt == SIMP_P2M_RAM_PAGING_IN;

	if (final)
		return paused || v->blocked || v->in_waitqueue || spinning;
	return (paused && now - v->paused_since_ns > limit_ns) ||
	       (spinning && now - v->spin_since_ns > limit_ns);
}

void oracle_report(struct sim_guest *g, const struct simp_report_req *rq,
		   struct simp_report *rep)
{
	bool final = rq->flags & 1u; /* XPAGE_SIM_REPORT_FINAL */
	uint64_t limit = (uint64_t)rq->stuck_ms * 1000000ull;
	uint64_t extra_lost, now;

	memset(rep, 0, sizeof(*rep));
	extra_lost = verify_all(g, final);
	guest_lock(g);
	now = sim_now_ns();
	rep->pages = g->pages;
	rep->paged = g->nr_paged_type;
	rep->nominated = g->nr_paging_out;
	rep->accesses = g->st.accesses;
	rep->faults = g->st.faults;
	rep->requests = g->st.requests;
	rep->responses = g->st.responses;
	rep->ignored = g->st.ignored;
	rep->lost = g->st.lost + extra_lost;
	rep->corrupted = g->st.corrupted;
	for (uint32_t i = 0; i < g->nvcpus; i++) {
		rep->paused_vcpus += g->vcpu[i].vm_event_pause != 0;
		rep->stuck += vcpu_stuck(g, &g->vcpu[i], final, now, limit);
	}
	rep->crashed = g->crashed;
	if (g->crash_why)
		strncpy(rep->crash_reason, g->crash_why,
			sizeof(rep->crash_reason) - 1);
	rep->ring_enabled = g->ring != NULL;
	rep->pause_count = g->pause_count;
	guest_unlock(g);
}
