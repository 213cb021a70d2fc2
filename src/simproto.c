/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Transport of the simulator protocol (see simproto.h). */
#include "simproto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int simp_send(int sock, uint16_t op, uint32_t seq, int32_t status,
	      const void *payload, uint32_t len, const int *fds, int nfds)
{
	struct simp_hdr h = { .magic = SIMP_MAGIC, .op = op,
			      .nfds = (uint16_t)nfds, .seq = seq,
			      .status = status, .len = len };
	struct iovec iov[2] = { { &h, sizeof(h) },
				{ (void *)payload, len } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIMP_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > SIMP_MAX_PAYLOAD || nfds < 0 || nfds > SIMP_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -EIO;
	if ((size_t)n != sizeof(h) + len)
		return -EIO;
	return 0;
}

int simp_recv(int sock, struct simp_hdr *hdr, void *payload, uint32_t max,
	      int *fds, int *nfds)
{
	struct iovec iov[2] = { { hdr, sizeof(*hdr) }, { payload, max } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIMP_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	int want = nfds ? *nfds : 0, got = 0;
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -EIO;
	/* The descriptors first: even an empty packet (a peer's hang-up
	 * reads the same) can carry some, and they must not leak. */
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int tmp[SIMP_MAX_FDS];

		if (k > SIMP_MAX_FDS)
			k = SIMP_MAX_FDS;
		memcpy(tmp, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (got < want)
				fds[got++] = tmp[i];
			else
				close(tmp[i]);
		}
	}
	if (nfds)
		*nfds = got;
	if (n == 0) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -ECONNRESET;
	}
	if ((size_t)n < sizeof(*hdr) || hdr->magic != SIMP_MAGIC ||
	    (msg.msg_flags & MSG_TRUNC) || hdr->len > max ||
	    (size_t)n != sizeof(*hdr) + hdr->len) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -EPROTO;
	}
	return 0;
}

int simp_socket(const char *path, struct sockaddr_un *sa)
{
	int fd;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int simp_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = path ? simp_socket(path, &sa) : -EINVAL;

	if (fd == -ENAMETOOLONG)
		return -EINVAL;
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* ------------------------------------------------------------------------ */
/* Replies: what a valid one is, judged in one place (simproto.h)           */

#define FIXED(op, type, n) [op] = { #op, SIMP_RSP_FIXED, n, sizeof(type) }
#define NONE(op)           [op] = { #op, SIMP_RSP_NONE, 0, 0 }
#define RESULTS(op)        [op] = { #op, SIMP_RSP_RESULTS, 0, 0 }
#define TEXT(op)           [op] = { #op, SIMP_RSP_TEXT, 0, 0 }

/* Every op of the protocol (simproto.h says what each returns). */
static const struct simp_reply_spec reply_specs[] = {
	FIXED(SIMP_HELLO, struct simp_u32, 0),
	FIXED(SIMP_ATTACH, struct simp_dominfo, 2),
	FIXED(SIMP_DOMAIN_INFO, struct simp_dominfo, 0),
	FIXED(SIMP_XEN_VERSION, struct simp_u32x2, 0),
	FIXED(SIMP_VM_EVENT_VERSION, struct simp_u32, 0),
	FIXED(SIMP_PAGING_AGE, struct simp_u32, 0),
	FIXED(SIMP_GET_PARAM, struct simp_u64, 0),
	NONE(SIMP_POPULATE_PHYSMAP),
	NONE(SIMP_DECREASE_RESERVATION),
	FIXED(SIMP_ENABLE, struct simp_u32, 2),
	NONE(SIMP_DISABLE),
	NONE(SIMP_PAUSE),
	NONE(SIMP_UNPAUSE),
	NONE(SIMP_PAGING_OP),
	RESULTS(SIMP_MULTICALL),
	RESULTS(SIMP_MAP),
	RESULTS(SIMP_UNMAP),
	FIXED(SIMP_CREATE_GUEST, struct simp_u32, 0),
	NONE(SIMP_DESTROY_GUEST),
	NONE(SIMP_WORKLOAD),
	NONE(SIMP_WORKLOAD_STOP),
	NONE(SIMP_FAULTS),
	NONE(SIMP_TOUCH),
	NONE(SIMP_RELEASE),
	FIXED(SIMP_REPORT, struct simp_report, 0),
	TEXT(SIMP_PERSONALITIES),
	FIXED(SIMP_GFN_STATE, struct simp_gfn_state, 0),
	FIXED(SIMP_VCPU_STATE, struct simp_vcpu_state, 0),
	NONE(SIMP_SHUTDOWN),
	FIXED(SIMP_RUNSTATE_GFNS, struct simp_runstate, 0),
	FIXED(SIMP_STACK_GFNS, struct simp_stacks, 0),
	FIXED(SIMP_KCODE_GFNS, struct simp_range, 0),
	FIXED(SIMP_LOGDIRTY, struct simp_logdirty, 0),
	NONE(SIMP_LOGDIRTY_HOLD),
	FIXED(SIMP_PAGE_OFFLINE, struct simp_pgoff, 0),
	FIXED(SIMP_M2P, struct simp_m2p, 0),
};

const struct simp_reply_spec *simp_reply_spec(uint16_t op)
{
	if (op >= sizeof(reply_specs) / sizeof(reply_specs[0]) ||
	    !reply_specs[op].name)
		return NULL;
	return &reply_specs[op];
}

int simp_why(char *why, size_t sz, const char *fmt, ...)
{
	va_list ap;

	if (!why || !sz)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sz, fmt, ap);
	va_end(ap);
	return -1;
}

/* The payload of a successful reply against its op's shape. */
static int check_shape(const struct simp_reply_spec *s, const void *req,
		       const struct simp_hdr *h, const void *rsp, char *why,
		       size_t sz)
{
	const struct simp_results *r = rsp;
	uint32_t want;

	switch (s->shape) {
	case SIMP_RSP_NONE:
		if (h->len)
			return simp_why(why, sz, "%u payload bytes, none "
					"expected", h->len);
		break;
	case SIMP_RSP_FIXED:
		if (h->len != s->len)
			return simp_why(why, sz, "%u payload bytes, %u expected",
					h->len, s->len);
		break;
	case SIMP_RSP_RESULTS:
		/* simp_multicall and simp_gfns both start with their count */
		memcpy(&want, req, sizeof(want));
		if (h->len < sizeof(*r))
			return simp_why(why, sz, "%u payload bytes, no result "
					"count", h->len);
		if (r->n != want)
			return simp_why(why, sz, "%u results for %u entries",
					r->n, want);
		if (h->len != sizeof(*r) + (size_t)want * sizeof(r->rc[0]))
			return simp_why(why, sz, "%u payload bytes for %u "
					"results (%zu expected)", h->len, want,
					sizeof(*r) + (size_t)want *
					sizeof(r->rc[0]));
		for (uint32_t i = 0; i < want; i++)
			if (r->rc[i] > 0 || r->rc[i] < -SIMP_MAX_ERRNO)
				return simp_why(why, sz, "result %u is %d, "
						"neither 0 nor a negative "
						"errno", i, r->rc[i]);
		break;
	case SIMP_RSP_TEXT: {
		const char *nul = memchr(rsp, '\0', h->len);

		if (nul)
			return simp_why(why, sz, "a NUL byte at offset %zu of "
					"%u bytes of text",
					(size_t)(nul - (const char *)rsp),
					h->len);
		break;
	}
	}
	return 0;
}

int simp_check_reply(const struct simp_reply_spec *s, uint16_t op,
		     uint32_t seq, const void *req, const struct simp_hdr *h,
		     const void *rsp, int nfds, char *why, size_t sz)
{
	if (h->op != op)
		return simp_why(why, sz, "the reply is for op %u", h->op);
	if (h->seq != seq)
		return simp_why(why, sz, "the reply has sequence number %u, "
				"the request %u", h->seq, seq);
	if (h->nfds != nfds)
		return simp_why(why, sz, "the header announces %u file "
				"descriptors, %d came", h->nfds, nfds);
	if (h->status > 0 || h->status < -SIMP_MAX_ERRNO)
		return simp_why(why, sz, "status %d is neither 0 nor a "
				"negative errno", h->status);
	if (h->status < 0) {
		if (h->len || nfds)
			return simp_why(why, sz, "failure %d carries %u payload "
					"bytes and %d file descriptors",
					h->status, h->len, nfds);
		return 0;
	}
	if (nfds != s->nfds)
		return simp_why(why, sz, "%d file descriptors, %u expected",
				nfds, s->nfds);
	return check_shape(s, req, h, rsp, why, sz);
}

int simp_exchange(int sock, uint16_t op, uint32_t seq, const void *req,
		  uint32_t len, struct simp_hdr *h, void *rsp, int *fds,
		  char *why, size_t sz)
{
	const struct simp_reply_spec *s = simp_reply_spec(op);
	int got[SIMP_MAX_FDS], ngot = SIMP_MAX_FDS, rc;

	if (!s || (s->nfds && !fds) ||
	    (s->shape == SIMP_RSP_RESULTS && len < sizeof(uint32_t)))
		return -EINVAL; /* a caller's bug, not the simulator's */
	rc = simp_send(sock, op, seq, 0, req, len, NULL, 0);
	if (rc < 0)
		return rc;
	rc = simp_recv(sock, h, rsp, SIMP_MAX_PAYLOAD, got, &ngot);
	if (rc == -EPROTO) {
		simp_why(why, sz, "unreadable packet (wrong magic, length "
			 "field not the packet's size, or larger than the "
			 "protocol's maximum)");
		return -EPROTO;
	}
	if (rc < 0)
		return rc;
	if (simp_check_reply(s, op, seq, req, h, rsp, ngot, why, sz) < 0) {
		for (int i = 0; i < ngot; i++)
			close(got[i]);
		return -EPROTO;
	}
	if (h->status == 0 && s->nfds)
		memcpy(fds, got, s->nfds * sizeof(int));
	return 0;
}
