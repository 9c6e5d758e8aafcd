/* SPDX-License-Identifier: MIT */
/* memory.c - guest RAM backing, the memory slot, conversions and the exit scan (see memory.h).
 *
 * KVM API (Documentation/virt/kvm/api.rst, Linux 6.12): KVM_CREATE_GUEST_MEMFD (4.142),
 * KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD (4.35), KVM_SET_MEMORY_ATTRIBUTES with
 * KVM_MEMORY_ATTRIBUTE_PRIVATE (4.141). Discarding is a hole punch (fallocate PUNCH_HOLE |
 * KEEP_SIZE): on the guest_memfd when a page becomes shared, on the memfd when it becomes private
 * (for a MAP_SHARED shmem mapping that is what madvise(MADV_REMOVE) does).
 */
#define _GNU_SOURCE
#include "tools/vmm/memory.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/vmm/kvm_compat.h"
#include "tools/vmm/log.h"

static int set_attributes(struct vm_memory *m, uint64_t gpa, uint64_t len, bool private_)
{
    struct kvm_compat_memory_attributes a = {
        .address = gpa, .size = len, .attributes = private_ ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0, .flags = 0};
    int rc;
    do
        rc = ioctl(m->vm_fd, KVM_COMPAT_SET_MEMORY_ATTRIBUTES, &a);
    while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : -errno;
}

static void discard(struct vm_memory *m, int fd, const char *which, uint64_t gpa, uint64_t len)
{
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)gpa, (off_t)len) != 0) {
        m->st.discard_errors++;
        vmm_info("error: discarding [%#" PRIx64 ", +%#" PRIx64 ") of the %s failed: %s", gpa, len, which,
                 strerror(errno));
    }
}

int mem_create(struct vm_memory *m, int vm_fd, uint64_t ram, bool sw_protected)
{
    memset(m, 0, sizeof(*m));
    m->vm_fd = vm_fd;
    m->ram = ram;
    m->sw_protected = sw_protected;
    m->gmemfd = -1;
    m->memfd = memfd_create("bounce-guest-ram", MFD_CLOEXEC);
    if (m->memfd < 0 || ftruncate(m->memfd, (off_t)ram) != 0) {
        vmm_info("error: memfd for %" PRIu64 " bytes of guest RAM: %s", ram, strerror(errno));
        return -1;
    }
    m->host = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m->memfd, 0);
    if (m->host == MAP_FAILED) {
        m->host = NULL;
        vmm_info("error: mmap of guest RAM: %s", strerror(errno));
        return -1;
    }
    m->gm.host = m->host;
    m->gm.size = ram;
    m->gm.shared = calloc(gm_bitmap_words(ram), sizeof(uint64_t));
    if (m->gm.shared == NULL) {
        vmm_info("error: out of memory for the page-state bitmap");
        return -1;
    }
    gm_set_pages(&m->gm, 0, ram / PAGE_SIZE, true);

    if (!sw_protected) {
        struct kvm_userspace_memory_region r = {.slot = 0,
                                                .flags = 0,
                                                .guest_phys_addr = 0,
                                                .memory_size = ram,
                                                .userspace_addr = (uint64_t)(uintptr_t)m->host};
        if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) != 0) {
            vmm_info("error: KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
            return -1;
        }
        return 0;
    }

    int attrs = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MEMORY_ATTRIBUTES);
    if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD) <= 0 ||
        ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY2) <= 0 || attrs < 0 ||
        !((uint64_t)attrs & KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
        vmm_info("error: this KVM offers the sw-protected VM type but not guest_memfd, "
                 "KVM_SET_USER_MEMORY_REGION2 or the PRIVATE memory attribute");
        return -1;
    }
    struct kvm_compat_create_guest_memfd g = {.size = ram, .flags = 0};
    m->gmemfd = ioctl(vm_fd, KVM_COMPAT_CREATE_GUEST_MEMFD, &g);
    if (m->gmemfd < 0) {
        vmm_info("error: KVM_CREATE_GUEST_MEMFD (%" PRIu64 " bytes): %s", ram, strerror(errno));
        return -1;
    }
    struct kvm_compat_userspace_memory_region2 r2 = {.slot = 0,
                                                     .flags = KVM_MEM_GUEST_MEMFD,
                                                     .guest_phys_addr = 0,
                                                     .memory_size = ram,
                                                     .userspace_addr = (uint64_t)(uintptr_t)m->host,
                                                     .guest_memfd_offset = 0,
                                                     .guest_memfd = (uint32_t)m->gmemfd};
    if (ioctl(vm_fd, KVM_COMPAT_SET_USER_MEMORY_REGION2, &r2) != 0) {
        vmm_info("error: KVM_SET_USER_MEMORY_REGION2 with guest_memfd: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int mem_protect(struct vm_memory *m, uint64_t boot_shared)
{
    m->boot_shared = boot_shared;
    uint64_t len = m->ram - boot_shared;
    if (len == 0)
        return 0;
    if (m->sw_protected) {
        int rc = set_attributes(m, boot_shared, len, true);
        if (rc != 0) {
            vmm_info("error: KVM_SET_MEMORY_ATTRIBUTES(PRIVATE) for [%#" PRIx64 ", %#" PRIx64 "): %s", boot_shared,
                     m->ram, strerror(-rc));
            return -1;
        }
    }
    discard(m, m->memfd, "shared memfd", boot_shared, len); /* nothing was written there; make sure */
    gm_set_pages(&m->gm, boot_shared / PAGE_SIZE, len / PAGE_SIZE, false);
    return 0;
}

int mem_convert(struct vm_memory *m, uint64_t gpa, uint64_t npages, bool to_private)
{
    if (m->sw_protected) {
        int rc = set_attributes(m, gpa, npages * PAGE_SIZE, to_private);
        if (rc != 0)
            return rc;
    }
    /* Runs of pages whose state changes: discard the copy they leave, then record the state. */
    uint64_t p = gpa / PAGE_SIZE, end = p + npages;
    while (p < end) {
        if (gm_page_shared(&m->gm, p) != to_private) { /* already in the target state */
            p++;
            continue;
        }
        uint64_t q = p;
        while (q < end && gm_page_shared(&m->gm, q) == to_private)
            q++;
        uint64_t off = p * PAGE_SIZE, len = (q - p) * PAGE_SIZE;
        if (to_private || !m->sw_protected)
            discard(m, m->memfd, "shared memfd", off, len); /* fallback: both ways (destructive) */
        else
            discard(m, m->gmemfd, "guest_memfd", off, len);
        gm_set_pages(&m->gm, p, q - p, !to_private);
        m->st.pages_changed += q - p;
        p = q;
    }
    return 0;
}

void mem_scan_canary(const struct vm_memory *m, struct canary_log *log)
{
    if (!m->sw_protected) {
        uint64_t p = 0, n;
        while (gm_next_run(&m->gm, true, &p, &n)) {
            canary_scan(log, m->host + p * PAGE_SIZE, n * PAGE_SIZE, p * PAGE_SIZE, CANARY_AT_EXIT, 0);
            p += n;
        }
        return;
    }
    /* The whole shared mapping, extent by extent: holes (private pages, pages never shared) read
     * as zeros and need no scan - nor a page allocated to read them. */
    off_t pos = 0, end = (off_t)m->ram;
    while (pos < end) {
        off_t data = lseek(m->memfd, pos, SEEK_DATA);
        if (data < 0)
            break; /* ENXIO: no data after pos */
        off_t hole = lseek(m->memfd, data, SEEK_HOLE);
        if (hole < 0 || hole > end)
            hole = end;
        canary_scan(log, m->host + data, (size_t)(hole - data), (uint64_t)data, CANARY_AT_EXIT, 0);
        pos = hole;
    }
}
