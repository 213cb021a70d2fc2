/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A hostile in-process hypervisor for the fuzz targets: its ring is an
 * exactly-4096-byte heap block (AddressSanitizer sees any access outside
 * it), its answers are whatever the fuzz input says.
 */
#ifndef XPAGE_FUZZ_BACKEND_H
#define XPAGE_FUZZ_BACKEND_H

#include <stdbool.h>

#include "private.h"

struct fuzz_hv {
	uint8_t *ring;          /* malloc(4096) */
	uint32_t minor;         /* Xen 4.minor */
	int vmev;               /* version query answer, < 0: -ENOSYS */
	int age;                /* 0: no notion of age */
	int multicall;
	uint32_t vcpus;
	uint64_t nr_gfns;
	uint8_t refuse[256];    /* per gfn % 256: 0 ok, 1 EBUSY, 2 ENOMEM,
				 * 3 ENOENT, 4 EINVAL */
	int evt[2];
	bool enabled;
};

extern struct fuzz_hv hv;
extern const struct xp_backend_ops fuzz_ops;

/* Allocate the ring and the event pipe (once per process). */
void fuzz_hv_init(void);

#endif
