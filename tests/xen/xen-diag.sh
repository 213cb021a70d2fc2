#!/usr/bin/env bash
# Insert (or, with --remove, take out) the rig's diagnostic lines in an
# unpacked Xen source tree (build-xen.sh --diag). Every inserted line ends
# with the marker "XPDIAG", so removal is exact.
#
# usage: xen-diag.sh [--remove] TREE
#
# What they print on Xen's console (each line starts "XPDIAG"):
#  - populate: a page-in request raised by anything but a guest vCPU's
#    nested page fault (Xen reading or writing guest memory for the guest,
#    or for another domain: a foreign mapping, the first 64 of those only,
#    since a pager's bulk page-in can raise thousands): the domain, gfn,
#    calling function, current vCPU and the result of claiming a slot;
#  - wait_slot: a guest vCPU about to sleep until the paging ring has a free
#    slot (the path that ends in Xen's common/wait.c): the ring's free
#    slots and the slots claimed by guest and foreign producers, then a
#    stack trace (the first 8 times).
set -euo pipefail
remove=0
[ "${1:-}" = --remove ] && { remove=1; shift; }
tree=${1:?usage: xen-diag.sh [--remove] TREE}
paging=$tree/xen/arch/x86/mm/mem_paging.c
vmev=$tree/xen/common/vm_event.c
[ -f "$paging" ] && [ -f "$vmev" ] || { echo "xen-diag.sh: not a Xen tree: $tree" >&2; exit 1; }

sed -i '/XPDIAG/d' "$paging" "$vmev"
[ "$remove" = 1 ] && exit 0

# populate: after the slot is claimed.
anchor='    int rc = vm_event_claim_slot(d, d->vm_event_paging);'
grep -qxF "$anchor" "$paging" || { echo "xen-diag.sh: no claim in $paging" >&2; exit 1; }
sed -i "/^void p2m_mem_paging_populate(/,/^}/ {
/^    int rc = vm_event_claim_slot(d, d->vm_event_paging);\$/ a\\
    { /* XPDIAG */\\
        char xpnb[KSYM_NAME_LEN + 1]; unsigned long xpsz, xpoff; /* XPDIAG */\\
        void *xpra = __builtin_return_address(0); static unsigned int xpfn; /* XPDIAG */\\
        const char *xpnm = symbols_lookup((unsigned long)xpra, &xpsz, &xpoff, xpnb); /* XPDIAG */\\
        if ( (!xpnm || strcmp(xpnm, \"hvm_hap_nested_page_fault\")) && (v->domain == d || xpfn++ < 64) ) /* XPDIAG */\\
            printk(XENLOG_ERR \"XPDIAG populate %pd gfn %\"PRI_gfn\" from %ps cur %pv claim %d\\\\n\", /* XPDIAG */\\
                   d, gfn_x(gfn), xpra, v, rc); /* XPDIAG */\\
    } /* XPDIAG */
}" "$paging"
sed -i '0,/^#include/ s|^#include|#include <xen/symbols.h> /* XPDIAG */\n#include|' "$paging"

# wait_slot: before the wait.
anchor='    wait_event(ved->wq, vm_event_wait_try_grab(ved, &rc) != -EBUSY);'
grep -qxF "$anchor" "$vmev" || { echo "xen-diag.sh: no wait_event in $vmev" >&2; exit 1; }
sed -i "/^static int vm_event_wait_slot(/,/^}/ {
/^    wait_event(ved->wq, vm_event_wait_try_grab(ved, &rc) != -EBUSY);\$/ i\\
    { /* XPDIAG */\\
        static unsigned int xpn; /* XPDIAG */\\
        if ( vm_event_ring_available(ved) == 0 && xpn++ < 8 ) /* XPDIAG */\\
        { /* XPDIAG */\\
            printk(XENLOG_ERR \"XPDIAG wait_slot %pv free %u target %u foreign %u\\\\n\", /* XPDIAG */\\
                   current, RING_FREE_REQUESTS(&ved->front_ring), /* XPDIAG */\\
                   ved->target_producers, ved->foreign_producers); /* XPDIAG */\\
            WARN(); /* XPDIAG */\\
        } /* XPDIAG */\\
    } /* XPDIAG */
}" "$vmev"
n=$(grep -c XPDIAG "$paging" "$vmev" | awk -F: '{ s += $2 } END { print s }')
[ "$n" -ge 19 ] || { echo "xen-diag.sh: only $n lines inserted" >&2; exit 1; }
