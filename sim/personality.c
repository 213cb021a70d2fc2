/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hypervisors xpage-simd imitates (docs/xen-interface.md §3, §5, §6).
 * A personality fixes the ring layout (generation), what the version
 * queries answer, whether paging is compiled in, the paging age, and
 * where the special pages (the ring gfn) sit.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "xpage/xpage.h"

static const struct sim_personality table[] = {
	{ "xen-4.2", XPAGE_GEN_MEM_EVENT_42, 4, 2, 0, 0, true, 0, 0 },
	{ "xen-4.5", XPAGE_GEN_MEM_EVENT_45, 4, 5, 0, 0, true, 0, 0 },
	{ "xen-4.6", XPAGE_GEN_VM_EVENT_V1, 4, 6, 0, 0, true, 0, 0 },
	{ "xen-4.8", XPAGE_GEN_VM_EVENT_V2, 4, 8, 0, 0, true, 0, 0 },
	{ "xen-4.11", XPAGE_GEN_VM_EVENT_V3, 4, 11, 0, 0, true, 0, 0 },
	{ "xen-4.12", XPAGE_GEN_VM_EVENT_V4, 4, 12, 0, 0, true, 0, 0 },
	/* xc_vm_event_get_version() exists from 4.13 on. */
	{ "xen-4.13", XPAGE_GEN_VM_EVENT_V5, 4, 13, 5, 0, true, 0, 0 },
	{ "xen-4.14", XPAGE_GEN_VM_EVENT_V6, 4, 14, 6, 0, true, 0, 0 },
	{ "xen-4.15", XPAGE_GEN_VM_EVENT_V7, 4, 15, 7, 0, true, 0, 0 },
	/* CONFIG_MEM_PAGING off (default since 4.16, Debian's 4.17): the
	 * version query still answers, enabling paging gives ENOSYS. */
	{ "xen-4.17-nopaging", XPAGE_GEN_VM_EVENT_V7, 4, 17, 7, 0, false, 0, 0 },
	/* The paging-age proposal no released Xen took up (age 2:
	 * docs/xen-interface.md §6). */
	{ "xen-4.2-age2", XPAGE_GEN_MEM_EVENT_42, 4, 2, 0, 2, true, 0, 0 },
	/* A PVH guest as libxc lays it out (xc_dom_x86.c): RAM from gfn 0,
	 * the 8 special pages at X86_HVM_END_SPECIAL_REGION - 8 = 0xfeff8 ..
	 * 0xfefff, the paging ring first (special_pfn(SPECIALPAGE_PAGING)),
	 * nothing in the physmap between: max_gpfn + 1 = 0xff000 whatever
	 * the RAM (tests/xen/README.md, item 3). Paging built in, as on the
	 * tests/xen rig. */
	{ "xen-4.17-pvh", XPAGE_GEN_VM_EVENT_V7, 4, 17, 7, 0, true,
	  SIM_PVH_SPECIAL_BASE, SIM_PVH_NR_SPECIAL },
	/* The rig's other releases (tests/xen/run --xen), the same PVH
	 * guest: Debian 11's 4.14 writes version 6 into every request (the
	 * rig read 6 there), Debian 13's 4.20 version 7, as 4.17. */
	{ "xen-4.14-pvh", XPAGE_GEN_VM_EVENT_V6, 4, 14, 6, 0, true,
	  SIM_PVH_SPECIAL_BASE, SIM_PVH_NR_SPECIAL },
	{ "xen-4.20-pvh", XPAGE_GEN_VM_EVENT_V7, 4, 20, 7, 0, true,
	  SIM_PVH_SPECIAL_BASE, SIM_PVH_NR_SPECIAL },
};

#define DEFAULT_PERSONALITY "xen-4.15"

const struct sim_personality *sim_personality_find(const char *name)
{
	if (!name || !*name)
		return sim_personality_default();
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

const struct sim_personality *sim_personality_default(void)
{
	return sim_personality_find(DEFAULT_PERSONALITY);
}

size_t sim_personality_list(char *buf, size_t len)
{
	size_t off = 0;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t n = strlen(table[i].name);

		if (buf && off + n + 1 < len) {
			memcpy(buf + off, table[i].name, n);
			buf[off + n] = '\n';
			buf[off + n + 1] = '\0';
		}
		off += n + 1;
	}
	if (buf && len && off >= len)
		buf[0] = '\0';
	return off;
}
