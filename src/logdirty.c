/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Write tracking for a pager's choice of victims: the hypervisor's
 * log-dirty mode (xpage_logdirty_enable / _scan / _disable).
 *
 * Who calls it: a pager that prefers victims the guest has not written
 * for a while (the example batch pager's "logdirty" policy), scanning
 * every few hundred milliseconds into a bitmap it owns and keeps.
 *
 * Why the interface should last: enable takes a sized options struct
 * with room for flags (a sampling rate, a range); a scan is one sized
 * struct naming the pager's bitmap, its length and flags, with its
 * count written back, so a later release adds a first gfn or statistics
 * at its end without a new function. The bitmap is the pager's (no
 * library allocation to free, no size that changes under it), in the
 * layout Xen and every other hypervisor uses. Nothing of Xen's shadow-op
 * interface (its numbers, its hypercall buffers, the libxenctrl entry
 * that changed name in 2021) shows through.
 *
 * One user at a time: Xen refuses a second enable with EINVAL. A paging
 * domain has no passthrough device (paging refuses those, EMLINK), so
 * that EINVAL means the mode is on already: someone else (a live
 * migration) holds it. The call then says -EBUSY, the log says who might
 * hold it, and the pager goes on without it.
 */
#include "private.h"

#include <string.h>

static int backend_logdirty(struct xpage *xp, unsigned op, uint64_t *bits,
			    uint64_t nr, uint64_t *dirty)
{
	if (!xp->ops->logdirty)
		return -EOPNOTSUPP;
	return xp->ops->logdirty(xp->be, op, bits, nr, dirty);
}

static int check_enable_opts(const struct xpage_logdirty_opts *opts)
{
	struct xpage_logdirty_opts o;
	int rc;

	if (!opts)
		return 0;
	rc = xp_opts_valid(opts, sizeof(o), sizeof(o));
	if (rc < 0)
		return rc;
	xp_opts_copy(&o, sizeof(o), opts);
	return o.flags ? -EINVAL : 0;
}

static int enable(struct xpage *xp, const struct xpage_logdirty_opts *opts)
{
	int rc = check_enable_opts(opts);

	if (rc < 0)
		return xp_err(-rc);
	if (!xp->enabled)
		return xp_err(ESHUTDOWN);
	if (xp->logdirty_on)
		return xp_err(EALREADY);
	rc = backend_logdirty(xp, XP_LD_ENABLE, NULL, 0, NULL);
	if (rc == -EINVAL) {
		xp_log(xp, XPAGE_LOG_WARN, "log-dirty mode of domain %u is "
		       "held by someone else (a live migration or save, or a "
		       "pager that died holding it): no write tracking, "
		       "paging goes on without it", xp->domid);
		return xp_err(EBUSY);
	}
	if (rc < 0) {
		xp_log(xp, XPAGE_LOG_WARN, "enabling log-dirty mode: %s",
		       xpage_strerror(rc));
		return xp_err(-rc);
	}
	xp->logdirty_on = true;
	xp_log(xp, XPAGE_LOG_INFO, "log-dirty mode on for domain %u",
	       xp->domid);
	return 0;
}

static int check_scan(const struct xpage *xp,
		      const struct xpage_logdirty_scan *s)
{
	if (s->flags & ~XPAGE_LOGDIRTY_SCAN_FLAGS_ALL || s->reserved0 ||
	    !s->bitmap || !s->nr_gfns || s->nr_gfns > xp->table.nr)
		return -EINVAL;
	if (!xp->enabled)
		return -ESHUTDOWN;
	if (!xp->logdirty_on)
		return -EINVAL;
	return 0;
}

static int scan(struct xpage *xp, struct xpage_logdirty_scan *user)
{
	struct xpage_logdirty_scan s;
	int rc = xp_opts_valid(user, sizeof(s), sizeof(s));

	if (rc < 0)
		return xp_err(-rc);
	xp_opts_copy(&s, sizeof(s), user);
	rc = check_scan(xp, &s);
	if (rc < 0)
		return xp_err(-rc);
	s.dirty = 0;
	rc = backend_logdirty(xp, s.flags & XPAGE_LOGDIRTY_PEEK ? XP_LD_PEEK :
			      XP_LD_CLEAN, s.bitmap, s.nr_gfns, &s.dirty);
	if (rc < 0) {
		xp_log(xp, XPAGE_LOG_WARN, "reading the log-dirty bitmap: %s",
		       xpage_strerror(rc));
		return xp_err(-rc);
	}
	xp_opts_export(user, &s, XP_KNOWN_SIZE(xpage_logdirty_scan));
	return 0;
}

static int disable(struct xpage *xp)
{
	int rc;

	if (!xp->logdirty_on)
		return xp_err(EALREADY);
	rc = backend_logdirty(xp, XP_LD_OFF, NULL, 0, NULL);
	if (rc < 0) {
		xp_log(xp, XPAGE_LOG_WARN, "turning log-dirty mode off: %s",
		       xpage_strerror(rc));
		return xp_err(-rc);
	}
	xp->logdirty_on = false;
	return 0;
}

void xp_logdirty_release(struct xpage *xp)
{
	if (xp->logdirty_on && disable(xp) < 0)
		xp_log(xp, XPAGE_LOG_ERROR, "log-dirty mode of domain %u "
		       "stays on: the next user's enable will fail",
		       xp->domid);
	xp->logdirty_on = false;
}

#define LD_NEED (XP_NEEDS_HV | XP_NOT_IN_CALLBACK)

XPAGE_API int xpage_logdirty_enable(xpage_t *xp,
				    const struct xpage_logdirty_opts *opts)
{
	return XP_GUARDED(xp, LD_NEED, enable(xp, opts));
}

XPAGE_API int xpage_logdirty_scan(xpage_t *xp,
				  struct xpage_logdirty_scan *scan_)
{
	return XP_GUARDED(xp, LD_NEED, scan(xp, scan_));
}

XPAGE_API int xpage_logdirty_disable(xpage_t *xp)
{
	return XP_GUARDED(xp, LD_NEED, disable(xp));
}
