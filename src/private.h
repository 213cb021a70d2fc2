/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxpage internals: the opaque handle, the normalised ring event, codecs,
 * the gfn state table and the helpers the public entry points share.
 */
#ifndef XPAGE_PRIVATE_H
#define XPAGE_PRIVATE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xpage/xpage.h"
#include "backend.h"
#include "opts.h"
#include "ring_layout.h"
#include "gfn_table.h"

/* The p2m type of a request whose gfn still has its frame (the
 * hypervisor's numbering, docs/xen-interface.md §1). */
#define XP_P2M_PAGING_OUT 9u

/* ------------------------------------------------------------------------ */
/* Ring codecs                                                              */

/* A request as the core sees it, whatever the generation. */
struct xp_event {
	uint64_t gfn;
	uint32_t vcpu;
	uint32_t flags;        /* XP_EV_* */
	uint32_t p2mt;         /* p2m type when the request was made */
	uint32_t version;      /* version word (vm_event era), else 0 */
	uint32_t unknown;      /* raw flag bits the layout does not define */
};

/* A response: gfn, vcpu and XP_EV_* flags (VCPU_PAUSED, DROP_PAGE...). */
struct xp_response {
	uint64_t gfn;
	uint32_t vcpu;
	uint32_t flags;
};

struct xp_codec {
	/* Decode one slot. 0, or -EPROTO when the slot is not a paging
	 * request of this layout (wrong version word or reason). */
	int (*decode)(const struct xp_ring_layout *l,
		      const volatile uint8_t *slot, struct xp_event *ev);
	/* Encode a response into a slot, with every field the hypervisor
	 * checks (version word, reason) set. */
	void (*encode)(const struct xp_ring_layout *l, volatile uint8_t *slot,
		       const struct xp_response *rsp);
};

extern const struct xp_codec xp_codec_mem_event;
extern const struct xp_codec xp_codec_vm_event;
/* The codec for a layout's era. */
const struct xp_codec *xp_codec_for(const struct xp_ring_layout *l);

/* ------------------------------------------------------------------------ */
/* The handle                                                               */

/* One xpage_map() region: gfns[i] is UINT64_MAX where page i is not
 * mapped. */
struct xp_region {
	void *addr;
	size_t n;
	uint64_t *gfns;
};

/* A kept page: its gfn and its only copy (kept.c). */
struct xp_kept {
	uint64_t gfn;
	void *page;
};

struct xpage {
	const struct xp_backend_ops *ops;
	struct xp_backend *be;

	/* logging */
	xpage_log_fn log_fn;
	void *log_ctx;
	int log_level;

	struct xpage_callbacks cbs;

	/* negotiated contract */
	uint32_t domid;
	uint32_t age;
	uint32_t generation;
	uint32_t xen_major, xen_minor;
	uint32_t vcpus;
	uint64_t features, hv_features;
	bool version_confirmed;  /* a request's version word was checked */
	uint32_t last_req_version; /* that word in the last request read */
	bool took_over;
	bool holds_pause;        /* XPAGE_OPEN_KEEP_PAUSED: one pause held */
	bool use_multicall;

	/* ring */
	const struct xp_ring_layout *layout;
	const struct xp_codec *codec;
	volatile uint8_t *ring;
	uint32_t req_cons;       /* next request to read */
	uint32_t rsp_prod_pvt;   /* next response slot to write */
	uint32_t rsp_unpushed;   /* responses written but not published */
	bool enabled;
	bool broken;             /* ring found corrupt: refuse further use */
	bool in_dispatch;
	bool closing;            /* xpage_close: no more callbacks */

	struct xp_gfn_table table;
	struct xpage_stats stats;

	/* mappings made by xpage_map(), for xpage_unmap() */
	struct xp_region *regions;
	size_t nregions, cap_regions;

	/* scratch for batch calls (grown on demand) */
	struct xp_paging_op *ops_buf;
	size_t ops_cap;

	/* gfns the hypervisor touches itself (hv_guard.c) */
	struct {
		uint64_t *gfns;      /* sorted, n of them */
		uint64_t *spare;     /* the next answer goes here */
		size_t n, cap;       /* cap: of each buffer */
		uint64_t when_ns;    /* 0: never asked */
		unsigned looks;      /* answers, and the time they took */
		uint64_t look_ns;
		uint64_t last_ns;    /* the last answer's */
		bool unsupported;    /* the backend cannot tell */
		bool paused_move;    /* the guest is paused for a move of
				      * these gfns (relocate.c): none is
				      * guarded meanwhile */
		/* the code the guest runs (gfn_hints.c), sorted, per
		 * XP_CODE_KERNEL and XP_CODE_USER */
		uint64_t *code[2];
		size_t code_n[2], code_cap[2];
	} hv;

	/* log-dirty mode held by this handle (logdirty.c) */
	bool logdirty_on;

	/* pages evicted by the library and not loaded back yet (kept.c) */
	struct xp_kept *kept;
	size_t nkept, cap_kept;

	/* who may call (guard.c) */
	pid_t pid;                      /* the process that opened it */
	volatile uint8_t *fork_marker;  /* 1; 0 in a child after fork() */
	uintptr_t owner;                /* token of the thread inside, or 0 */
	unsigned depth;                 /* nested entries of that thread */
	int lock_fd;                    /* the domain's lock (domain_lock.c) */
};

/* ------------------------------------------------------------------------ */
/* Helpers shared by the entry points                                       */

/* log.c */
void xp_log(const struct xpage *xp, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Backend logger: ctx is the handle. */
void xp_log_backend(void *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* guard.c: the checks at the entry of every public call on a handle. */
#define XP_NOT_IN_CALLBACK (1u << 0) /* refused inside a callback */
#define XP_NEEDS_HV        (1u << 1) /* refused once the connection died */
int xp_guard_init(struct xpage *xp);
void xp_guard_fini(struct xpage *xp);
/* True in a process other than the one that opened @xp (after fork). */
bool xp_forked(const struct xpage *xp);
/* 0, or the backend's negative errno once its connection is gone. */
int xp_conn_error(const struct xpage *xp);
/* 0 (pair it with xp_leave), or -ECHILD (another process), -EBUSY
 * (another thread is inside), -EINVAL (@need has XP_NOT_IN_CALLBACK and
 * a callback runs), -EIO (@need has XP_NEEDS_HV and the connection to the
 * hypervisor is gone). errno is left alone. */
int xp_enter(const struct xpage *xp, unsigned need);
void xp_leave(const struct xpage *xp);
/* The value of the int expression @call, evaluated between xp_enter()
 * and xp_leave() of @xp, or the negative errno xp_enter() refused with
 * (errno set). */
#define XP_GUARDED(xp, need, call) __extension__ ({			\
	int xp_rc_ = xp_enter((xp), (need));				\
	if (xp_rc_ < 0) {						\
		errno = -xp_rc_;					\
	} else {							\
		xp_rc_ = (call);					\
		xp_leave(xp);						\
	}								\
	xp_rc_;								\
})

/* Return -err with errno set (err > 0). */
static inline int xp_err(int err)
{
	errno = err;
	return -err;
}

/* negotiate.c: fills generation, age, features, layout, codec. */
int xp_negotiate(struct xpage *xp, uint32_t pager_ages, uint64_t required,
		 uint64_t wanted);
/* The generation a Xen version implies (0 if none is supported). */
int xp_generation_for_xen(uint32_t major, uint32_t minor);
int xp_generation_for_version_word(uint32_t version);

/* handle.c: xpage_open() with a given backend (NULL: choose as the
 * options say). Unit tests pass a fake backend. */
struct xpage *xp_open_with(const struct xp_backend_ops *forced,
			   const struct xpage_open_opts *opts,
			   const struct xpage_callbacks *cbs);

/* handle.c: enable the ring and set up the back end of it. */
int xp_ring_enable(struct xpage *xp);
/* Start consuming a freshly enabled ring. */
void xp_ring_attach(struct xpage *xp, void *ring);

/* domain_lock.c: hold the domain for this handle's life; -EBUSY (logged)
 * while another libxpage pager of this machine holds it. */
int xp_domain_lock(struct xpage *xp);
void xp_domain_unlock(struct xpage *xp);

/* takeover.c: enable the ring (taking over one that is enabled when
 * @may_take_over), then answer the vCPUs a previous ring left paused;
 * the domain paused throughout. */
int xp_ring_open(struct xpage *xp, bool may_take_over);
/* takeover.c: on Xen 4.2 - 4.4, answer every request held (DROP_PAGE):
 * the vCPUs retry until a pager loads their gfns. Before close/detach. */
void xp_release_held(struct xpage *xp);

/* dispatch.c: write a response into the ring (not yet published). */
void xp_put_response(struct xpage *xp, const struct xp_response *rsp);
/* Publish written responses and notify the hypervisor. */
int xp_push_responses(struct xpage *xp);

/* dispatch.c: answer every request held for @gfn and forget them. @extra
 * is OR-ed into each response's flags (DROP_PAGE: release the vCPUs
 * without asking the hypervisor to make the page present). */
void xp_answer_held(struct xpage *xp, uint64_t gfn, uint32_t extra);

/* hv_guard.c: ask the backend again for the gfns the hypervisor touches
 * itself when the last answer is stale; whether @gfn is one of them;
 * release the set. */
void xp_hv_refresh(struct xpage *xp);
bool xp_hv_guarded(const struct xpage *xp, uint64_t gfn);
void xp_hv_fini(struct xpage *xp);

/* gfn_hints.c: after a look (xp_hv_refresh), keep the backend's sets of
 * the gfns the guest runs code from; release them. */
void xp_hints_take_code(struct xpage *xp);
void xp_hints_fini(struct xpage *xp);

/* logdirty.c: turn off the log-dirty mode this handle holds (close,
 * detach); logged when that fails. */
void xp_logdirty_release(struct xpage *xp);

/* dispatch.c: xpage_dispatch() inside the guard. */
int xp_dispatch(struct xpage *xp, int timeout_ms);

/* batch.c: run paging ops through the backend, counting traps. */
int xp_run_ops(struct xpage *xp, struct xp_paging_op *ops, size_t n);
/* kept.c: pages the library evicted and could not load back. Add keeps
 * a copy (0 or -ENOMEM); retry loads what it can and returns how many
 * are left; populate loads @gfn if kept (true: the library answers it, no
 * callback); drop forgets it (the guest released it); close retries for
 * up to @max_ms and logs each page still kept as lost; fini frees. */
bool xp_kept_has(const struct xpage *xp, uint64_t gfn);
int xp_kept_add(struct xpage *xp, uint64_t gfn, const void *page);
size_t xp_kept_retry(struct xpage *xp);
bool xp_kept_populate(struct xpage *xp, uint64_t gfn);
void xp_kept_drop(struct xpage *xp, uint64_t gfn);
void xp_kept_close(struct xpage *xp, unsigned int max_ms);
#define XP_KEPT_CLOSE_MS 5000
void xp_kept_fini(struct xpage *xp);
/* unnominate.c: xpage_unnominate() inside the guard. */
int xp_unnominate_gfns(struct xpage *xp, const uint64_t *gfns, size_t n,
		       unsigned int flags, int *status);
/* batch_map.c: release every mapping xpage_map() made; the first error. */
int xp_unmap_all(struct xpage *xp);

#endif
