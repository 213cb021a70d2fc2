/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backend for xpage-simd, the simulated hypervisor (protocol: simproto.h).
 *
 * Each operation is one round trip, as each hypercall is one trap on Xen;
 * a batch goes in one SIMP_MULTICALL when multicalls are in force, as Xen's
 * multicall hypercall would carry it. Foreign mappings: the simulator
 * checks and counts references for the whole array in one SIMP_MAP (one
 * privcmd call on Xen), then the pages of its guest memfd are mapped at
 * their places in one contiguous region.
 *
 * Nothing the simulator sends is trusted: each reply is judged against
 * what its op returns (simp_exchange() in simproto.c, then value_checks[]
 * here) before any byte of it is used. A malformed reply fails the
 * operation with -EPROTO and a log line naming the op and the fault, and
 * breaks the backend for good (see backend_broken()).
 */
#include "private.h"
#include "simproto.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE XPAGE_PAGE_SIZE

struct sim_region {
	void *addr;
	size_t n;
	uint64_t *gfns;   /* UINT64_MAX where not mapped */
	int prot;
};

struct xp_backend {
	int sock;
	int epfd;         /* what xpage_fd() is: evt_in and the socket */
	int memfd;
	int bouncefd;
	uint8_t *bounce;
	int evt_in;       /* hypervisor -> pager */
	int evt_out;      /* pager -> hypervisor */
	uint32_t port;
	uint64_t ring_gfn;
	void *ring;       /* mapping of the ring gfn */
	struct simp_dominfo di;   /* the last valid SIMP_ATTACH/DOMAIN_INFO */
	uint32_t domid;           /* attached domain */
	uint64_t memfd_pages;     /* pages of memfd (checked at attach) */
	uint32_t seq;             /* of the last request */
	bool broken;              /* a reply was malformed: send nothing more */
	bool dead;                /* the connection is gone: send nothing more */
	struct sim_region *regions;
	size_t nregions, cap;
	uint64_t *kcode;          /* the kernel's code, sim_kcode_gfns() */
	xp_backend_log_fn log;
	void *log_ctx;
	/* request/reply buffers (8-byte aligned for the structs below) */
	uint64_t req_buf[SIMP_MAX_PAYLOAD / 8];
	uint64_t rsp_buf[SIMP_MAX_PAYLOAD / 8];
};

#define REQ_G(be)  ((struct simp_gfns *)(void *)(be)->req_buf)
#define REQ_MC(be) ((struct simp_multicall *)(void *)(be)->req_buf)
#define RSP_R(be)  ((struct simp_results *)(void *)(be)->rsp_buf)

/* ------------------------------------------------------------------------ */
/* Replies: what a valid one is                                             */

/*
 * A valid reply to a request of this backend has the shape simproto.h
 * gives its op, judged by simp_exchange() against simp_reply_spec(): the
 * request's op and seq, status 0 or a negative errno (none of this
 * backend's ops succeeds with a positive status), no payload and no fds
 * with a failure, and on success the op's exact payload, result count
 * and results (each 0 or a negative errno), and fds. Where the backend
 * relies on a value it also passes the op's value check (value_checks[]:
 * protocol version, domain, guest memory size, ring gfn, gfns reported
 * mapped). Anything else is -EPROTO with a log line naming the op and the
 * fault.
 */

/* A value the backend relies on: 0, or -1 with the fault in @why. */
typedef int value_check_fn(struct xp_backend *be, const void *req,
			   const void *rsp, const int *fds, char *why,
			   size_t sz);

/* The guest memory an attach or domain info reports must fit the memfd
 * the backend maps gfns from (RAM, then the special pages). */
static int check_dominfo(const struct simp_dominfo *di, uint32_t domid,
			 uint64_t memfd_pages, char *why, size_t sz)
{
	if (di->domid != domid)
		return simp_why(why, sz, "domain %u, not the attached "
				"domain %u", di->domid, domid);
	if (memfd_pages < SIMP_NR_SPECIAL ||
	    di->nr_pages > memfd_pages - SIMP_NR_SPECIAL)
		return simp_why(why, sz, "%llu RAM pages do not fit a guest "
				"memory of %llu pages with %u special pages",
				(unsigned long long)di->nr_pages,
				(unsigned long long)memfd_pages,
				SIMP_NR_SPECIAL);
	return 0;
}

static int check_hello(struct xp_backend *be, const void *req,
		       const void *rsp, const int *fds, char *why, size_t sz)
{
	const struct simp_u32 *v = rsp;

	(void)be, (void)req, (void)fds;
	if (v->v != SIMP_PROTO_VERSION)
		return simp_why(why, sz, "protocol version %u, this library "
				"speaks %u", v->v, SIMP_PROTO_VERSION);
	return 0;
}

/* A file the backend maps must hold what it maps: a page past its end
 * would be SIGBUS, not an error. */
static int check_file(int fd, uint64_t pages, const char *what, char *why,
		      size_t sz)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return simp_why(why, sz, "the %s is not a memory file", what);
	if (pages > (uint64_t)INT64_MAX / PAGE ||
	    (uint64_t)st.st_size < pages * PAGE)
		return simp_why(why, sz, "the %s holds %lld bytes, less than "
				"its %llu pages", what, (long long)st.st_size,
				(unsigned long long)pages);
	return 0;
}

static int check_attach(struct xp_backend *be, const void *req,
			const void *rsp, const int *fds, char *why, size_t sz)
{
	const struct simp_dominfo *di = rsp;
	const struct simp_u32 *att = req;

	(void)be;
	if (check_dominfo(di, att->v, di->memfd_pages, why, sz) < 0 ||
	    check_file(fds[0], di->memfd_pages, "guest memory", why, sz) < 0 ||
	    check_file(fds[1], SIMP_BOUNCE_SLOTS, "bounce buffer", why, sz) < 0)
		return -1;
	return 0;
}

static int check_domain_info(struct xp_backend *be, const void *req,
			     const void *rsp, const int *fds, char *why,
			     size_t sz)
{
	(void)req, (void)fds;
	return check_dominfo(rsp, be->domid, be->memfd_pages, why, sz);
}

static int check_param(struct xp_backend *be, const void *req,
		       const void *rsp, const int *fds, char *why, size_t sz)
{
	const struct simp_u32 *p = req;
	const struct simp_u64 *v = rsp;

	(void)fds;
	/* The ring is the first special page: after RAM, in the memfd. */
	if (p->v == SIMP_HVM_PARAM_PAGING_RING_PFN &&
	    (v->v < be->di.nr_pages || v->v >= be->memfd_pages))
		return simp_why(why, sz, "ring gfn 0x%llx is not a special "
				"page (RAM 0 .. 0x%llx, guest memory 0x%llx "
				"pages)", (unsigned long long)v->v,
				(unsigned long long)be->di.nr_pages,
				(unsigned long long)be->memfd_pages);
	return 0;
}

static int check_map(struct xp_backend *be, const void *req, const void *rsp,
		     const int *fds, char *why, size_t sz)
{
	const struct simp_gfns *q = req;
	const struct simp_results *r = rsp;

	(void)fds;
	for (uint32_t i = 0; i < r->n; i++)
		if (r->rc[i] == 0 && q->gfns[i] >= be->memfd_pages)
			return simp_why(why, sz, "gfn 0x%llx reported mapped, "
					"past the guest memory (0x%llx pages)",
					(unsigned long long)q->gfns[i],
					(unsigned long long)be->memfd_pages);
	return 0;
}

/* A reply of walks (SIMP_RUNSTATE_GFNS, SIMP_STACK_GFNS): @vcpus rows of
 * @per gfns, rows @width gfns apart in @gfn. */
struct walks {
	const char *what;
	uint32_t vcpus, per, width;
	const uint64_t *gfn;
};

static struct walks runstate_walks(const void *rsp)
{
	const struct simp_runstate *rs = rsp;

	return (struct walks){ "runstate", rs->vcpus, rs->per_vcpu,
			       SIMP_RUNSTATE_WALK, &rs->gfn[0][0] };
}

static struct walks stack_walks(const void *rsp)
{
	const struct simp_stacks *st = rsp;

	return (struct walks){ "stack", st->vcpus, st->per_vcpu,
			       SIMP_STACK_WALK, &st->gfn[0][0] };
}

/* As many rows and columns as the reply has room for, each gfn in the
 * guest. */
static int check_walks(struct xp_backend *be, const struct walks *w,
		       char *why, size_t sz)
{
	if (w->vcpus > SIMP_RUNSTATE_MAX_VCPUS || w->per > w->width)
		return simp_why(why, sz, "%u vCPUs of %u gfns each, at most "
				"%u of %u", w->vcpus, w->per,
				SIMP_RUNSTATE_MAX_VCPUS, w->width);
	for (uint32_t v = 0; v < w->vcpus; v++) {
		for (uint32_t i = 0; i < w->per; i++) {
			uint64_t g = w->gfn[(size_t)v * w->width + i];

			if (g >= be->memfd_pages)
				return simp_why(why, sz, "%s gfn 0x%llx of "
						"vCPU %u is past the guest "
						"memory (0x%llx pages)",
						w->what, (unsigned long long)g,
						v, (unsigned long long)
						be->memfd_pages);
		}
	}
	return 0;
}

static int check_runstate(struct xp_backend *be, const void *req,
			  const void *rsp, const int *fds, char *why,
			  size_t sz)
{
	struct walks w = runstate_walks(rsp);

	(void)req, (void)fds;
	return check_walks(be, &w, why, sz);
}

static int check_stacks(struct xp_backend *be, const void *req,
			const void *rsp, const int *fds, char *why, size_t sz)
{
	struct walks w = stack_walks(rsp);

	(void)req, (void)fds;
	return check_walks(be, &w, why, sz);
}

/* The kernel's code (SIMP_KCODE_GFNS): a run inside the guest, of at
 * most XP_SIM_KCODE_MAX gfns. */
#define XP_SIM_KCODE_MAX 65536u
static int check_kcode(struct xp_backend *be, const void *req,
		       const void *rsp, const int *fds, char *why, size_t sz)
{
	const struct simp_range *r = rsp;

	(void)req, (void)fds;
	if (r->count > XP_SIM_KCODE_MAX || r->first > be->memfd_pages ||
	    r->count > be->memfd_pages - r->first)
		return simp_why(why, sz, "kernel code 0x%llx + %llu pages: "
				"past the guest memory (0x%llx pages) or more "
				"than %u", (unsigned long long)r->first,
				(unsigned long long)r->count,
				(unsigned long long)be->memfd_pages,
				XP_SIM_KCODE_MAX);
	return 0;
}

/* A log-dirty chunk: the one asked for, no bit past its end, its count
 * the bits it holds. */
static int check_logdirty(struct xp_backend *be, const void *req,
			  const void *rsp, const int *fds, char *why, size_t sz)
{
	const struct simp_logdirty_req *q = req;
	const struct simp_logdirty *r = rsp;
	uint64_t n = 0;

	(void)be, (void)fds;
	if (q->op != SIMP_LD_CLEAN && q->op != SIMP_LD_PEEK)
		return 0;
	if (r->first != q->first || r->nr > q->nr || r->nr > SIMP_LD_GFNS)
		return simp_why(why, sz, "log-dirty chunk %llu + %llu for "
				"%llu + %llu", (unsigned long long)r->first,
				(unsigned long long)r->nr,
				(unsigned long long)q->first,
				(unsigned long long)q->nr);
	for (uint64_t w = 0; w < SIMP_LD_WORDS; w++) {
		uint64_t m = r->bits[w];

		if (w * 64 >= r->nr ? m != 0 : r->nr - w * 64 < 64 &&
		    (m >> (r->nr - w * 64)))
			return simp_why(why, sz, "log-dirty bit past gfn %llu",
					(unsigned long long)(r->first + r->nr));
		n += (uint64_t)__builtin_popcountll(m);
	}
	if (n != r->dirty)
		return simp_why(why, sz, "log-dirty count %llu for %llu bits",
				(unsigned long long)r->dirty,
				(unsigned long long)n);
	return 0;
}

/* The ops whose reply carries a value the backend relies on. */
static value_check_fn *const value_checks[] = {
	[SIMP_HELLO] = check_hello,
	[SIMP_ATTACH] = check_attach,
	[SIMP_DOMAIN_INFO] = check_domain_info,
	[SIMP_GET_PARAM] = check_param,
	[SIMP_MAP] = check_map,
	[SIMP_RUNSTATE_GFNS] = check_runstate,
	[SIMP_STACK_GFNS] = check_stacks,
	[SIMP_KCODE_GFNS] = check_kcode,
	[SIMP_LOGDIRTY] = check_logdirty,
};

/*
 * After a malformed reply the connection may be out of step, and a
 * simulator that sent one cannot be believed about the guest's pages: like
 * the core with a corrupt ring, the backend stops. Every later operation
 * fails with -EPROTO without being sent (loads too: a load the simulator
 * falsely reported done would let the pager drop the only copy of a
 * page), and ack() too, so xpage_dispatch() stops with -EPROTO.
 */
static int backend_broken(struct xp_backend *be, const char *op,
			  const char *why)
{
	be->broken = true;
	be->log(be->log_ctx, XPAGE_LOG_ERROR, "simulator: malformed reply to "
		"%s: %s; the simulator is not trusted any more (every further "
		"operation fails with EPROTO)", op, why);
	return -EPROTO;
}

/*
 * The simulator closed its end (it stopped or died): nothing will answer
 * again, and the guest it held is gone with it. Every later operation
 * fails with -EIO at once, and xpage_fd() polls readable (the socket is in
 * its epoll set) so that no wait outlasts the news.
 */
static int connection_lost(struct xp_backend *be)
{
	if (!be->dead)
		be->log(be->log_ctx, XPAGE_LOG_ERROR, "simulator: the connection "
			"is closed (the simulator stopped or died); every "
			"further operation fails with EIO");
	be->dead = true;
	return -EIO;
}

/* Nothing comes on the socket but replies, each read by ask(): if it
 * polls readable between calls, the simulator hung up. */
static bool hung_up(struct xp_backend *be)
{
	struct pollfd p = { .fd = be->sock, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) > 0 && p.revents;
}

/*
 * One round trip. @out: the payload of a SIMP_RSP_FIXED op (@outlen must
 * be its size) or NULL; SIMP_RSP_RESULTS replies stay in be->rsp_buf
 * (RSP_R). @fds: room for the op's fds, filled on success only. Returns
 * the reply's status (0 or the simulator's negative errno), -EIO or
 * -ECONNRESET when the connection failed, -EPROTO when the reply is
 * malformed or the backend is broken.
 */
static int ask(struct xp_backend *be, uint16_t op, const void *req,
	       uint32_t len, void *out, size_t outlen, int *fds)
{
	const struct simp_reply_spec *s = simp_reply_spec(op);
	value_check_fn *check = op < sizeof(value_checks) /
				sizeof(value_checks[0]) ? value_checks[op] : NULL;
	struct simp_hdr h;
	char why[192];
	int rc;

	if (!s || (out && (s->shape != SIMP_RSP_FIXED || outlen != s->len)))
		return -EINVAL; /* a caller's bug, not the simulator's */
	if (be->broken) {
		be->log(be->log_ctx, XPAGE_LOG_DEBUG, "simulator: %s not sent: "
			"an earlier reply was malformed", s->name);
		return -EPROTO;
	}
	if (be->dead)
		return -EIO;
	rc = simp_exchange(be->sock, op, ++be->seq, req, len, &h, be->rsp_buf,
			   fds, why, sizeof(why));
	if (rc == -EPROTO)
		return backend_broken(be, s->name, why);
	if (rc == -EIO || rc == -ECONNRESET)
		return connection_lost(be);
	if (rc < 0)
		return rc;
	if (h.status < 0)
		return h.status;
	if (check && check(be, req, be->rsp_buf, fds, why, sizeof(why)) < 0) {
		for (int i = 0; i < s->nfds; i++)
			close(fds[i]);
		return backend_broken(be, s->name, why);
	}
	if (out)
		memcpy(out, be->rsp_buf, s->len);
	return 0;
}

/* Close those of @n descriptors that are open (>= 0). */
static void close_open(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void sim_close(struct xp_backend *be)
{
	if (!be)
		return;
	for (size_t i = 0; i < be->nregions; i++) {
		munmap(be->regions[i].addr, be->regions[i].n * PAGE);
		free(be->regions[i].gfns);
	}
	free(be->regions);
	free(be->kcode);
	if (be->bounce)
		munmap(be->bounce, (size_t)SIMP_BOUNCE_SLOTS * PAGE);
	close_open((const int[]){ be->evt_in, be->evt_out, be->memfd,
				  be->bouncefd, be->epfd, be->sock }, 6);
	free(be);
}

/* Add @fd to the set xpage_fd() polls (created on first use). */
static int watch(struct xp_backend *be, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (be->epfd < 0)
		be->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (be->epfd < 0 || epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

static int sim_open(struct xp_backend **out, uint32_t domid, const char *arg,
		    xp_backend_log_fn log, void *log_ctx)
{
	struct xp_backend *be = calloc(1, sizeof(*be));
	struct simp_u32 hello = { .v = SIMP_PROTO_VERSION }, att = { .v = domid };
	struct simp_u32 hrsp;
	int fds[2], rc;

	if (!be)
		return -ENOMEM;
	be->memfd = be->bouncefd = be->evt_in = be->evt_out = be->epfd = -1;
	be->log = log;
	be->log_ctx = log_ctx;
	be->sock = simp_connect(arg);
	if (be->sock < 0) {
		rc = be->sock;
		log(log_ctx, XPAGE_LOG_ERROR, "cannot reach the simulator at %s: %s",
		    arg, xpage_strerror(rc));
		free(be);
		return rc == -ECONNREFUSED || rc == -ENOENT ? -ENOENT : rc;
	}
	rc = watch(be, be->sock, EPOLLIN | EPOLLRDHUP);
	if (rc < 0)
		goto fail;
	rc = ask(be, SIMP_HELLO, &hello, sizeof(hello), &hrsp, sizeof(hrsp),
		 NULL);
	if (rc < 0)
		goto fail;
	rc = ask(be, SIMP_ATTACH, &att, sizeof(att), &be->di, sizeof(be->di),
		 fds);
	if (rc < 0)
		goto fail;
	be->domid = domid;
	be->memfd_pages = be->di.memfd_pages;
	be->memfd = fds[0];
	be->bouncefd = fds[1];
	be->bounce = mmap(NULL, (size_t)SIMP_BOUNCE_SLOTS * PAGE,
			  PROT_READ | PROT_WRITE, MAP_SHARED, be->bouncefd, 0);
	if (be->bounce == MAP_FAILED) {
		be->bounce = NULL;
		rc = -errno;
		goto fail;
	}
	*out = be;
	return 0;
fail:
	sim_close(be);
	return rc;
}

static int sim_domain_info(struct xp_backend *be, struct xp_dominfo *info)
{
	int rc = ask(be, SIMP_DOMAIN_INFO, NULL, 0, &be->di, sizeof(be->di),
		     NULL);

	if (rc < 0)
		return rc;
	info->domid = be->di.domid;
	info->vcpus = be->di.vcpus;
	/* max_gpfn + 1, as Xen reports it: RAM, any hole, the special pages */
	info->nr_gfns = be->memfd_pages;
	info->hvm = be->di.hvm;
	info->dying = be->di.crashed;
	return 0;
}

/* The simulator's process and the domain: a simulator holds its own
 * guests, and another one may have a domain of the same number. */
static int sim_domain_key(struct xp_backend *be, char *buf, size_t len)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);

	if (getsockopt(be->sock, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
		return -errno;
	snprintf(buf, len, "sim:%ld:%u", (long)cr.pid, be->domid);
	return 0;
}

/* RAM is gfns 0 .. nr_pages - 1 in every layout the simulator has (the
 * special pages follow it, right after or past a hole). */
static int sim_ram_ranges(struct xp_backend *be, struct xpage_gfn_range *r,
			  size_t max)
{
	if (!be->di.nr_pages)
		return 0;
	if (max)
		r[0] = (struct xpage_gfn_range){ .first = 0,
						 .count = be->di.nr_pages };
	return 1;
}

static int sim_xen_version(struct xp_backend *be, uint32_t *major,
			   uint32_t *minor)
{
	struct simp_u32x2 v;
	int rc = ask(be, SIMP_XEN_VERSION, NULL, 0, &v, sizeof(v), NULL);

	if (rc < 0)
		return rc;
	*major = v.a;
	*minor = v.b;
	return 0;
}

static int sim_u32_query(struct xp_backend *be, uint16_t op, uint32_t *out)
{
	struct simp_u32 v;
	int rc = ask(be, op, NULL, 0, &v, sizeof(v), NULL);

	if (rc < 0)
		return rc;
	*out = v.v;
	return 0;
}

static int sim_vm_event_version(struct xp_backend *be, uint32_t *version)
{
	return sim_u32_query(be, SIMP_VM_EVENT_VERSION, version);
}

static int sim_paging_age(struct xp_backend *be, uint32_t *age)
{
	return sim_u32_query(be, SIMP_PAGING_AGE, age);
}

static int sim_can_multicall(struct xp_backend *be)
{
	(void)be;
	return 1;
}

/* ------------------------------------------------------------------------ */

static int region_track(struct xp_backend *be, void *addr, size_t n,
			const uint64_t *gfns, const int *err, int prot)
{
	struct sim_region *r;

	if (be->nregions == be->cap) {
		size_t cap = be->cap ? be->cap * 2 : 8;

		r = realloc(be->regions, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		be->regions = r;
		be->cap = cap;
	}
	r = &be->regions[be->nregions];
	r->gfns = malloc(n * sizeof(*r->gfns));
	if (!r->gfns)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		r->gfns[i] = err[i] == 0 ? gfns[i] : UINT64_MAX;
	r->addr = addr;
	r->n = n;
	r->prot = prot;
	be->nregions++;
	return 0;
}

/* Release references the simulator counted for @n gfns. */
static int unmap_refs(struct xp_backend *be, const uint64_t *gfns, size_t n)
{
	size_t done = 0;
	int rc = 0;

	while (done < n) {
		size_t k = 0;

		while (done < n && k < SIMP_GFNS_MAX) {
			if (gfns[done] != UINT64_MAX)
				REQ_G(be)->gfns[k++] = gfns[done];
			done++;
		}
		if (!k)
			break;
		REQ_G(be)->n = (uint32_t)k;
		REQ_G(be)->prot = 0;
		int r = ask(be, SIMP_UNMAP, REQ_G(be),
			    (uint32_t)(sizeof(struct simp_gfns) + k * sizeof(uint64_t)),
			    NULL, 0, NULL);
		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

/* Undo the references counted for the first @n gfns of a failed map. */
static void release_counted(struct xp_backend *be, const uint64_t *gfns,
			    const int *err, size_t n)
{
	uint64_t *g = malloc(n * sizeof(*g) + 1);

	if (!g)
		return;
	for (size_t i = 0; i < n; i++)
		g[i] = err[i] == 0 ? gfns[i] : UINT64_MAX;
	unmap_refs(be, g, n);
	free(g);
}

/* SIMP_MAP of @n gfns in as few messages as fit: the simulator checks and
 * counts a reference on each; err[i] gets its answer (holes, XP_GFN_NONE,
 * are not asked for: -EINVAL). 0, or a negative errno with no reference
 * left counted. */
static int count_refs(struct xp_backend *be, const uint64_t *gfns, size_t n,
		      int prot, int *err)
{
	for (size_t done = 0; done < n;) {
		size_t from = done, k = 0;
		int rc;

		for (; done < n && k < SIMP_GFNS_MAX; done++) {
			err[done] = -EINVAL;
			if (gfns[done] != XP_GFN_NONE)
				REQ_G(be)->gfns[k++] = gfns[done];
		}
		if (!k)
			continue;
		REQ_G(be)->n = (uint32_t)k;
		REQ_G(be)->prot = (uint32_t)prot;
		rc = ask(be, SIMP_MAP, REQ_G(be),
			 (uint32_t)(sizeof(struct simp_gfns) + k * sizeof(uint64_t)),
			 NULL, 0, NULL);
		if (rc < 0) {
			release_counted(be, gfns, err, from);
			return rc;
		}
		/* (ask() checked: k results, each 0 or -errno) */
		for (size_t i = from, r = 0; i < done; i++)
			if (gfns[i] != XP_GFN_NONE)
				err[i] = RSP_R(be)->rc[r++];
	}
	return 0;
}

static void *sim_map(struct xp_backend *be, const uint64_t *gfns, size_t n,
		     int prot, int *err)
{
	uint8_t *base;
	int rc;

	if (!n || n > (size_t)SIZE_MAX / PAGE) {
		errno = EINVAL;
		return NULL;
	}
	/* Reserve the region first: one address range for the batch. */
	base = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	rc = count_refs(be, gfns, n, prot, err);
	if (rc < 0) {
		munmap(base, n * PAGE);
		errno = -rc;
		return NULL;
	}
	/* One mmap per run of consecutive gfns (a pager's batch is mostly
	 * one run), with the page tables filled now: privcmd's mmapbatch
	 * writes every PTE in the mapping call on Xen, so the pager's first
	 * read of each page does not fault there either. */
	for (size_t i = 0, j; i < n; i = j) {
		j = i + 1;
		if (err[i])
			continue;
		while (j < n && !err[j] && gfns[j] == gfns[j - 1] + 1)
			j++;
		if (mmap(base + i * PAGE, (j - i) * PAGE, prot,
			 MAP_SHARED | MAP_FIXED | MAP_POPULATE, be->memfd,
			 (off_t)(gfns[i] * PAGE)) == MAP_FAILED) {
			rc = -errno;
			for (size_t k = i; k < j; k++)
				err[k] = rc;
		}
	}
	if (region_track(be, base, n, gfns, err, prot) < 0) {
		release_counted(be, gfns, err, n);
		munmap(base, n * PAGE);
		errno = ENOMEM;
		return NULL;
	}
	return base;
}

static int sim_unmap(struct xp_backend *be, void *addr, size_t n)
{
	for (size_t i = 0; i < be->nregions; i++) {
		struct sim_region *r = &be->regions[i];
		int rc;

		if (r->addr != addr)
			continue;
		if (r->n != n)
			return -EINVAL;
		munmap(r->addr, r->n * PAGE);
		rc = unmap_refs(be, r->gfns, r->n);
		free(r->gfns);
		*r = be->regions[--be->nregions];
		return rc;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------------ */

static void drop_ring(struct xp_backend *be)
{
	if (be->ring) {
		/* The ring gfn is out of the physmap: only the local mapping
		 * goes (the simulator forgets the reference with the ring). */
		sim_unmap(be, be->ring, 1);
		be->ring = NULL;
	}
	if (be->evt_in >= 0) {
		epoll_ctl(be->epfd, EPOLL_CTL_DEL, be->evt_in, NULL);
		close(be->evt_in);
	}
	if (be->evt_out >= 0)
		close(be->evt_out);
	be->evt_in = be->evt_out = -1;
}

/* The event channel SIMP_ENABLE passed: non-blocking (ack() reads it
 * without polling first) and in the set xpage_fd() polls. */
static int take_evtchn(struct xp_backend *be, const int fds[2])
{
	int fl;

	be->evt_in = fds[0];
	be->evt_out = fds[1];
	fl = fcntl(be->evt_in, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(be->evt_in, F_SETFL, fl | O_NONBLOCK);
	return watch(be, be->evt_in, EPOLLIN);
}

static int sim_enable(struct xp_backend *be, uint32_t age, void **ring)
{
	struct simp_u32 p = { .v = SIMP_HVM_PARAM_PAGING_RING_PFN }, a = { .v = age };
	struct simp_u64 v;
	struct simp_u32 port;
	int fds[2], err, rc;

	rc = ask(be, SIMP_GET_PARAM, &p, sizeof(p), &v, sizeof(v), NULL);
	if (rc < 0)
		return rc;
	be->ring_gfn = v.v;
	be->ring = sim_map(be, &be->ring_gfn, 1, PROT_READ | PROT_WRITE, &err);
	if (be->ring && err) {
		/* Not in the physmap (a previous pager removed it): put a
		 * frame there and map again. */
		sim_unmap(be, be->ring, 1);
		be->ring = NULL;
		rc = ask(be, SIMP_POPULATE_PHYSMAP, &v, sizeof(v), NULL, 0,
			 NULL);
		if (rc < 0)
			return rc;
		be->ring = sim_map(be, &be->ring_gfn, 1, PROT_READ | PROT_WRITE,
				   &err);
		if (be->ring && err) {
			sim_unmap(be, be->ring, 1);
			be->ring = NULL;
			return err;
		}
	}
	if (!be->ring)
		return -errno;
	rc = ask(be, SIMP_ENABLE, &a, sizeof(a), &port, sizeof(port), fds);
	if (rc < 0) {
		drop_ring(be);
		return rc;
	}
	rc = take_evtchn(be, fds);
	if (rc < 0) {
		ask(be, SIMP_DISABLE, NULL, 0, NULL, 0, NULL);
		drop_ring(be);
		return rc;
	}
	be->port = port.v;
	/* The guest must never be able to write the ring. */
	rc = ask(be, SIMP_DECREASE_RESERVATION, &v, sizeof(v), NULL, 0, NULL);
	if (rc < 0) {
		be->log(be->log_ctx, XPAGE_LOG_ERROR,
			"cannot remove the ring gfn 0x%llx from the guest "
			"physmap: %s", (unsigned long long)v.v, xpage_strerror(rc));
		ask(be, SIMP_DISABLE, NULL, 0, NULL, 0, NULL);
		drop_ring(be);
		return rc;
	}
	*ring = be->ring;
	return 0;
}

static int sim_disable(struct xp_backend *be)
{
	int rc = ask(be, SIMP_DISABLE, NULL, 0, NULL, 0, NULL);

	/* A refused disable keeps the ring in service: the caller may drain
	 * and try again. */
	if (rc == 0 || rc == -EIO || rc == -EPROTO || rc == -ECONNRESET)
		drop_ring(be);
	return rc;
}

static void sim_forget(struct xp_backend *be)
{
	drop_ring(be);
}

static int sim_pause(struct xp_backend *be)
{
	return ask(be, SIMP_PAUSE, NULL, 0, NULL, 0, NULL);
}

static int sim_unpause(struct xp_backend *be)
{
	return ask(be, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL);
}

/* A batch that could not be issued: no op keeps a stale rc (0 would read
 * as done), and the error says why (-EPROTO: a malformed reply, -EIO: the
 * connection failed). */
static int ops_failed(struct xp_backend *be, struct xp_paging_op *ops,
		      size_t from, size_t n, int rc)
{
	if (be->broken)
		rc = -EPROTO;
	else if (rc == -ECONNRESET)
		rc = -EIO;
	for (size_t i = from; i < n; i++)
		ops[i].rc = rc;
	return rc;
}

static int sim_paging_ops(struct xp_backend *be, struct xp_paging_op *ops,
			  size_t n)
{
	size_t done = 0;
	int traps = 0, rc;

	if (n == 1) {
		struct simp_paging_op o = { .op = ops[0].op, .gfn = ops[0].gfn,
					    .bounce_slot = SIMP_NO_BUFFER };

		if (ops[0].op == XP_PAGING_PREP && ops[0].buf) {
			memcpy(be->bounce, ops[0].buf, PAGE);
			o.bounce_slot = 0;
		}
		rc = ask(be, SIMP_PAGING_OP, &o, sizeof(o), NULL, 0, NULL);
		if (be->broken || rc == -EIO || rc == -ECONNRESET)
			return ops_failed(be, ops, 0, 1, -EIO);
		ops[0].rc = rc;
		return 1;
	}
	while (done < n) {
		size_t k = n - done;
		uint32_t slot = 0;

		if (k > SIMP_MULTICALL_MAX)
			k = SIMP_MULTICALL_MAX;
		for (size_t i = 0; i < k; i++) {
			struct xp_paging_op *op = &ops[done + i];
			struct simp_paging_op *m = &REQ_MC(be)->ops[i];

			if (op->op == XP_PAGING_PREP && op->buf) {
				if (slot == SIMP_BOUNCE_SLOTS) {
					k = i;
					break;
				}
				memcpy(be->bounce + (size_t)slot * PAGE, op->buf, PAGE);
				m->bounce_slot = slot++;
			} else {
				m->bounce_slot = SIMP_NO_BUFFER;
			}
			m->op = op->op;
			m->gfn = op->gfn;
		}
		REQ_MC(be)->n = (uint32_t)k;
		rc = ask(be, SIMP_MULTICALL, REQ_MC(be),
			 (uint32_t)(sizeof(struct simp_multicall) +
			 k * sizeof(struct simp_paging_op)),
			 NULL, 0, NULL);
		if (rc < 0)
			return ops_failed(be, ops, done, n, rc);
		/* (ask() checked: k results, each 0 or -errno) */
		for (size_t i = 0; i < k; i++)
			ops[done + i].rc = RSP_R(be)->rc[i];
		done += k;
		traps++;
	}
	return traps;
}

/* Add the gfns of @w to @gfns (@n of @cap used; the core drops the
 * repeats, tables shared by vCPUs). */
static void add_walks(const struct walks *w, uint64_t *gfns, size_t cap,
		      size_t *n)
{
	for (uint32_t v = 0; v < w->vcpus; v++)
		for (uint32_t i = 0; i < w->per && *n < cap; i++)
			gfns[(*n)++] = w->gfn[(size_t)v * w->width + i];
}

/* The guest kernel's code (SIMP_KCODE_GFNS), as a sorted list in
 * be->kcode; -EOPNOTSUPP from a simulator without the op. The simulated
 * guest runs no processes of its own: no user code. */
static int sim_code_gfns(struct xp_backend *be, unsigned which,
			 const uint64_t **gfns)
{
	const struct simp_range *r = (const void *)be->rsp_buf;
	uint64_t *k;
	int rc;

	if (which == XP_CODE_USER)
		return 0;
	rc = ask(be, SIMP_KCODE_GFNS, NULL, 0, NULL, 0, NULL);

	if (rc == -ENOSYS)
		return -EOPNOTSUPP;
	if (rc < 0)
		return rc;
	k = r->count ? realloc(be->kcode, r->count * sizeof(*k)) : be->kcode;
	if (r->count && !k)
		return -ENOMEM;
	be->kcode = k;
	for (uint64_t i = 0; i < r->count; i++)
		k[i] = r->first + i;
	*gfns = k;
	return (int)r->count;
}

/* The gfns the simulated hypervisor walks to itself: from its
 * scheduler to each vCPU's runstate area (SIMP_RUNSTATE_GFNS) and, to
 * copy hypercall arguments, to each vCPU's kernel stack
 * (SIMP_STACK_GFNS). A simulator without either op cannot tell:
 * -EOPNOTSUPP; one without the second gives the first. */
static int sim_hv_gfns(struct xp_backend *be, uint64_t *gfns, size_t cap)
{
	static const uint16_t ops[] = { SIMP_RUNSTATE_GFNS, SIMP_STACK_GFNS };
	size_t n = 0, lacking = 0;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int rc = ask(be, ops[i], NULL, 0, NULL, 0, NULL);
		struct walks w;

		if (rc == -ENOSYS) {
			lacking++;
			continue;
		}
		if (rc < 0)
			return rc;
		w = ops[i] == SIMP_STACK_GFNS ? stack_walks(be->rsp_buf)
					      : runstate_walks(be->rsp_buf);
		add_walks(&w, gfns, cap, &n);
	}
	return lacking == sizeof(ops) / sizeof(ops[0]) ? -EOPNOTSUPP : (int)n;
}

static int sim_evtchn_fd(struct xp_backend *be)
{
	return be->evt_in >= 0 ? be->epfd : -ESHUTDOWN;
}

static int sim_notify(struct xp_backend *be)
{
	uint64_t one = 1;

	if (be->evt_out < 0)
		return -ESHUTDOWN;
	if (write(be->evt_out, &one, sizeof(one)) != sizeof(one))
		return -EIO;
	return 0;
}

static int sim_ack(struct xp_backend *be)
{
	uint64_t v;

	if (be->evt_in < 0)
		return -ESHUTDOWN;
	if (be->broken)
		return -EPROTO; /* stop xpage_dispatch (backend_broken()) */
	if (be->dead || hung_up(be))
		return connection_lost(be);
	/* Non-blocking eventfd: one read consumes a pending notification
	 * and answers EAGAIN when there is none (no poll first). */
	if (read(be->evt_in, &v, sizeof(v)) < 0 && errno != EAGAIN &&
	    errno != EINTR)
		return -EIO;
	return 0;
}

static int sim_connection(struct xp_backend *be)
{
	return be->dead ? -EIO : 0;
}

/* Log-dirty mode (SIMP_LOGDIRTY), one chunk of SIMP_LD_GFNS gfns a
 * round trip; -EOPNOTSUPP from a simulator without the op. */
static int sim_logdirty(struct xp_backend *be, unsigned op, uint64_t *bits,
			uint64_t nr, uint64_t *dirty)
{
	const struct simp_logdirty *r = (const void *)be->rsp_buf;
	struct simp_logdirty_req q = { .op = op };
	int rc = 0;

	if (dirty)
		*dirty = 0;
	do {
		q.nr = nr - q.first < SIMP_LD_GFNS ? nr - q.first : SIMP_LD_GFNS;
		rc = ask(be, SIMP_LOGDIRTY, &q, sizeof(q), NULL, 0, NULL);
		if (rc < 0 || (op != XP_LD_CLEAN && op != XP_LD_PEEK))
			break;
		memcpy(bits + q.first / 64, r->bits, (q.nr + 63) / 64 * 8);
		*dirty += r->dirty;
		q.first += q.nr;
	} while (q.first < nr);
	return rc == -ENOSYS ? -EOPNOTSUPP : rc;
}

const struct xp_backend_ops xp_backend_sim = {
	.name = "sim", .open = sim_open, .close = sim_close,
	.domain_info = sim_domain_info, .domain_key = sim_domain_key,
	.ram_ranges = sim_ram_ranges, .xen_version = sim_xen_version,
	.vm_event_version = sim_vm_event_version, .paging_age = sim_paging_age,
	.can_multicall = sim_can_multicall, .enable = sim_enable,
	.disable = sim_disable, .forget = sim_forget, .pause = sim_pause,
	.unpause = sim_unpause, .paging_ops = sim_paging_ops, .map = sim_map,
	.unmap = sim_unmap, .hv_gfns = sim_hv_gfns,
	.code_gfns = sim_code_gfns, .logdirty = sim_logdirty,
	.evtchn_fd = sim_evtchn_fd,
	.notify = sim_notify, .ack = sim_ack, .connection = sim_connection,
};
