/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-side client of xpage-simd; see simclient.h. */
#include "simclient.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * docs/xen-interface.md §3, row by row. Offsets within a slot; header 64
 * bytes; slots = largest power of two <= (4096 - 64) / slot size.
 *   mem_event 4.2 (Xen 4.2-4.4): slot 40, 64 slots; flags u32 @0,
 *     vcpu u32 @4, gfn u64 @8, p2mt u32 @32, reason u16 @38; paging flags
 *     in flags: VCPU_PAUSED 1<<0, DROP_PAGE 1<<1, EVICT_FAIL 1<<2,
 *     FOREIGN 1<<3.
 *   mem_event 4.5: slot 296, 8 slots, same fields.
 *   vm_event v1..v7: version u32 @0, flags u32 @4, reason u32 @8 (paging
 *     = 3), vcpu u32 @12, gfn u64 @24, p2mt u32 @32, paging flags u32 @36;
 *     flags VCPU_PAUSED 1<<0, FOREIGN 1<<1; paging flags DROP_PAGE 1<<0,
 *     EVICT_FAIL 1<<1. Slots: v1-v3 312, v4 376, v5-v6 384, v7 400; 8.
 */
#define ME(p, gen, maj, min, slot, n, age)                                   \
	{ p, gen, maj, min, 0, slot, n, 0, -ENOSYS, age, 1, 0, 4, 8, 32, 0,    \
	  38, 2, 0, 1u << 0, 1u << 3, 1u << 1, 1u << 2, 0, 0 }
#define VE(p, gen, maj, min, slot, ver, q, paging)                           \
	{ p, gen, maj, min, 1, slot, 8, ver, q, -ENOSYS, paging, 4, 12, 24,    \
	  32, 36, 8, 4, 3, 1u << 0, 1u << 1, 1u << 0, 1u << 1, 0, 0 }

#define VE_AT(p, gen, maj, min, slot, ver, q, paging, ring, nr)              \
	{ p, gen, maj, min, 1, slot, 8, ver, q, -ENOSYS, paging, 4, 12, 24,    \
	  32, 36, 8, 4, 3, 1u << 0, 1u << 1, 1u << 0, 1u << 1, ring, nr }

const struct lit lits[] = {
	ME("xen-4.2", 1, 4, 2, 40, 64, -ENOSYS),
	ME("xen-4.5", 2, 4, 5, 296, 8, -ENOSYS),
	VE("xen-4.6", 3, 4, 6, 312, 1, -ENOSYS, 1),
	VE("xen-4.8", 4, 4, 8, 312, 2, -ENOSYS, 1),
	VE("xen-4.11", 5, 4, 11, 312, 3, -ENOSYS, 1),
	VE("xen-4.12", 6, 4, 12, 376, 4, -ENOSYS, 1),
	VE("xen-4.13", 7, 4, 13, 384, 5, 5, 1),
	VE("xen-4.14", 8, 4, 14, 384, 6, 6, 1),
	VE("xen-4.15", 9, 4, 15, 400, 7, 7, 1),
	VE("xen-4.17-nopaging", 9, 4, 17, 400, 7, 7, 0),
	ME("xen-4.2-age2", 1, 4, 2, 40, 64, 2),
	/* Xen 4.17's vm_event v7 with libxc's PVH gfn layout: special pages
	 * 0xfeff8 .. 0xfefff (X86_HVM_END_SPECIAL_REGION 0xff000, 8 pages),
	 * the paging ring first. */
	VE_AT("xen-4.17-pvh", 9, 4, 17, 400, 7, 7, 1, 0xfeff8, 0xff000),
	/* The same guest on the rig's other releases (tests/xen/run --xen):
	 * 4.14's vm_event v6 (384-byte slots, version word 6), 4.20's v7. */
	VE_AT("xen-4.14-pvh", 8, 4, 14, 384, 6, 6, 1, 0xfeff8, 0xff000),
	VE_AT("xen-4.20-pvh", 9, 4, 20, 400, 7, 7, 1, 0xfeff8, 0xff000),
};
const size_t nlits = sizeof(lits) / sizeof(lits[0]);

const struct lit *lit_find(const char *pers)
{
	for (size_t i = 0; i < nlits; i++)
		if (!strcmp(lits[i].pers, pers))
			return &lits[i];
	return NULL;
}

uint64_t tc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void tc_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------ simd */

/* Runs outside of any test (check's asserts cannot be used here). */
static void die(const char *what)
{
	perror(what);
	exit(EXIT_FAILURE);
}

void simd_start(struct simd *s, const char *const *extra)
{
	const char *bin = getenv("XPAGE_SIMD");
	const char *argv[32];
	int n = 0, fd;
	pid_t pid;

	if (!bin || !*bin) {
		fprintf(stderr, "XPAGE_SIMD is not set\n");
		exit(EXIT_FAILURE);
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/xpage-simtest.XXXXXX");
	if (!mkdtemp(s->dir))
		die("mkdtemp");
	snprintf(s->sock, sizeof(s->sock), "%s/sock", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/log", s->dir);
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = s->sock;
	argv[n++] = "--log";
	argv[n++] = s->log;
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	s->pid = pid;
	for (int i = 0; i < 2000; i++) {
		fd = simp_connect(s->sock);
		if (fd >= 0) {
			close(fd);
			return;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		tc_sleep_ms(5);
	}
	fprintf(stderr, "xpage-simd did not come up\n");
	exit(EXIT_FAILURE);
}

int simd_stop(struct simd *s)
{
	int status = -1;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
			;
		s->pid = 0;
	}
	unlink(s->sock);
	unlink(s->log);
	rmdir(s->dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool simd_log_has(const struct simd *s, const char *needle)
{
	char buf[65536];
	FILE *f = fopen(s->log, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* ------------------------------------------------------------ client */

int tc_connect(struct tc *c, const struct simd *s)
{
	memset(c, 0, sizeof(*c));
	c->memfd = c->bouncefd = c->efd_in = c->efd_out = -1;
	c->sock = simp_connect(s->sock);
	return c->sock < 0 ? c->sock : 0;
}

void tc_close(struct tc *c)
{
	if (c->mem)
		munmap(c->mem, c->memsz);
	if (c->bounce)
		munmap(c->bounce, (size_t)SIMP_BOUNCE_SLOTS * 4096);
	if (c->memfd >= 0)
		close(c->memfd);
	if (c->bouncefd >= 0)
		close(c->bouncefd);
	if (c->efd_in >= 0)
		close(c->efd_in);
	if (c->efd_out >= 0)
		close(c->efd_out);
	if (c->sock >= 0)
		close(c->sock);
	memset(c, 0, sizeof(*c));
	c->sock = c->memfd = c->bouncefd = c->efd_in = c->efd_out = -1;
}

int tc_call(struct tc *c, uint16_t op, const void *req, uint32_t len,
	    void *rsp, uint32_t rspmax, uint32_t *rsplen)
{
	return simp_call(c->sock, op, req, len, rsp, rspmax, rsplen, NULL,
			 NULL);
}

int tc_create(struct tc *c, uint64_t pages, uint32_t vcpus, const char *pers,
	      uint32_t flags, uint64_t seed)
{
	struct simp_guest g;
	struct simp_u32 d;
	int rc;

	memset(&g, 0, sizeof(g));
	g.pages = pages;
	g.vcpus = vcpus;
	g.flags = flags;
	g.seed = seed;
	if (pers)
		snprintf(g.personality, sizeof(g.personality), "%s", pers);
	rc = tc_call(c, SIMP_CREATE_GUEST, &g, sizeof(g), &d, sizeof(d), NULL);
	return rc < 0 ? rc : (int)d.v;
}

int tc_attach(struct tc *c, uint32_t domid)
{
	struct simp_dominfo di;
	struct simp_u32 d = { domid, 0 };
	int fds[2], nfds = 2, rc;

	rc = simp_call(c->sock, SIMP_ATTACH, &d, sizeof(d), &di, sizeof(di),
		       NULL, fds, &nfds);
	if (rc < 0)
		return rc;
	ck_assert_int_eq(nfds, 2);
	c->domid = domid;
	c->memfd = fds[0];
	c->bouncefd = fds[1];
	c->pages = di.nr_pages;
	c->vcpus = di.vcpus;
	c->L = lit_find(di.personality);
	ck_assert_msg(c->L, "unknown personality %s", di.personality);
	c->memsz = (size_t)di.memfd_pages * 4096;
	c->mem = mmap(NULL, c->memsz, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->memfd, 0);
	ck_assert(c->mem != MAP_FAILED);
	c->bounce = mmap(NULL, (size_t)SIMP_BOUNCE_SLOTS * 4096,
			 PROT_READ | PROT_WRITE, MAP_SHARED, c->bouncefd, 0);
	ck_assert(c->bounce != MAP_FAILED);
	return 0;
}

void tc_guest(struct tc *c, const struct simd *s, uint64_t pages,
	      uint32_t vcpus, const char *pers, uint32_t flags)
{
	int domid;

	ck_assert_int_eq(tc_connect(c, s), 0);
	domid = tc_create(c, pages, vcpus, pers, flags, 42);
	ck_assert_int_gt(domid, 0);
	ck_assert_int_eq(tc_attach(c, (uint32_t)domid), 0);
}

void tc_ring_guest(struct tc *c, const struct simd *s, uint64_t pages,
		   uint32_t vcpus, const char *pers)
{
	tc_guest(c, s, pages, vcpus, pers, 0);
	ck_assert_int_eq(tc_enable(c, 0), 0);
}

void tc_full_ring_guest(struct tc *c, const struct simd *s)
{
	tc_ring_guest(c, s, 32, 2, "xen-4.15");   /* 8 slots */
	for (uint64_t g = 1; g <= 9; g++)
		tc_page_out(c, g, NULL);
	for (uint64_t g = 1; g <= 8; g++)
		ck_assert_int_eq(tc_map1(c, g), -ENOENT);
	ck_assert_uint_eq(tc_wait_reqs(c, 8), 8);
}

int tc_destroy(struct tc *c)
{
	struct simp_u32 d = { c->domid, 0 };

	return tc_call(c, SIMP_DESTROY_GUEST, &d, sizeof(d), NULL, 0, NULL);
}

int tc_enable(struct tc *c, uint32_t age)
{
	struct simp_u32 a = { age, 0 }, port;
	struct simp_u64 ringgfn;
	uint32_t param = SIMP_HVM_PARAM_PAGING_RING_PFN;
	int fds[2], nfds = 2, rc;

	rc = tc_call(c, SIMP_GET_PARAM, &param, sizeof(param), &ringgfn,
		     sizeof(ringgfn), NULL);
	if (rc < 0)
		return rc;
	ck_assert_uint_eq(ringgfn.v, (c->L->ring_gfn ? c->L->ring_gfn : c->pages));
	if (!c->ring) {
		rc = tc_map1(c, ringgfn.v);
		if (rc < 0)
			return rc;
		c->ring = c->mem + ringgfn.v * 4096;
	}
	rc = simp_call(c->sock, SIMP_ENABLE, &a, sizeof(a), &port, sizeof(port),
		       NULL, fds, &nfds);
	if (rc < 0)
		return rc;
	ck_assert_int_eq(nfds, 2);
	if (c->efd_in >= 0)
		close(c->efd_in);
	if (c->efd_out >= 0)
		close(c->efd_out);
	c->efd_in = fds[0];
	c->efd_out = fds[1];
	c->port = port.v;
	/* Xen's enable leaves the shared header to the pager (it resets only
	 * its own indexes): initialise it, as a pager must, before anything
	 * can be posted (the tests' guests run no vCPU activity yet). */
	memset(c->ring, 0, 64);
	c->ring[4] = 1;   /* req_event */
	c->ring[12] = 1;  /* rsp_event */
	c->rsp_prod_pvt = 0;
	return 0;
}

int tc_disable(struct tc *c)
{
	return tc_call(c, SIMP_DISABLE, NULL, 0, NULL, 0, NULL);
}

int tc_paging(struct tc *c, uint32_t op, uint64_t gfn, uint32_t slot)
{
	struct simp_paging_op o = { op, slot, gfn };

	return tc_call(c, SIMP_PAGING_OP, &o, sizeof(o), NULL, 0, NULL);
}

int tc_nominate(struct tc *c, uint64_t gfn)
{
	return tc_paging(c, SIMP_PAGING_NOMINATE, gfn, SIMP_NO_BUFFER);
}

int tc_evict(struct tc *c, uint64_t gfn)
{
	return tc_paging(c, SIMP_PAGING_EVICT, gfn, SIMP_NO_BUFFER);
}

void tc_page_out(struct tc *c, uint64_t gfn, void *save)
{
	bool age2 = c->L->age == 2;

	if (save)
		memcpy(save, c->mem + gfn * 4096, 4096);
	/* Age 2: the pager holds a mapping when it nominates. */
	if (age2)
		ck_assert_int_eq(tc_map1(c, gfn), 0);
	ck_assert_int_eq(tc_nominate(c, gfn), 0);
	if (age2)
		ck_assert_int_eq(tc_unmap1(c, gfn), 0);
	ck_assert_int_eq(tc_evict(c, gfn), 0);
}

int tc_load(struct tc *c, uint64_t gfn, const void *data, uint32_t slot)
{
	memcpy(c->bounce + (size_t)slot * 4096, data, 4096);
	return tc_paging(c, SIMP_PAGING_PREP, gfn, slot);
}

static int gfns_op(struct tc *c, uint16_t op, uint64_t gfn)
{
	struct { struct simp_gfns h; uint64_t g; } q = {
		{ 1, PROT_READ | PROT_WRITE }, gfn };
	struct { struct simp_results h; int32_t rc; } r;
	int rc;

	rc = tc_call(c, op, &q, sizeof(q), &r, sizeof(r), NULL);
	if (rc < 0)
		return rc;
	ck_assert_uint_eq(r.h.n, 1);
	return r.rc;
}

int tc_map1(struct tc *c, uint64_t gfn)
{
	return gfns_op(c, SIMP_MAP, gfn);
}

int tc_unmap1(struct tc *c, uint64_t gfn)
{
	return gfns_op(c, SIMP_UNMAP, gfn);
}

int tc_u64op(struct tc *c, uint16_t op, uint64_t v)
{
	struct simp_u64 q = { v };

	return tc_call(c, op, &q, sizeof(q), NULL, 0, NULL);
}

int tc_touch(struct tc *c, uint32_t vcpu, uint64_t gfn, uint32_t flags)
{
	struct simp_touch t = { c->domid, vcpu, flags, 0, gfn };

	return tc_call(c, SIMP_TOUCH, &t, sizeof(t), NULL, 0, NULL);
}

int tc_release(struct tc *c, uint32_t vcpu, uint64_t gfn, uint32_t flags)
{
	struct simp_touch t = { c->domid, vcpu, flags, 0, gfn };

	return tc_call(c, SIMP_RELEASE, &t, sizeof(t), NULL, 0, NULL);
}

struct simp_gfn_state tc_gfn(struct tc *c, uint64_t gfn)
{
	struct simp_touch t = { c->domid, 0, 0, 0, gfn };
	struct simp_gfn_state s;

	ck_assert_int_eq(tc_call(c, SIMP_GFN_STATE, &t, sizeof(t), &s,
				 sizeof(s), NULL), 0);
	return s;
}

struct simp_vcpu_state tc_vcpu(struct tc *c, uint32_t vcpu)
{
	struct simp_touch t = { c->domid, vcpu, 0, 0, 0 };
	struct simp_vcpu_state s;

	ck_assert_int_eq(tc_call(c, SIMP_VCPU_STATE, &t, sizeof(t), &s,
				 sizeof(s), NULL), 0);
	return s;
}

struct simp_runstate tc_runstate(struct tc *c)
{
	struct simp_runstate rs;

	ck_assert_int_eq(tc_call(c, SIMP_RUNSTATE_GFNS, NULL, 0, &rs,
				 sizeof(rs), NULL), 0);
	return rs;
}

struct simp_stacks tc_stacks(struct tc *c)
{
	struct simp_stacks st;

	ck_assert_int_eq(tc_call(c, SIMP_STACK_GFNS, NULL, 0, &st, sizeof(st),
				 NULL), 0);
	return st;
}

uint64_t tc_args_page(struct tc *c, uint32_t v)
{
	struct simp_stacks st = tc_stacks(c);

	ck_assert_uint_eq(st.per_vcpu, SIMP_STACK_WALK);
	ck_assert_uint_lt(v, st.vcpus);
	return st.gfn[v][SIMP_STACK_WALK - 1];
}

static void mark(struct tc *c, bool *walk, const uint64_t *gfn, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (gfn[i] < c->pages)
			walk[gfn[i]] = true;
}

void tc_walk_marks(struct tc *c, bool *walk)
{
	struct simp_runstate rs = tc_runstate(c);
	struct simp_stacks st = tc_stacks(c);

	for (uint32_t v = 0; v < rs.vcpus; v++)
		mark(c, walk, rs.gfn[v], rs.per_vcpu);
	for (uint32_t v = 0; v < st.vcpus; v++)
		mark(c, walk, st.gfn[v], st.per_vcpu);
}

void tc_run_low(struct tc *c, uint64_t seed)
{
	struct simp_workload w = { .domid = c->domid, .pattern = 1,
				   .hot_set_pct = 10, .hot_pct = 100,
				   .think_us = 100, .write_pct = 20,
				   .seed = seed };

	ck_assert_int_eq(tc_call(c, SIMP_WORKLOAD, &w, sizeof(w), NULL, 0,
				 NULL), 0);
}

bool tc_on_walk(struct tc *c, uint64_t gfn)
{
	bool *walk = calloc(c->pages, sizeof(bool)), on;

	ck_assert_ptr_nonnull(walk);
	tc_walk_marks(c, walk);
	on = gfn < c->pages && walk[gfn];
	free(walk);
	return on;
}

struct simp_dominfo tc_info(struct tc *c)
{
	struct simp_dominfo di;

	ck_assert_int_eq(tc_call(c, SIMP_DOMAIN_INFO, NULL, 0, &di,
				 sizeof(di), NULL), 0);
	return di;
}

struct simp_report tc_report(struct tc *c, uint32_t flags, uint32_t stuck_ms)
{
	struct simp_report_req q = { c->domid, flags, stuck_ms, 0 };
	struct simp_report r;

	ck_assert_int_eq(tc_call(c, SIMP_REPORT, &q, sizeof(q), &r, sizeof(r),
				 NULL), 0);
	return r;
}

uint64_t tc_wait_accesses(struct tc *c, uint64_t n)
{
	uint64_t a = 0;

	/* Up to 30 s: the vCPU threads compete with every other test for the
	 * CPUs (and run slower under the sanitizers). */
	for (int i = 0; i < 6000; i++) {
		a = tc_report(c, 0, 0).accesses;
		if (a >= n)
			break;
		tc_sleep_ms(5);
	}
	return a;
}

int tc_faults(struct tc *c, const struct simp_faults *f)
{
	struct simp_faults q = *f;

	q.domid = c->domid;
	return tc_call(c, SIMP_FAULTS, &q, sizeof(q), NULL, 0, NULL);
}

/* -------------------------------------------------------------- ring */

static uint32_t rd32(const uint8_t *p, uint32_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static void wr32(uint8_t *p, uint32_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

uint32_t tc_req_prod(struct tc *c)
{
	return __atomic_load_n((uint32_t *)(c->ring + 0), __ATOMIC_ACQUIRE);
}

uint32_t tc_wait_reqs(struct tc *c, uint32_t n)
{
	uint64_t end = tc_now_ms() + 2000;
	uint32_t p;

	while ((p = tc_req_prod(c)) < n && tc_now_ms() < end)
		tc_sleep_ms(1);
	return p;
}

uint8_t *tc_slot(struct tc *c, uint32_t idx)
{
	return c->ring + 64 + (idx % c->L->nslots) * c->L->slot;
}

void tc_get_req(struct tc *c, uint32_t idx, struct lreq *q)
{
	const struct lit *L = c->L;
	const uint8_t *s = tc_slot(c, idx);

	memset(q, 0, sizeof(*q));
	q->version = L->vm_event ? rd32(s, 0) : 0;
	q->flags = rd32(s, L->off_flags);
	q->reason = L->reason_w == 2 ? (uint32_t)(s[L->off_reason] |
						  s[L->off_reason + 1] << 8)
				     : rd32(s, L->off_reason);
	q->vcpu = rd32(s, L->off_vcpu);
	memcpy(&q->gfn, s + L->off_gfn, 8);
	q->p2mt = rd32(s, L->off_p2mt);
	q->pflags = rd32(s, L->off_pflags);
}

static void expect_field(uint32_t idx, const char *name, uint64_t got,
			 uint64_t want)
{
	if (want != TC_ANY)
		ck_assert_msg(got == want, "request %u: %s is %llu, expected "
			      "%llu", idx, name, (unsigned long long)got,
			      (unsigned long long)want);
}

void tc_next_req(struct tc *c, uint32_t idx, struct lreq *q)
{
	ck_assert_uint_eq(tc_wait_reqs(c, idx + 1), idx + 1);
	tc_get_req(c, idx, q);
}

void tc_expect_req(struct tc *c, uint32_t idx, struct lreq *q, uint64_t gfn,
		   uint64_t vcpu, uint64_t flags, uint64_t p2mt,
		   uint64_t pflags)
{
	struct lreq local;

	if (!q)
		q = &local;
	tc_next_req(c, idx, q);
	expect_field(idx, "gfn", q->gfn, gfn);
	expect_field(idx, "vcpu", q->vcpu, vcpu);
	expect_field(idx, "flags", q->flags, flags);
	expect_field(idx, "p2mt", q->p2mt, p2mt);
	expect_field(idx, "pflags", q->pflags, pflags);
}

void tc_put_rsp(struct tc *c, const struct lreq *r)
{
	const struct lit *L = c->L;
	uint8_t *s = tc_slot(c, c->rsp_prod_pvt);

	memset(s, 0, L->slot);
	if (L->vm_event) {
		wr32(s, 0, r->version);
		wr32(s, L->off_pflags, r->pflags);
		wr32(s, L->off_reason, r->reason);
		wr32(s, L->off_flags, r->flags);
	} else {
		wr32(s, L->off_flags, r->flags | r->pflags);
		s[L->off_reason] = (uint8_t)r->reason;
		s[L->off_reason + 1] = (uint8_t)(r->reason >> 8);
	}
	wr32(s, L->off_vcpu, r->vcpu);
	memcpy(s + L->off_gfn, &r->gfn, 8);
	c->rsp_prod_pvt++;
	__atomic_store_n((uint32_t *)(c->ring + 8), c->rsp_prod_pvt,
			 __ATOMIC_RELEASE);
}

void tc_answer(struct tc *c, const struct lreq *q)
{
	struct lreq r = *q;

	r.version = c->L->version;
	r.reason = c->L->reason_paging;
	r.pflags = 0;
	if (!c->L->vm_event)
		r.flags = q->flags & c->L->f_paused;
	tc_put_rsp(c, &r);
}

void tc_notify(struct tc *c)
{
	uint64_t one = 1;

	ck_assert_int_eq(write(c->efd_out, &one, sizeof(one)), 8);
}

int tc_wait_consumed(struct tc *c)
{
	uint64_t end = tc_now_ms() + 2000;

	/* rsp_event at offset 12: the hypervisor sets it to rsp_cons + 1. */
	while (__atomic_load_n((uint32_t *)(c->ring + 12), __ATOMIC_ACQUIRE) !=
	       c->rsp_prod_pvt + 1) {
		if (tc_now_ms() >= end)
			return -ETIMEDOUT;
		tc_sleep_ms(1);
	}
	return 0;
}

void tc_notify_consumed(struct tc *c)
{
	tc_notify(c);
	ck_assert_int_eq(tc_wait_consumed(c), 0);
}
