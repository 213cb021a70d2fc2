/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test-side client of xpage-simd: starts a simulator, attaches to a guest,
 * enables paging and acts as a minimal raw pager on the ring, reading and
 * writing ring bytes at LITERAL offsets taken from the tables of
 * docs/xen-interface.md §2-§3 (not from src/ring_layout.c), so that a
 * simulator (or a shared table) that drifted from Xen's layouts fails here.
 */
#ifndef XPAGE_TESTS_SIMCLIENT_H
#define XPAGE_TESTS_SIMCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simp_call.h"

/* One row of the facts tables, written out by hand. */
struct lit {
	const char *pers;     /* personality name */
	int generation;       /* enum xpage_generation value */
	uint32_t xen_major, xen_minor;
	int vm_event;         /* 1: vm_event era, 0: mem_event era */
	uint32_t slot, nslots;
	uint32_t version;     /* vm_event version word */
	int vmev_query;       /* SIMP_VM_EVENT_VERSION answer, or -ENOSYS */
	int age;              /* SIMP_PAGING_AGE answer, or -ENOSYS */
	int paging;           /* 0: built without paging */
	uint32_t off_flags, off_vcpu, off_gfn, off_p2mt, off_pflags;
	uint32_t off_reason, reason_w, reason_paging;
	uint32_t f_paused, f_foreign, f_drop, f_evict;
	/* gfn layout: 0, the ring gfn right after RAM; else the ring gfn
	 * (libxc's special_pfn(SPECIALPAGE_PAGING)) and the guest's gfn
	 * count, whatever its RAM (the PVH layout, sim/README.md). */
	uint64_t ring_gfn, nr_gfns;
};
extern const struct lit lits[];
extern const size_t nlits;
const struct lit *lit_find(const char *pers);

/* A simulator process. */
struct simd {
	int pid;
	char dir[128];
	char sock[192];
	char log[192];
};
/* Start $XPAGE_SIMD (extra args may be NULL-terminated list or NULL).
 * Aborts the test on failure. */
void simd_start(struct simd *s, const char *const *extra);
/* SIGTERM, wait; returns the exit status (or -1). Removes the dir. */
int simd_stop(struct simd *s);
/* Does the simulator's log contain @needle? */
bool simd_log_has(const struct simd *s, const char *needle);

/* A client connection (one "libxenctrl handle" bound to a domain). */
struct tc {
	int sock;
	uint32_t domid;
	uint64_t pages;
	uint32_t vcpus;
	const struct lit *L;
	int memfd, bouncefd;
	uint8_t *mem;          /* the whole guest memfd, MAP_SHARED */
	size_t memsz;
	uint8_t *bounce;       /* SIMP_BOUNCE_SLOTS pages, writable */
	/* ring, after tc_enable */
	uint8_t *ring;
	int efd_in;            /* hypervisor -> pager */
	int efd_out;           /* pager -> hypervisor */
	uint32_t port;
	uint32_t rsp_prod_pvt;
};

int tc_connect(struct tc *c, const struct simd *s);
void tc_close(struct tc *c);
int tc_call(struct tc *c, uint16_t op, const void *req, uint32_t len,
	    void *rsp, uint32_t rspmax, uint32_t *rsplen);
/* SIMP_CREATE_GUEST; returns the domid or -errno. */
int tc_create(struct tc *c, uint64_t pages, uint32_t vcpus, const char *pers,
	      uint32_t flags, uint64_t seed);
/* SIMP_ATTACH, mmaps the memfds. 0 or -errno. */
int tc_attach(struct tc *c, uint32_t domid);
/* connect + create + attach; aborts the test on failure. */
void tc_guest(struct tc *c, const struct simd *s, uint64_t pages,
	      uint32_t vcpus, const char *pers, uint32_t flags);
/* tc_guest (no flags), then tc_enable(age 0), which must succeed: a guest
 * with a paging ring. */
void tc_ring_guest(struct tc *c, const struct simd *s, uint64_t pages,
		   uint32_t vcpus, const char *pers);
/* A xen-4.15 ring guest (32 pages, 2 vCPUs, 8 ring slots) whose ring is
 * full: gfns 1-9 paged out, 1-8 foreign-mapped (8 FOREIGN requests, all
 * on the ring), gfn 9 with no request. */
void tc_full_ring_guest(struct tc *c, const struct simd *s);
/* SIMP_DESTROY_GUEST of the attached domain; 0 or -errno. */
int tc_destroy(struct tc *c);
/* Map the ring gfn (SIMP_MAP), enable with @age. 0 or -errno (the ring
 * gfn stays mapped by this connection either way). */
int tc_enable(struct tc *c, uint32_t age);
int tc_disable(struct tc *c);

int tc_paging(struct tc *c, uint32_t op, uint64_t gfn, uint32_t slot);
int tc_nominate(struct tc *c, uint64_t gfn);
int tc_evict(struct tc *c, uint64_t gfn);
/* nominate + evict, checked. Saves the page first into @save if given. */
void tc_page_out(struct tc *c, uint64_t gfn, void *save);
/* prep with @data copied to bounce slot @slot. */
int tc_load(struct tc *c, uint64_t gfn, const void *data, uint32_t slot);
int tc_map1(struct tc *c, uint64_t gfn);
int tc_unmap1(struct tc *c, uint64_t gfn);
int tc_u64op(struct tc *c, uint16_t op, uint64_t v);
int tc_touch(struct tc *c, uint32_t vcpu, uint64_t gfn, uint32_t flags);
int tc_release(struct tc *c, uint32_t vcpu, uint64_t gfn, uint32_t flags);
struct simp_gfn_state tc_gfn(struct tc *c, uint64_t gfn);
struct simp_vcpu_state tc_vcpu(struct tc *c, uint32_t vcpu);
struct simp_dominfo tc_info(struct tc *c);
/* SIMP_RUNSTATE_GFNS of the attached domain (must succeed). */
struct simp_runstate tc_runstate(struct tc *c);
/* SIMP_STACK_GFNS of the attached domain (must succeed). */
struct simp_stacks tc_stacks(struct tc *c);
/* The page of vCPU @v's stack its timer hypercalls write their arguments
 * on (the stack's top page). */
uint64_t tc_args_page(struct tc *c, uint32_t v);
/* Set walk[gfn] for every RAM gfn on a vCPU's runstate walk or the walk
 * to its kernel stack (@walk: c->pages entries). */
void tc_walk_marks(struct tc *c, bool *walk);
/* Is @gfn on one of those walks (a gfn no pager may page out)? */
bool tc_on_walk(struct tc *c, uint64_t gfn);
struct simp_report tc_report(struct tc *c, uint32_t flags, uint32_t stuck_ms);
/* Wait until the oracle counted @n guest accesses (up to 2 s); returns
 * the count. */
uint64_t tc_wait_accesses(struct tc *c, uint64_t n);
int tc_faults(struct tc *c, const struct simp_faults *f);
/* The workload on every vCPU, each access to the lowest tenth of RAM (the
 * hot set), a fifth of them writes, 100 us apart; seeded. */
void tc_run_low(struct tc *c, uint64_t seed);

/* Ring, through literal offsets. */
struct lreq {
	uint32_t version, flags, reason, vcpu, p2mt, pflags;
	uint64_t gfn;
};
uint32_t tc_req_prod(struct tc *c);
/* Wait until req_prod >= n (up to 2 s); returns req_prod. */
uint32_t tc_wait_reqs(struct tc *c, uint32_t n);
/* Decode request @idx with the literal layout. */
void tc_get_req(struct tc *c, uint32_t idx, struct lreq *q);
/* The next request is number @idx: wait until req_prod is @idx + 1 (and
 * not more), then decode it into @q. */
void tc_next_req(struct tc *c, uint32_t idx, struct lreq *q);
/* A field tc_expect_req does not check. */
#define TC_ANY UINT64_MAX
/* tc_next_req (@q may be NULL), then check each field given (TC_ANY: not
 * checked). */
void tc_expect_req(struct tc *c, uint32_t idx, struct lreq *q, uint64_t gfn,
		   uint64_t vcpu, uint64_t flags, uint64_t p2mt,
		   uint64_t pflags);
uint8_t *tc_slot(struct tc *c, uint32_t idx);
/* Write a response at the next response slot (raw fields, literal
 * offsets), publish rsp_prod. */
void tc_put_rsp(struct tc *c, const struct lreq *r);
/* The answer a correct pager gives to request @q (version and reason set,
 * flags copied). */
void tc_answer(struct tc *c, const struct lreq *q);
void tc_notify(struct tc *c);
/* Wait until the hypervisor consumed every response written (its
 * rsp_event, offset 12, reached rsp_prod + 1); 0 or -ETIMEDOUT. */
int tc_wait_consumed(struct tc *c);
/* tc_notify, then tc_wait_consumed, which must succeed. */
void tc_notify_consumed(struct tc *c);

uint64_t tc_now_ms(void);
void tc_sleep_ms(unsigned ms);

#endif
