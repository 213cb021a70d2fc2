/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The status words of XEN_SYSCTL_page_offline_op, decoded
 * (src/frame_status.c): each word Xen's offline_page, online_page and
 * query_page_offline write (xen/common/page_alloc.c), and the word of a
 * frame the hypervisor did not reach.
 */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "checkrun.h"
#include "host_backend.h"

#define OWNER(d) ((uint32_t)(d) << XP_PG_OFFLINE_OWNER_SHIFT)

static struct xp_frame_word dec(unsigned cmd, uint32_t word, int ret)
{
	struct xp_frame_word w;

	xp_frame_decode(cmd, word, ret, &w);
	return w;
}

START_TEST(offline_words)
{
	struct xp_frame_word w;

	w = dec(XP_PGOFF_OFFLINE, XP_PG_OFFLINE_OFFLINED, 0);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(w.state, XPAGE_FRAME_OFFLINED);
	ck_assert_uint_eq(w.owner, XPAGE_OWNER_NONE);
	/* a guest's: pending, its domid */
	w = dec(XP_PGOFF_OFFLINE, XP_PG_OFFLINE_OWNED | XP_PG_OFFLINE_PENDING |
		OWNER(7), 0);
	ck_assert_int_eq(w.err, -EAGAIN);
	ck_assert_uint_eq(w.state, XPAGE_FRAME_OFFLINE_PENDING);
	ck_assert_uint_eq(w.owner, 7);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_NONE);
	/* dom0's: Xen marks it pending like any other; dom0 never frees it */
	w = dec(XP_PGOFF_OFFLINE, XP_PG_OFFLINE_OWNED | XP_PG_OFFLINE_PENDING |
		OWNER(0), 0);
	ck_assert_int_eq(w.err, -EPERM);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_DOM0);
	ck_assert_uint_eq(w.owner, 0);
	/* Xen's heap: pending, owner DOMID_XEN */
	w = dec(XP_PGOFF_OFFLINE, XP_PG_OFFLINE_XENPAGE | XP_PG_OFFLINE_PENDING |
		OWNER(XP_DOMID_XEN), 0);
	ck_assert_int_eq(w.err, -EPERM);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_XEN);
	ck_assert_uint_eq(w.owner, XPAGE_OWNER_XEN);
	/* Xen's image: refused, -EPERM, the call stopped there */
	w = dec(XP_PGOFF_OFFLINE, XP_PG_OFFLINE_XENPAGE | XP_PG_OFFLINE_FAILED |
		OWNER(XP_DOMID_XEN), -EPERM);
	ck_assert_int_eq(w.err, -EPERM);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_XEN);
	/* not conventional RAM: -EINVAL */
	w = dec(XP_PGOFF_OFFLINE, XP_PG_OFFLINE_FAILED |
		XP_PG_OFFLINE_NOT_CONV_RAM, -EINVAL);
	ck_assert_int_eq(w.err, -EINVAL);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_NOT_RAM);
	/* in use, no owner yet: retry */
	w = dec(XP_PGOFF_OFFLINE, XP_PG_OFFLINE_ANONYMOUS | XP_PG_OFFLINE_FAILED |
		OWNER(XP_DOMID_INVALID), 0);
	ck_assert_int_eq(w.err, -EBUSY);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_ANONYMOUS);
	/* broken and owned: Xen crashed the owner */
	w = dec(XP_PGOFF_OFFLINE, XP_PG_OFFLINE_AGAIN, 0);
	ck_assert_int_eq(w.err, -EAGAIN);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_BROKEN);
}
END_TEST

START_TEST(unreached_and_online_query)
{
	struct xp_frame_word w;

	/* beyond memory: Xen returned -EINVAL before writing the word */
	w = dec(XP_PGOFF_OFFLINE, XP_PG_NOT_HANDLED, -EINVAL);
	ck_assert_int_eq(w.err, -EINVAL);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_NO_FRAME);
	w = dec(XP_PGOFF_ONLINE, XP_PG_OFFLINE_OFFLINED, 0); /* ONLINED */
	ck_assert_int_eq(w.err, 0);
	w = dec(XP_PGOFF_ONLINE, 0, 0);
	ck_assert_int_eq(w.err, 0);
	w = dec(XP_PGOFF_ONLINE, XP_PG_OFFLINE_FAILED | XP_PG_OFFLINE_BROKEN,
		-EINVAL);
	ck_assert_int_eq(w.err, -EPERM);
	ck_assert_uint_eq(w.reason, XPAGE_FRAME_REASON_BROKEN);
	w = dec(XP_PGOFF_QUERY, XP_PG_STATUS_OFFLINE_PENDING, 0);
	ck_assert_uint_eq(w.state, XPAGE_FRAME_OFFLINE_PENDING);
	ck_assert_uint_eq(w.owner, XPAGE_OWNER_UNKNOWN);
	w = dec(XP_PGOFF_QUERY, XP_PG_STATUS_OFFLINED | XP_PG_STATUS_BROKEN, 0);
	ck_assert_uint_eq(w.state, XPAGE_FRAME_OFFLINED);
	ck_assert(w.broken);
	w = dec(XP_PGOFF_QUERY, 0, 0);
	ck_assert_uint_eq(w.state, XPAGE_FRAME_ONLINE);
	ck_assert_int_eq(w.err, 0);
}
END_TEST

/* A host of 0x40 frames behind a stub backend: 0x30 and 0x31 are dom0's
 * (the backend says so without marking), 0x20 a guest's (domain 5), the
 * others free. Every frame the offline operation reaches is recorded. */
static bool stub_marked[0x40];
static int stub_dom0_rc;

static int stub_offline(struct xp_host_backend *hb, unsigned cmd,
			uint64_t first, uint64_t last, uint32_t *status)
{
	(void)hb;
	for (uint64_t m = first; m <= last; m++) {
		uint32_t *w = &status[m - first];

		if (m >= 0x40)
			return -EINVAL;
		if (cmd == XP_PGOFF_QUERY) {
			*w = stub_marked[m] ? XP_PG_STATUS_OFFLINE_PENDING : 0;
			continue;
		}
		stub_marked[m] = cmd == XP_PGOFF_OFFLINE;
		*w = m == 0x20 || m >= 0x30 ?
			XP_PG_OFFLINE_OWNED | XP_PG_OFFLINE_PENDING |
			OWNER(m == 0x20 ? 5 : 0) : XP_PG_OFFLINE_OFFLINED;
	}
	return 0;
}

static int stub_m2p(struct xp_host_backend *hb, const uint64_t *mfns,
		    size_t n, uint64_t *gfns, uint64_t *max)
{
	(void)hb, (void)mfns;
	for (size_t i = 0; i < n; i++)
		gfns[i] = XP_M2P_INVALID;
	*max = 0x40;
	return 0;
}

static int stub_dom0_owns(struct xp_host_backend *hb, const uint64_t *mfns,
			  size_t n, bool *owned)
{
	(void)hb;
	for (size_t i = 0; i < n; i++)
		owned[i] = mfns[i] == 0x30 || mfns[i] == 0x31;
	return stub_dom0_rc;
}

static const struct xp_host_ops stub_ops = {
	.name = "stub", .page_offline = stub_offline, .m2p = stub_m2p,
	.dom0_owns = stub_dom0_owns,
};

/* dom0's frames are refused without being marked (Xen never frees them,
 * and marking one stopped a one-CPU host); a query names dom0 as their
 * owner while they are in service. */
START_TEST(dom0_frames_never_marked)
{
	struct xpage_host h = { .ops = &stub_ops, .pid = getpid() };
	uint64_t m[4] = { 0x10, 0x30, 0x20, 0x31 };
	struct xpage_frame_info info[4] = { { .sz = sizeof(info[0]) } };
	int st[4];

	memset(stub_marked, 0, sizeof(stub_marked));
	stub_dom0_rc = 0;
	ck_assert_int_eq(xpage_frame_offline(&h, m, 4, 0, st), 1);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EPERM);
	ck_assert_int_eq(st[2], -EAGAIN);
	ck_assert_int_eq(st[3], -EPERM);
	ck_assert(stub_marked[0x10] && stub_marked[0x20]);
	ck_assert(!stub_marked[0x30] && !stub_marked[0x31]);
	ck_assert_int_eq(xpage_frame_query(&h, m, 4, info), 4);
	ck_assert_uint_eq(info[1].state, XPAGE_FRAME_ONLINE);
	ck_assert_uint_eq(info[1].owner, 0);
	ck_assert_uint_eq(info[1].reason, XPAGE_FRAME_REASON_DOM0);
	ck_assert_uint_eq(info[2].owner, 5);
	ck_assert(!stub_marked[0x30] && !stub_marked[0x31]);
	/* a backend that cannot tell: marked, and Xen's word says dom0 */
	stub_dom0_rc = -EACCES;
	ck_assert_int_eq(xpage_frame_offline(&h, &m[1], 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EPERM);
	ck_assert(stub_marked[0x30]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("frame_status");
	TCase *t = check_tcase(s, "words", 10);

	tcase_add_test(t, offline_words);
	tcase_add_test(t, unreached_and_online_query);
	tcase_add_test(t, dom0_frames_never_marked);
	return s;
}

int main(void)
{
	return check_main(suite);
}
