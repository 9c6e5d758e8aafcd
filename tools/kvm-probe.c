/* SPDX-License-Identifier: MIT */
/* kvm-probe - does /dev/kvm run guests natively, or only exist?
 *
 * Some hosts expose /dev/kvm while executing guests by instruction emulation (~1 us per
 * instruction), which makes OVMF fail and `vmcall` hang. So checking that /dev/kvm opens is not
 * enough: this runs a real-mode loop of 10 million iterations (20 M instructions) through the
 * KVM API (Documentation/virt/kvm/api.rst) and calls KVM usable only if it reaches HLT within one
 * second. Exit status: 0 usable, 1 not usable (the reason on stdout).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define ITERATIONS 10000000u
#define LIMIT_SECONDS 1

static void on_alarm(int sig) { (void)sig; }

static int fail(const char *why)
{
    printf("kvm-probe: not usable: %s%s%s\n", why, errno ? ": " : "", errno ? strerror(errno) : "");
    return 1;
}

int main(void)
{
    /* mov ecx, ITERATIONS; 1: dec ecx; jnz 1b; hlt  (16-bit code with operand-size prefixes) */
    unsigned char code[] = {0x66,
                            0xb9,
                            ITERATIONS & 0xff,
                            (ITERATIONS >> 8) & 0xff,
                            (ITERATIONS >> 16) & 0xff,
                            ITERATIONS >> 24,
                            0x66,
                            0x49,
                            0x75,
                            0xfc,
                            0xf4};
    errno = 0;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return fail("cannot open /dev/kvm");
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        return fail("unexpected KVM API version");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        return fail("KVM_CREATE_VM failed");
    size_t mem_size = 0x10000;
    void *mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return fail("mmap failed");
    memcpy(mem, code, sizeof(code));
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = mem_size, .userspace_addr = (unsigned long)mem};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail("KVM_SET_USER_MEMORY_REGION failed");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        return fail("KVM_CREATE_VCPU failed");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        return fail("mmap of kvm_run failed");
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return fail("KVM_GET_SREGS failed");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        return fail("KVM_SET_SREGS failed");
    struct kvm_regs regs = {.rip = 0, .rflags = 2};
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return fail("KVM_SET_REGS failed");

    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: KVM_RUN returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    alarm(LIMIT_SECONDS);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = ioctl(vcpu, KVM_RUN, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    alarm(0);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (rc < 0 && errno == EINTR) {
        errno = 0;
        printf("kvm-probe: not usable: %u loop iterations took over %d s (instructions are emulated)\n", ITERATIONS,
               LIMIT_SECONDS);
        return 1;
    }
    if (rc < 0)
        return fail("KVM_RUN failed");
    if (run->exit_reason != KVM_EXIT_HLT) {
        errno = 0;
        printf("kvm-probe: not usable: guest stopped with exit reason %u instead of HLT\n", run->exit_reason);
        return 1;
    }
    printf("kvm-probe: usable: %u loop iterations in %.1f ms\n", ITERATIONS, ms);
    return 0;
}
