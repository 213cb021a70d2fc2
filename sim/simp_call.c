/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A raw request to xpage-simd; see simp_call.h. */
#include "simp_call.h"

#include <errno.h>
#include <unistd.h>

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
