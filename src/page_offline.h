/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Xen's page offline operation, as the library and the simulator speak
 * it: XEN_SYSCTL_page_offline_op (xen/include/public/sysctl.h, since Xen
 * 3.4), a command on a range of machine frames that fills one status word
 * per frame. libxpage's own copies of the numbers (the Xen backend checks
 * them against the installed headers); decoding is in frame_status.c.
 *
 * Xen's behaviour the words come from (xen/common/page_alloc.c,
 * offline_page / online_page / query_page_offline; sysctl.c):
 *   - the hypervisor fills every status word with the byte 0x01 first
 *     (PG_OFFLINE_INVALID set: "not handled") and stops at the first frame
 *     that fails, returning its error: words past it stay "not handled";
 *   - offline of a frame beyond memory: -EINVAL, its word not written;
 *     one of Xen's own image: FAILED | XENPAGE, owner DOMID_XEN, -EPERM;
 *     not conventional RAM: FAILED | NOT_CONV_RAM, -EINVAL;
 *     a free frame: OFFLINED at once; a frame a domain owns (dom0
 *     included): OWNED | PENDING and the owner's domid, offlined when it
 *     is freed; Xen's heap: XENPAGE | PENDING, owner DOMID_XEN; in use
 *     without an owner: ANONYMOUS | FAILED, owner DOMID_INVALID (retry);
 *   - online: ONLINED (bit 1) for a frame offlined or pending, 0 else;
 *     FAILED | BROKEN, -EINVAL, for a broken one;
 *   - query: OFFLINE_PENDING (bit 3), OFFLINED (bit 1), BROKEN (bit 4);
 *     0 for a frame in use or free; -EINVAL beyond memory or not
 *     conventional RAM.
 */
#ifndef XPAGE_PAGE_OFFLINE_H
#define XPAGE_PAGE_OFFLINE_H

/* sub-commands (sysctl_page_offline, sysctl_page_online,
 * sysctl_query_page_offline) */
#define XP_PGOFF_OFFLINE 1u
#define XP_PGOFF_ONLINE  2u
#define XP_PGOFF_QUERY   3u

/* offline / online status words */
#define XP_PG_OFFLINE_INVALID     (1u << 0)
#define XP_PG_OFFLINE_OFFLINED    (1u << 1) /* online: PG_ONLINE_ONLINED */
#define XP_PG_OFFLINE_PENDING     (1u << 2)
#define XP_PG_OFFLINE_FAILED      (1u << 3)
#define XP_PG_OFFLINE_AGAIN       (1u << 4)
#define XP_PG_OFFLINE_XENPAGE     (1u << 8)
#define XP_PG_OFFLINE_DOM0PAGE    (1u << 9)
#define XP_PG_OFFLINE_ANONYMOUS   (1u << 10)
#define XP_PG_OFFLINE_NOT_CONV_RAM (1u << 11)
#define XP_PG_OFFLINE_OWNED       (1u << 12)
#define XP_PG_OFFLINE_BROKEN      (1u << 13)
#define XP_PG_OFFLINE_OWNER_SHIFT 16
/* query status words */
#define XP_PG_STATUS_OFFLINED        (1u << 1)
#define XP_PG_STATUS_ONLINE          (1u << 2) /* defined, never set */
#define XP_PG_STATUS_OFFLINE_PENDING (1u << 3)
#define XP_PG_STATUS_BROKEN          (1u << 4)

/* The word of a frame the hypervisor did not reach (memset of 0x01). */
#define XP_PG_NOT_HANDLED 0x01010101u

/* Domain ids of Xen's own (xen.h). */
#define XP_DOMID_IO      0x7ff1u
#define XP_DOMID_XEN     0x7ff2u
#define XP_DOMID_INVALID 0x7ff4u

/* The machine-to-phys entry of a frame no guest maps (~0UL). */
#define XP_M2P_INVALID UINT64_MAX

#endif
