/* SPDX-License-Identifier: MIT */
/* main.c - tools/vmm: run bounce.elf as a confidential guest on KVM (docs/confidential.md).
 *
 *   vmm [--memory 512M] [--disk FILE] [--disk-readonly] [--cmdline "..."]
 *       [--mode auto|sw-protected|fallback] [--timeout SEC] [--report FILE] bounce.elf
 *
 * The command line: parse the options, the ELF image and the disk; choose the VM type (a
 * KVM_X86_SW_PROTECTED_VM when KVM_CAP_VM_TYPES offers it, else the default VM: the fallback);
 * set up memory, the vCPU and the devices; run; scan for the canary; write the report; exit with
 * 0 pass, 1 guest failed, 2 VMM or usage error, 3 canary found, 4 no exit code (or timeout).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/kvm_hypercall.h"
#include "tools/vmm/cpu.h"
#include "tools/vmm/kvm_compat.h"
#include "tools/vmm/layout.h"
#include "tools/vmm/log.h"
#include "tools/vmm/vmm.h"

#define DEFAULT_TIMEOUT_S 600
#define TSS_ADDR 0xfffbd000ul /* 3 pages below 4 GiB, out of RAM (Intel real-mode emulation) */

static struct vmm vm; /* large (the device's scratch chain): static */
static struct vblk_dev blkdev;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vmm [--memory 512M] [--disk FILE] [--disk-readonly] [--cmdline \"...\"]\n"
            "           [--mode auto|sw-protected|fallback] [--timeout SEC] [--report FILE] bounce.elf\n"
            "Runs bounce.elf as a confidential guest on KVM (docs/confidential.md).\n"
            "  --memory N      guest RAM, K/M/G suffix, 16M..3G, a multiple of 2M (default 512M)\n"
            "  --disk FILE     raw disk image behind virtio-blk over virtio-mmio at 0xd0000000;\n"
            "                  appends \"" VIRTIO_MMIO_CMDLINE "\" to the guest command line\n"
            "  --disk-readonly attach the disk read-only (VIRTIO_BLK_F_RO)\n"
            "  --bad-sector N  reads of sector N fail after delivering the sectors before it (IOERR,\n"
            "                  used len = the data written): partial transfers for tests\n"
            "  --cmdline S     the guest's command line\n"
            "  --mode M        auto (default): sw-protected if KVM offers it, else fallback\n"
            "  --timeout SEC   kill the guest after SEC seconds, exit status 4 (default %d, 0 = none)\n"
            "  --report FILE   write the report (JSON) there; it also goes to stderr as a VMM-REPORT line,\n"
            "                  never to stdout, which carries the guest's console\n"
            "Exit status: 0 the guest passed, 1 it failed, 2 VMM or usage error, 3 canary found,\n"
            "4 the guest stopped without an exit code or timed out.\n",
            DEFAULT_TIMEOUT_S);
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default: break;
    }
    if (*end != '\0' || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        {"memory", required_argument, NULL, 'm'},  {"disk", required_argument, NULL, 'd'},
        {"disk-readonly", no_argument, NULL, 'r'}, {"cmdline", required_argument, NULL, 'c'},
        {"mode", required_argument, NULL, 'M'},    {"timeout", required_argument, NULL, 't'},
        {"report", required_argument, NULL, 'R'},  {"bad-sector", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    vm.ram = RAM_DEFAULT;
    vm.cmdline = "";
    vm.timeout_s = DEFAULT_TIMEOUT_S;
    vm.bad_sector = VBLK_NO_BAD_SECTOR;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (parse_size(optarg, &vm.ram) != 0 || vm.ram < RAM_MIN || vm.ram > RAM_MAX || vm.ram % (2u << 20)) {
                fprintf(stderr, "vmm: --memory %s: expected 16M..3G, a multiple of 2M\n", optarg);
                return -1;
            }
            break;
        case 'd': vm.disk_path = optarg; break;
        case 'r': vm.disk_readonly = true; break;
        case 'c': vm.cmdline = optarg; break;
        case 'R': vm.report_path = optarg; break;
        case 'M':
            if (strcmp(optarg, "auto") == 0)
                vm.mode = MODE_AUTO;
            else if (strcmp(optarg, "sw-protected") == 0)
                vm.mode = MODE_SW_PROTECTED;
            else if (strcmp(optarg, "fallback") == 0)
                vm.mode = MODE_FALLBACK;
            else {
                fprintf(stderr, "vmm: --mode %s: expected auto, sw-protected or fallback\n", optarg);
                return -1;
            }
            break;
        case 't': {
            char *end;
            unsigned long t = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || t > 86400) {
                fprintf(stderr, "vmm: --timeout %s: expected seconds (0..86400)\n", optarg);
                return -1;
            }
            vm.timeout_s = (unsigned)t;
            break;
        }
        case 'B': {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 0);
            if (*optarg == '\0' || *optarg == '-' || *end != '\0' || errno || s == VBLK_NO_BAD_SECTOR) {
                fprintf(stderr, "vmm: --bad-sector %s: expected a sector number\n", optarg);
                return -1;
            }
            vm.bad_sector = s;
            break;
        }
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return -1;
    }
    vm.elf_path = argv[optind];
    return 0;
}

static const uint8_t *map_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        vmm_info("error: cannot read %s: %s", path, fd < 0 || errno ? strerror(errno) : "empty");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        vmm_info("error: mmap %s: %s", path, strerror(errno));
        return NULL;
    }
    *size = (size_t)st.st_size;
    return p;
}

/* The guest image holds "BOUNCE-CANARY:" as a constant: a match there is not a leak. */
static bool canary_in_image(void *ctx, uint64_t gpa)
{
    const struct pvh_image *img = ctx;
    return pvh_image_has_bytes(img, gpa, CANARY_PREFIX, CANARY_PREFIX_LEN);
}

static void canary_before_write(void *ctx, uint64_t request, uint64_t gpa, const uint8_t *host, size_t len)
{
    canary_scan(ctx, host, len, gpa, CANARY_IN_REQUEST, request);
}

static int choose_vm_type(void)
{
    int types = ioctl(vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
    bool offered = types > 0 && (types & (1 << KVM_X86_SW_PROTECTED_VM));
    vmm_info("KVM_CAP_VM_TYPES: %#x (KVM_X86_SW_PROTECTED_VM %s)", types > 0 ? types : 0,
             offered ? "offered" : "not offered");
    if (vm.mode == MODE_SW_PROTECTED && !offered) {
        vmm_info("error: --mode sw-protected, but this KVM does not offer KVM_X86_SW_PROTECTED_VM "
                 "(CONFIG_KVM_SW_PROTECTED_VM, Linux >= 6.8 with the TDP MMU)");
        return -1;
    }
    vm.sw_protected = vm.mode == MODE_SW_PROTECTED || (vm.mode == MODE_AUTO && offered);
    if (vm.sw_protected)
        vmm_info("mode: sw-protected: KVM_X86_SW_PROTECTED_VM, private memory in a guest_memfd the host cannot map");
    else
        vmm_info("mode: default (fallback): %s; private/shared is the VMM's bookkeeping only and the host CAN read "
                 "private memory (the exit scan covers the shared pages only)",
                 vm.mode == MODE_FALLBACK ? "--mode fallback" : "no sw-protected VM type on this KVM");
    return 0;
}

/* The kernel image and the command line it gets (written into guest memory by pvh_load()). */
static int load_kernel(char *cmdline, size_t cmdline_size)
{
    char err[160];
    size_t elf_size;
    const uint8_t *elf = map_file(vm.elf_path, &elf_size);
    if (elf == NULL)
        return -1;
    if (pvh_parse(&vm.img, elf, elf_size, err, sizeof(err)) != 0) {
        vmm_info("error: %s: %s", vm.elf_path, err);
        return -1;
    }
    if (vm.img.boot_shared >= vm.ram) {
        vmm_info("error: %s needs [0, %#" PRIx64 ") boot-shared; --memory %" PRIu64 " MiB leaves nothing above it",
                 vm.elf_path, vm.img.boot_shared, (vm.ram >> 20));
        return -1;
    }
    /* With a disk the guest is told where the device is, unless the command line already does. */
    bool append = vm.disk_path && strstr(vm.cmdline, "virtio_mmio.device=") == NULL;
    int cl = snprintf(cmdline, cmdline_size, "%s%s%s", vm.cmdline, append && *vm.cmdline ? " " : "",
                      append ? VIRTIO_MMIO_CMDLINE : "");
    if (cl < 0 || (size_t)cl >= PVH_CMDLINE_MAX) {
        vmm_info("error: the guest command line is longer than %u bytes", PVH_CMDLINE_MAX - 1);
        return -1;
    }
    return 0;
}

/* /dev/kvm, the VM (sw-protected when asked and offered), and the hypercall exit it needs. */
static int create_vm(void)
{
    vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm.kvm_fd < 0) {
        vmm_info("error: /dev/kvm: %s", strerror(errno));
        return -1;
    }
    if (ioctl(vm.kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        vmm_info("error: KVM API version is not %d", KVM_API_VERSION);
        return -1;
    }
    if (choose_vm_type() != 0)
        return -1;
    do
        vm.vm_fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, vm.sw_protected ? KVM_X86_SW_PROTECTED_VM : KVM_X86_DEFAULT_VM);
    while (vm.vm_fd < 0 && errno == EINTR);
    if (vm.vm_fd < 0) {
        vmm_info("error: KVM_CREATE_VM: %s", strerror(errno));
        return -1;
    }
    int hc = ioctl(vm.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_HYPERCALL);
    struct kvm_enable_cap cap = {.cap = KVM_CAP_EXIT_HYPERCALL, .args = {1ull << KVM_HC_MAP_GPA_RANGE}};
    if (hc <= 0 || !(hc & (1 << KVM_HC_MAP_GPA_RANGE)) || ioctl(vm.vm_fd, KVM_ENABLE_CAP, &cap) != 0) {
        vmm_info("error: KVM_CAP_EXIT_HYPERCALL for KVM_HC_MAP_GPA_RANGE is not available (%s)",
                 hc <= 0 ? "not offered" : strerror(errno));
        return -1;
    }
    if (ioctl(vm.vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) != 0)
        vmm_info("note: KVM_SET_TSS_ADDR: %s (only Intel hosts without unrestricted guests need it)", strerror(errno));
    return 0;
}

/* Guest memory, the kernel in it, everything above the boot-shared region private. */
static int setup_memory(const char *cmdline)
{
    char err[160];
    if (mem_create(&vm.mem, vm.vm_fd, vm.ram, vm.sw_protected) != 0)
        return -1;
    if (pvh_load(&vm.img, vm.mem.host, vm.ram, cmdline, err, sizeof(err)) != 0) {
        vmm_info("error: %s: %s", vm.elf_path, err);
        return -1;
    }
    if (mem_protect(&vm.mem, vm.img.boot_shared) != 0)
        return -1;
    vmm_info("memory: %" PRIu64 " MiB: [0, %#" PRIx64 ") shared at boot (S; image [%#" PRIx64 ", %#" PRIx64
             "), start info %#llx, memory map "
             "%#llx, command line %#llx), [%#" PRIx64 ", %#" PRIx64 ") private",
             (vm.ram >> 20), vm.img.boot_shared, vm.img.seg[0].paddr, vm.img.image_end, PVH_START_INFO_GPA,
             PVH_MEMMAP_GPA, PVH_CMDLINE_GPA, vm.img.boot_shared, vm.ram);
    vmm_info("kernel: %s, PVH entry %#" PRIx64 "; command line \"%s\"", vm.elf_path, vm.img.entry, cmdline);
    return 0;
}

/* The vCPU: its kvm_run, CPUID (with the TSC frequency and the hypercall feature), the PVH entry. */
static int setup_vcpu(void)
{
    vm.vcpu_fd = ioctl(vm.vm_fd, KVM_CREATE_VCPU, 0);
    int run_size = ioctl(vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vm.vcpu_fd < 0 || run_size < (int)sizeof(struct kvm_run)) {
        vmm_info("error: KVM_CREATE_VCPU / KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        return -1;
    }
    vm.run_size = (size_t)run_size;
    vm.run = mmap(NULL, vm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm.vcpu_fd, 0);
    if (vm.run == MAP_FAILED) {
        vm.run = NULL;
        vmm_info("error: mmap of kvm_run: %s", strerror(errno));
        return -1;
    }
    if (cpu_setup_cpuid(vm.kvm_fd, vm.vcpu_fd, &vm.tsc_khz) != 0 ||
        cpu_setup_pvh_entry(vm.vcpu_fd, vm.img.entry, PVH_START_INFO_GPA) != 0)
        return -1;
    vmm_info("cpu: 1 vCPU, TSC %u kHz (CPUID 0x40000010), KVM_FEATURE_HC_MAP_GPA_RANGE set", vm.tsc_khz);

    return 0;
}

/* The devices: serial, isa-debug-exit and the I/O APIC's registers; virtio-blk with a disk. */
static void setup_devices(void)
{
    ioport_init(&vm.io, stdout);
    ioapic_init(&vm.ioapic);
    vm.canary.ignore = canary_in_image;
    vm.canary.ignore_ctx = &vm.img;
    if (vm.disk_path) {
        struct vblk_backend be = disk_backend(&vm.disk);
        vblk_dev_init(&blkdev, &vm.mem.gm, &be, vm.disk.sectors, vm.disk.read_only);
        blkdev.bad_sector = vm.bad_sector;
        blkdev.before_write = canary_before_write;
        blkdev.hook_ctx = &vm.canary;
        vm.blk = &blkdev;
        vmmio_init(&vm.vmmio, &blkdev);
        vm.have_disk = true;
        vmm_info("device: virtio-blk over virtio-mmio at %#llx (+%#llx, irq %d unused: polled): %s, %" PRIu64
                 " sectors, %s",
                 VIRTIO_MMIO_BASE, VIRTIO_MMIO_SIZE, VIRTIO_MMIO_IRQ, vm.disk_path, vm.disk.sectors,
                 vm.disk.read_only ? "read-only" : "read-write");
    }
    vmm_info("devices: COM1 serial -> stdout, isa-debug-exit at %#x, I/O APIC registers at %#llx; no PIT, no PCI",
             PORT_DEBUG_EXIT, IOAPIC_BASE);
}

static int setup(void)
{
    char cmdline[PVH_CMDLINE_MAX + 64];
    if (load_kernel(cmdline, sizeof(cmdline)) != 0)
        return -1;
    if (vm.disk_path && disk_open(&vm.disk, vm.disk_path, vm.disk_readonly) != 0)
        return -1;
    if (create_vm() != 0 || setup_memory(cmdline) != 0 || setup_vcpu() != 0)
        return -1;
    setup_devices();
    return 0;
}

static int exit_status(void)
{
    if (vm.end == END_VMM_ERROR)
        return VMM_EXIT_ERROR;
    if (vm.canary.found)
        return VMM_EXIT_CANARY;
    if (vm.end == END_GUEST_EXIT)
        return vm.io.exit_code == 0 ? VMM_EXIT_PASS : VMM_EXIT_GUEST_FAILED;
    return VMM_EXIT_NO_EXIT_CODE;
}

int main(int argc, char **argv)
{
    vm.kvm_fd = vm.vm_fd = vm.vcpu_fd = -1;
    vm.mem.memfd = vm.mem.gmemfd = -1;
    vm.disk.fd = -1;
    if (parse_args(argc, argv) != 0)
        return VMM_EXIT_ERROR;
    if (setup() != 0) {
        vmm_end(&vm, END_VMM_ERROR, "setup failed");
        report_write(&vm, VMM_EXIT_ERROR);
        return VMM_EXIT_ERROR;
    }
    vmm_info("running (timeout %u s)", vm.timeout_s);
    vmm_run(&vm);
    vmm_info("%s", vm.end_msg);
    mem_scan_canary(&vm.mem, &vm.canary);
    int status = exit_status();
    vmm_info("canary: %" PRIu64 " found (the first %u recorded), %" PRIu64
             " matches of the image's own constant ignored; "
             "vm_type %s; exit status %d",
             vm.canary.found, vm.canary.nwhere, vm.canary.ignored,
             vm.sw_protected ? "sw-protected" : "default (fallback)", status);
    if (report_write(&vm, status) != 0)
        return VMM_EXIT_ERROR;
    return status;
}
