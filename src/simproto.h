/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Wire protocol between a client (libxpage's sim backend, the sim control
 * API, tests) and xpage-simd, the simulated hypervisor.
 *
 * Transport: a UNIX SOCK_SEQPACKET socket. Every message is one packet: a
 * struct simp_hdr then `len` payload bytes; file descriptors travel with
 * SCM_RIGHTS. Each request gets exactly one reply with the same op and seq;
 * `status` is 0 on success (no op defines a positive one) and a negative
 * errno on failure (the errno Xen would give for the hypercall the op
 * mirrors).
 *
 * Hypercall-like ops act on the domain the connection attached to (one
 * connection, one domain, like a libxenctrl handle bound to a domid). One
 * request is one round trip is one "trap": there is no batch short-cut Xen
 * lacks. SIMP_MULTICALL mirrors Xen's multicall hypercall (one trap, each
 * entry doing the full per-operation work); SIMP_MAP/SIMP_UNMAP mirror one
 * privcmd mapping call for an array of gfns.
 *
 * Event channel: SIMP_ENABLE passes two eventfds, hypervisor->pager and
 * pager->hypervisor. Writing 1 to the second is the pager's notify.
 * Guest memory: SIMP_ATTACH passes the guest's memfd (RAM gfns, then the
 * special pages, the ring gfn first) and a bounce memfd of SIMP_BOUNCE_SLOTS
 * pages, the client's hypercall buffer for prep/load data.
 */
#ifndef XPAGE_SIMPROTO_H
#define XPAGE_SIMPROTO_H

#include <stddef.h>
#include <stdint.h>

#define SIMP_MAGIC 0x4d535058u   /* "XPSM" */
#define SIMP_PROTO_VERSION 1u
#define SIMP_MAX_PAYLOAD (64u * 1024u)
#define SIMP_MAX_FDS 4
#define SIMP_BOUNCE_SLOTS 1024u
#define SIMP_NO_BUFFER 0xffffffffu  /* prep without a buffer */
#define SIMP_NR_SPECIAL 1u          /* special pages after RAM: the ring */
#define SIMP_VCPU_ANY 0xffffffffu   /* SIMP_RELEASE: any vCPU that can run */

/* HVM params the simulator answers (Xen's numbering). */
#define SIMP_HVM_PARAM_PAGING_RING_PFN 27u

/* Paging sub-ops (XENMEM_paging_op_*). */
#define SIMP_PAGING_NOMINATE 0u
#define SIMP_PAGING_EVICT    1u
#define SIMP_PAGING_PREP     2u

/* p2m types (Xen's numbering), reported by SIMP_GFN_STATE. */
#define SIMP_P2M_RAM_RW         0u
#define SIMP_P2M_RAM_LOGDIRTY   2u
#define SIMP_P2M_RAM_PAGING_OUT 9u
#define SIMP_P2M_RAM_PAGED      10u
#define SIMP_P2M_RAM_PAGING_IN  11u
#define SIMP_P2M_INVALID        0xffu /* not in the physmap */

enum simp_op {
	/* session */
	SIMP_HELLO = 1,
	SIMP_ATTACH = 2,            /* {u32 domid} -> simp_dominfo, fds[2] */
	/* hypercalls, on the attached domain */
	SIMP_DOMAIN_INFO = 10,      /* -> simp_dominfo */
	SIMP_XEN_VERSION = 11,      /* -> simp_u32x2 {major, minor} */
	SIMP_VM_EVENT_VERSION = 12, /* -> simp_u32 or -ENOSYS */
	SIMP_PAGING_AGE = 13,       /* -> simp_u32 or -ENOSYS */
	SIMP_GET_PARAM = 14,        /* simp_u32 {param} -> simp_u64 */
	SIMP_POPULATE_PHYSMAP = 15, /* simp_u64 {gfn} */
	SIMP_DECREASE_RESERVATION = 16, /* simp_u64 {gfn} */
	SIMP_ENABLE = 17,           /* simp_u32 {declared age, 0 = none} -> simp_u32 {port}, fds[2] */
	SIMP_DISABLE = 18,
	SIMP_PAUSE = 19,
	SIMP_UNPAUSE = 20,
	SIMP_PAGING_OP = 21,        /* simp_paging_op -> status */
	SIMP_MULTICALL = 22,        /* simp_multicall -> simp_results */
	SIMP_MAP = 23,              /* simp_gfns (prot) -> simp_results */
	SIMP_UNMAP = 24,            /* simp_gfns -> simp_results */
	/* control (test API), any connection */
	SIMP_CREATE_GUEST = 40,     /* simp_guest -> simp_u32 {domid} */
	SIMP_DESTROY_GUEST = 41,    /* simp_u32 {domid} */
	SIMP_WORKLOAD = 42,         /* simp_workload */
	SIMP_WORKLOAD_STOP = 43,    /* simp_u32 {domid} */
	SIMP_FAULTS = 44,           /* simp_faults */
	SIMP_TOUCH = 45,            /* simp_touch */
	SIMP_RELEASE = 46,          /* simp_touch (gfn, domid) */
	SIMP_REPORT = 47,           /* simp_report_req -> simp_report */
	SIMP_PERSONALITIES = 48,    /* -> text, one name per line */
	SIMP_GFN_STATE = 49,        /* simp_touch (domid, gfn) -> simp_gfn_state */
	SIMP_VCPU_STATE = 50,       /* simp_touch (domid, vcpu) -> simp_vcpu_state */
	SIMP_SHUTDOWN = 51,         /* stop the simulator */
	/* hypercall, on the attached domain */
	SIMP_RUNSTATE_GFNS = 52,    /* -> simp_runstate */
	SIMP_STACK_GFNS = 53,       /* -> simp_stacks */
	SIMP_KCODE_GFNS = 54,       /* -> simp_range */
	SIMP_LOGDIRTY = 55,         /* simp_logdirty_req -> simp_logdirty */
	/* control (test API), any connection */
	SIMP_LOGDIRTY_HOLD = 56,    /* simp_u32x2 {domid, on} */
	/* host (machine frames), any connection */
	SIMP_PAGE_OFFLINE = 57,     /* simp_pgoff_req -> simp_pgoff */
	SIMP_M2P = 58,              /* simp_m2p_req -> simp_m2p */
};

struct simp_hdr {
	uint32_t magic;
	uint16_t op;
	uint16_t nfds;
	uint32_t seq;
	int32_t status;
	uint32_t len;
	uint32_t pad;
};

struct simp_u32 { uint32_t v; uint32_t pad; };
struct simp_u32x2 { uint32_t a, b; };
struct simp_u64 { uint64_t v; };

struct simp_dominfo {
	uint32_t domid;
	uint32_t vcpus;
	uint64_t nr_pages;      /* RAM gfns 0 .. nr_pages-1 */
	uint64_t memfd_pages;   /* size of the guest memfd in pages */
	uint64_t paged_pages;
	uint32_t hvm;
	uint32_t hap;
	uint32_t paused;        /* toolstack pause count */
	uint32_t crashed;
	uint32_t ring_enabled;
	uint32_t generation;    /* enum xpage_generation (for tests only) */
	char personality[32];
};

struct simp_paging_op {
	uint32_t op;            /* SIMP_PAGING_* */
	uint32_t bounce_slot;   /* PREP: slot in the bounce memfd, or SIMP_NO_BUFFER */
	uint64_t gfn;
};

struct simp_multicall {
	uint32_t n;
	uint32_t pad;
	struct simp_paging_op ops[];
};
#define SIMP_MULTICALL_MAX \
	((SIMP_MAX_PAYLOAD - sizeof(struct simp_multicall)) / sizeof(struct simp_paging_op))

struct simp_gfns {
	uint32_t n;
	uint32_t prot;          /* SIMP_MAP: PROT_READ / PROT_READ|PROT_WRITE */
	uint64_t gfns[];
};
#define SIMP_GFNS_MAX \
	((SIMP_MAX_PAYLOAD - sizeof(struct simp_gfns)) / sizeof(uint64_t))

struct simp_results {
	uint32_t n;
	int32_t rc[];
};

struct simp_guest {
	uint32_t domid;
	uint32_t vcpus;
	uint64_t pages;
	uint32_t flags;         /* XPAGE_SIM_GUEST_* */
	uint32_t pad;
	uint64_t seed;
	char personality[32];
};

struct simp_workload {
	uint32_t domid;
	uint32_t vcpus;
	uint32_t pattern;
	uint32_t write_pct;
	uint32_t hot_set_pct;
	uint32_t hot_pct;
	uint32_t think_us;
	uint32_t release_pm;
	uint64_t seed;
};

struct simp_faults {
	uint32_t domid;
	uint32_t nominate_ebusy_pm;
	uint64_t seed;
	uint32_t evict_ebusy_pm;
	uint32_t load_enomem_pm;
	uint32_t race_access_pm;
	uint32_t race_drop_pm;
	uint32_t event_delay_us;
	uint32_t ring_slots_held;
};

struct simp_touch {
	uint32_t domid;
	uint32_t vcpu;
	uint32_t flags;         /* XPAGE_SIM_TOUCH_* */
	uint32_t pad;
	uint64_t gfn;
};

struct simp_report_req {
	uint32_t domid;
	uint32_t flags;
	uint32_t stuck_ms;
	uint32_t pad;
};

struct simp_report {
	uint64_t pages, paged, nominated, accesses, faults, requests, responses,
		ignored, lost, corrupted, stuck;
	uint32_t crashed, paused_vcpus, ring_enabled, pause_count;
	char crash_reason[64];  /* why it crashed (NUL-terminated), or "" */
};

/*
 * SIMP_RUNSTATE_GFNS: for each vCPU, the gfns the hypervisor's scheduler
 * walks to write the vCPU's runstate area at every context switch, in
 * walk order: its top-level page table, the two tables of the guest's
 * direct map (the same for every vCPU), the page holding the area. What
 * the Xen backend finds by walking the guest's page tables
 * (docs/xen-hazards.md, section 1). per_vcpu is 0 where the hypervisor
 * does not write runstate areas through the guest's page tables.
 */
#define SIMP_RUNSTATE_WALK 4u
#define SIMP_RUNSTATE_MAX_VCPUS 128u
struct simp_runstate {
	uint32_t vcpus;         /* rows of gfn[] that are filled */
	uint32_t per_vcpu;      /* gfns in each row: 0 or SIMP_RUNSTATE_WALK */
	uint64_t gfn[SIMP_RUNSTATE_MAX_VCPUS][SIMP_RUNSTATE_WALK];
};

/*
 * SIMP_STACK_GFNS: for each vCPU, the gfns the hypervisor walks to copy a
 * hypercall's arguments from the vCPU's kernel stack, where the guest
 * writes them: its top-level page table (the runstate walk's), the three
 * tables of the kernel's stack area (the same for every vCPU), then the
 * SIMP_STACK_PAGES pages of the stack, lowest address first. What the Xen
 * backend finds from each vCPU's stack pointer (docs/xen-hazards.md,
 * section 3). per_vcpu is 0 where hypercalls do not copy through the
 * guest's page tables (a PV guest). A simulator older than the op answers
 * -ENOSYS: a client then knows the runstate walks only.
 */
#define SIMP_STACK_PAGES 4u
#define SIMP_STACK_WALK (4u + SIMP_STACK_PAGES)
struct simp_stacks {
	uint32_t vcpus;         /* rows of gfn[] that are filled */
	uint32_t per_vcpu;      /* gfns in each row: 0 or SIMP_STACK_WALK */
	uint64_t gfn[SIMP_RUNSTATE_MAX_VCPUS][SIMP_STACK_WALK];
};

/*
 * SIMP_KCODE_GFNS: the gfns the guest's kernel maps executable, its own
 * code, which a vCPU runs at every kernel entry: count gfns from first
 * (count 0: none known, a PV guest). What the Xen backend finds on its
 * walk of the kernel's page tables. A simulator older than the op
 * answers -ENOSYS.
 */
struct simp_range {
	uint64_t first;
	uint64_t count;
};

/*
 * SIMP_LOGDIRTY: Xen's log-dirty shadow ops (XEN_DOMCTL_SHADOW_OP_*
 * numbering) on the attached domain. ENABLE turns write tracking on
 * (-EINVAL when it is on already, as paging_log_dirty_enable() answers
 * while a live migration holds it); OFF turns it off (0 when it was
 * off); CLEAN and PEEK copy the bits of gfns first .. first + nr - 1
 * (first a multiple of 64, nr at most SIMP_LD_GFNS, clipped to the
 * guest), CLEAN resetting them; -EINVAL when tracking is off. Each reply
 * is a whole simp_logdirty: first and nr as done, dirty the bits set,
 * bits[] (past nr: zero). A guest larger than SIMP_LD_GFNS takes one op
 * per chunk.
 * SIMP_LOGDIRTY_HOLD {domid, on}: a test's stand-in for another user
 * (a migration): tracking on (or off) as if someone else enabled it.
 */
#define SIMP_LD_OFF    0u
#define SIMP_LD_ENABLE 2u   /* XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY */
#define SIMP_LD_CLEAN  11u
#define SIMP_LD_PEEK   12u
#define SIMP_LD_WORDS  4096u
#define SIMP_LD_GFNS   (SIMP_LD_WORDS * 64u)
struct simp_logdirty_req {
	uint32_t op;            /* SIMP_LD_* */
	uint32_t pad;
	uint64_t first;
	uint64_t nr;
};
struct simp_logdirty {
	uint64_t first;
	uint64_t nr;
	uint64_t dirty;
	uint64_t bits[SIMP_LD_WORDS];
};

struct simp_gfn_state {
	uint32_t p2mt;          /* SIMP_P2M_* */
	uint32_t refcount;      /* frame references besides the allocation */
	uint32_t has_frame;
	uint32_t pad;
	uint64_t mfn;           /* the machine frame, where has_frame */
};

/*
 * The simulated host's machine frames (sim/frames.c). Every guest gfn
 * with a frame has a machine frame number (mfn) of the host's, and the
 * host keeps a machine-to-phys table. Fixed frames first, then the pool
 * the guests' frames come from, which grows when it runs dry:
 */
#define SIMP_MFN_IO_FIRST      0u   /* MMIO (dom_io): not RAM */
#define SIMP_MFN_XEN_FIRST     16u  /* Xen's own image */
#define SIMP_MFN_XENHEAP_FIRST 48u  /* Xen's heap, in use */
#define SIMP_MFN_DOM0_FIRST    80u  /* dom0's */
#define SIMP_MFN_POOL_FIRST    128u /* free, then the guests' */

/*
 * SIMP_PAGE_OFFLINE: XEN_SYSCTL_page_offline_op (src/page_offline.h) on
 * mfns start .. end (at most SIMP_PGOFF_MAX): cmd XP_PGOFF_*. The reply
 * carries the hypervisor's answer in ret (0 or a negative errno: where
 * it stopped) and a status word for each of the n frames, as Xen's
 * words. A malformed request (end < start, too many, unknown cmd):
 * -EINVAL.
 */
#define SIMP_PGOFF_MAX 2048u
struct simp_pgoff_req {
	uint32_t cmd;
	uint32_t pad;
	uint64_t start;
	uint64_t end;
};
struct simp_pgoff {
	int32_t ret;
	uint32_t n;
	uint32_t status[SIMP_PGOFF_MAX];
};

/*
 * SIMP_M2P: the machine-to-phys entries of n mfns (the read-only M2P
 * mapping dom0 has on Xen): the gfn, or XP_M2P_INVALID for a free frame
 * and a frame past the table (max_mfn: the table's size).
 */
#define SIMP_M2P_MAX 2048u
struct simp_m2p_req {
	uint32_t n;
	uint32_t pad;
	uint64_t mfn[];
};
struct simp_m2p {
	uint64_t max_mfn;
	uint32_t n;
	uint32_t pad;
	uint64_t gfn[SIMP_M2P_MAX];
};

struct simp_vcpu_state {
	uint32_t vm_event_pause_count; /* paused for a page-in */
	uint32_t blocked;       /* paused for lack of ring space */
	uint32_t in_waitqueue;  /* waiting for a ring slot */
	uint32_t pad;
};

/*
 * Transport. simp_send/simp_recv move one packet: 0, or -EIO / -EPROTO
 * for a broken or malformed transport (the connection is then unusable).
 * Received fds are stored in @fds (up to *nfds, updated); extra fds are
 * closed. (The library's clients judge every reply with simp_exchange(),
 * below; tests and the bench that speak raw protocol use sim/simp_call.h.)
 */
int simp_send(int sock, uint16_t op, uint32_t seq, int32_t status,
	      const void *payload, uint32_t len, const int *fds, int nfds);
int simp_recv(int sock, struct simp_hdr *hdr, void *payload, uint32_t max,
	      int *fds, int *nfds);
/* Connect to a simulator socket; returns the fd or a negative errno. */
int simp_connect(const char *path);
/* A socket of the protocol's kind and the address of @path in @sa: the
 * fd, or a negative errno (-ENAMETOOLONG: the path does not fit). */
struct sockaddr_un;
int simp_socket(const char *path, struct sockaddr_un *sa);

/*
 * Judging replies (the library's clients: backend_sim.c, sim_api.c).
 * Nothing the simulator sends is trusted. A valid reply to a request:
 *   - is one readable packet (simp_recv: magic, `len` the payload's size,
 *     at most SIMP_MAX_PAYLOAD bytes) with the request's op and seq, and
 *     as many file descriptors as its header announces;
 *   - has status 0 or a negative errno (-1 .. -SIMP_MAX_ERRNO): no op
 *     succeeds with a positive status;
 *   - on failure (status < 0) carries no payload and no fds;
 *   - on success carries exactly the shape simp_reply_spec() gives for its
 *     op: no payload (SIMP_RSP_NONE), exactly `len` bytes (SIMP_RSP_FIXED),
 *     a struct simp_results (SIMP_RSP_RESULTS) whose n is the request's n
 *     (the first u32 of simp_multicall and simp_gfns), with exactly n
 *     results, each 0 or a negative errno, or text (SIMP_RSP_TEXT) with no
 *     NUL byte in it; and exactly `nfds` fds.
 * What a client relies on beyond the shape (a domain, a protocol version,
 * a gfn) it checks itself, after simp_exchange().
 */
#define SIMP_MAX_ERRNO 4095

enum simp_rsp_shape {
	SIMP_RSP_NONE,
	SIMP_RSP_FIXED,
	SIMP_RSP_RESULTS,
	SIMP_RSP_TEXT,
};

struct simp_reply_spec {
	const char *name;       /* "SIMP_ATTACH", ... */
	uint8_t shape;          /* enum simp_rsp_shape */
	uint8_t nfds;           /* fds with a successful reply */
	uint32_t len;           /* SIMP_RSP_FIXED: payload bytes */
};

/* The reply @op must have, or NULL for an op the protocol lacks. */
const struct simp_reply_spec *simp_reply_spec(uint16_t op);

/* Write a fault into @why (NULL: nowhere); returns -1. */
int simp_why(char *why, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Judge the reply @h (payload @rsp, @nfds fds received) to the request
 * @req with @op and @seq against @s. Returns 0, or -1 with the fault in
 * @why.
 */
int simp_check_reply(const struct simp_reply_spec *s, uint16_t op,
		     uint32_t seq, const void *req, const struct simp_hdr *h,
		     const void *rsp, int nfds, char *why, size_t sz);

/*
 * One judged round trip of the request @req (@len bytes) with @op and
 * @seq: the reply's header goes to @h, its payload to @rsp (room for
 * SIMP_MAX_PAYLOAD bytes, 8-byte aligned). An RSP_RESULTS op's @req must
 * hold its count (@len >= 4).
 * Returns 0 when the reply is valid (its status, 0 or a negative errno, is
 * h->status; with status 0 the op's fds are in @fds, room for its spec's
 * nfds); -EIO or -ECONNRESET when the connection failed, -EINVAL for an op
 * the protocol lacks, or -EPROTO when the reply is unreadable or
 * malformed, with the fault in @why (every fd that came with it closed).
 */
int simp_exchange(int sock, uint16_t op, uint32_t seq, const void *req,
		  uint32_t len, struct simp_hdr *h, void *rsp, int *fds,
		  char *why, size_t sz);

#endif
