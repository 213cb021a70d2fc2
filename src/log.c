/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The optional log callback: the library never prints on its own. */
#include "private.h"

#include <stdarg.h>
#include <stdio.h>

void xp_vlog_to(xpage_log_fn fn, void *ctx, int max_level, int level,
		const char *fmt, va_list ap)
{
	char msg[512];

	if (!fn || level > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fn(ctx, level, msg);
}

static void vlog(const struct xpage *xp, int level, const char *fmt,
		 va_list ap)
{
	if (xp)
		xp_vlog_to(xp->log_fn, xp->log_ctx, xp->log_level, level, fmt,
			   ap);
}

void xp_log(const struct xpage *xp, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(xp, level, fmt, ap);
	va_end(ap);
}

void xp_log_backend(void *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(ctx, level, fmt, ap);
	va_end(ap);
}
