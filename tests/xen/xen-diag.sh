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
#    stack trace (the first 8 times);
#  - reinject: an event whose delivery a VM exit interrupted, delivered
#    again (SVM only; see below);
#  - inject_if0: an interrupt Xen injects while the guest has interrupts
#    off (SVM only; see below).
set -euo pipefail
remove=0
[ "${1:-}" = --remove ] && { remove=1; shift; }
tree=${1:?usage: xen-diag.sh [--remove] TREE}
paging=$tree/xen/arch/x86/mm/mem_paging.c
vmev=$tree/xen/common/vm_event.c
svm=$tree/xen/arch/x86/hvm/svm/svm.c
[ -f "$paging" ] && [ -f "$vmev" ] || { echo "xen-diag.sh: not a Xen tree: $tree" >&2; exit 1; }

sed -i '/XPDIAG/d' "$paging" "$vmev"
[ -f "$svm" ] && sed -i '/XPDIAG/d' "$svm"
[ -f "$tree/xen/arch/x86/hvm/svm/intr.c" ] && sed -i '/XPDIAG/d' "$tree/xen/arch/x86/hvm/svm/intr.c"
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
# evict_sum: every 1024 evicts, the time they took in all, split into the
# wait for the p2m lock, the p2m update, the scrub and the free, the
# slowest one, and the gaps between one evict's end and the next one's
# start (over 2 ms: count, sum, longest; a pager's own work between two
# batches is one such gap), and the evicts whose scrub took over 50 us
# (count, first and last gfn): where a batch of evicts spends its time.
grep -q '^static int evict(struct domain \*d, gfn_t gfn)$' "$paging" ||
	{ echo "xen-diag.sh: no evict() in $paging" >&2; exit 1; }
sed -i "/^static int evict(struct domain \*d, gfn_t gfn)\$/,/^}/ {
/^    int ret = -EBUSY;\$/ a\\
    s_time_t xpt[5] = { NOW() }; static s_time_t xps[8], xplast; static unsigned int xpk, xpg, xpsn; static unsigned long xpsf, xpsl; /* XPDIAG */\\
    if ( xplast && xpt[0] - xplast > MILLISECS(2) ) /* XPDIAG */\\
    { xpg++; xps[5] += xpt[0] - xplast; if ( xpt[0] - xplast > xps[6] ) xps[6] = xpt[0] - xplast; } /* XPDIAG */
/^    gfn_lock(p2m, gfn, 0);\$/ a\\
    xpt[1] = NOW(); /* XPDIAG */
/^                        p2m_ram_paged, a);\$/ a\\
    xpt[2] = NOW(); /* XPDIAG */
/^    scrub_one_page(page);\$/ a\\
    xpt[3] = NOW(); /* XPDIAG */
/^    put_page(page);\$/ a\\
    xpt[4] = NOW(); xplast = xpt[4]; /* XPDIAG */\\
    if ( ret == 0 ) /* XPDIAG */\\
    { /* XPDIAG */\\
        xps[0] += xpt[1] - xpt[0]; xps[1] += xpt[2] - xpt[1]; xps[2] += xpt[3] - xpt[2]; /* XPDIAG */\\
        xps[3] += xpt[4] - xpt[3]; xps[4] += xpt[4] - xpt[0]; /* XPDIAG */\\
        if ( xpt[4] - xpt[0] > xps[7] ) xps[7] = xpt[4] - xpt[0]; /* XPDIAG */\\
        if ( xpt[3] - xpt[2] > MICROSECS(50) ) /* XPDIAG */\\
        { if ( !xpsn++ ) xpsf = gfn_x(gfn); xpsl = gfn_x(gfn); } /* XPDIAG */\\
        if ( ++xpk == 1024 ) /* XPDIAG */\\
        { /* XPDIAG */\\
            printk(XENLOG_ERR \"XPDIAG evict_sum %pd n %u us all %ld lock %ld p2m %ld scrub %ld free %ld max %ld gaps %u sum %ld max %ld paged %d slow_scrub %u gfns %lx-%lx\\\\n\", /* XPDIAG */\\
                   d, xpk, (long)xps[4] / 1000, (long)xps[0] / 1000, (long)xps[1] / 1000, (long)xps[2] / 1000, /* XPDIAG */\\
                   (long)xps[3] / 1000, (long)xps[7] / 1000, xpg, (long)xps[5] / 1000, (long)xps[6] / 1000, /* XPDIAG */\\
                   atomic_read(&d->paged_pages), xpsn, xpsf, xpsl); /* XPDIAG */\\
            memset(xps, 0, sizeof(xps)); xpk = xpg = xpsn = 0; /* XPDIAG */\\
        } /* XPDIAG */\\
    } /* XPDIAG */
}" "$paging"

# reinject: a VM exit that interrupted the delivery of an event (SVM's
# EXITINTINFO), which Xen delivers again at the next entry: the vCPU, the
# exit, the event, where the guest stood (RIP, RSP, CS, RFLAGS) and the
# exit's two information words (for a nested page fault: the error code
# and the guest-physical address). The first 300; then one line every
# 256 more. A re-delivery at a RIP that is already the event's handler
# would mean a delivery that had completed is delivered twice.
anchor='        vmcb->event_inj = vmcb->exit_int_info;'
if grep -qxF "$anchor" "$svm"; then
	sed -i "0,/^        vmcb->event_inj = vmcb->exit_int_info;\$/ {
/^        vmcb->event_inj = vmcb->exit_int_info;\$/ a\\
    if ( vmcb->exit_int_info.v ) /* XPDIAG */\\
    { /* XPDIAG */\\
        static unsigned int xpr; /* XPDIAG */\\
        if ( xpr < 300 || !(xpr % 256) ) /* XPDIAG */\\
            printk(XENLOG_ERR \"XPDIAG reinject %pv n %u exit %#x type %u vec %#x rip %#lx rsp %#lx cs %#x rflags %#lx info1 %#lx info2 %#lx\\\\n\", /* XPDIAG */\\
                   v, xpr, (unsigned int)exit_reason, (unsigned int)vmcb->exit_int_info.type, (unsigned int)vmcb->exit_int_info.vector, /* XPDIAG */\\
                   (unsigned long)vmcb->rip, (unsigned long)vmcb->rsp, (unsigned int)vmcb->cs.sel, /* XPDIAG */\\
                   (unsigned long)vmcb->rflags, (unsigned long)vmcb->exitinfo1, (unsigned long)vmcb->exitinfo2); /* XPDIAG */\\
        xpr++; /* XPDIAG */\\
    } /* XPDIAG */
}" "$svm"
else
	echo "xen-diag.sh: no re-injection in $svm: reinject left out" >&2
fi

# inject: Xen injecting an external interrupt (svm_intr_assist's
# svm_inject_extint) while the guest's RFLAGS.IF, in Xen's copy or in the
# VMCB, is clear (the first 50, with the vector and where the guest
# stood); at the first injection "inject_watch" (the log then shows that
# the watch was on), and every 65,536 injections a count.
intr=$tree/xen/arch/x86/hvm/svm/intr.c
anchor='        svm_inject_extint(v, intack.vector);'
if [ -f "$intr" ] && grep -qxF "$anchor" "$intr"; then
	sed -i '/XPDIAG/d' "$intr"
	sed -i "0,/^        svm_inject_extint(v, intack.vector);\$/ {
/^        svm_inject_extint(v, intack.vector);\$/ a\\
        { /* XPDIAG */\\
            static unsigned long xpn, xpz; /* XPDIAG */\\
            const struct cpu_user_regs *xpr = guest_cpu_user_regs(); /* XPDIAG */\\
            if ( !xpn ) printk(XENLOG_ERR \"XPDIAG inject_watch %pv\\\\n\", v); /* XPDIAG */\\
            if ( !(xpr->rflags & X86_EFLAGS_IF) || !(vmcb->rflags & X86_EFLAGS_IF) ) /* XPDIAG */\\
            { if ( xpz++ < 50 ) printk(XENLOG_ERR \"XPDIAG inject_if0 %pv vec %#x rip %#lx rflags %#lx vmcb_rflags %#lx\\\\n\", /* XPDIAG */\\
                   v, (unsigned int)intack.vector, (unsigned long)xpr->rip, (unsigned long)xpr->rflags, (unsigned long)vmcb->rflags); } /* XPDIAG */\\
            if ( !(++xpn % 65536) ) printk(XENLOG_ERR \"XPDIAG inject_sum n %lu if0 %lu\\\\n\", xpn, xpz); /* XPDIAG */\\
        } /* XPDIAG */
}" "$intr"
else
	echo "xen-diag.sh: no interrupt injection in $intr: inject left out" >&2
fi
n=$(grep -c XPDIAG "$paging" "$vmev" | awk -F: '{ s += $2 } END { print s }')
[ "$n" -ge 19 ] || { echo "xen-diag.sh: only $n lines inserted" >&2; exit 1; }
