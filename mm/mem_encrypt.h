/* mem_encrypt.h - per-page private/shared state for confidential guests (interface only).
 *
 * In a confidential guest, memory is private by default: the host cannot read it. Pages the
 * host must see (bounce buffers, virtqueues) are converted to shared with the KVM conversion
 * hypercall (KVM_HC_MAP_GPA_RANGE, Documentation/virt/kvm/x86/hypercalls.rst). A conversion is
 * destructive: after it, the page's previous contents are gone and nothing may rely on them.
 *
 * The implementation arrives with the confidential mode (mm/mem_encrypt.c, hypercall/); until
 * then every page is shared, as in a normal guest.
 */
#ifndef BOUNCE_MM_MEM_ENCRYPT_H
#define BOUNCE_MM_MEM_ENCRYPT_H

#include <stdbool.h>
#include <stdint.h>

enum page_state { PAGE_SHARED = 0, PAGE_PRIVATE = 1 };

/* True when the guest runs with private memory (mode=confidential). */
bool cc_guest_private_memory(void);

/* Convert [phys, phys + npages * 4 KiB) and record the new state. Returns 0, or a negative errno
 * (-EINVAL for a range outside RAM or misaligned, -EIO if the host refused). */
int set_memory_shared(uint64_t phys, uint64_t npages);
int set_memory_private(uint64_t phys, uint64_t npages);

enum page_state page_state_of(uint64_t phys);

#endif
