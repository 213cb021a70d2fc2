/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-simd internals: a simulated Xen paging hypervisor.
 *
 * One process owns every simulated guest: its memory (a memfd shared with
 * clients), its p2m, the frame reference counts, the vCPUs and the paging
 * ring. Clients talk to it over simproto.h. Everything a guest owns is
 * protected by the guest's mutex (struct sim_guest.lock); functions below
 * marked "locked" must be called with it held.
 *
 * Files, by concern:
 *   main.c        options, start-up, signals
 *   server.c      the socket, one thread per connection, op dispatch
 *   maptab.c      per-connection table of foreign mappings
 *   guest.c       guests: memory, p2m, frames, pause state, lifetime
 *   paging.c      nominate / evict / prep, foreign map, populate, release
 *   ring.c        the front end of the ring: claim, put, responses, notify
 *   vcpu.c        vCPU threads, guest accesses, workloads
 *   runstate.c    the runstate areas Xen's scheduler writes at each switch
 *   hypercall.c   timer hypercalls, whose arguments Xen copies from stacks
 *   walk.c        the page-table walks Xen makes: placement, what they meet
 *   writes.c      write tracking (log-dirty mode)
 *   frames.c      the host's machine frames: M2P, free pool, offline
 *   oracle.c      expected page contents, verification, reports
 *   faults.c      the seeded fault injector
 *   personality.c the table of hypervisors imitated
 *   log.c         the log file
 */
#ifndef XPAGE_SIM_SIM_H
#define XPAGE_SIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring_layout.h"
#include "simproto.h"

#define SIM_PAGE 4096u
#define SIM_MAX_VCPUS 128u
/* Largest guest accepted: 1 TiB of RAM. */
#define SIM_MAX_PAGES (1ull << 28)

/* ---------------------------------------------------------------- log */

enum { SIM_LOG_ERR = 0, SIM_LOG_WARN = 1, SIM_LOG_INFO = 2, SIM_LOG_DEBUG = 3 };
int sim_log_open(const char *path);
void sim_log_close(void);
void sim_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* -------------------------------------------------------- personality */

struct sim_personality {
	const char *name;
	int generation;            /* enum xpage_generation */
	uint32_t xen_major, xen_minor;
	uint32_t vm_event_version; /* SIMP_VM_EVENT_VERSION; 0: -ENOSYS */
	uint32_t paging_age;       /* SIMP_PAGING_AGE; 0: -ENOSYS (age 1) */
	bool paging;               /* false: built without memory paging */
	/* gfn layout. 0: the special pages (SIMP_NR_SPECIAL, the ring) come
	 * right after RAM. Otherwise the first of nr_special special pages
	 * (the ring) sits at this gfn, with a hole (not in the physmap)
	 * between the end of RAM and it: libxc's layout for HVM/PVH guests. */
	uint64_t special_base;
	uint32_t nr_special;
};

/* libxc's special pages (X86_HVM_END_SPECIAL_REGION 0xff000, 8 pages) and
 * the lowest gfn of the MMIO hole of a PVH guest without a device model
 * (ACPI_INFO_PHYSICAL_ADDRESS, 0xfc000000): RAM above it would go above
 * 4 GiB, which the simulator does not model (such a guest: -EINVAL). */
#define SIM_PVH_SPECIAL_BASE 0xfeff8ull
#define SIM_PVH_NR_SPECIAL 8u
#define SIM_PVH_LOWMEM_END 0xfc000ull

const struct sim_personality *sim_personality_find(const char *name);
const struct sim_personality *sim_personality_default(void);
/* Names, one per line, NUL-terminated; returns the length (without NUL)
 * or the length needed if it does not fit. */
size_t sim_personality_list(char *buf, size_t len);

/* ------------------------------------------------------------ guests */

/* Per-gfn state: 8 bytes, so a 16 GiB guest (4M gfns) needs 32 MiB. */
struct sim_gfn {
	uint32_t gen;   /* oracle generation of the contents */
	uint8_t p2mt;   /* SIMP_P2M_* (SIMP_P2M_INVALID: not in the physmap) */
	uint8_t flags;  /* SG_* */
	uint16_t refs;  /* frame references besides the allocation */
};
#define SG_FRAME 0x01u /* a frame backs this gfn */
#define SG_ZERO  0x02u /* expected contents: all zero (lazy / fresh frame) */
#define SG_BAD   0x04u /* found lost or corrupted (counted once) */

/* What a vCPU is doing (or will retry once it can run again). */
enum sim_pending_kind {
	SIM_PEND_NONE = 0,
	SIM_PEND_ACCESS,   /* a read or write access to gfn */
	SIM_PEND_DROP,     /* a drop request to send for gfn (flags) */
	SIM_PEND_EFAULT,   /* a hypercall failed: the guest BUGs on it */
};

/* Whose access a vCPU makes: the workload's (counted in its report), the
 * write of a hypercall's arguments (hypercall.c), the kernel running its
 * code (kcode.c). */
enum sim_access_why {
	SIM_ACC_WORKLOAD = 0,
	SIM_ACC_HCALL,
	SIM_ACC_KCODE,
};

struct sim_pending {
	uint8_t kind;
	uint8_t write;
	uint8_t why;      /* SIM_ACC_*: whose access it is */
	uint32_t flags;   /* SIM_PEND_DROP: XP_EV_* flags of the request */
	uint32_t p2mt;
	uint64_t gfn;
};

struct sim_vcpu {
	struct sim_guest *g;
	uint32_t id;
	/* Paused for a page-in while not 0. Below 0 only on Xen 4.2 - 4.4,
	 * whose responses unpause a vCPU without checking that it was paused
	 * (its shared pause count goes negative): it does not run either. */
	int32_t vm_event_pause;
	bool blocked;             /* paused for lack of ring space */
	bool in_waitqueue;        /* waiting for a ring slot */
	bool thread_started;
	struct sim_pending pending;
	uint64_t paused_since_ns;
	uint64_t spin_since_ns;   /* spinning on a paging_in gfn since (0: not) */
	uint64_t rng;             /* workload random stream */
	uint64_t seq_pos;         /* SEQUENTIAL: next gfn in its share */
	uint64_t wl_epoch;        /* workload the stream was seeded for */
	pthread_cond_t cv;
	pthread_t thread;
	/* runstate.c: the gfns of this vCPU's runstate walk, in walk order,
	 * and when it was last switched (0: never). */
	uint64_t rs_walk[SIMP_RUNSTATE_WALK];
	uint64_t rs_switch_ns;
	bool rs_due;              /* woken: switched in when it runs */
	/* hypercall.c: the gfns of the walk to this vCPU's kernel stack (the
	 * tables, then the stack's pages), when it last made its timer call
	 * while running, and whether it makes one when it goes idle. */
	uint64_t hc_walk[SIMP_STACK_WALK];
	uint64_t hc_call_ns;
	bool hc_idle_due;
	/* kcode.c: when it last entered the kernel, and where next. */
	uint64_t kc_ns;
	uint64_t kc_next;
};

/* The paging ring, from enable to disable. */
struct sim_ring {
	uint64_t id;              /* unique, never reused */
	uint64_t gfn;             /* ring gfn at enable time */
	volatile uint8_t *page;   /* the hypervisor's view of the frame */
	uint32_t port;
	uint32_t nr_slots;
	uint32_t req_prod_pvt;    /* FRONT_RING private producer */
	uint32_t rsp_cons;        /* responses consumed */
	uint32_t blocked;         /* vCPUs blocked for space */
	uint32_t waiters;         /* vCPUs in the wait queue */
	uint32_t last_wake;
	bool notify_pending;
	int efd_to_pager;         /* we write: the pager's event */
	int efd_from_pager;       /* the pager writes: its notify */
	int efd_stop;             /* stops the resume thread */
	pthread_t thread;
	struct sim_guest *g;
};

struct sim_stats {
	uint64_t accesses, faults, requests, responses, ignored, lost,
		corrupted, overruns;
	uint64_t spins;   /* guest accesses that began spinning on paging_in */
};

/* Pending frame frees, coalesced into ranges and punched before the guest
 * lock is released (a hole punch per range, not per page). */
#define SIM_FREE_RUNS 32
struct sim_free_run { uint64_t start, n; };

struct sim_guest {
	pthread_mutex_t lock;
	int refcnt;               /* atomic */
	uint32_t domid;
	uint32_t nvcpus;
	uint32_t flags;           /* XPAGE_SIM_GUEST_* (simproto numbering) */
	uint64_t pages;           /* RAM gfns 0 .. pages-1 */
	uint64_t ring_gfn;        /* the first special page */
	uint64_t nr_gfns;         /* ring_gfn + special pages (the memfd) */
	uint64_t seed;
	const struct sim_personality *pers;
	const struct xp_ring_layout *layout;

	int memfd;
	int seekfd;               /* own file description, for SEEK_DATA */
	uint8_t *mem;
	size_t memsz;
	struct sim_gfn *gfn;
	uint32_t *mfn;            /* frames.c: each gfn's machine frame */

	/* Counters kept in step with the p2m (see guest_set_p2mt). */
	uint64_t nr_paging_out;
	uint64_t nr_paged_type;   /* paged + paging_in */
	uint64_t paged_pages;     /* evicted: paged or paging_in without frame */

	struct sim_vcpu *vcpu;
	uint32_t spinning;        /* vCPUs with spin_since_ns set */
	uint32_t pause_count;     /* toolstack pauses */
	bool crashed;
	const char *crash_why;    /* the reason guest_crash() was given */
	bool runstate;            /* runstate.c: the scheduler walks to areas */
	bool hcall;               /* hypercall.c: arguments copied by a walk */
	uint64_t kcode_first;     /* kcode.c: the kernel's code, kcode_count */
	uint64_t kcode_count;     /* gfns from kcode_first (0: none) */
	bool destroyed;
	bool stopping;            /* vCPU threads exit */

	struct sim_ring *ring;
	uint32_t next_port;

	struct sim_stats st;
	struct sim_free_run frees[SIM_FREE_RUNS];
	unsigned nfrees;

	/* Workload (vcpu.c) */
	struct simp_workload wl;
	bool wl_active;
	uint64_t wl_epoch;

	/* Log-dirty (writes.c): a bit per gfn while tracking is on, else
	 * NULL. */
	uint64_t *ld_bits;

	/* Faults (faults.c) */
	struct simp_faults fl;
	uint64_t frng;
};

/* Guest flags as the protocol numbers them (xpage/sim.h). */
#define SIM_GUEST_NO_HAP (1u << 0)
#define SIM_GUEST_IOMMU  (1u << 1)
#define SIM_GUEST_POD    (1u << 2)
#define SIM_GUEST_PV     (1u << 3)
#define SIM_GUEST_LAZY   (1u << 4)
#define SIM_GUEST_TEXT   (1u << 5)
#define SIM_GUEST_FLAGS_ALL ((1u << 6) - 1)

/* Touch flags (xpage/sim.h numbering). */
#define SIM_TOUCH_WRITE   (1u << 0)
#define SIM_TOUCH_FOREIGN (1u << 1)

/* Guest table (guest.c). */
int guest_create(const struct simp_guest *req, uint32_t *domid);
struct sim_guest *guest_get(uint32_t domid); /* reference, or NULL */
void guest_put(struct sim_guest *g);
int guest_destroy(uint32_t domid);
void guest_destroy_all(void);

/* Locking: lock first delivers a pending notification from the pager
 * (notify is synchronous on Xen); unlock flushes pending frame frees and
 * notifications to the pager. */
void guest_lock(struct sim_guest *g);
void guest_unlock(struct sim_guest *g);
/* locked: what guest_unlock() flushes, without unlocking (the lock may be
 * dropped for a while for an injected notification delay). */
void guest_flush(struct sim_guest *g);

/* locked: the state every hypercall checks (-ESRCH dead domain). */
int guest_check_live(const struct sim_guest *g);
/* locked: what every paging domctl checks first, in Xen's order: paging
 * built in (-ENOSYS), the domain alive (-ESRCH) and, with @need_ring, a
 * ring enabled (-ENODEV). */
int guest_check_paging(const struct sim_guest *g, bool need_ring);
/* locked */
void guest_set_p2mt(struct sim_guest *g, uint64_t gfn, uint8_t t);
/* locked: give gfn a zeroed frame (reuses a still-referenced old one). */
void guest_frame_alloc(struct sim_guest *g, uint64_t gfn);
/* locked: the allocation's own reference goes: the frame is freed now. */
void guest_frame_free(struct sim_guest *g, uint64_t gfn);
/* locked: drop one reference; frees a frame no longer in the physmap. */
void guest_frame_put(struct sim_guest *g, uint64_t gfn);
/* locked: punch the holes queued by guest_frame_free. */
void guest_flush_frees(struct sim_guest *g);
/* locked: crash the domain (all vCPUs stop, hypercalls -ESRCH). */
void guest_crash(struct sim_guest *g, const char *why);
/* locked */
bool vcpu_can_run(const struct sim_vcpu *v);
/* locked: a vCPU may have become runnable (woken, it is switched in when
 * it runs: runstate.c). */
void vcpu_kick(struct sim_vcpu *v);
void guest_kick_all(struct sim_guest *g);
void guest_dominfo(struct sim_guest *g, struct simp_dominfo *di);
static inline uint8_t *guest_page(struct sim_guest *g, uint64_t gfn)
{
	return g->mem + gfn * SIM_PAGE;
}
static inline bool p2m_is_ram(uint8_t t)
{
	return t == SIMP_P2M_RAM_RW || t == SIMP_P2M_RAM_LOGDIRTY;
}
static inline bool p2m_is_paging(uint8_t t)
{
	return t == SIMP_P2M_RAM_PAGING_OUT || t == SIMP_P2M_RAM_PAGED ||
	       t == SIMP_P2M_RAM_PAGING_IN;
}
uint64_t sim_now_ns(void);

/* -------------------------------------------------------------- ring */

/* A request, before it is encoded in the ring's layout. */
struct sim_req {
	uint64_t gfn;
	uint32_t vcpu;
	uint32_t p2mt;
	uint32_t flags;  /* XP_EV_* */
};

/* locked: enable/disable (the errno rules of Xen's vm_event code). */
int ring_enable(struct sim_guest *g, uint32_t declared_age, int fds[2],
		uint32_t *port);
/* locked: on success *out is the detached ring; call ring_free() on it
 * after guest_unlock(). @force: destruction (ignores waiters). */
int ring_disable(struct sim_guest *g, bool force, struct sim_ring **out);
void ring_free(struct sim_ring *r);
/* locked: free slots (Xen: slots - (req_prod - rsp_cons) - held). */
uint32_t ring_available(const struct sim_guest *g);
/* locked: 0 (a slot is ours), -EOPNOTSUPP (no ring), -EBUSY (full). */
int ring_claim(struct sim_guest *g);
/* locked: put a claimed request; @v: the guest vCPU sending it, or NULL
 * for a foreign requester. May mark @v blocked. */
void ring_put(struct sim_guest *g, const struct sim_req *req,
	      struct sim_vcpu *v);
/* locked: the pager's notification: consume its responses. */
void ring_consume(struct sim_guest *g);
/* locked: deliver a pending notification (guest_lock() does this). */
void ring_sync(struct sim_guest *g);
/* locked: wake vCPUs waiting for ring space, if there is some. */
void ring_wake(struct sim_guest *g);
/* locked: write pending notifications (may drop the lock for an
 * injected delay). */
void ring_notify_flush(struct sim_guest *g);
/* --resume-delay-us: how long (microseconds) a ring's thread waits after
 * a pager's notify before it delivers it itself, when no operation on the
 * domain has; 0: at once. Set before any ring is enabled. */
#define RING_RESUME_DELAY_US_DEFAULT 200u
#define RING_RESUME_DELAY_US_MAX 1000000u
void ring_set_resume_delay_us(uint32_t us);

/* ------------------------------------------------------------ paging */

/* locked: one paging op; @bounce: the connection's buffer pages. */
int paging_op(struct sim_guest *g, const struct simp_paging_op *op,
	      const uint8_t *bounce);
/* locked: foreign map of one gfn: 0 (a reference was taken), -errno. */
int paging_foreign_map(struct sim_guest *g, uint64_t gfn);
/* locked */
int paging_populate_physmap(struct sim_guest *g, uint64_t gfn);
/* locked: remove gfn from the physmap (balloon / decrease_reservation).
 * @v: the guest vCPU doing it, NULL for a foreign caller. Returns 0, or
 * -EAGAIN when @v must wait for a ring slot to send the drop request (the
 * request is then @v's pending work), or -errno. */
int paging_remove(struct sim_guest *g, uint64_t gfn, struct sim_vcpu *v);
/* locked: populate request for a paging gfn from a guest vCPU (@v) or a
 * foreign mapper (NULL). Returns 0 if a request was sent, -EAGAIN if @v
 * waits for a slot, -EBUSY (foreign, ring full), -ESHUTDOWN (no ring: the
 * domain crashed), or 1 when nothing needed sending. */
int paging_populate(struct sim_guest *g, uint64_t gfn, struct sim_vcpu *v);
/* locked: send the drop request pending on @v (or foreign). */
int paging_send_drop(struct sim_guest *g, uint64_t gfn, uint32_t flags,
		     struct sim_vcpu *v);

/* -------------------------------------------------------------- vcpu */

int vcpu_start_threads(struct sim_guest *g);
void vcpu_stop_threads(struct sim_guest *g); /* not locked */
/* locked: one guest access by @v; 0 done, -EAGAIN paused, waiting or
 * spinning on a paging_in gfn (it becomes @v's pending work),
 * -ESHUTDOWN, -EFAULT, -ERANGE. */
int vcpu_access(struct sim_vcpu *v, uint64_t gfn, bool write);
/* locked: the same for @v's write of a hypercall's arguments on @gfn,
 * not counted as an access; once a faulted write is re-executed, Xen's
 * copy follows (hypercall_copy). */
int vcpu_write_args(struct sim_vcpu *v, uint64_t gfn);
/* locked: @v runs the kernel's code in @gfn (a read; not counted). */
int vcpu_exec_kcode(struct sim_vcpu *v, uint64_t gfn);
/* locked: @v's thread waits @us without the guest lock (flushed first);
 * a kick ends the wait early. */
void vcpu_sleep_us(struct sim_vcpu *v, uint32_t us);
/* locked: gfn left paging_in: vCPUs spinning on it retry now. */
void vcpu_spin_wake(struct sim_guest *g, uint64_t gfn);
/* locked: foreign access (no vCPU): 0, -ENOENT (paged: a request was
 * sent if there was room), -ESHUTDOWN, -EFAULT, -ERANGE. */
int foreign_access(struct sim_guest *g, uint64_t gfn, bool write);
/* locked: re-execute @v's pending work if it can run now (what its thread
 * would do next). True when @v is then free to run something else. */
bool vcpu_run_pending(struct sim_vcpu *v);
/* locked: pick a vCPU that can run now and has nothing pending. */
struct sim_vcpu *vcpu_pick_idle(struct sim_guest *g, uint32_t hint);
/* locked */
void vcpu_enter_waitqueue(struct sim_vcpu *v);
void vcpu_leave_waitqueue(struct sim_vcpu *v);
void vcpu_pause_for_paging(struct sim_vcpu *v);
void vcpu_unpause_paging(struct sim_vcpu *v);
/* locked: workload control */
int workload_set(struct sim_guest *g, const struct simp_workload *w);
void workload_stop(struct sim_guest *g);

/* ---------------------------------------------------------- runstate */

/* At creation, before the vCPU threads start: choose each vCPU's
 * runstate walk (seeded) for an HVM/PVH guest; it is used and reported
 * where the personality writes runstate areas that way. */
void runstate_place(struct sim_guest *g);
/* locked: by @v's thread when it can run, @busy when it has guest code
 * to run. A context switch of @v when one is due (it waited since the
 * last one, or has been busy for a while): Xen writes its runstate area.
 * True when that paused @v or crashed the domain (@v cannot run now). */
bool runstate_tick(struct sim_vcpu *v, bool busy);
/* locked: SIMP_RUNSTATE_GFNS */
void runstate_gfns(const struct sim_guest *g, struct simp_runstate *out);

/* --------------------------------------------------------- hypercall */

/* At creation, after runstate_place(): each vCPU's kernel stack and the
 * walk to it (seeded), for an HVM/PVH guest. */
void hypercall_place(struct sim_guest *g);
/* locked: by @v's thread when it can run and has nothing pending, @busy
 * when it has guest code to run: its timer hypercall when one is due
 * (periodically while busy; going idle after it was woken). May leave
 * the lock for the trap. True when it made one (or began to: its write
 * faulted). */
bool hypercall_tick(struct sim_vcpu *v, bool busy);
/* locked: Xen's copy of @v's arguments (its write of them is done). */
void hypercall_copy(struct sim_vcpu *v);
/* locked: @v runs again after its hypercall failed: the domain crashes. */
void hypercall_failed(struct sim_vcpu *v);
/* locked: SIMP_STACK_GFNS */
void hypercall_gfns(const struct sim_guest *g, struct simp_stacks *out);

/* ------------------------------------------------------------- kcode */

/* At creation, after hypercall_place(): where the guest kernel's code
 * lies, for an HVM/PVH guest. */
void kcode_place(struct sim_guest *g);
/* locked: by @v's thread when it has guest code to run: a kernel entry
 * when one is due, which runs a page of the kernel's code. True when
 * that faulted (@v cannot run on now). */
bool kcode_tick(struct sim_vcpu *v);
/* locked: SIMP_KCODE_GFNS */
void kcode_range(const struct sim_guest *g, struct simp_range *out);

/* -------------------------------------------------------------- walk */

/* Draw @n gfns for walks into @out, at the top of RAM (seeded by the
 * guest's seed and @salt), distinct from each other and from @taken
 * (@ntaken gfns) where RAM has room. */
void walk_draw(const struct sim_guest *g, uint64_t salt, uint64_t *out,
	       uint32_t n, const uint64_t *taken, uint32_t ntaken);
/* locked: a copy through @walk (@n gfns, in order) stops at the first
 * gfn that is not RAM (*gfn): true when that one is in a paging state. */
bool walk_meets_paging(const struct sim_guest *g, const uint64_t *walk,
		       unsigned n, uint64_t *gfn);
/* locked: the copy @what by @v met paging @gfn: a request for it, @v
 * paused once more (1); with the ring full the domain crashes for @why
 * (-ESHUTDOWN), as it does without a ring. */
int walk_populate(struct sim_vcpu *v, uint64_t gfn, const char *what,
		  const char *why);

/* ------------------------------------------------------------ oracle */

/* Expected contents of gfn (a pure function of seed, gfn, generation). */
void oracle_fill(const struct sim_guest *g, uint64_t gfn, void *dst);
/* 0 matches, 1 lost (all zero), 2 corrupted: the whole page. */
int oracle_check(const struct sim_guest *g, uint64_t gfn, const void *data);
/* The same on a sample of words (the first, one per 512 bytes, the last):
 * what a load checks (oracle.c says why). */
int oracle_check_sampled(const struct sim_guest *g, uint64_t gfn,
			 const void *data);
/* Who checks: a load compares a sample, a guest read or a report the
 * whole page. */
enum oracle_by { ORACLE_BY_LOAD, ORACLE_BY_READ, ORACLE_BY_REPORT };
/* locked: verify and record (counts each bad gfn once until rewritten;
 * the log line names @by). Returns the check's result. */
int oracle_verify(struct sim_guest *g, uint64_t gfn, const void *data,
		  enum oracle_by by);
/* Is gfn's frame a hole in the memfd (all zero, never materialised)? */
bool oracle_page_is_hole(const struct sim_guest *g, uint64_t gfn);
/* locked: a guest write: new generation, new contents in the frame. */
void oracle_write(struct sim_guest *g, uint64_t gfn);
/* not locked (takes the lock in chunks) */
void oracle_report(struct sim_guest *g, const struct simp_report_req *rq,
		   struct simp_report *rep);
uint64_t sim_mix64(uint64_t z);

/* ------------------------------------------------------------ writes */

/* locked: a guest write to @gfn (sets its bit while tracking is on). */
void writes_note(struct sim_guest *g, uint64_t gfn);
/* locked: SIMP_LOGDIRTY (@out zeroed, then filled for CLEAN/PEEK). */
int writes_op(struct sim_guest *g, const struct simp_logdirty_req *q,
	      struct simp_logdirty *out);
/* locked: SIMP_LOGDIRTY_HOLD: on as another user would turn it on. */
int writes_hold(struct sim_guest *g, bool on);
/* locked: tracking off, the bitmap freed (also at destruction). */
void writes_fini(struct sim_guest *g);

/* ------------------------------------------------------------ frames */

/* A gfn without a machine frame. */
#define SIM_MFN_NONE UINT64_MAX
/* A free frame of the host's pool for gfn @gfn of domain @domid (never
 * an offlined or offline-pending one): its mfn, or SIM_MFN_NONE when the
 * host has no memory left. Takes the frames' lock (inside a guest's). */
uint64_t frames_alloc(uint32_t domid, uint64_t gfn);
/* The owner frees @mfn: back to the pool, or offlined when it was
 * offline-pending. */
void frames_free(uint64_t mfn);
/* SIMP_PAGE_OFFLINE: Xen's XEN_SYSCTL_page_offline_op on start .. end,
 * a status word each into @status (room for SIMP_PGOFF_MAX); Xen's
 * answer (src/page_offline.h). */
int frames_offline_op(uint32_t cmd, uint64_t start, uint64_t end,
		      uint32_t *status);
/* SIMP_M2P: the M2P entries of @n mfns; returns the table's size. */
uint64_t frames_m2p(const uint64_t *mfn, uint32_t n, uint64_t *gfn);
/* Whether @mfn is offline-pending or offlined. */
bool frames_marked(uint64_t mfn);

/* ------------------------------------------------------------ faults */

/* locked: each draws from the fault stream only when its rate is set. */
int faults_set(struct sim_guest *g, const struct simp_faults *f);
bool fault_hit(struct sim_guest *g, uint32_t pm);
uint32_t fault_rand(struct sim_guest *g);
/* locked: after a successful nominate (race access / race drop). */
void faults_after_nominate(struct sim_guest *g, uint64_t gfn);

/* ------------------------------------------------------------ server */

int server_run(const char *socket_path);
void server_request_stop(void);
/* --spin-us: how long (microseconds) a connection thread polls its socket
 * for the next request before it sleeps; 0: it sleeps at once. */
#define SERVER_SPIN_US_DEFAULT 50u
#define SERVER_SPIN_US_MAX 100000u
void server_set_spin_us(uint32_t us);
/* --parent-fd: stop when @fd reads end of file (the process that started
 * the simulator held the other end, and exited). -1: none. */
void server_set_parent_fd(int fd);

#endif
