/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The optional log callback: the library never prints on its own. */
#include "private.h"

#include <stdarg.h>
#include <stdio.h>

static void vlog(const struct xpage *xp, int level, const char *fmt,
		 va_list ap)
{
	char msg[512];

	if (!xp || !xp->log_fn || level > xp->log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	xp->log_fn(xp->log_ctx, level, msg);
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
