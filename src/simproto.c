/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Transport of the simulator protocol (see simproto.h). */
#include "simproto.h"

#include <errno.h>
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
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return -EIO;
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

int simp_call(int sock, uint16_t op, const void *req, uint32_t reqlen,
	      void *rsp, uint32_t rspmax, uint32_t *rsplen, int *fds,
	      int *nfds)
{
	static __thread uint32_t seq;
	struct simp_hdr h;
	int rc, want = nfds ? *nfds : 0;
	uint32_t s = ++seq;

	rc = simp_send(sock, op, s, 0, req, reqlen, NULL, 0);
	if (rc < 0)
		return rc;
	if (nfds)
		*nfds = want;
	rc = simp_recv(sock, &h, rsp, rspmax, fds, nfds);
	if (rc < 0)
		return rc == -EPROTO ? -EPROTO : -EIO;
	if (h.op != op || h.seq != s) {
		if (nfds)
			for (int i = 0; i < *nfds; i++)
				close(fds[i]);
		return -EPROTO;
	}
	if (rsplen)
		*rsplen = h.len;
	return h.status;
}

int simp_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}
