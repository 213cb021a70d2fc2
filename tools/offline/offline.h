/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-offline: take failing machine frames out of service, moving the
 * running guests that own them off them (man/man8/xpage-offline.8).
 *
 *   main.c    the command line and the steps: mark, move, report
 *   move.c    moving a domain's gfns: its own handle, or the pager's
 *             control channel when a pager holds the domain
 *   report.c  the final state of each frame, in lines or JSON
 */
#ifndef XPAGE_OFFLINE_H
#define XPAGE_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xpage/xpage.h>

struct tool_opts {
	bool json;
	const char *sim_socket;   /* NULL: Xen (or $XPAGE_SIM_SOCKET) */
	const char *control_dir;  /* NULL: $XPAGE_CONTROL_DIR, /run/xpage */
	int verbose;
};

/* One frame asked for, and what became of it. */
struct frame {
	uint64_t mfn;
	int marked;               /* xpage_frame_offline's status */
	struct xpage_frame_info info;  /* the final query */
	int moved;                /* relocation's status; 1: not tried */
	uint32_t owner;           /* the guest moved off it, and its gfn */
	uint64_t gfn;             /* (where a move was tried) */
	const char *how;          /* "pager" or "handle": who moved it */
	char why[160];            /* what stopped it, in words */
};

/* move.c: move each frame of @f (n) left pending because a guest owns
 * it (marked -EAGAIN, info from a query) off its frame. */
void move_frames(const struct tool_opts *o, struct frame *f, size_t n);

/* report.c */
void report(const struct tool_opts *o, const struct frame *f, size_t n);
/* Whether every frame ended offlined. */
bool all_offlined(const struct frame *f, size_t n);

#endif
