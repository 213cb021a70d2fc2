/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run-time version and the names of generations and features. */
#include "private.h"

#define STR_(x) #x
#define STR(x) STR_(x)

XPAGE_API uint32_t xpage_version(void)
{
	return XPAGE_VERSION;
}

XPAGE_API const char *xpage_version_string(void)
{
	return STR(XPAGE_VERSION_MAJOR) "." STR(XPAGE_VERSION_MINOR) "."
	       STR(XPAGE_VERSION_PATCH);
}

XPAGE_API const char *xpage_generation_name(int generation)
{
	const struct xp_ring_layout *l = xp_ring_layout(generation);

	return l ? l->name : "unknown";
}

XPAGE_API const char *xpage_feature_name(uint64_t feature)
{
	switch (feature) {
	case XPAGE_FEAT_DROP:          return "drop";
	case XPAGE_FEAT_EVICT_FAIL_HV: return "evict-fail-hv";
	case XPAGE_FEAT_LOAD_BUFFER:   return "load-buffer";
	case XPAGE_FEAT_VERSION_QUERY: return "version-query";
	case XPAGE_FEAT_MULTICALL:     return "multicall";
	default:                       return NULL;
	}
}
