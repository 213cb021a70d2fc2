/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the hypervisor's status word of one frame says, for each command
 * of XEN_SYSCTL_page_offline_op (page_offline.h has the words and the
 * rules behind them). One pure function, so that each word Xen writes is
 * decoded the same way for every backend and tested alone
 * (tests/unit/test_frame_status.c).
 */
#include "host_backend.h"

#include <errno.h>
#include <string.h>

static uint32_t owner_of(uint32_t word)
{
	return word >> XP_PG_OFFLINE_OWNER_SHIFT;
}

/* A frame the hypervisor stopped at, or did not reach. */
static void stopped(uint32_t word, int ret, struct xp_frame_word *o)
{
	o->err = ret ? ret : -EINVAL;
	if (!xp_frame_reached(word))
		o->reason = XPAGE_FRAME_REASON_NO_FRAME;
	else if (word & XP_PG_OFFLINE_XENPAGE)
		o->reason = XPAGE_FRAME_REASON_XEN;
	else if (word & XP_PG_OFFLINE_NOT_CONV_RAM)
		o->reason = XPAGE_FRAME_REASON_NOT_RAM;
	else if (word & XP_PG_OFFLINE_BROKEN)
		o->reason = XPAGE_FRAME_REASON_BROKEN;
	if (o->reason == XPAGE_FRAME_REASON_XEN)
		o->owner = XPAGE_OWNER_XEN;
	if (o->reason == XPAGE_FRAME_REASON_XEN ||
	    o->reason == XPAGE_FRAME_REASON_BROKEN)
		o->err = -EPERM;
}

/* The answer of offline for a frame pending: whose it is decides. */
static void pending(uint32_t word, struct xp_frame_word *o)
{
	o->state = XPAGE_FRAME_OFFLINE_PENDING;
	o->owner = owner_of(word);
	o->err = -EAGAIN;
	if (word & XP_PG_OFFLINE_XENPAGE) {
		o->owner = XPAGE_OWNER_XEN;
		o->reason = XPAGE_FRAME_REASON_XEN;
		o->err = -EPERM;
	} else if (o->owner == 0) {
		o->reason = XPAGE_FRAME_REASON_DOM0;
		o->err = -EPERM;
	}
}

static void offline_word(uint32_t word, struct xp_frame_word *o)
{
	if (word & XP_PG_OFFLINE_OFFLINED) {
		o->state = XPAGE_FRAME_OFFLINED;
		o->owner = XPAGE_OWNER_NONE;
	} else if (word & XP_PG_OFFLINE_PENDING) {
		pending(word, o);
	} else if (word & XP_PG_OFFLINE_AGAIN) {
		/* a broken frame a domain owns: Xen crashed the domain */
		o->state = XPAGE_FRAME_OFFLINE_PENDING;
		o->reason = XPAGE_FRAME_REASON_BROKEN;
		o->err = -EAGAIN;
	} else if (word & XP_PG_OFFLINE_ANONYMOUS) {
		o->owner = XPAGE_OWNER_NONE;
		o->reason = XPAGE_FRAME_REASON_ANONYMOUS;
		o->err = -EBUSY;
	} else if (word & XP_PG_OFFLINE_FAILED) {
		stopped(word, -EINVAL, o);
	}
}

static void query_word(uint32_t word, struct xp_frame_word *o)
{
	if (word & XP_PG_STATUS_OFFLINED) {
		o->state = XPAGE_FRAME_OFFLINED;
		o->owner = XPAGE_OWNER_NONE;
	} else if (word & XP_PG_STATUS_OFFLINE_PENDING) {
		o->state = XPAGE_FRAME_OFFLINE_PENDING;
	}
	o->broken = word & XP_PG_STATUS_BROKEN;
}

void xp_frame_decode(unsigned cmd, uint32_t word, int ret,
		     struct xp_frame_word *o)
{
	memset(o, 0, sizeof(*o));
	o->owner = XPAGE_OWNER_UNKNOWN;
	if (ret || !xp_frame_reached(word)) {
		stopped(word, ret, o);
		return;
	}
	if (cmd == XP_PGOFF_QUERY) {
		query_word(word, o);
		return;
	}
	o->broken = word & XP_PG_OFFLINE_BROKEN;
	if (cmd == XP_PGOFF_OFFLINE)
		offline_word(word, o);
	else if (word & XP_PG_OFFLINE_FAILED)   /* online of a broken frame */
		o->err = -EPERM;
}
