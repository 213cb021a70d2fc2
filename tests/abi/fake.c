/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library behind fake/fake.h (see there and mutants.sh). */
#include "fake.h"

struct xpage_fake {
#ifdef FAKE_PRIVATE
	char private_state[40];	/* private: may change at will */
#endif
	int fd;
};

int xpage_fake_open(const struct xpage_fake_opts *opts)
{
	return opts ? (int)opts->sz : -1;
}

int xpage_fake_pair(struct xpage_fake_pair *pair)
{
	return pair ? (int)(pair->x + pair->y) : -1;
}

#ifdef FAKE_ADD_PARAM
int xpage_fake_fd(const xpage_fake_t *handle, int which)
{
	return handle ? handle->fd + which : -1;
}
#elif !defined(FAKE_REMOVE)
int xpage_fake_fd(const xpage_fake_t *handle)
{
	return handle ? handle->fd : -1;
}
#endif

#ifdef FAKE_ADD_FUNC
int xpage_fake_open_2(const struct xpage_fake_opts *opts, int flags)
{
	return opts ? flags : -1;
}
#endif

#ifdef FAKE_LEAK
/* A helper someone exported by mistake (and listed in the version script). */
XPAGE_API int fake_helper(void);
int fake_helper(void)
{
	return 42;
}
#endif
