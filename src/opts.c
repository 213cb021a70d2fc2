/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validation of caller-sized structs; see opts.h. */
#include "opts.h"

#include <errno.h>
#include <stdint.h>

int xp_opts_valid(const void *opts, size_t min, size_t known)
{
	const unsigned char *p = opts;
	size_t sz;

	if (!opts)
		return -EINVAL;
	memcpy(&sz, opts, sizeof(sz));
	if (sz < min || (sz > min && sz < known))
		return -EINVAL;
	/* Reject absurd sizes before touching memory past the struct. */
	if (sz > 4096)
		return -E2BIG;
	for (size_t i = known; i < sz; i++)
		if (p[i])
			return -E2BIG;
	return 0;
}

void xp_opts_copy(void *dst, size_t dst_size, const void *src)
{
	size_t sz;

	memcpy(&sz, src, sizeof(sz));
	memset(dst, 0, dst_size);
	memcpy(dst, src, sz < dst_size ? sz : dst_size);
	memcpy(dst, &dst_size, sizeof(dst_size));
}

void xp_opts_export(void *dst, const void *src, size_t known)
{
	size_t sz;

	memcpy(&sz, dst, sizeof(sz));
	if (sz > known)
		sz = known;
	if (sz > sizeof(size_t))
		memcpy((char *)dst + sizeof(size_t),
		       (const char *)src + sizeof(size_t), sz - sizeof(size_t));
}
