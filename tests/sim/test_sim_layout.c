/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PVH gfn layout (personality xen-4.17-pvh, sim/README.md "gfn
 * layout"): RAM from gfn 0, the special pages at 0xfeff8 .. 0xfefff with
 * the paging ring first, nothing in the physmap between, so the guest
 * has 0xff000 gfns whatever its RAM, as a PVH guest had on Xen 4.17
 * (tests/xen/README.md, item 3). Every test checks the layout first, so
 * each fails if the personality goes back to special pages after RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "simtest.h"

#define PVH "xen-4.17-pvh"
#define RING 0xfeff8ull
#define NR_GFNS 0xff000ull
#define PAGES 64u

static void assert_layout(struct tc *c, uint64_t pages)
{
	struct simp_dominfo di = tc_info(c);
	uint32_t param = SIMP_HVM_PARAM_PAGING_RING_PFN;
	struct simp_u64 v;
	struct stat st;

	ck_assert_uint_eq(di.nr_pages, pages);
	ck_assert_uint_eq(di.memfd_pages, NR_GFNS);
	ck_assert_int_eq(fstat(c->memfd, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, NR_GFNS * 4096);
	ck_assert_int_eq(tc_call(c, SIMP_GET_PARAM, &param, sizeof(param), &v,
				 sizeof(v), NULL), 0);
	ck_assert_uint_eq(v.v, RING);
}

/* Gfns in the hole, at both ends and in the middle. */
static const uint64_t holes[] = { PAGES, PAGES + 1, 0x80000, RING - 1 };
#define NHOLES (sizeof(holes) / sizeof(holes[0]))

/* nr_gfns, the ring gfn, the p2m of RAM, hole and special pages. */
START_TEST(t_pvh_layout)
{
	struct simp_gfn_state s;
	struct tc c;

	tc_guest(&c, &S, PAGES, 1, PVH, 0);
	assert_layout(&c, PAGES);
	s = tc_gfn(&c, PAGES - 1);
	ck_assert_uint_eq(s.p2mt, P2M_RW);
	ck_assert_uint_eq(s.has_frame, 1);
	for (size_t i = 0; i < NHOLES; i++) {
		s = tc_gfn(&c, holes[i]);
		ck_assert_uint_eq(s.p2mt, P2M_INVALID);
		ck_assert_uint_eq(s.has_frame, 0);
		ck_assert_uint_eq(s.refcount, 0);
	}
	/* The 8 special pages are in the physmap, with frames. */
	for (uint64_t g = RING; g < NR_GFNS; g++) {
		s = tc_gfn(&c, g);
		ck_assert_uint_eq(s.p2mt, P2M_RW);
		ck_assert_uint_eq(s.has_frame, 1);
	}
	ck_assert_int_eq(tc_call(&c, SIMP_GFN_STATE, &(struct simp_touch){
					 .domid = c.domid, .gfn = NR_GFNS },
				 sizeof(struct simp_touch), &s, sizeof(s),
				 NULL), -ERANGE);
	/* The ring is enabled on the high gfn (tc_enable maps it), and the
	 * ring takes its reference there. */
	ck_assert_int_eq(tc_enable(&c, 0), 0);
	ck_assert_ptr_eq(c.ring, c.mem + RING * 4096);
	ck_assert_uint_eq(tc_gfn(&c, RING).refcount, 2);  /* ring + our map */
	ck_assert_uint_eq(tc_info(&c).ring_enabled, 1);
	tc_close(&c);
}
END_TEST

/* Each paging op on a hole gfn answers as Xen's does for a gfn without a
 * valid mfn (mem_paging.c: nominate and evict -EBUSY, prep -ENOENT, as
 * the p2m type is neither paged nor paging_in), and leaves it alone. */
START_TEST(t_pvh_hole_paging_ops)
{
	uint8_t page[4096];
	struct tc c;

	tc_ring_guest(&c, &S, PAGES, 1, PVH);
	assert_layout(&c, PAGES);
	memset(page, 0x3c, sizeof(page));
	for (size_t i = 0; i < NHOLES; i++) {
		ck_assert_int_eq(tc_nominate(&c, holes[i]), -EBUSY);
		ck_assert_int_eq(tc_evict(&c, holes[i]), -EBUSY);
		ck_assert_int_eq(tc_load(&c, holes[i], page, 0), -ENOENT);
		ck_assert_int_eq(tc_paging(&c, SIMP_PAGING_PREP, holes[i],
					   SIMP_NO_BUFFER), -ENOENT);
		ck_assert_uint_eq(tc_gfn(&c, holes[i]).p2mt, P2M_INVALID);
		ck_assert_uint_eq(tc_gfn(&c, holes[i]).has_frame, 0);
	}
	ck_assert_uint_eq(tc_info(&c).paged_pages, 0);
	/* RAM at the top of RAM still pages out and in. */
	tc_page_out(&c, PAGES - 1, page);
	ck_assert_int_eq(tc_load(&c, PAGES - 1, page, 0), 0);
	ck_assert_uint_eq(tc_gfn(&c, PAGES - 1).p2mt, P2M_RW);
	ck_assert_uint_eq(tc_report(&c, 1 /* FINAL */, 0).lost +
			  tc_report(&c, 1, 0).corrupted, 0);
	tc_close(&c);
}
END_TEST

/* A foreign map of a hole gfn: -EINVAL (not in the physmap), no request
 * on the ring, no reference taken. */
START_TEST(t_pvh_hole_foreign_map)
{
	struct tc c;

	tc_ring_guest(&c, &S, PAGES, 1, PVH);
	assert_layout(&c, PAGES);
	for (size_t i = 0; i < NHOLES; i++) {
		ck_assert_int_eq(tc_map1(&c, holes[i]), -EINVAL);
		ck_assert_uint_eq(tc_gfn(&c, holes[i]).refcount, 0);
		ck_assert_int_eq(tc_unmap1(&c, holes[i]), -EINVAL);
	}
	ck_assert_uint_eq(tc_req_prod(&c), 0);
	/* The special pages around the ring map. */
	ck_assert_int_eq(tc_map1(&c, NR_GFNS - 1), 0);
	ck_assert_int_eq(tc_unmap1(&c, NR_GFNS - 1), 0);
	tc_close(&c);
}
END_TEST

/* A guest access to a hole gfn faults, as one to a special page out of
 * the physmap does (a released RAM gfn would come back as a zero page);
 * a foreign access too; a balloon release: -ENOENT. Nothing is sent, the
 * vCPU is not paused, the domain lives on. */
START_TEST(t_pvh_hole_access)
{
	struct tc c;

	tc_ring_guest(&c, &S, PAGES, 2, PVH);
	assert_layout(&c, PAGES);
	for (size_t i = 0; i < NHOLES; i++) {
		ck_assert_int_eq(tc_touch(&c, 0, holes[i], 0), -EFAULT);
		ck_assert_int_eq(tc_touch(&c, 1, holes[i], 1 /* WRITE */),
				 -EFAULT);
		ck_assert_int_eq(tc_touch(&c, 0, holes[i], 2 /* FOREIGN */),
				 -EFAULT);
		ck_assert_int_eq(tc_release(&c, 0, holes[i], 0), -ENOENT);
		ck_assert_uint_eq(tc_gfn(&c, holes[i]).p2mt, P2M_INVALID);
		ck_assert_uint_eq(tc_gfn(&c, holes[i]).has_frame, 0);
	}
	ck_assert_uint_eq(tc_req_prod(&c), 0);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_info(&c).crashed, 0);
	/* Past the last special page: out of range, as for any guest. */
	ck_assert_int_eq(tc_touch(&c, 0, NR_GFNS, 0), -ERANGE);
	/* RAM is untouched by all that. */
	ck_assert_int_eq(tc_touch(&c, 0, PAGES - 1, 0), 0);
	ck_assert_uint_eq(tc_report(&c, 1, 0).lost, 0);
	tc_close(&c);
}
END_TEST

static uint64_t rss_kb(int pid)
{
	char path[64], line[256];
	uint64_t kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	ck_assert(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The hole costs neither memory nor time: the memfd stays sparse past
 * RAM (nothing written into the hole, a report does not read it), the
 * simulator grows by the per-gfn table only (8 bytes a gfn, 8 MiB), and
 * creating, reporting on and destroying a 1M-gfn guest is quick. */
START_TEST(t_pvh_sparse)
{
	uint64_t before = rss_kb(S.pid), after;
	struct simp_report r;
	char path[64];
	double t0 = now_s(), dt;
	struct tc c;
	off_t off;
	int fd;

	tc_ring_guest(&c, &S, PAGES, 1, PVH);
	assert_layout(&c, PAGES);
	r = tc_report(&c, 1, 0);
	ck_assert_uint_eq(r.pages, PAGES);
	ck_assert_uint_eq(r.lost + r.corrupted + r.stuck, 0);
	after = rss_kb(S.pid);
	/* A private file description: the memfd's is shared with the
	 * simulator. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c.memfd);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	off = lseek(fd, (off_t)PAGES * 4096, SEEK_DATA);
	ck_assert_msg(off < 0 || (uint64_t)off >= RING * 4096,
		      "data in the hole at %lld", (long long)off);
	close(fd);
	ck_assert_int_eq(tc_destroy(&c), 0);
	tc_close(&c);
	dt = now_s() - t0;
	printf("pvh guest of %u pages, %#llx gfns: %.3f s, simulator RSS "
	       "+%llu KiB\n", PAGES, (unsigned long long)NR_GFNS, dt,
	       (unsigned long long)(after > before ? after - before : 0));
	ck_assert_uint_lt(after, before + 32 * 1024);
	ck_assert(dt < 5.0);
}
END_TEST

/* RAM must end below the MMIO hole (0xfc000): the layout above 4 GiB is
 * not modelled. The largest guest that fits is accepted. */
START_TEST(t_pvh_ram_limit)
{
	struct tc c;
	int d;

	ck_assert_int_eq(tc_connect(&c, &S), 0);
	ck_assert_int_eq(tc_create(&c, 0xfc001, 1, PVH, 1u << 4 /* LAZY */, 1),
			 -EINVAL);
	d = tc_create(&c, 0xfc000, 1, PVH, 1u << 4 /* LAZY */, 1);
	ck_assert_int_gt(d, 0);
	ck_assert_int_eq(tc_attach(&c, (uint32_t)d), 0);
	assert_layout(&c, 0xfc000);
	ck_assert_uint_eq(tc_gfn(&c, 0xfbfff).p2mt, P2M_RW);
	ck_assert_uint_eq(tc_gfn(&c, 0xfc000).p2mt, P2M_INVALID);
	ck_assert_int_eq(tc_destroy(&c), 0);
	tc_close(&c);
}
END_TEST

/* Every other personality keeps the ring right after RAM. */
START_TEST(t_dense_layouts_unchanged)
{
	for (size_t i = 0; i < nlits; i++) {
		struct simp_dominfo di;
		struct tc c;

		if (lits[i].ring_gfn)
			continue;
		tc_guest(&c, &S, 16, 1, lits[i].pers, 0);
		di = tc_info(&c);
		ck_assert_uint_eq(di.memfd_pages, 16 + SIMP_NR_SPECIAL);
		ck_assert_uint_eq(tc_gfn(&c, 16).p2mt, P2M_RW);
		tc_close(&c);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-layout");
	TCase *t = check_tcase(s, "pvh", 60);

	tcase_add_test(t, t_pvh_layout);
	tcase_add_test(t, t_pvh_hole_paging_ops);
	tcase_add_test(t, t_pvh_hole_foreign_map);
	tcase_add_test(t, t_pvh_hole_access);
	tcase_add_test(t, t_pvh_sparse);
	tcase_add_test(t, t_pvh_ram_limit);
	tcase_add_test(t, t_dense_layouts_unchanged);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
