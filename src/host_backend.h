/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host handle (xpage_host_t): what a hypervisor offers about machine
 * frames, whatever the domain. The core (host.c, frame_ops.c,
 * frame_status.c) is written against this; host_sim.c speaks to
 * xpage-simd, xen_host.c to Xen through libxenguest and libxenctrl.
 */
#ifndef XPAGE_HOST_BACKEND_H
#define XPAGE_HOST_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xpage/xpage.h"
#include "backend.h"
#include "page_offline.h"

/* Each backend completes the type for itself (see backend.h). */
struct xp_host_backend;

struct xp_host_ops {
	const char *name; /* "xen", "sim" */
	/* @arg: backend specific (sim: socket path). -ENOENT when the
	 * backend is not available on this machine. */
	int (*open)(struct xp_host_backend **hb, const char *arg,
		    xp_backend_log_fn log, void *log_ctx);
	void (*close)(struct xp_host_backend *hb);
	/* XEN_SYSCTL_page_offline_op @cmd (XP_PGOFF_*) on @first .. @last
	 * (at most XP_HOST_RUN_MAX frames): a status word each into
	 * @status, as Xen writes them (page_offline.h: a word with bit 0
	 * set was not reached). Returns the hypervisor's answer, 0 or the
	 * negative errno where it stopped; -EOPNOTSUPP where the operation
	 * is missing (the log says why, once). */
	int (*page_offline)(struct xp_host_backend *hb, unsigned cmd,
			    uint64_t first, uint64_t last, uint32_t *status);
	/* The machine-to-phys entries of @n frames into @gfns
	 * (XP_M2P_INVALID where none or past the table) and the table's
	 * size (one past the highest frame) into *@max. 0 or -errno
	 * (-EOPNOTSUPP: the backend cannot read the table). */
	int (*m2p)(struct xp_host_backend *hb, const uint64_t *mfns,
		   size_t n, uint64_t *gfns, uint64_t *max);
	/* Which of @n frames dom0 owns, into @owned, asked without marking
	 * them. 0 or -errno; NULL where the hypervisor answers for dom0's
	 * frames itself (the simulator). */
	int (*dom0_owns)(struct xp_host_backend *hb, const uint64_t *mfns,
			 size_t n, bool *owned);
	/* 0 while the connection to the hypervisor works, -EIO once it is
	 * gone. NULL: it cannot be lost. */
	int (*connection)(struct xp_host_backend *hb);
};

/* Frames one page_offline call takes at most. */
#define XP_HOST_RUN_MAX 2048u

extern const struct xp_host_ops xp_host_sim;
/* NULL when the library was built without Xen support. */
extern const struct xp_host_ops *const xp_host_xen_ops;

/* The host handle. */
struct xpage_host {
	const struct xp_host_ops *ops;
	struct xp_host_backend *hb;
	xpage_log_fn log_fn;
	void *log_ctx;
	int log_level;
	pid_t pid;            /* the process that opened it */
	int inside;           /* a thread is in a call (atomic) */
};

/* host.c */
void xp_host_log(const struct xpage_host *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 0 to go on (pair with xp_host_leave), -ECHILD in another process,
 * -EBUSY while another thread is inside, -EIO once the connection is
 * gone. */
int xp_host_enter(struct xpage_host *h);
void xp_host_leave(struct xpage_host *h);

/* The value of the int expression @call between xp_host_enter() and
 * xp_host_leave() of @h (NULL: -EINVAL), errno set when negative. */
#define HOST_GUARDED(h, call) __extension__ ({				\
	int rc_ = (h) ? xp_host_enter(h) : -EINVAL;			\
	if (rc_ == 0) {							\
		rc_ = (call);						\
		xp_host_leave(h);					\
	}								\
	if (rc_ < 0)							\
		errno = -rc_;						\
	rc_;								\
})

/* frame_status.c: what one status word says about one frame. */
struct xp_frame_word {
	int err;          /* the frame's answer: 0 or a negative errno */
	uint32_t state;   /* enum xpage_frame_state */
	uint32_t owner;   /* domid, XPAGE_OWNER_* */
	uint32_t reason;  /* enum xpage_frame_reason */
	bool broken;
};
/* Decode @word of a frame the hypervisor answered for @cmd; @ret: its
 * error when the call stopped at this frame, else 0. */
void xp_frame_decode(unsigned cmd, uint32_t word, int ret,
		     struct xp_frame_word *out);
/* Whether the hypervisor reached the frame of @word (page_offline.h). */
static inline bool xp_frame_reached(uint32_t word)
{
	return !(word & XP_PG_OFFLINE_INVALID);
}

/* frame_ops.c: scratch for @n frames (0 or -ENOMEM; put it back either
 * way), and every frame of @mfns through @cmd, each one's answer into
 * @res and word into @words: 0, or a negative errno for the whole call
 * (logged). */
struct xp_frames_scratch {
	uint32_t *words;
	struct xp_frame_word *res;
};
int xp_frames_scratch(struct xp_frames_scratch *s, size_t n);
void xp_frames_scratch_put(struct xp_frames_scratch *s);
int xp_frames_run(struct xpage_host *h, unsigned cmd, const uint64_t *mfns,
		  size_t n, uint32_t *words, struct xp_frame_word *res);
/* Which of @n frames dom0 owns, into @owned: all false where the
 * backend cannot tell (a failed question is logged). */
void xp_frames_dom0(struct xpage_host *h, const uint64_t *mfns, size_t n,
		    bool *owned);

#endif
