/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding and loading libxenctrl, whose ABI changes with every Xen
 * release: it is opened with dlopen and each function resolved into
 * libxpage's own table (xenctrl_loader.h), the way LibVMI does, so one
 * libxpage binary serves Xen 4.2 .. 4.22.
 */
#include "xenctrl_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
	       "dlsym results are stored as function pointers");


enum {
	XP_SYM_REQUIRED = 0,
	XP_SYM_OPTIONAL = 1,
	XP_SYM_HVM_PARAM = 2, /* one of the HVM_PARAM group is required */
	XP_SYM_DOMINFO = 3,   /* one of the DOMINFO group is required */
};

struct xp_xenctrl_sym {
	const char *name;
	size_t off;
	int kind;
};

#define XP_SYM(name, field, kind) { name, offsetof(struct xp_xenctrl, field), kind }

/* The release table. Verified against tools/include/xenctrl.h (and
 * tools/libxc/xenctrl.h before 4.15) at every RELEASE-4.x.0 tag 4.2 .. 4.22:
 *   every release: xc_interface_open/close, xc_version,
 *     xc_mem_paging_enable/disable/nominate/evict/prep/load,
 *     xc_domain_pause/unpause, xc_domain_populate_physmap_exact,
 *     xc_domain_decrease_reservation_exact, xc_get_hvm_param,
 *     xc_domain_getinfolist, xc_domain_maximum_gpfn,
 *     xc_domain_hvm_getcontext_partial, xc_get_pfn_type_batch (its
 *     prototype is in libxenctrl's private header, but it is exported);
 *   4.5+:  xc_hvm_param_get;
 *   4.6+:  xc_domain_nr_gpfns (and xc_domain_maximum_gpfn's out-parameter);
 *   4.13+: xc_vm_event_get_version;
 *   4.18+: xc_domain_getinfo_single (xc_domain_getinfo was removed);
 *   log-dirty: xc_shadow_control (eight arguments, with the bitmap) up
 *     to 4.15, xc_logdirty_control from 4.16; xc__hypercall_buffer_*
 *     in every release;
 *   xc_maximum_ram_page in every release: long (xch) returning the
 *     value up to 4.5, int (xch, unsigned long *) from 4.6. */
static const struct xp_xenctrl_sym xp_xenctrl_syms[] = {
	XP_SYM("xc_interface_open", interface_open, XP_SYM_REQUIRED),
	XP_SYM("xc_interface_close", interface_close, XP_SYM_REQUIRED),
	XP_SYM("xc_version", version, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_enable", mem_paging_enable, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_disable", mem_paging_disable, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_nominate", mem_paging_nominate, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_evict", mem_paging_evict, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_load", mem_paging_load, XP_SYM_REQUIRED),
	XP_SYM("xc_domain_pause", domain_pause, XP_SYM_REQUIRED),
	XP_SYM("xc_domain_unpause", domain_unpause, XP_SYM_REQUIRED),
	XP_SYM("xc_domain_populate_physmap_exact",
	       domain_populate_physmap_exact, XP_SYM_REQUIRED),
	XP_SYM("xc_domain_decrease_reservation_exact",
	       domain_decrease_reservation_exact, XP_SYM_REQUIRED),
	XP_SYM("xc_hvm_param_get", hvm_param_get, XP_SYM_HVM_PARAM),
	XP_SYM("xc_get_hvm_param", get_hvm_param, XP_SYM_HVM_PARAM),
	XP_SYM("xc_domain_getinfo_single", domain_getinfo_single,
	       XP_SYM_DOMINFO),
	XP_SYM("xc_domain_getinfolist", domain_getinfolist, XP_SYM_DOMINFO),
	XP_SYM("xc_vm_event_get_version", vm_event_get_version,
	       XP_SYM_OPTIONAL),
	XP_SYM("xc_mem_paging_prep", mem_paging_prep, XP_SYM_OPTIONAL),
	XP_SYM("xc_domain_nr_gpfns", domain_nr_gpfns, XP_SYM_OPTIONAL),
	XP_SYM("xc_domain_maximum_gpfn", domain_maximum_gpfn, XP_SYM_OPTIONAL),
	XP_SYM("xc_domain_hvm_getcontext_partial",
	       domain_hvm_getcontext_partial, XP_SYM_OPTIONAL),
	XP_SYM("xc_get_pfn_type_batch", get_pfn_type_batch, XP_SYM_OPTIONAL),
	XP_SYM("xc_logdirty_control", logdirty_control, XP_SYM_OPTIONAL),
	XP_SYM("xc_shadow_control", shadow_control_old, XP_SYM_OPTIONAL),
	XP_SYM("xc__hypercall_buffer_alloc_pages", hcbuf_alloc_pages,
	       XP_SYM_OPTIONAL),
	XP_SYM("xc__hypercall_buffer_free_pages", hcbuf_free_pages,
	       XP_SYM_OPTIONAL),
	XP_SYM("xc_maximum_ram_page", maximum_ram_page, XP_SYM_OPTIONAL),
};

/* Newest first; "libxenctrl.so" (the development symlink) is tried before
 * these. Xen 4.1's library is libxenctrl.so.4.0 and is not supported. */
static const char *const xp_xenctrl_sonames[] = {
	"libxenctrl.so.4.22", "libxenctrl.so.4.21", "libxenctrl.so.4.20",
	"libxenctrl.so.4.19", "libxenctrl.so.4.18", "libxenctrl.so.4.17",
	"libxenctrl.so.4.16", "libxenctrl.so.4.15", "libxenctrl.so.4.14",
	"libxenctrl.so.4.13", "libxenctrl.so.4.12", "libxenctrl.so.4.11",
	"libxenctrl.so.4.10", "libxenctrl.so.4.9", "libxenctrl.so.4.8",
	"libxenctrl.so.4.7", "libxenctrl.so.4.6", "libxenctrl.so.4.5",
	"libxenctrl.so.4.4", "libxenctrl.so.4.3", "libxenctrl.so.4.2",
};

static void *xp_sym_slot(struct xp_xenctrl *x, size_t off)
{
	return (char *)x + off;
}

int xp_xenctrl_load(const char *path, struct xp_xenctrl *out, char *why,
		    size_t whylen)
{
	struct xp_xenctrl x;
	int have_hvm = 0, have_dominfo = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	if (why && whylen)
		why[0] = '\0';

	dlerror();
	x.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!x.dl) {
		const char *e = dlerror();

		if (why && whylen)
			snprintf(why, whylen, "%s", e ? e : path);
		return -ENOENT;
	}
	snprintf(x.path, sizeof(x.path), "%s", path);

	for (i = 0; i < sizeof(xp_xenctrl_syms) / sizeof(xp_xenctrl_syms[0]);
	     i++) {
		const struct xp_xenctrl_sym *s = &xp_xenctrl_syms[i];
		void *p = dlsym(x.dl, s->name);

		if (!p && s->kind == XP_SYM_REQUIRED) {
			if (why && whylen)
				snprintf(why, whylen,
					 "%s lacks %s, which every Xen release since 4.2 has",
					 path, s->name);
			dlclose(x.dl);
			return -ELIBBAD;
		}
		memcpy(xp_sym_slot(&x, s->off), &p, sizeof(p));
		if (p && s->kind == XP_SYM_HVM_PARAM)
			have_hvm = 1;
		if (p && s->kind == XP_SYM_DOMINFO)
			have_dominfo = 1;
	}
	if (!have_hvm || !have_dominfo) {
		if (why && whylen)
			snprintf(why, whylen, "%s lacks %s", path,
				 !have_hvm ? "both xc_hvm_param_get and xc_get_hvm_param"
					   : "both xc_domain_getinfo_single and xc_domain_getinfolist");
		dlclose(x.dl);
		return -ELIBBAD;
	}
	/* 4.16 gave xc_shadow_control five arguments (no bitmap). */
	if (x.logdirty_control)
		x.shadow_control_old = NULL;
	*out = x;
	return 0;
}

int xp_xenctrl_find(struct xp_xenctrl *out, char *why, size_t whylen)
{
	const char *env = secure_getenv("XPAGE_XENCTRL");
	char first_bad[256] = "";
	int rc;
	size_t i;

	if (env && env[0])
		return xp_xenctrl_load(env, out, why, whylen);

	rc = xp_xenctrl_load("libxenctrl.so", out, first_bad,
			     sizeof(first_bad));
	if (rc == 0)
		return 0;
	if (rc != -ELIBBAD)
		first_bad[0] = '\0';
	for (i = 0; i < sizeof(xp_xenctrl_sonames) / sizeof(xp_xenctrl_sonames[0]);
	     i++) {
		char tmp[256];

		rc = xp_xenctrl_load(xp_xenctrl_sonames[i], out, tmp,
				     sizeof(tmp));
		if (rc == 0)
			return 0;
		if (rc == -ELIBBAD && !first_bad[0])
			snprintf(first_bad, sizeof(first_bad), "%s", tmp);
	}
	if (first_bad[0]) {
		if (why && whylen)
			snprintf(why, whylen, "%s", first_bad);
		return -ELIBBAD;
	}
	if (why && whylen)
		snprintf(why, whylen,
			 "no libxenctrl found (tried libxenctrl.so and libxenctrl.so.4.22 .. 4.2)");
	return -ENOENT;
}

void xp_xenctrl_unload(struct xp_xenctrl *x)
{
	if (x->dl)
		dlclose(x->dl);
	memset(x, 0, sizeof(*x));
}

/* The libxenguest beside @xenctrl_path: the same name, the same release. */
static void xenguest_name(const char *xenctrl_path, char *out, size_t len)
{
	const char *base = strrchr(xenctrl_path, '/');
	const char *at;

	base = base ? base + 1 : xenctrl_path;
	at = strstr(base, "libxenctrl");
	if (!at) {
		snprintf(out, len, "libxenguest.so");
		return;
	}
	snprintf(out, len, "%.*slibxenguest%s", (int)(at - xenctrl_path),
		 xenctrl_path, at + strlen("libxenctrl"));
}

#define XP_GSYM(name, field) { name, offsetof(struct xp_xenguest, field) }

int xp_xenguest_load(const char *xenctrl_path, struct xp_xenguest *out,
		     char *why, size_t whylen)
{
	static const struct { const char *name; size_t off; } syms[] = {
		XP_GSYM("xc_mark_page_offline", mark_page_offline),
		XP_GSYM("xc_mark_page_online", mark_page_online),
		XP_GSYM("xc_query_page_offline_status",
			query_page_offline_status),
		XP_GSYM("xc_map_m2p", map_m2p),
	};
	const char *env = secure_getenv("XPAGE_XENGUEST");
	struct xp_xenguest g;

	memset(out, 0, sizeof(*out));
	memset(&g, 0, sizeof(g));
	if (env && env[0])
		snprintf(g.path, sizeof(g.path), "%s", env);
	else
		xenguest_name(xenctrl_path, g.path, sizeof(g.path));
	dlerror();
	g.dl = dlopen(g.path, RTLD_NOW | RTLD_LOCAL);
	if (!g.dl) {
		const char *e = dlerror();

		if (why && whylen)
			snprintf(why, whylen, "%s", e ? e : g.path);
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(g.dl, syms[i].name);

		memcpy((char *)&g + syms[i].off, &p, sizeof(p));
	}
	*out = g;
	return 0;
}

void xp_xenguest_unload(struct xp_xenguest *g)
{
	if (g->dl)
		dlclose(g->dl);
	memset(g, 0, sizeof(*g));
}
