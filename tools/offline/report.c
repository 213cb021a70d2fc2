/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The final state of each frame: offlined, pending (and why), or
 * refused (and why), as lines or as one JSON document.
 */
#include "offline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum result { R_OFFLINED, R_PENDING, R_REFUSED };

/* Offlined when Xen says so; refused when the offline was (the
 * hypervisor's own frame, or dom0's, which dom0 never frees), even if
 * Xen marked it pending; else pending while marked. */
static enum result result_of(const struct frame *f)
{
	if (f->info.state == XPAGE_FRAME_OFFLINED)
		return R_OFFLINED;
	if (f->marked == -EPERM)
		return R_REFUSED;
	if (f->info.state == XPAGE_FRAME_OFFLINE_PENDING)
		return R_PENDING;
	return R_REFUSED;
}

static const char *reason_text(uint32_t reason)
{
	switch (reason) {
	case XPAGE_FRAME_REASON_XEN: return "the hypervisor's own frame";
	case XPAGE_FRAME_REASON_DOM0:
		return "dom0's frame: dom0 never frees it";
	case XPAGE_FRAME_REASON_NOT_RAM: return "not conventional RAM";
	case XPAGE_FRAME_REASON_NO_FRAME: return "beyond the host's memory";
	case XPAGE_FRAME_REASON_ANONYMOUS:
		return "being allocated, no owner yet: try again";
	case XPAGE_FRAME_REASON_BROKEN: return "marked broken";
	default: return NULL;
	}
}

/* Why a pending frame's guest was not moved off it. */
static void why_pending(const struct frame *f, char *buf, size_t len)
{
	const char *r = reason_text(f->info.reason);

	if (r)
		snprintf(buf, len, "%s", r);
	else if (f->moved == 1)
		snprintf(buf, len, "owned by domain %u, gfn unknown: not moved",
			 f->info.owner);
	else if (f->moved == -EBUSY)
		snprintf(buf, len, "domain %u gfn 0x%llx is in use (granted, "
			 "mapped by a device model, or touched): try again%s%s",
			 f->info.owner, (unsigned long long)f->info.gfn,
			 f->why[0] ? "; " : "", f->why);
	else
		snprintf(buf, len, "domain %u gfn 0x%llx: %s%s%s",
			 f->info.owner, (unsigned long long)f->info.gfn,
			 xpage_strerror(f->moved), f->why[0] ? "; " : "",
			 f->why);
}

/* Why a frame stays in service: what the offline said. */
static void why_refused(const struct frame *f, char *buf, size_t len)
{
	const char *r = reason_text(f->info.reason);

	if (!r && f->marked == -EPERM)
		r = "the hypervisor's own frame";
	snprintf(buf, len, "%s", r ? r : xpage_strerror(f->marked));
}

static void why(const struct frame *f, char *buf, size_t len)
{
	enum result r = result_of(f);

	buf[0] = '\0';
	if (r == R_PENDING)
		why_pending(f, buf, len);
	else if (r == R_REFUSED)
		why_refused(f, buf, len);
	else if (f->moved == 0)
		snprintf(buf, len, "domain %u gfn 0x%llx moved off it (by %s)",
			 f->owner, (unsigned long long)f->gfn,
			 !strcmp(f->how, "pager") ? "its pager" : "this program");
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_frame(const struct frame *f, bool last)
{
	static const char *const res[] = { "offlined", "pending", "refused" };
	uint32_t owner = f->moved != 1 ? f->owner : f->info.owner;
	uint64_t gfn = f->moved != 1 ? f->gfn : f->info.gfn;
	char w[512];

	why(f, w, sizeof(w));
	printf("    {\"mfn\": \"0x%llx\", \"result\": \"%s\"",
	       (unsigned long long)f->mfn, res[result_of(f)]);
	if (owner < 0x7ff0u)
		printf(", \"owner\": %u", owner);
	if (gfn != XPAGE_GFN_INVALID)
		printf(", \"gfn\": \"0x%llx\"", (unsigned long long)gfn);
	if (f->moved != 1)
		printf(", \"moved_by\": \"%s\", \"relocate_status\": %d",
		       f->how ? f->how : "", f->moved);
	printf(", \"why\": ");
	json_string(w);
	printf("}%s\n", last ? "" : ",");
}

void report(const struct tool_opts *o, const struct frame *f, size_t n)
{
	static const char *const res[] = { "offlined", "pending", "refused" };
	size_t count[3] = { 0, 0, 0 };
	char w[512];

	for (size_t i = 0; i < n; i++)
		count[result_of(&f[i])]++;
	if (o->json) {
		printf("{\n  \"frames\": [\n");
		for (size_t i = 0; i < n; i++)
			json_frame(&f[i], i + 1 == n);
		printf("  ],\n  \"offlined\": %zu, \"pending\": %zu, "
		       "\"refused\": %zu\n}\n", count[0], count[1], count[2]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		why(&f[i], w, sizeof(w));
		printf("0x%llx: %s%s%s\n", (unsigned long long)f[i].mfn,
		       res[result_of(&f[i])], w[0] ? ": " : "", w);
	}
	printf("%zu offlined, %zu pending, %zu refused\n", count[0], count[1],
	       count[2]);
}

bool all_offlined(const struct frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (result_of(&f[i]) != R_OFFLINED)
			return false;
	return true;
}
