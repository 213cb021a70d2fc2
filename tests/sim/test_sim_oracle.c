/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The oracle (lost / corrupted / stuck), guest workloads with a small raw
 * pager running against them, and the seeded fault injector.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "simtest.h"

/* ------------------------------------------------------- a tiny pager */

struct pager {
	struct tc *c;
	uint8_t (*store)[4096];
	bool *stored;
	bool *walk;      /* gfns Xen walks to itself: never paged out */
	uint32_t req_cons;
	uint64_t rng;
	unsigned evicted, loaded, answered;
};

static uint64_t prand(struct pager *p)
{
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	return p->rng;
}

/* Consume every request: load what was evicted, answer everything (each
 * request holds a ring slot until answered). */
static void pager_serve(struct pager *p)
{
	struct tc *c = p->c;
	uint32_t prod = tc_req_prod(c), n = 0;

	while (p->req_cons != prod) {
		struct lreq q;

		tc_get_req(c, p->req_cons++, &q);
		ck_assert_uint_lt(q.gfn, c->pages);
		if ((c->L->vm_event ? q.pflags : q.flags) & c->L->f_drop) {
			p->stored[q.gfn] = false;
		} else if (p->stored[q.gfn]) {
			int rc = tc_load(c, q.gfn, p->store[q.gfn], 0);

			ck_assert_msg(rc == 0 || rc == -ENOENT, "load %d", rc);
			p->stored[q.gfn] = false;
			p->loaded++;
		}
		tc_answer(c, &q);
		n++;
	}
	if (n) {
		p->answered += n;
		tc_notify(c);
	}
}

static void pager_out(struct pager *p, unsigned batch)
{
	struct tc *c = p->c;

	for (unsigned i = 0; i < batch; i++) {
		uint64_t g = prand(p) % c->pages;

		if (p->stored[g] || p->walk[g] || tc_nominate(c, g) < 0)
			continue;
		/* write-out through a foreign mapping */
		if (tc_map1(c, g) < 0)
			continue;
		memcpy(p->store[g], c->mem + g * 4096, 4096);
		ck_assert_int_eq(tc_unmap1(c, g), 0);
		if (tc_evict(c, g) == 0) {
			p->stored[g] = true;
			p->evicted++;
		}
	}
}

/* Bring everything back and answer until no vCPU waits. */
static void pager_drain(struct pager *p)
{
	struct tc *c = p->c;

	for (uint64_t g = 0; g < c->pages; g++) {
		if (!p->stored[g])
			continue;
		ck_assert_int_eq(tc_load(c, g, p->store[g], 1), 0);
		p->stored[g] = false;
	}
	for (int i = 0; i < 400; i++) {
		pager_serve(p);
		if (tc_report(c, 0, 0).paused_vcpus == 0 &&
		    tc_req_prod(c) == p->req_cons)
			break;
		tc_sleep_ms(5);
	}
}

static void pager_init(struct pager *p, struct tc *c)
{
	memset(p, 0, sizeof(*p));
	p->c = c;
	p->rng = 0x1234567;
	p->store = calloc(c->pages, 4096);
	p->stored = calloc(c->pages, sizeof(bool));
	p->walk = calloc(c->pages, sizeof(bool));
	ck_assert(p->store && p->stored && p->walk);
	tc_walk_marks(c, p->walk);
}

static void pager_fini(struct pager *p)
{
	free(p->store);
	free(p->stored);
	free(p->walk);
}

static int workload(struct tc *c, uint32_t pattern, uint32_t write_pct,
		    uint32_t think_us, uint32_t release_pm)
{
	struct simp_workload w = { .domid = c->domid, .vcpus = 0,
				   .pattern = pattern, .write_pct = write_pct,
				   .hot_set_pct = 10, .hot_pct = 100,
				   .think_us = think_us,
				   .release_pm = release_pm, .seed = 9 };

	return tc_call(c, SIMP_WORKLOAD, &w, sizeof(w), NULL, 0, NULL);
}

static int workload_stop(struct tc *c)
{
	struct simp_u32 d = { c->domid, 0 };

	return tc_call(c, SIMP_WORKLOAD_STOP, &d, sizeof(d), NULL, 0, NULL);
}

/* Guest vCPUs read, write and release pages while a pager pages them out
 * and in: the oracle must find nothing lost, corrupted or stuck. */
static void run_with_pager(const char *pers, uint32_t release_pm)
{
	struct tc c;
	struct pager p;
	struct simp_report r;
	uint64_t end;

	tc_ring_guest(&c, &S, 256, 2, pers);
	pager_init(&p, &c);
	ck_assert_int_eq(workload(&c, 0, 30, 20, release_pm), 0);
	end = tc_now_ms() + 400;
	while (tc_now_ms() < end) {
		pager_out(&p, 16);
		pager_serve(&p);
		tc_sleep_ms(1);
	}
	ck_assert_int_eq(workload_stop(&c), 0);
	pager_drain(&p);
	r = tc_report(&c, 1 /* FINAL */, 0);
	ck_assert_uint_gt(r.accesses, 100);
	ck_assert_uint_gt(r.faults, 0);
	ck_assert_uint_gt(p.evicted, 20);
	ck_assert_uint_gt(p.loaded, 0);
	ck_assert_uint_eq(r.lost, 0);
	ck_assert_uint_eq(r.corrupted, 0);
	ck_assert_uint_eq(r.stuck, 0);
	ck_assert_uint_eq(r.paused_vcpus, 0);
	ck_assert_uint_eq(r.crashed, 0);
	ck_assert_uint_eq(r.paged, 0);
	pager_fini(&p);
	tc_close(&c);
}

START_TEST(t_workload_with_pager)
{
	run_with_pager("xen-4.15", 0);
}
END_TEST

START_TEST(t_workload_with_pager_releases)
{
	run_with_pager("xen-4.2", 5);
}
END_TEST

/* FINAL: paged-out pages are lost, paused vCPUs stuck. */
START_TEST(t_final_report)
{
	struct tc c;
	struct simp_report r;

	tc_ring_guest(&c, &S, 16, 2, NULL);
	for (uint64_t g = 1; g <= 3; g++)
		tc_page_out(&c, g, NULL);
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.lost, 0);
	ck_assert_uint_eq(r.paged, 3);
	r = tc_report(&c, 1, 0);
	ck_assert_uint_eq(r.lost, 3);
	ck_assert_uint_eq(r.stuck, 0);
	ck_assert_int_eq(tc_touch(&c, 1, 2, 0), -EAGAIN);
	r = tc_report(&c, 0, 10000);
	ck_assert_uint_eq(r.stuck, 0);
	ck_assert_uint_eq(r.paused_vcpus, 1);
	tc_sleep_ms(30);
	ck_assert_uint_eq(tc_report(&c, 0, 10).stuck, 1);
	r = tc_report(&c, 1, 100000);
	ck_assert_uint_eq(r.stuck, 1);
	ck_assert_uint_eq(r.lost, 3);
	ck_assert_uint_eq(r.nominated, 0);
	tc_close(&c);
}
END_TEST

/* The oracle checks what is in guest memory, whoever put it there. */
START_TEST(t_oracle_detects)
{
	struct tc c;
	struct simp_report r;

	tc_guest(&c, &S, 16, 1, NULL, 0);
	c.mem[3 * 4096 + 17] ^= 1;              /* a buggy pager's write */
	memset(c.mem + 4 * 4096, 0, 4096);      /* a page that lost its data */
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.corrupted, 1);
	ck_assert_uint_eq(r.lost, 1);
	r = tc_report(&c, 0, 0);                /* counted once */
	ck_assert_uint_eq(r.corrupted, 1);
	ck_assert_uint_eq(r.lost, 1);
	/* A guest read of a bad page is counted too (once). */
	ck_assert_int_eq(tc_touch(&c, 0, 3, 0), 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).corrupted, 1);
	/* A guest write makes the page right again. */
	ck_assert_int_eq(tc_touch(&c, 0, 3, 1), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 3, 0), 0);
	c.mem[5 * 4096] ^= 1;
	ck_assert_int_eq(tc_touch(&c, 0, 5, 0), 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).corrupted, 2);
	tc_close(&c);
}
END_TEST

/* Was gfn @gfn of @c's guest found @what by @by ("a load (sampled)", "a
 * guest read", "a report"), by the log of simulator @s? */
static bool found_by(const struct simd *s, const struct tc *c, uint64_t gfn,
		     const char *what, const char *by)
{
	char line[160];

	snprintf(line, sizeof(line), "d%u: gfn %#llx %s, found by %s ",
		 c->domid, (unsigned long long)gfn, what, by);
	return simd_log_has(s, line);
}

static bool found_at_all(const struct simd *s, const struct tc *c,
			 uint64_t gfn)
{
	char line[64];

	snprintf(line, sizeof(line), "d%u: gfn %#llx ", c->domid,
		 (unsigned long long)gfn);
	return simd_log_has(s, line);
}

/* A load checks a sample of the page (the first word, one per 512 bytes,
 * the last); guest reads and reports the whole page. So a pager's usual
 * mistakes are counted at the load itself, and a wrong word the sample
 * cannot see is counted by the next guest read or report. Own simulator:
 * the log is read back. */
START_TEST(t_load_sampled)
{
	uint8_t page[9][4096], buf[4096], zero[4096] = { 0 };
	struct simp_report r;
	struct simd s;
	struct tc c;
	uint64_t w;

	simd_start(&s, NULL);
	tc_ring_guest(&c, &s, 16, 1, NULL);
	for (uint64_t g = 1; g <= 8; g++)
		tc_page_out(&c, g, page[g]);

	/* Another gfn's contents (a wrong slot or index): on the load. */
	ck_assert_int_eq(tc_load(&c, 1, page[2], 0), 0);
	ck_assert(found_by(&s, &c, 1, "corrupted", "a load (sampled)"));
	/* One wrong word at the start, at the end, at a 512-byte mark. */
	memcpy(buf, page[2], 4096);
	buf[0] ^= 0x80;
	ck_assert_int_eq(tc_load(&c, 2, buf, 1), 0);
	ck_assert(found_by(&s, &c, 2, "corrupted", "a load (sampled)"));
	memcpy(buf, page[3], 4096);
	buf[4095] ^= 1;
	ck_assert_int_eq(tc_load(&c, 3, buf, 2), 0);
	ck_assert(found_by(&s, &c, 3, "corrupted", "a load (sampled)"));
	memcpy(buf, page[4], 4096);
	memset(buf + 2048, 0, 2048);            /* torn in the middle */
	ck_assert_int_eq(tc_load(&c, 4, buf, 3), 0);
	ck_assert(found_by(&s, &c, 4, "corrupted", "a load (sampled)"));
	/* Zeros: lost. */
	ck_assert_int_eq(tc_load(&c, 5, zero, 4), 0);
	ck_assert(found_by(&s, &c, 5, "lost", "a load (sampled)"));
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.corrupted, 4);
	ck_assert_uint_eq(r.lost, 1);

	/* One flipped word in the middle (word 100, between the sampled 64
	 * and 128): the load does not see it ... */
	memcpy(buf, page[6], 4096);
	memcpy(&w, buf + 100 * 8, 8);
	w ^= 1ull << 33;
	memcpy(buf + 100 * 8, &w, 8);
	ck_assert_int_eq(tc_load(&c, 6, buf, 5), 0);
	memcpy(buf, page[7], 4096);
	buf[300 * 8 + 3] ^= 4;                  /* word 300 */
	ck_assert_int_eq(tc_load(&c, 7, buf, 6), 0);
	ck_assert(!found_at_all(&s, &c, 6));
	ck_assert(!found_at_all(&s, &c, 7));
	/* ... the next guest read does (gfn 6), and the report (gfn 7). */
	ck_assert_int_eq(tc_touch(&c, 0, 6, 0), 0);
	ck_assert(found_by(&s, &c, 6, "corrupted", "a guest read"));
	r = tc_report(&c, 0, 0);
	ck_assert(found_by(&s, &c, 7, "corrupted", "a report"));
	ck_assert_uint_eq(r.corrupted, 6);
	ck_assert_uint_eq(r.lost, 1);
	/* A right page passes both checks; each bad gfn counted once. */
	ck_assert_int_eq(tc_load(&c, 8, page[8], 7), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 8, 0), 0);
	r = tc_report(&c, 1 /* FINAL */, 0);
	ck_assert(!found_at_all(&s, &c, 8));
	ck_assert_uint_eq(r.corrupted, 6);
	ck_assert_uint_eq(r.lost, 1);
	tc_close(&c);
	ck_assert_int_eq(simd_stop(&s), 0);
}
END_TEST

/* A lazy guest starts all-zero; writes materialise contents. */
START_TEST(t_lazy_guest)
{
	struct tc c;
	int domid;
	uint8_t save[4096];

	ck_assert_int_eq(tc_connect(&c, &S), 0);
	domid = tc_create(&c, 4096, 1, NULL, 1u << 4 /* LAZY */, 5);
	ck_assert_int_gt(domid, 0);
	ck_assert_int_eq(tc_attach(&c, (uint32_t)domid), 0);
	for (unsigned i = 0; i < 4096; i++)
		ck_assert_uint_eq(c.mem[100 * 4096 + i], 0);
	ck_assert_int_eq(tc_touch(&c, 0, 100, 0), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 100, 1), 0);
	ck_assert(c.mem[100 * 4096] != 0);
	ck_assert_int_eq(tc_enable(&c, 0), 0);
	tc_page_out(&c, 100, save);
	tc_page_out(&c, 101, NULL);
	ck_assert_int_eq(tc_load(&c, 100, save, 0), 0);
	ck_assert_int_eq(tc_load(&c, 101, c.mem + 7 * 4096, 1), 0);
	ck_assert_uint_eq(tc_report(&c, 1, 0).corrupted, 0);
	ck_assert_uint_eq(tc_report(&c, 1, 0).lost, 0);
	tc_close(&c);
}
END_TEST

/* A 16 GiB guest (4M gfns) must be cheap: lazy creation and a report that
 * does not materialise untouched memory (the memfd's allocated blocks stay
 * far below the guest's size). */
START_TEST(t_big_lazy_guest)
{
	const uint64_t pages = 16ull << 18;    /* 16 GiB */
	struct tc c;
	struct stat st;
	struct simp_report r;
	uint8_t save[4096];
	int domid;

	ck_assert_int_eq(tc_connect(&c, &S), 0);
	domid = tc_create(&c, pages, 2, NULL, 1u << 4 /* LAZY */, 11);
	ck_assert_int_gt(domid, 0);
	ck_assert_int_eq(tc_attach(&c, (uint32_t)domid), 0);
	ck_assert_uint_eq(tc_info(&c).nr_pages, pages);
	ck_assert_int_eq(tc_touch(&c, 0, 0, 1), 0);
	ck_assert_int_eq(tc_touch(&c, 1, 1234567, 1), 0);
	ck_assert_int_eq(tc_touch(&c, 0, pages - 1, 1), 0);
	ck_assert_int_eq(tc_touch(&c, 0, pages - 2, 0), 0);
	/* Reads of never-written pages do not materialise them. */
	ck_assert_int_eq(workload(&c, 0, 0, 0, 0), 0);
	tc_wait_accesses(&c, 20000);
	ck_assert_int_eq(workload_stop(&c), 0);
	ck_assert_int_eq(tc_enable(&c, 0), 0);
	tc_page_out(&c, 1234567, save);
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.pages, pages);
	ck_assert_uint_eq(r.lost + r.corrupted, 0);
	ck_assert_int_eq(fstat(c.memfd, &st), 0);
	ck_assert_int_lt((long long)st.st_blocks * 512, 64ll << 20);
	ck_assert_int_eq(tc_load(&c, 1234567, save, 0), 0);
	r = tc_report(&c, 1, 0);
	ck_assert_uint_eq(r.lost + r.corrupted + r.stuck, 0);
	/* A page whose data vanished is found even without reading it. */
	ck_assert_int_eq(fallocate(c.memfd, FALLOC_FL_PUNCH_HOLE |
				   FALLOC_FL_KEEP_SIZE, 1234567ll * 4096, 4096),
			 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).lost, 1);
	ck_assert_int_eq(tc_destroy(&c), 0);
	tc_close(&c);
}
END_TEST

/* The first of @pages gfns whose contents are still those in @before,
 * or @pages. */
static unsigned first_unchanged(const uint8_t *before, const uint8_t *mem,
				unsigned pages)
{
	unsigned g = 0;

	while (g < pages && memcmp(before + g * 4096, mem + g * 4096, 4096))
		g++;
	return g;
}

/* Workload patterns: HOTCOLD with hot_pct 100 writes only the hot set
 * (and the vCPUs their timer hypercalls' arguments, on their stacks);
 * SEQUENTIAL covers every page. */
START_TEST(t_workload_patterns)
{
	struct tc c;
	uint8_t *before = malloc(100 * 4096);
	unsigned changed_hot = 0;
	uint64_t base, args[2];

	ck_assert(before != NULL);
	tc_guest(&c, &S, 100, 2, NULL, 0);
	args[0] = tc_args_page(&c, 0);
	args[1] = tc_args_page(&c, 1);
	ck_assert_uint_ge(args[0], 10);
	ck_assert_uint_ge(args[1], 10);
	memcpy(before, c.mem, 100 * 4096);
	ck_assert_int_eq(workload(&c, 1, 100, 0, 0), 0);
	tc_sleep_ms(50);
	ck_assert_int_eq(workload_stop(&c), 0);
	for (unsigned g = 0; g < 100; g++) {
		bool same = !memcmp(before + g * 4096, c.mem + g * 4096, 4096);

		if (g == args[0] || g == args[1])
			ck_assert_msg(!same, "no timer call wrote gfn %u", g);
		else if (g < 10)
			changed_hot += !same;
		else
			ck_assert_msg(same, "cold gfn %u written", g);
	}
	ck_assert_uint_gt(changed_hot, 0);
	memcpy(before, c.mem, 100 * 4096);
	base = tc_report(&c, 0, 0).accesses;
	ck_assert_int_eq(workload(&c, 2, 100, 0, 0), 0);
	ck_assert_uint_ge(tc_wait_accesses(&c, base + 1000), base + 1000);
	/* Each vCPU walks its own half; under load one may have run far
	 * fewer steps than the other, so wait for its walk to come round. */
	for (int i = 0; i < 3000 && first_unchanged(before, c.mem, 100) < 100;
	     i++)
		tc_sleep_ms(10);
	ck_assert_int_eq(workload_stop(&c), 0);
	ck_assert_msg(first_unchanged(before, c.mem, 100) == 100,
		      "sequential skipped gfn %u",
		      first_unchanged(before, c.mem, 100));
	ck_assert_int_eq(workload(&c, 0, 50, 0, 50), 0);   /* releases */
	tc_sleep_ms(30);
	ck_assert_int_eq(workload_stop(&c), 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).corrupted, 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).lost, 0);
	ck_assert_int_eq(workload(&c, 7, 50, 0, 0), -EINVAL);
	ck_assert_int_eq(workload(&c, 0, 101, 0, 0), -EINVAL);
	ck_assert_int_eq(workload(&c, 0, 10, 0, 1001), -EINVAL);
	free(before);
	tc_close(&c);
}
END_TEST

/* Paused vCPUs stay paused when the workload stops. */
START_TEST(t_workload_stop_keeps_paused)
{
	struct tc c;

	tc_ring_guest(&c, &S, 32, 2, NULL);
	for (uint64_t g = 0; g < 32; g++)
		if (!tc_on_walk(&c, g))  /* (those would crash the domain) */
			tc_page_out(&c, g, NULL);
	ck_assert_int_eq(workload(&c, 0, 0, 0, 0), 0);
	for (int i = 0; i < 200 && tc_report(&c, 0, 0).paused_vcpus < 2; i++)
		tc_sleep_ms(5);
	ck_assert_int_eq(workload_stop(&c), 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).paused_vcpus, 2);
	ck_assert_uint_eq(tc_wait_reqs(&c, 2), 2);
	tc_close(&c);
}
END_TEST

/* ------------------------------------------------------------ faults */

/* A 16-page, one-vCPU ring guest of @pers with the faults @f. */
static void fault_guest(struct tc *c, const char *pers,
			const struct simp_faults *f)
{
	tc_ring_guest(c, &S, 16, 1, pers);
	ck_assert_int_eq(tc_faults(c, f), 0);
}

static void fault_run(struct tc *c, uint64_t seed, int *out, unsigned n)
{
	struct simp_faults f = { .nominate_ebusy_pm = 500, .seed = seed,
				 .evict_ebusy_pm = 300 };

	ck_assert_int_eq(tc_faults(c, &f), 0);
	for (unsigned g = 0; g < n; g++) {
		int rc = tc_nominate(c, g);

		out[g] = rc ? rc : 100 + tc_evict(c, g);
	}
}

/* Deterministic for a seed and an op sequence. */
START_TEST(t_faults_deterministic)
{
	struct tc a, b, d;
	int ra[100], rb[100], rd[100];
	unsigned busy = 0;

	tc_ring_guest(&a, &S, 100, 1, NULL);
	tc_ring_guest(&b, &S, 100, 1, NULL);
	tc_ring_guest(&d, &S, 100, 1, NULL);
	fault_run(&a, 77, ra, 100);
	fault_run(&b, 77, rb, 100);
	fault_run(&d, 78, rd, 100);
	ck_assert(!memcmp(ra, rb, sizeof(ra)));
	ck_assert(memcmp(ra, rd, sizeof(ra)));
	for (unsigned i = 0; i < 100; i++) {
		ck_assert(ra[i] == -EBUSY || ra[i] == 100 ||
			  ra[i] == 100 - EBUSY);
		busy += ra[i] == -EBUSY;
	}
	ck_assert_uint_gt(busy, 25);
	ck_assert_uint_lt(busy, 75);
	tc_close(&a);
	tc_close(&b);
	tc_close(&d);
}
END_TEST

/* A guest access right after nominate: EVICT_FAIL, by an idle vCPU (it
 * is paused), or by a foreign accessor when no vCPU can run. */
START_TEST(t_fault_race_access)
{
	struct tc c;
	struct simp_faults f = { .race_access_pm = 1000, .seed = 1 };

	fault_guest(&c, NULL, &f);
	ck_assert_int_eq(tc_nominate(&c, 3), 0);
	tc_expect_req(&c, 0, NULL, 3, TC_ANY, 1 /* VCPU_PAUSED */, TC_ANY,
		      2 /* EVICT_FAIL */);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_IN);
	ck_assert_int_eq(tc_evict(&c, 3), -EBUSY);
	/* vCPU 0 is paused now: the next race is a foreign access. */
	ck_assert_int_eq(tc_nominate(&c, 4), 0);
	tc_expect_req(&c, 1, NULL, 4, TC_ANY, 2 /* FOREIGN */, TC_ANY, 2);
	tc_close(&c);
}
END_TEST

/* A balloon release right after nominate: DROP_PAGE | EVICT_FAIL. */
START_TEST(t_fault_race_drop)
{
	struct tc c;
	struct simp_faults f = { .race_drop_pm = 1000, .seed = 1 };

	fault_guest(&c, NULL, &f);
	ck_assert_int_eq(tc_nominate(&c, 3), 0);
	tc_expect_req(&c, 0, NULL, 3, TC_ANY, TC_ANY, TC_ANY, 1 | 2);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_INVALID);
	tc_close(&c);
}
END_TEST

/* Held slots make the ring smaller. */
START_TEST(t_fault_slots_held)
{
	struct tc c;
	struct simp_faults f = { .ring_slots_held = 6 };

	fault_guest(&c, "xen-4.14", &f);
	for (uint64_t g = 1; g <= 3; g++) {
		tc_page_out(&c, g, NULL);
		ck_assert_int_eq(tc_map1(&c, g), -ENOENT);
	}
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_req_prod(&c), 2);
	f.ring_slots_held = 9;
	ck_assert_int_eq(tc_faults(&c, &f), -EINVAL);
	tc_close(&c);
}
END_TEST

START_TEST(t_fault_evict_load)
{
	struct tc c;
	struct simp_faults f = { .evict_ebusy_pm = 1000 };
	uint8_t save[4096];

	fault_guest(&c, NULL, &f);
	memcpy(save, c.mem + 3 * 4096, 4096);
	ck_assert_int_eq(tc_nominate(&c, 3), 0);
	ck_assert_int_eq(tc_evict(&c, 3), -EBUSY);
	f.evict_ebusy_pm = 0;
	f.load_enomem_pm = 1000;
	ck_assert_int_eq(tc_faults(&c, &f), 0);
	ck_assert_int_eq(tc_evict(&c, 3), 0);
	ck_assert_int_eq(tc_load(&c, 3, save, 0), -ENOMEM);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_PAGED);
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(tc_faults(&c, &f), 0);
	ck_assert_int_eq(tc_load(&c, 3, save, 0), 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).corrupted, 0);
	tc_close(&c);
}
END_TEST

START_TEST(t_fault_event_delay)
{
	struct tc c;
	struct simp_faults f = { .event_delay_us = 100000 };
	struct pollfd pf;
	uint64_t t0;

	fault_guest(&c, NULL, &f);
	ck_assert_int_eq(tc_nominate(&c, 3), 0);
	t0 = tc_now_ms();
	ck_assert_int_eq(tc_touch(&c, 0, 3, 0), -EAGAIN);
	pf.fd = c.efd_in;
	pf.events = POLLIN;
	ck_assert_int_eq(poll(&pf, 1, 2000), 1);
	ck_assert_uint_ge(tc_now_ms() - t0, 90);
	tc_close(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-oracle");
	TCase *o = check_tcase(s, "oracle", 60);
	TCase *f = check_tcase(s, "faults", 30);

	tcase_add_test(o, t_workload_with_pager);
	tcase_add_test(o, t_workload_with_pager_releases);
	tcase_add_test(o, t_final_report);
	tcase_add_test(o, t_oracle_detects);
	tcase_add_test(o, t_load_sampled);
	tcase_add_test(o, t_lazy_guest);
	tcase_add_test(o, t_big_lazy_guest);
	tcase_add_test(o, t_workload_patterns);
	tcase_add_test(o, t_workload_stop_keeps_paused);
	tcase_add_test(f, t_faults_deterministic);
	tcase_add_test(f, t_fault_race_access);
	tcase_add_test(f, t_fault_race_drop);
	tcase_add_test(f, t_fault_slots_held);
	tcase_add_test(f, t_fault_evict_load);
	tcase_add_test(f, t_fault_event_delay);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
