/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Enabling and disabling paging (docs/xen-interface.md §5), the ring gfn (§2),
 * domain crash without a ring, toolstack pause, the age-2 personality
 * (§6) and the version queries of each personality (§3, §4).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simtest.h"

/* Build a guest with flags and return the enable errno. */
static int enable_with(uint32_t vcpus, const char *pers, uint32_t flags)
{
	struct tc c;
	int rc;

	struct simp_u32 age = { 0, 0 }, port;
	int fds[2], nfds = 2;

	tc_guest(&c, &S, 8, vcpus, pers, flags);
	/* Raw enable: a PV guest has no HVM params to find the ring by. */
	rc = simp_call(c.sock, SIMP_ENABLE, &age, sizeof(age), &port,
		       sizeof(port), NULL, fds, &nfds);
	if (rc == 0) {
		close(fds[0]);
		close(fds[1]);
	}
	if (flags & (1u << 3)) {
		uint32_t param = 27;
		struct simp_u64 v;

		ck_assert_int_eq(tc_call(&c, SIMP_GET_PARAM, &param,
					 sizeof(param), &v, sizeof(v), NULL),
				 -EINVAL);
	}
	tc_close(&c);
	return rc;
}

/* §5 EBUSY: a ring exists already. */
START_TEST(t_enable_twice)
{
	struct tc c, d;

	tc_ring_guest(&c, &S, 8, 1, NULL);
	ck_assert_int_eq(tc_enable(&c, 0), -EBUSY);
	ck_assert_int_eq(tc_connect(&d, &S), 0);
	ck_assert_int_eq(tc_attach(&d, c.domid), 0);
	ck_assert_int_eq(tc_enable(&d, 0), -EBUSY);
	ck_assert_uint_eq(tc_info(&d).ring_enabled, 1);
	tc_close(&d);
	tc_close(&c);
}
END_TEST

/* §5 ENOSYS: built without memory paging. */
START_TEST(t_enable_enosys)
{
	struct tc c;

	ck_assert_int_eq(enable_with(1, "xen-4.17-nopaging", 0), -ENOSYS);
	tc_guest(&c, &S, 8, 1, "xen-4.17-nopaging", 0);
	ck_assert_int_eq(tc_nominate(&c, 1), -ENOSYS);
	ck_assert_int_eq(tc_disable(&c), -ENOSYS);
	tc_close(&c);
}
END_TEST

/* §5 ENODEV: no HAP; a PV guest has none either. */
START_TEST(t_enable_enodev)
{
	ck_assert_int_eq(enable_with(1, NULL, 1u << 0), -ENODEV);
	ck_assert_int_eq(enable_with(1, NULL, 1u << 3), -ENODEV);
}
END_TEST

/* §5 EMLINK: IOMMU / passthrough. */
START_TEST(t_enable_emlink)
{
	ck_assert_int_eq(enable_with(1, NULL, 1u << 1), -EMLINK);
}
END_TEST

/* §5 EXDEV: populate-on-demand. */
START_TEST(t_enable_exdev)
{
	ck_assert_int_eq(enable_with(1, NULL, 1u << 2), -EXDEV);
}
END_TEST

/* §5 EINVAL: a domain without vCPUs. */
START_TEST(t_enable_einval)
{
	ck_assert_int_eq(enable_with(0, NULL, 0), -EINVAL);
}
END_TEST

/* §5 EOPNOTSUPP: the ring gfn is not populated. */
START_TEST(t_enable_eopnotsupp)
{
	struct tc c;

	tc_guest(&c, &S, 8, 1, NULL, 0);
	ck_assert_int_eq(tc_u64op(&c, SIMP_DECREASE_RESERVATION, 8), 0);
	ck_assert_uint_eq(tc_gfn(&c, 8).p2mt, P2M_INVALID);
	ck_assert_int_eq(tc_enable(&c, 0), -EINVAL);  /* cannot map it */
	c.ring = c.mem + 8 * 4096;                    /* pretend we did */
	ck_assert_int_eq(tc_enable(&c, 0), -EOPNOTSUPP);
	ck_assert_int_eq(tc_u64op(&c, SIMP_POPULATE_PHYSMAP, 8), 0);
	ck_assert_int_eq(tc_u64op(&c, SIMP_POPULATE_PHYSMAP, 8), -EEXIST);
	c.ring = NULL;
	ck_assert_int_eq(tc_enable(&c, 0), 0);
	tc_close(&c);
}
END_TEST

static bool is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strstr(target, "eventfd") != NULL;
}

/* What enable hands back, and the guest memory layout. */
START_TEST(t_enable_result)
{
	struct tc c;
	struct stat st;
	struct simp_u64 v;
	uint32_t param = 27;
	uint64_t one = 1, got = 0;

	tc_guest(&c, &S, 8, 1, NULL, 0);
	ck_assert_int_eq(fstat(c.memfd, &st), 0);
	ck_assert_int_eq(st.st_size, (8 + 1) * 4096);
	ck_assert_int_eq(fstat(c.bouncefd, &st), 0);
	ck_assert_int_eq(st.st_size, 1024 * 4096);
	ck_assert_int_eq(tc_call(&c, SIMP_GET_PARAM, &param, sizeof(param),
				 &v, sizeof(v), NULL), 0);
	ck_assert_uint_eq(v.v, 8);
	memset(c.mem + 8 * 4096, 0x5a, 4096);  /* junk in the ring page */
	ck_assert_int_eq(tc_enable(&c, 0), 0);
	ck_assert_uint_gt(c.port, 0);
	ck_assert(is_eventfd(c.efd_in));
	ck_assert(is_eventfd(c.efd_out));
	/* Enable left the page alone (Xen's resets only its private ring
	 * indexes); the client initialised the header, nothing else. */
	for (unsigned i = 64; i < 4096; i++)
		ck_assert_uint_eq(c.ring[i], 0x5a);
	ck_assert_uint_eq(tc_gfn(&c, 8).refcount, 2); /* ours + the ring's */
	/* hypervisor -> pager notification on a request */
	ck_assert_int_eq(tc_nominate(&c, 1), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), -EAGAIN);
	for (int i = 0; i < 200 && read(c.efd_in, &got, 8) != 8; i++)
		tc_sleep_ms(5);
	ck_assert_uint_ge(got, 1);
	/* pager -> hypervisor: writable */
	ck_assert_int_eq(write(c.efd_out, &one, 8), 8);
	tc_close(&c);
}
END_TEST

/* §5: disable does not unpause a vCPU paused for a page-in; it stays
 * paused after the pager goes and toolstack unpause cannot free it; a
 * new pager's answer (without a request) does. */
START_TEST(t_disable_keeps_paused)
{
	struct tc c, d;
	struct lreq q;
	uint32_t domid;

	tc_ring_guest(&c, &S, 8, 1, NULL);
	tc_page_out(&c, 2, NULL);
	ck_assert_int_eq(tc_touch(&c, 0, 2, 0), -EAGAIN);
	tc_next_req(&c, 0, &q);
	ck_assert_int_eq(tc_disable(&c), 0);
	ck_assert_int_eq(tc_disable(&c), -EINVAL);    /* no ring */
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_info(&c).ring_enabled, 0);
	domid = c.domid;
	tc_close(&c);                       /* the pager exits */

	ck_assert_int_eq(tc_connect(&d, &S), 0);
	ck_assert_int_eq(tc_attach(&d, domid), 0);
	ck_assert_uint_eq(tc_vcpu(&d, 0).vm_event_pause_count, 1);
	ck_assert_int_eq(tc_touch(&d, 0, 1, 0), -EBUSY);  /* cannot run */
	ck_assert_uint_eq(tc_report(&d, 0, 0).paused_vcpus, 1);
	ck_assert_uint_eq(tc_info(&d).crashed, 0);
	tc_close(&d);
}
END_TEST

START_TEST(t_takeover_answer)
{
	struct tc c, d;
	struct lreq r;
	uint8_t save[4096];
	uint32_t domid;

	tc_ring_guest(&c, &S, 8, 1, NULL);
	domid = c.domid;
	tc_page_out(&c, 2, save);
	ck_assert_int_eq(tc_touch(&c, 0, 2, 0), -EAGAIN);
	ck_assert_uint_eq(tc_wait_reqs(&c, 1), 1);
	ck_assert_int_eq(tc_call(&c, SIMP_PAUSE, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(tc_disable(&c), 0);
	tc_close(&c);                       /* the pager exits */

	ck_assert_int_eq(tc_connect(&d, &S), 0);
	ck_assert_int_eq(tc_attach(&d, domid), 0);
	ck_assert_uint_eq(tc_vcpu(&d, 0).vm_event_pause_count, 1);
	ck_assert_int_eq(tc_call(&d, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(tc_call(&d, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL),
			 -EINVAL);          /* xl unpause: nothing to undo */
	ck_assert_uint_eq(tc_vcpu(&d, 0).vm_event_pause_count, 1);
	ck_assert_int_eq(tc_call(&d, SIMP_PAUSE, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(tc_enable(&d, 0), 0);
	/* Answer vCPU 0 without a request. */
	memset(&r, 0, sizeof(r));
	r.vcpu = 0;
	r.gfn = 2;
	r.flags = 1;
	tc_answer(&d, &r);
	tc_notify_consumed(&d);
	ck_assert_uint_eq(tc_vcpu(&d, 0).vm_event_pause_count, 0);
	ck_assert_int_eq(tc_call(&d, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL), 0);
	/* It retries. Its fault made the gfn paging_in, so it spins: no
	 * fresh request (hvm.c's fault path asks only for paged and
	 * paging_out); the old ring's request is gone. Stuck until the new
	 * pager loads the gfn. */
	tc_sleep_ms(30);
	ck_assert_uint_eq(tc_req_prod(&d), 0);
	ck_assert_uint_eq(tc_vcpu(&d, 0).vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_gfn(&d, 2).p2mt, P2M_IN);
	ck_assert_int_eq(tc_touch(&d, 0, 1, 0), -EBUSY);
	ck_assert_uint_eq(tc_report(&d, 1 /* FINAL */, 0).stuck, 1);
	ck_assert_int_eq(tc_load(&d, 2, save, 0), 0);
	ck_assert_int_eq(tc_touch(&d, 0, 1, 0), 0);
	ck_assert_uint_eq(tc_report(&d, 1 /* FINAL */, 0).stuck, 0);
	ck_assert_uint_eq(tc_req_prod(&d), 0);
	tc_close(&d);
}
END_TEST

/* §5: while no ring exists, a vCPU touching a paged gfn crashes the
 * domain; its hypercalls then fail with ESRCH. */
START_TEST(t_no_ring_touch_crashes)
{
	struct tc c;
	struct simp_report r;

	tc_ring_guest(&c, &S, 8, 2, NULL);
	tc_page_out(&c, 3, NULL);
	ck_assert_int_eq(tc_disable(&c), 0);
	ck_assert_int_eq(tc_touch(&c, 1, 3, 0), -ESHUTDOWN);
	ck_assert_uint_eq(tc_info(&c).crashed, 1);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), -ESHUTDOWN);
	ck_assert_int_eq(tc_nominate(&c, 1), -ESRCH);
	ck_assert_int_eq(tc_enable(&c, 0), -ESRCH);
	ck_assert_int_eq(tc_call(&c, SIMP_PAUSE, NULL, 0, NULL, 0, NULL),
			 -ESRCH);
	ck_assert_int_eq(tc_map1(&c, 1), -ESRCH);
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.crashed, 1);
	ck_assert(simd_log_has(&S, "yet no ring in place"));
	tc_close(&c);
}
END_TEST

/* §2: after the pager removes the ring gfn from the physmap the guest
 * cannot write it; the ring keeps working through the pager's mapping
 * and the hypervisor's reference; the frame goes at disable. */
START_TEST(t_ring_gfn_removed)
{
	struct tc c;
	struct simp_gfn_state s;
	uint8_t before[4096];

	tc_ring_guest(&c, &S, 8, 1, NULL);
	ck_assert_int_eq(tc_u64op(&c, SIMP_DECREASE_RESERVATION, 8), 0);
	s = tc_gfn(&c, 8);
	ck_assert_uint_eq(s.p2mt, P2M_INVALID);
	ck_assert_uint_eq(s.has_frame, 1);
	ck_assert_uint_eq(s.refcount, 2);
	memcpy(before, c.ring, 4096);
	ck_assert_int_eq(tc_touch(&c, 0, 8, 1 /* write */), -EFAULT);
	ck_assert(!memcmp(before, c.ring, 4096));
	ck_assert_int_eq(tc_u64op(&c, SIMP_POPULATE_PHYSMAP, 8), -EBUSY);
	/* The ring still works. */
	tc_page_out(&c, 4, NULL);
	ck_assert_int_eq(tc_touch(&c, 0, 4, 0), -EAGAIN);
	tc_expect_req(&c, 0, NULL, 4, TC_ANY, TC_ANY, TC_ANY, TC_ANY);
	ck_assert_int_eq(tc_disable(&c), 0);
	ck_assert_uint_eq(tc_gfn(&c, 8).has_frame, 1);  /* still mapped */
	ck_assert_int_eq(tc_unmap1(&c, 8), 0);
	s = tc_gfn(&c, 8);
	ck_assert_uint_eq(s.has_frame, 0);               /* frame gone */
	ck_assert_uint_eq(s.refcount, 0);
	ck_assert_int_eq(tc_u64op(&c, SIMP_POPULATE_PHYSMAP, 8), 0);
	s = tc_gfn(&c, 8);
	ck_assert_uint_eq(s.p2mt, P2M_RW);
	ck_assert_uint_eq(s.has_frame, 1);
	/* Not scrubbed (Xen does not scrub what a live domain freed): a
	 * previous owner's bytes, here a ring header with stale indexes. */
	ck_assert_uint_ne(c.mem[8 * 4096 + 0] | c.mem[8 * 4096 + 1], 0);
	c.ring = NULL;
	ck_assert_int_eq(tc_enable(&c, 0), 0);
	tc_close(&c);
}
END_TEST

/* One frame slot per gfn: no new frame while the old one is mapped. */
START_TEST(t_populate_while_mapped)
{
	struct tc c;

	tc_guest(&c, &S, 8, 1, NULL, 0);
	ck_assert_int_eq(tc_map1(&c, 3), 0);
	ck_assert_int_eq(tc_release(&c, 0, 3, 0), 0);
	ck_assert_uint_eq(tc_gfn(&c, 3).has_frame, 1);   /* still mapped */
	ck_assert_int_eq(tc_u64op(&c, SIMP_POPULATE_PHYSMAP, 3), -EBUSY);
	ck_assert_int_eq(tc_unmap1(&c, 3), 0);
	ck_assert_uint_eq(tc_gfn(&c, 3).has_frame, 0);
	ck_assert_int_eq(tc_u64op(&c, SIMP_POPULATE_PHYSMAP, 3), 0);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_RW);
	ck_assert_int_eq(tc_touch(&c, 0, 3, 0), 0);      /* reads zeros */
	ck_assert_uint_eq(tc_report(&c, 0, 0).corrupted, 0);
	tc_close(&c);
}
END_TEST

/* A client that died holds nothing: on Xen a process's foreign mappings
 * go when it exits, before anyone can see it dead. Here the hang-up is
 * noticed by its connection's thread a little later; a populate of a gfn
 * it had mapped, asked right after, must not find the frame still held.
 * (Many rounds: the race is lost only now and then.) */
START_TEST(t_populate_after_mapper_died)
{
	for (int round = 0; round < 200; round++) {
		struct tc a, b;

		tc_guest(&a, &S, 8, 1, NULL, 0);
		ck_assert_int_eq(tc_map1(&a, 3), 0);
		ck_assert_int_eq(tc_release(&a, 0, 3, 0), 0);
		ck_assert_int_eq(tc_connect(&b, &S), 0);
		ck_assert_int_eq(tc_attach(&b, a.domid), 0);
		tc_close(&a);                   /* the mapper dies */
		ck_assert_int_eq(tc_u64op(&b, SIMP_POPULATE_PHYSMAP, 3), 0);
		ck_assert_int_eq(tc_destroy(&b), 0);
		tc_close(&b);
	}
}
END_TEST

/* Toolstack pause: a count; unpause at zero is EINVAL; a paused domain's
 * vCPUs do not run. */
START_TEST(t_pause_unpause)
{
	struct tc c;

	tc_guest(&c, &S, 8, 1, NULL, 0);
	ck_assert_int_eq(tc_call(&c, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL),
			 -EINVAL);
	ck_assert_int_eq(tc_call(&c, SIMP_PAUSE, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(tc_call(&c, SIMP_PAUSE, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_uint_eq(tc_info(&c).paused, 2);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), -EBUSY);
	ck_assert_int_eq(tc_call(&c, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), -EBUSY);
	ck_assert_int_eq(tc_call(&c, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).pause_count, 0);
	tc_close(&c);
}
END_TEST

/* §6: the age-2 personality. */
START_TEST(t_age2)
{
	struct tc c;
	struct simp_u32 v;

	tc_guest(&c, &S, 16, 1, "xen-4.2-age2", 0);
	ck_assert_int_eq(tc_call(&c, SIMP_PAGING_AGE, NULL, 0, &v, sizeof(v),
				 NULL), 0);
	ck_assert_uint_eq(v.v, 2);
	ck_assert_int_eq(tc_call(&c, SIMP_VM_EVENT_VERSION, NULL, 0, &v,
				 sizeof(v), NULL), -ENOSYS);
	ck_assert_int_eq(tc_enable(&c, 0), -ENOEXEC);
	ck_assert_int_eq(tc_enable(&c, 1), -ENOEXEC);
	ck_assert_int_eq(tc_enable(&c, 2), 0);
	/* Nominate needs the pager's mapping. */
	ck_assert_int_eq(tc_nominate(&c, 3), -EBUSY);
	ck_assert_int_eq(tc_map1(&c, 3), 0);
	ck_assert_int_eq(tc_nominate(&c, 3), 0);
	ck_assert_int_eq(tc_evict(&c, 3), -EBUSY);     /* still mapped */
	ck_assert_int_eq(tc_unmap1(&c, 3), 0);
	ck_assert_int_eq(tc_evict(&c, 3), 0);
	/* Two mappings are one too many. */
	ck_assert_int_eq(tc_map1(&c, 4), 0);
	ck_assert_int_eq(tc_map1(&c, 4), 0);
	ck_assert_int_eq(tc_nominate(&c, 4), -EBUSY);
	ck_assert_int_eq(tc_unmap1(&c, 4), 0);
	ck_assert_int_eq(tc_nominate(&c, 4), 0);
	ck_assert_int_eq(tc_unmap1(&c, 4), 0);
	/* No EVICT_FAIL, ever. */
	ck_assert_int_eq(tc_touch(&c, 0, 4, 0), -EAGAIN);
	tc_expect_req(&c, 0, NULL, 4, TC_ANY, 1 /* VCPU_PAUSED only */, P2M_OUT,
		      TC_ANY);
	ck_assert_int_eq(tc_map1(&c, 5), 0);
	ck_assert_int_eq(tc_nominate(&c, 5), 0);
	ck_assert_int_eq(tc_unmap1(&c, 5), 0);
	ck_assert_int_eq(tc_release(&c, SIMP_VCPU_ANY, 5, 2 /* foreign */), 0);
	tc_expect_req(&c, 1, NULL, TC_ANY, TC_ANY, 2 | 8 /* DROP | FOREIGN */,
		      TC_ANY, TC_ANY);
	tc_close(&c);
}
END_TEST

/* §3/§4: what each personality answers. */
START_TEST(t_versions)
{
	const struct lit *L = &lits[_i];
	struct tc c;
	struct simp_u32x2 xv;
	struct simp_u32 v;
	int rc;

	tc_guest(&c, &S, 8, 1, L->pers, 0);
	ck_assert_int_eq(tc_call(&c, SIMP_XEN_VERSION, NULL, 0, &xv,
				 sizeof(xv), NULL), 0);
	ck_assert_uint_eq(xv.a, L->xen_major);
	ck_assert_uint_eq(xv.b, L->xen_minor);
	rc = tc_call(&c, SIMP_VM_EVENT_VERSION, NULL, 0, &v, sizeof(v), NULL);
	ck_assert_int_eq(rc < 0 ? rc : (int)v.v, L->vmev_query);
	rc = tc_call(&c, SIMP_PAGING_AGE, NULL, 0, &v, sizeof(v), NULL);
	ck_assert_int_eq(rc < 0 ? rc : (int)v.v, L->age);
	ck_assert_str_eq(tc_info(&c).personality, L->pers);
	tc_close(&c);
}
END_TEST

/* Destroyed domain: ESRCH for a client still attached. */
START_TEST(t_destroy)
{
	struct tc c;

	tc_ring_guest(&c, &S, 8, 2, NULL);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), 0);
	ck_assert_int_eq(tc_destroy(&c), 0);
	ck_assert_int_eq(tc_destroy(&c), -ESRCH);
	ck_assert_int_eq(tc_nominate(&c, 1), -ESRCH);
	ck_assert_int_eq(tc_disable(&c), -ESRCH);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), -ESRCH);
	tc_close(&c);
}
END_TEST

/* Sessions: attach rules. */
START_TEST(t_attach_rules)
{
	struct tc c;
	int domid;

	ck_assert_int_eq(tc_connect(&c, &S), 0);
	ck_assert_int_eq(tc_nominate(&c, 1), -ENOTCONN);
	ck_assert_int_eq(tc_attach(&c, 0x7000), -ESRCH);
	domid = tc_create(&c, 8, 1, "xen-9.9", 0, 0);
	ck_assert_int_eq(domid, -ENOENT);
	domid = tc_create(&c, 0, 1, NULL, 0, 0);
	ck_assert_int_eq(domid, -EINVAL);
	domid = tc_create(&c, 8, 1, NULL, 1u << 7, 0);
	ck_assert_int_eq(domid, -EINVAL);
	domid = tc_create(&c, 8, 1, NULL, 0, 0);
	ck_assert_int_gt(domid, 0);
	ck_assert_int_eq(tc_attach(&c, (uint32_t)domid), 0);
	ck_assert_int_eq(tc_attach(&c, (uint32_t)domid), -EISCONN);
	ck_assert_int_eq(tc_call(&c, 999, NULL, 0, NULL, 0, NULL), -ENOSYS);
	{
		struct simp_u32 h = { SIMP_PROTO_VERSION, 0 }, r;

		ck_assert_int_eq(tc_call(&c, SIMP_HELLO, &h, sizeof(h), &r,
					 sizeof(r), NULL), 0);
		ck_assert_uint_eq(r.v, SIMP_PROTO_VERSION);
		h.v = 99;
		ck_assert_int_eq(tc_call(&c, SIMP_HELLO, &h, sizeof(h), &r,
					 sizeof(r), NULL), -EPROTONOSUPPORT);
	}
	tc_close(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-enable");
	TCase *e = check_tcase(s, "enable", 30);
	TCase *d = check_tcase(s, "domain", 30);

	tcase_add_test(e, t_enable_twice);
	tcase_add_test(e, t_enable_enosys);
	tcase_add_test(e, t_enable_enodev);
	tcase_add_test(e, t_enable_emlink);
	tcase_add_test(e, t_enable_exdev);
	tcase_add_test(e, t_enable_einval);
	tcase_add_test(e, t_enable_eopnotsupp);
	tcase_add_test(e, t_enable_result);
	tcase_add_test(e, t_disable_keeps_paused);
	tcase_add_test(e, t_takeover_answer);
	tcase_add_test(e, t_no_ring_touch_crashes);
	tcase_add_test(e, t_ring_gfn_removed);
	tcase_add_test(e, t_populate_while_mapped);
	tcase_add_test(e, t_populate_after_mapper_died);
	tcase_add_test(e, t_age2);
	tcase_add_test(d, t_pause_unpause);
	tcase_add_loop_test(d, t_versions, 0, (int)nlits);
	tcase_add_test(d, t_destroy);
	tcase_add_test(d, t_attach_rules);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
