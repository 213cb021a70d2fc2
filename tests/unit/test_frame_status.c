/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The status words of XEN_SYSCTL_page_offline_op, decoded
 * (src/frame_status.c): each word Xen's offline_page, online_page and
 * query_page_offline write (xen/common/page_alloc.c), and the word of a
 * frame the hypervisor did not reach.
 */
#include <check.h>
#include <errno.h>

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

static Suite *suite(void)
{
	Suite *s = suite_create("frame_status");
	TCase *t = check_tcase(s, "words", 10);

	tcase_add_test(t, offline_words);
	tcase_add_test(t, unreached_and_online_query);
	return s;
}

int main(void)
{
	return check_main(suite);
}
