/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control channel's default socket path (control.h), shared by the
 * pager and xpage-offline. */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>

int control_default_path(char *buf, size_t len, uint32_t domid,
			 const char *dir)
{
	const char *env = getenv("XPAGE_CONTROL_DIR");
	int n;

	if (env && env[0])
		dir = env;
	else if (!dir)
		dir = CONTROL_DIR_DEFAULT;
	n = snprintf(buf, len, "%s/dom%u.sock", dir, domid);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
