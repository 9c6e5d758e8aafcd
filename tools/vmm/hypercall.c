/* SPDX-License-Identifier: MIT */
/* hypercall.c - KVM_EXIT_HYPERCALL: the guest's KVM_HC_MAP_GPA_RANGE conversions.
 *
 * KVM exits to userspace only for the hypercalls enabled with KVM_CAP_EXIT_HYPERCALL (here just
 * KVM_HC_MAP_GPA_RANGE, Documentation/virt/kvm/x86/hypercalls.rst); run->hypercall.ret becomes
 * the guest's RAX when the vCPU runs again. Arguments are checked by mapgpa_check(); a refused
 * call returns -KVM_EINVAL and is logged and counted, never applied.
 */
#include <inttypes.h>
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "abi/kvm_hypercall.h"
#include "tools/vmm/log.h"
#include "tools/vmm/mapgpa.h"
#include "tools/vmm/vmm.h"

void hypercall_handle(struct vmm *v)
{
    struct kvm_run *run = v->run;
    uint64_t nr = run->hypercall.nr;
    if (nr != KVM_HC_MAP_GPA_RANGE) {
        v->unknown_hypercalls++;
        vmm_guest_error("hypercall %" PRIu64 " is not offered: -KVM_ENOSYS", nr);
        run->hypercall.ret = (uint64_t)-KVM_ENOSYS;
        return;
    }
    uint64_t gpa = run->hypercall.args[0], npages = run->hypercall.args[1], attrs = run->hypercall.args[2];
    struct mapgpa_req req;
    enum mapgpa_err e = mapgpa_check(v->ram, gpa, npages, attrs, &req);
    if (e != MAPGPA_OK) {
        v->mem.st.refused++;
        vmm_guest_error("KVM_HC_MAP_GPA_RANGE gpa %#" PRIx64 " npages %" PRIu64 " attrs %#" PRIx64 ": %s: -KVM_EINVAL",
                        gpa, npages, attrs, mapgpa_err_name(e));
        run->hypercall.ret = (uint64_t)-KVM_EINVAL;
        return;
    }
    int rc = mem_convert(&v->mem, req.gpa, req.npages, req.to_private);
    if (rc != 0) {
        v->mem.st.refused++;
        vmm_info("error: converting [%#" PRIx64 ", +%" PRIu64 " pages) to %s: KVM_SET_MEMORY_ATTRIBUTES: %s", req.gpa,
                 req.npages, req.to_private ? "private" : "shared", strerror(-rc));
        run->hypercall.ret = (uint64_t)(rc == -EINVAL ? -KVM_EINVAL : -KVM_EFAULT);
        return;
    }
    v->mem.st.calls++;
    if (req.to_private)
        v->mem.st.pages_to_private += req.npages;
    else
        v->mem.st.pages_to_shared += req.npages;
    run->hypercall.ret = 0;
}
