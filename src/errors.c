/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Errors in the words of paging: what an errno means for a pager. */
#include "private.h"

#include <string.h>

XPAGE_API const char *xpage_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:          return "success";
	case EINVAL:     return "invalid argument, or a gfn in the wrong state for this call";
	case E2BIG:      return "struct carries non-zero fields this library does not know";
	case ESRCH:      return "no such domain (or it is dying)";
	case ENOEXEC:    return "the hypervisor speaks no paging interface age this pager speaks";
	case EOPNOTSUPP: return "the hypervisor lacks a required paging feature, or refuses paging for this domain";
	case ENOSYS:     return "the hypervisor was built without memory paging";
	case ENODEV:     return "the domain has no hardware-assisted paging (needs an HVM/PVH guest with EPT/NPT), or paging is not enabled";
	case EMLINK:     return "the domain uses an IOMMU or device passthrough; paging is not possible";
	case EXDEV:      return "the domain is populate-on-demand; paging is not possible";
	case EBUSY:      return "busy: another pager is active on the domain, the page is in use (mapped or touched), or another thread is inside a call on this handle";
	case ENOENT:     return "not found: no hypervisor or simulator reachable, or the gfn is being paged in";
	case ENOMEM:     return "out of memory (in the hypervisor or the library); try again later";
	case ERANGE:     return "gfn beyond the guest's memory";
	case EALREADY:   return "nothing to do: already in the requested state or listed twice";
	case EPROTO:     return "protocol error: the paging ring is corrupt or speaks another interface version, or the hypervisor (or simulator) answered outside its interface";
	case ENOTEMPTY:  return "gfns are still paged out: paging was left enabled for the next pager (XPAGE_OPEN_TAKEOVER)";
	case ESHUTDOWN:  return "the domain crashed or paging was disabled";
	case EIO:        return "the connection to the hypervisor failed";
	case EINTR:      return "interrupted by a signal";
	case ECHILD:     return "the handle belongs to the process that opened it (this is a child made by fork())";
	case ELIBBAD:    return "the hypervisor's control library lacks a function this release must have";
	default:         return strerror(err);
	}
}
