/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A raw request to xpage-simd, for the tests and the bench that speak its
 * protocol (src/simproto.h) without the library's checks of the reply.
 * Built as its own static library (sim/meson.build): libxpage does not
 * carry it.
 */
#ifndef XPAGE_SIMP_CALL_H
#define XPAGE_SIMP_CALL_H

#include "simproto.h"

/* Send a request and wait for its reply. Returns the reply's status
 * (>= 0 or a negative errno from the simulator), or -EIO / -EPROTO for a
 * broken or malformed transport (the connection is then unusable), or a
 * reply to another request. Received fds are stored in @fds (up to
 * *nfds, updated); extra fds are closed. */
int simp_call(int sock, uint16_t op, const void *req, uint32_t reqlen,
	      void *rsp, uint32_t rspmax, uint32_t *rsplen, int *fds,
	      int *nfds);

#endif
