/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny public header standing in for <xpage/xpage.h> in the abi-mutants
 * test. Compiled with no FAKE_* macro it is "release 1.0"; each macro is
 * one change a developer might make. mutants.sh builds a library per
 * variant and asserts check-abi.sh's verdict on it.
 */
#ifndef FAKE_H
#define FAKE_H

#include <stddef.h>
#include <stdint.h>

#ifndef XPAGE_API
#define XPAGE_API __attribute__((visibility("default")))
#endif

/* A sized struct, as every extensible libxpage struct. */
struct xpage_fake_opts {
	size_t sz;
#ifdef FAKE_PAD
	uint32_t reserved1;	/* was `flags`: removed, kept as padding */
#elif defined(FAKE_RETYPE)
	uint64_t flags;		/* a published member changes type */
#else
	uint32_t flags;
#endif
#ifdef FAKE_INSERT
	uint64_t inserted;	/* a member inserted in the middle */
#endif
	uint64_t seed;
#ifdef FAKE_APPEND
	uint64_t appended;	/* a member appended at the end */
#endif
};
#define xpage_fake_opts__last_field seed

/* A plain struct: no sz, so it may never change. */
struct xpage_fake_pair {
	uint32_t x;
	uint32_t y;
#ifdef FAKE_APPEND_PLAIN
	uint32_t z;
#endif
};

/* An opaque handle: its definition is private (fake.c) and may change. */
typedef struct xpage_fake xpage_fake_t;

XPAGE_API int xpage_fake_open(const struct xpage_fake_opts *opts);
XPAGE_API int xpage_fake_pair(struct xpage_fake_pair *pair);
#ifdef FAKE_ADD_PARAM
XPAGE_API int xpage_fake_fd(const xpage_fake_t *handle, int which);
#elif !defined(FAKE_REMOVE)
XPAGE_API int xpage_fake_fd(const xpage_fake_t *handle);
#endif
#ifdef FAKE_ADD_FUNC
XPAGE_API int xpage_fake_open_2(const struct xpage_fake_opts *opts, int flags);
#endif

#endif
