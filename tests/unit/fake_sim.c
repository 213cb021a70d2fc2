/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fake xpage-simd that lies; see fake_sim.h. */
#include "fake_sim.h"

#include <check.h>
#include "checkrun.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xpage/xpage.h>

#include "simproto.h"

#define PAGE XPAGE_PAGE_SIZE

static struct {
	uint16_t op;
	int nth;
	int kind;
} fault;
struct shared *sh;
char sock_path[128];
static pid_t server = -1;
static char dir[64];

struct reply {
	struct simp_hdr h;
	uint8_t payload[SIMP_MAX_PAYLOAD + 16];
	int fds[SIMP_MAX_FDS + 1];
	int nfds;
	int own;                /* fds[0 .. own) were made for this reply */
};

static void reply_bytes(struct reply *r, const void *p, uint32_t len)
{
	memcpy(r->payload, p, len);
	r->h.len = len;
}

static void dominfo(struct reply *r)
{
	struct simp_dominfo di = { .domid = DOMID, .vcpus = 2, .nr_pages = NR,
				   .memfd_pages = NR + SIMP_NR_SPECIAL,
				   .hvm = 1, .hap = 1 };

	reply_bytes(r, &di, sizeof(di));
}

static void results(struct reply *r, const void *req, uint64_t bad_from)
{
	const struct simp_gfns *q = req; /* n first, like simp_multicall */
	struct simp_results *res = (void *)r->payload;

	res->n = q->n;
	for (uint32_t i = 0; i < q->n; i++)
		res->rc[i] = bad_from && q->gfns[i] >= bad_from ? -EINVAL : 0;
	r->h.len = (uint32_t)(sizeof(*res) + q->n * sizeof(res->rc[0]));
}

/* What xpage-simd would answer. */
static void answer(const struct simp_hdr *h, const void *req, int memfd,
		   int bouncefd, struct reply *r)
{
	switch (h->op) {
	case SIMP_HELLO: {
		struct simp_u32 v = { SIMP_PROTO_VERSION, 0 };

		reply_bytes(r, &v, sizeof(v));
		break;
	}
	case SIMP_ATTACH:
		dominfo(r);
		r->fds[0] = memfd;
		r->fds[1] = bouncefd;
		r->nfds = 2;
		break;
	case SIMP_DOMAIN_INFO:
		dominfo(r);
		break;
	case SIMP_XEN_VERSION: {
		struct simp_u32x2 v = { 4, 17 };

		reply_bytes(r, &v, sizeof(v));
		break;
	}
	case SIMP_VM_EVENT_VERSION:
	case SIMP_PAGING_AGE: {
		struct simp_u32 v = { h->op == SIMP_PAGING_AGE ? 1 : 7, 0 };

		reply_bytes(r, &v, sizeof(v));
		break;
	}
	case SIMP_GET_PARAM: {
		struct simp_u64 v = { NR };

		reply_bytes(r, &v, sizeof(v));
		break;
	}
	case SIMP_ENABLE: {
		struct simp_u32 port = { 1, 0 };

		reply_bytes(r, &port, sizeof(port));
		r->fds[0] = eventfd(0, EFD_CLOEXEC);
		r->fds[1] = eventfd(0, EFD_CLOEXEC);
		r->nfds = r->own = 2;
		break;
	}
	case SIMP_MULTICALL:
	case SIMP_UNMAP:
		results(r, req, 0);
		break;
	case SIMP_MAP:
		results(r, req, NR + SIMP_NR_SPECIAL);
		break;
	case SIMP_CREATE_GUEST: { /* the domid asked for, else DOMID */
		const struct simp_guest *q = req;
		struct simp_u32 d = { q->domid ? q->domid : DOMID, 0 };

		reply_bytes(r, &d, sizeof(d));
		break;
	}
	case SIMP_REPORT: {
		struct simp_report rep = { .pages = NR, .accesses = 3,
					   .ring_enabled = 1 };

		reply_bytes(r, &rep, sizeof(rep));
		break;
	}
	case SIMP_PERSONALITIES:
		reply_bytes(r, FAKE_PERSONALITIES,
			    sizeof(FAKE_PERSONALITIES) - 1);
		break;
	case SIMP_RUNSTATE_GFNS: { /* one vCPU, its walk at FAKE_WALK */
		static const struct simp_runstate rs = { .vcpus = 1,
			.per_vcpu = SIMP_RUNSTATE_WALK, .gfn = { FAKE_WALK } };

		reply_bytes(r, &rs, sizeof(rs));
		break;
	}
	case SIMP_STACK_GFNS: { /* one vCPU, its walk at FAKE_STACK */
		static const struct simp_stacks st = { .vcpus = 1,
			.per_vcpu = SIMP_STACK_WALK, .gfn = { FAKE_STACK } };

		if (fault.kind == F_ENOSYS && fault.op == SIMP_RUNSTATE_GFNS)
			r->h.status = -ENOSYS;
		else
			reply_bytes(r, &st, sizeof(st));
		break;
	}
	case SIMP_POPULATE_PHYSMAP:
	case SIMP_DECREASE_RESERVATION:
	case SIMP_DISABLE:
	case SIMP_PAUSE:
	case SIMP_UNPAUSE:
	case SIMP_PAGING_OP:
	case SIMP_DESTROY_GUEST:
	case SIMP_WORKLOAD:
	case SIMP_WORKLOAD_STOP:
	case SIMP_FAULTS:
	case SIMP_TOUCH:
	case SIMP_RELEASE:
		break;
	default:
		r->h.status = -ENOSYS;
	}
}

static void malform(struct reply *r, int bouncefd)
{
	struct simp_results *res = (void *)r->payload;

	switch (fault.kind) {
	case F_SHORT:
		r->h.len -= 4;
		break;
	case F_LONG:
		memset(r->payload + r->h.len, 0, 8);
		r->h.len += 8;
		break;
	case F_OP:
		r->h.op++;
		break;
	case F_SEQ:
		r->h.seq++;
		break;
	case F_COUNT_LESS:
		res->n--;
		r->h.len -= 4;
		break;
	case F_COUNT_MORE:
		res->rc[res->n++] = 0;
		r->h.len += 4;
		break;
	case F_RC_POS:
		res->rc[0] = 1;
		break;
	case F_RC_LOW:
		res->rc[res->n - 1] = -5000;
		break;
	case F_STATUS_POS:
		r->h.status = 1;
		break;
	case F_STATUS_LOW:
		r->h.status = -5000;
		r->h.len = 0;
		r->nfds = r->h.nfds = 0;
		break;
	case F_NO_FD:
		r->nfds--;
		r->h.nfds--;
		break;
	case F_EXTRA_FD:
		r->fds[r->nfds++] = bouncefd;
		r->h.nfds++;
		break;
	case F_HDR_NFDS:
		r->h.nfds++;
		break;
	case F_ERR_PAYLOAD:
		r->h.status = -EBUSY;
		break;
	case F_MAGIC:
		r->h.magic ^= 1;
		break;
	case F_VALUE:
		switch (r->h.op) {
		case SIMP_HELLO:
			((struct simp_u32 *)(void *)r->payload)->v = 2;
			break;
		case SIMP_ATTACH:
			((struct simp_dominfo *)(void *)r->payload)->domid++;
			break;
		case SIMP_DOMAIN_INFO:
			((struct simp_dominfo *)(void *)r->payload)->nr_pages++;
			break;
		case SIMP_GET_PARAM: /* the first page past the memfd */
			((struct simp_u64 *)(void *)r->payload)->v = NR + 1;
			break;
		case SIMP_MAP: /* every gfn "mapped" */
			for (uint32_t i = 0; i < res->n; i++)
				res->rc[i] = 0;
			break;
		case SIMP_RUNSTATE_GFNS: /* vCPU 0's last gfn: the ring's */
			((struct simp_runstate *)(void *)r->payload)->gfn[0][3] =
				NR + SIMP_NR_SPECIAL;
			break;
		case SIMP_STACK_GFNS: /* vCPU 0's last gfn: past the memfd */
			((struct simp_stacks *)(void *)r->payload)->gfn[0][7] =
				NR + SIMP_NR_SPECIAL;
			break;
		case SIMP_CREATE_GUEST: /* as an int: -EIO */
			((struct simp_u32 *)(void *)r->payload)->v = -5u;
			break;
		}
		break;
	case F_NUL:
		r->payload[r->h.len / 2] = '\0';
		break;
	case F_ENOSYS:
		r->h.status = -ENOSYS;
		r->h.len = 0;
		r->h.nfds = 0;
		break;
	}
}

/* One packet, header fields as given (simp_send would fix them). */
static int send_reply(int c, struct reply *r)
{
	struct iovec iov[2] = { { &r->h, sizeof(r->h) },
				{ r->payload, r->h.len } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * (SIMP_MAX_FDS + 1))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (r->nfds) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * r->nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * r->nfds);
		memcpy(CMSG_DATA(cm), r->fds, sizeof(int) * r->nfds);
	}
	return sendmsg(c, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static void serve(int lfd)
{
	static uint8_t req[SIMP_MAX_PAYLOAD];
	static struct reply r;
	int c = accept(lfd, NULL, NULL), memfd, bouncefd, seen = 0;
	uint64_t mem = (NR + SIMP_NR_SPECIAL - (fault.kind == F_SMALL_MEMFD)) *
		       (uint64_t)PAGE;
	uint64_t bounce = fault.kind == F_SMALL_BOUNCE ? PAGE :
			  (uint64_t)SIMP_BOUNCE_SLOTS * PAGE;

	memfd = memfd_create("fake-guest", MFD_CLOEXEC);
	bouncefd = memfd_create("fake-bounce", MFD_CLOEXEC);
	if (c < 0 || memfd < 0 || bouncefd < 0 ||
	    ftruncate(memfd, (off_t)mem) < 0 ||
	    ftruncate(bouncefd, (off_t)bounce) < 0)
		_exit(2);
	for (;;) {
		int nfds = 0;

		memset(&r.h, 0, sizeof(r.h));
		r.nfds = r.own = 0;
		if (simp_recv(c, &r.h, req, sizeof(req), NULL, &nfds) < 0)
			break;
		sh->requests++;
		if (sh->faulted)
			sh->after_fault++;
		/* (op and seq stay the request's) */
		r.h.magic = SIMP_MAGIC;
		r.h.status = 0;
		r.h.len = 0;
		answer(&r.h, req, memfd, bouncefd, &r);
		r.h.nfds = (uint16_t)r.nfds;
		if (r.h.op == fault.op && ++seen == fault.nth) {
			malform(&r, bouncefd);
			sh->faulted = 1;
		}
		if (send_reply(c, &r) < 0)
			break;
		for (int i = 0; i < r.own; i++)
			close(r.fds[i]);
	}
	_exit(0);
}

void start_server(uint16_t op, int nth, int kind)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	fault.op = op;
	fault.nth = nth;
	fault.kind = kind;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	strcpy(dir, "/tmp/xpage-fakesim-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
	strcpy(sa.sun_path, sock_path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	server = fork();
	ck_assert_int_ge(server, 0);
	if (server == 0)
		serve(lfd);
	close(lfd);
}

void stop_server(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = -1;
	}
	if (sock_path[0])
		unlink(sock_path);
	if (dir[0])
		rmdir(dir);
}

int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int fake_sim_main(const char *suite, void (*add)(TCase *t))
{
	Suite *s = suite_create(suite);
	TCase *t = tcase_create("replies");

	tcase_add_checked_fixture(t, NULL, stop_server);
	add(t);
	suite_add_tcase(s, t);
	return check_run_mode(s, CK_FORK) ? EXIT_FAILURE : EXIT_SUCCESS;
}
