/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The batch pager's control channel: requests from other programs of
 * the host (xpage-offline(8)) served by the pager that holds a domain,
 * since no second pager may open it.
 *
 * Transport: a Unix stream socket, by default
 *   $XPAGE_CONTROL_DIR/dom<domid>.sock   ($XPAGE_CONTROL_DIR: /run/xpage)
 * (xpage-batch-pager --control PATH chooses another; a simulated guest
 * has one only with --control or $XPAGE_CONTROL_DIR, since simulators'
 * domain ids repeat). The directory is made mode 0700, the socket 0600:
 * only its owner (root, for a real domain) may ask.
 *
 * A line protocol, one request line and one reply line at a time:
 *   ping                      -> pong DOMID
 *   relocate GFN [GFN ...]    -> ok MOVED GFN=STATUS [GFN=STATUS ...]
 * GFNs in hex (0x...) or decimal, at most CONTROL_MAX_GFNS per line,
 * lines at most CONTROL_LINE_MAX bytes. STATUS is xpage_relocate()'s per
 * gfn (0 moved, -EALREADY paged out: no frame, -EBUSY refused, -EINVAL
 * not resident: the pager's own batch holds it, ...), after the pager
 * retried the -EBUSY and -EINVAL ones after each of its page-out
 * batches for up to CONTROL_RETRY_MS. A request it cannot take:
 *   error ERRNO MESSAGE
 * The pager serves the channel from its event loop, between batches,
 * without blocking: a client that does not read its reply is dropped.
 */
#ifndef BATCH_PAGER_CONTROL_H
#define BATCH_PAGER_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#define CONTROL_DIR_DEFAULT "/run/xpage"
#define CONTROL_MAX_GFNS 4096u
#define CONTROL_LINE_MAX (CONTROL_MAX_GFNS * 20u + 64u)
#define CONTROL_RETRY_MS 3000u

/* The default socket of @domid: in $XPAGE_CONTROL_DIR, or @dir when that
 * is unset (NULL: CONTROL_DIR_DEFAULT). 0, or -1 when it does not fit. */
int control_default_path(char *buf, size_t len, uint32_t domid,
			 const char *dir);

#endif
