# SPDX-License-Identifier: MIT
# bounce - build, run and test. `make help` lists the targets.
#
# Guest objects are compiled once (freestanding, PIC) and linked twice: into a UEFI application
# (GNU-EFI) and into an ELF with a PVH note. Both link newlib, built from Debian's newlib-source
# into build/newlib on first use.

BUILD     := build
NEWLIB    := $(BUILD)/newlib/x86_64-elf
GCC_INC   := $(shell gcc -print-file-name=include)
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
PYTHON    := python3
# Short build lines by default (as kbuild); V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-8s %s\n' $(1) $(2)
endif

CC        := gcc
LD        := ld
OBJCOPY   := objcopy

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
GUEST_CFLAGS := -std=c11 -O2 -g $(WARN) -ffreestanding -fpic -fno-stack-protector -fshort-wchar \
	-mno-red-zone -maccumulate-outgoing-args -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -nostdinc -isystem $(NEWLIB)/include \
	-isystem $(GCC_INC) -I. -DBOUNCE_VERSION='"$(VERSION)"' -MMD -MP
EFI_CFLAGS := -isystem /usr/include/efi -isystem /usr/include/efi/x86_64 -DGNU_EFI_USE_MS_ABI
HOST_CFLAGS := -std=c11 -g -O1 $(WARN) -Wno-missing-prototypes -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -I. -MMD -MP

GUEST_SRCS := $(filter-out kernel/kallsyms_empty.c,$(wildcard kernel/*.c mm/*.c dma/*.c drivers/*.c ktest/*.c init/*.c \
	hypercall/*.c abi/*.c lib/*.c tests/guest/*.c)) kernel/entry.S kernel/smp_trampoline.S
EFI_SRCS   := kernel/boot/efi_main.c kernel/boot/efi_memmap.c
PVH_SRCS   := kernel/boot/pvh_entry.S kernel/boot/pvh.c kernel/boot/pvh_check.c

DISKS      := $(BUILD)/disks/data.img $(BUILD)/disks/scratch.img

gobj = $(patsubst %,$(BUILD)/guest/%.o,$(basename $(1)))
GUEST_OBJS := $(call gobj,$(GUEST_SRCS))
EFI_OBJS   := $(call gobj,$(EFI_SRCS))
PVH_OBJS   := $(call gobj,$(PVH_SRCS))
LIBS       := -L$(NEWLIB)/lib -lc -lm

.PHONY: all disks deps run test host-tests build-host-tests build-fuzz fuzz bench bench-report bench-blk kvm-test kvm-report kvm-soak clean \
	distclean help check-source format format-check
all: $(BUILD)/bounce.efi $(BUILD)/bounce.elf $(BUILD)/tools/kvm-probe $(DISKS) $(BUILD)/tools/vmm

help:
	@echo "make            build build/bounce.efi, build/bounce.elf and the host tools"
	@echo "make deps       install missing Debian packages (run and test do this first)"
	@echo "make run        boot the guest via OVMF, then via PVH (CMDLINE=, MACHINE=, BOOT=efi|pvh, SMP=n)"
	@echo "make test       host unit tests + in-guest suites on every boot path; ends 'N passed, N failed'"
	@echo "make host-tests only the host unit tests (cmocka, ASan/UBSan)"
	@echo "make fuzz       libFuzzer targets, FUZZ_RUNS iterations each (default 200000)"
	@echo "make bench      DMA layer benchmark (native): table, then one JSON line"
	@echo "make bench-report  keep the bench figures (docs/bench.json) and regenerate docs/bounce.md's policy table"
	@echo "make bench-blk  block read MB/s and IOPS per driver and policy, in the guest: table + JSON"
	@echo "make kvm-test   the KVM host rig: guest on real KVM, faults per page by policy (build/kvm/)"
	@echo "make kvm-report the README's rig tables from the last rig run (docs/kvm-results.json)"
	@echo "make kvm-soak   the rig N=10 times: per scenario, how many runs were green (build/kvm/soak/)"
	@echo "make check-source  includes point down the layers (tools/check-layers.py --print: the table),"
	@echo "                pages and slots are named (tools/check-units.py)"
	@echo "make format     lay the C files out as .clang-format says"
	@echo "make format-check  layout, SPDX licence lines, .editorconfig's rules (make test runs it)"

deps:
	@tools/deps.sh

$(NEWLIB)/lib/libc.a: tools/build-newlib.sh
	tools/build-newlib.sh $(BUILD)/newlib

# Every guest object needs newlib's headers, so newlib is built first.
$(BUILD)/guest/%.o: %.c | $(NEWLIB)/lib/libc.a
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(BUILD)/guest/%.o: %.S | $(NEWLIB)/lib/libc.a
	@mkdir -p $(dir $@)
	$(call say,AS,$<)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(BUILD)/guest/kernel/boot/efi_main.o: kernel/boot/efi_main.c | $(NEWLIB)/lib/libc.a
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GUEST_CFLAGS) $(EFI_CFLAGS) -c $< -o $@

# Two-pass links: pass 1 with an empty symbol table, then the real one (tools/gen-kallsyms.py).
EFI_LINK = $(LD) -nostdlib -shared -Bsymbolic --no-undefined -z noexecstack -T /usr/lib/elf_x86_64_efi.lds \
	/usr/lib/crt0-efi-x86_64.o $(GUEST_OBJS) $(EFI_OBJS) $(1) $(LIBS) -L/usr/lib -lgnuefi -o $(2)
PVH_LINK = $(LD) -nostdlib -static -z noexecstack -z max-page-size=4096 -T kernel/boot/pvh.lds \
	$(GUEST_OBJS) $(PVH_OBJS) $(1) $(LIBS) -o $(2)

$(BUILD)/guest/kallsyms_empty.o: kernel/kallsyms_empty.c | $(NEWLIB)/lib/libc.a
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/efi/pass1.so: $(GUEST_OBJS) $(EFI_OBJS) $(BUILD)/guest/kallsyms_empty.o
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(call EFI_LINK,$(BUILD)/guest/kallsyms_empty.o,$@)
$(BUILD)/pvh/pass1.elf: $(GUEST_OBJS) $(PVH_OBJS) $(BUILD)/guest/kallsyms_empty.o kernel/boot/pvh.lds
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(call PVH_LINK,$(BUILD)/guest/kallsyms_empty.o,$@)
$(BUILD)/%/kallsyms.c: $(BUILD)/%/pass1.so
	$(call say,KSYMS,$@)
	$(Q)$(PYTHON) tools/gen-kallsyms.py $< $@
$(BUILD)/%/kallsyms.c: $(BUILD)/%/pass1.elf
	$(call say,KSYMS,$@)
	$(Q)$(PYTHON) tools/gen-kallsyms.py $< $@
$(BUILD)/%/kallsyms.o: $(BUILD)/%/kallsyms.c
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/efi/bounce.so: $(BUILD)/efi/pass1.so $(BUILD)/efi/kallsyms.o
	$(call say,LD,$@)
	$(Q)$(call EFI_LINK,$(BUILD)/efi/kallsyms.o,$@)
	$(Q)$(PYTHON) tools/gen-kallsyms.py --check $@ $(BUILD)/efi/kallsyms.c
$(BUILD)/bounce.efi: $(BUILD)/efi/bounce.so
	$(call say,OBJCOPY,$@)
	$(Q)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j .rel.* -j .rela.* \
		-j .reloc --target efi-app-x86_64 --subsystem=10 $< $@
$(BUILD)/bounce.elf: $(BUILD)/pvh/pass1.elf $(BUILD)/pvh/kallsyms.o
	$(call say,LD,$@)
	$(Q)$(call PVH_LINK,$(BUILD)/pvh/kallsyms.o,$@)
	$(Q)$(PYTHON) tools/gen-kallsyms.py --check $@ $(BUILD)/pvh/kallsyms.c

# ---- host tools ----
$(BUILD)/tools/kvm-probe: tools/kvm-probe.c
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(CC) -std=c11 -O2 $(WARN) -o $@ $<
# tools/vmm: the confidential-guest VMM on the KVM API (docs/confidential.md).
VMM_SRCS := $(wildcard tools/vmm/*.c)
$(BUILD)/tools/vmm: $(VMM_SRCS) lib/json.c $(wildcard tools/vmm/*.h) $(wildcard abi/*.h) lib/json.h
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)$(CC) -std=c11 -O2 -g $(WARN) -I. -o $@ $(VMM_SRCS) lib/json.c
$(BUILD)/tools/mkdisk: tools/mkdisk.c abi/testdisk.c abi/testdisk.h
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(CC) -std=c11 -O2 $(WARN) -I. -o $@ tools/mkdisk.c abi/testdisk.c

# Test disks, rebuilt from tools/mkdisk rather than stored: a 32 MiB data disk and a scratch disk.
$(BUILD)/disks/data.img: $(BUILD)/tools/mkdisk
	@mkdir -p $(dir $@)
	$(call say,MKDISK,$@)
	$(Q)$(BUILD)/tools/mkdisk data $@ 32
$(BUILD)/disks/scratch.img: $(BUILD)/tools/mkdisk
	@mkdir -p $(dir $@)
	$(call say,MKDISK,$@)
	$(Q)$(BUILD)/tools/mkdisk scratch $@ 8
disks: $(DISKS)

# ---- host unit tests (native, ASan + UBSan, cmocka) ----
DMA_HOST_SRCS := lib/json.c dma/swiotlb.c dma/mapping.c dma/names.c dma/trace.c dma/records.c dma/convert.c tools/hostlib/dma_fake_platform.c
HOST_TESTS := memrange json frame_alloc cmdline paging swiotlb dma_api ide_prd virtqueue virtio_blk_cfg virtio_blk_done \
	vmm_virtio vmm_pvh vmm_report acpi_madt \
	hypercall acpi_fadt ide_ata efi_memmap pvh_check ide_identify pci_caps ide_ports clock_measure \
	virtio_mmio virtio_pci pci
host_srcs_memrange    := lib/memrange.c
host_srcs_json        := lib/json.c
host_srcs_frame_alloc := mm/frame_alloc.c lib/memrange.c
host_srcs_cmdline     := kernel/cmdline.c
host_srcs_paging      := mm/paging.c
host_srcs_swiotlb     := $(DMA_HOST_SRCS)
host_srcs_dma_api     := $(DMA_HOST_SRCS)
host_srcs_ide_prd     := drivers/ide_prd.c
host_srcs_virtqueue   := drivers/virtqueue.c
host_srcs_virtio_blk_cfg := drivers/virtio_blk_cfg.c
host_srcs_virtio_blk_done := drivers/virtio_blk_done.c
VMM_PURE_SRCS := tools/vmm/virtio_blk.c tools/vmm/virtio_mmio.c tools/vmm/guestmem.c tools/vmm/canary.c \
	tools/vmm/mapgpa.c tools/vmm/log.c
host_srcs_vmm_virtio  := $(VMM_PURE_SRCS) drivers/virtqueue.c
host_srcs_vmm_pvh     := tools/vmm/pvh.c
host_srcs_vmm_report  := tools/vmm/report.c tools/vmm/guestmem.c tools/vmm/log.c lib/json.c
host_srcs_hypercall   := hypercall/map_gpa.c
host_srcs_acpi_fadt   := drivers/acpi_fadt.c
host_srcs_acpi_madt   := drivers/acpi_madt.c
host_srcs_efi_memmap  := kernel/boot/efi_memmap.c lib/memrange.c
host_srcs_pvh_check   := kernel/boot/pvh_check.c
host_srcs_ide_identify := drivers/ide_identify.c
host_srcs_pci_caps    := drivers/pci_caps.c tests/host/fake_pci_cfg.c
host_srcs_ide_ports   := drivers/ide_ports.c
host_srcs_clock_measure := kernel/clock_measure.c
# A driver that touches ports runs against a fake device: tests/host/fakes/kernel/cpu.h replaces
# the real header (it comes first on the include path), fake_ide.c answers the ports.
host_srcs_ide_ata     := drivers/ide_ata.c drivers/ide_prd.c drivers/refusals.c tests/host/fake_ide.c tests/host/fake_clock.c
host_cflags_ide_ata   := -Itests/host/fakes
# A transport's test includes its source, to reach its discovery and ops as the driver does.
host_srcs_virtio_mmio := drivers/refusals.c tests/host/fake_mmio.c tests/host/fake_virtio_mmio.c tests/host/fake_clock.c \
	tests/host/fake_irq.c
host_incl_virtio_mmio := drivers/virtio_mmio.c
host_cflags_virtio_mmio := -Itests/host/fakes
host_srcs_virtio_pci  := drivers/refusals.c drivers/pci_caps.c tests/host/fake_pci_cfg.c tests/host/fake_mmio.c \
	tests/host/fake_virtio_pci.c tests/host/fake_clock.c tests/host/fake_irq.c
host_incl_virtio_pci  := drivers/virtio_pci.c
host_cflags_virtio_pci := -Itests/host/fakes
host_srcs_pci         := drivers/pci_bar.c drivers/pci_caps.c tests/host/fake_pci_bus.c tests/host/fake_mmio.c
host_incl_pci         := drivers/pci.c
host_cflags_pci       := -Itests/host/fakes
HOST_TEST_BINS := $(patsubst %,$(BUILD)/host/test_%,$(HOST_TESTS))

.SECONDEXPANSION:
$(BUILD)/host/test_%: tests/host/test_%.c $$(host_srcs_$$*) $$(host_incl_$$*) tests/host/host_test.h
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)$(CC) $(host_cflags_$*) $(HOST_CFLAGS) -o $@ $< $(host_srcs_$*) -lcmocka
	@# The .d names a source next to its headers; the sources are listed above, and a source that
	@# moved would leave an old .d naming a file no rule makes: keep the headers only.
	@sed -i -E 's# [^ ]+\.c\b##g' $@.d

build-host-tests: $(HOST_TEST_BINS)
host-tests: build-host-tests
	@for t in $(HOST_TEST_BINS); do echo "== $$t"; $$t || exit 1; done

# ---- fuzzing (libFuzzer, clang from Debian) ----
FUZZ_CFLAGS := -std=c11 -g -O1 $(WARN) -Wno-missing-prototypes -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -I.
FUZZ_TARGETS := dma virtqueue vmm_virtio acpi_fadt acpi_madt ide_identify pci_caps pci_bar
fuzz_srcs_dma := $(DMA_HOST_SRCS)
fuzz_srcs_virtqueue := drivers/virtqueue.c
fuzz_srcs_vmm_virtio := $(VMM_PURE_SRCS)
fuzz_srcs_acpi_fadt := drivers/acpi_fadt.c
fuzz_srcs_acpi_madt := drivers/acpi_madt.c
fuzz_srcs_ide_identify := drivers/ide_identify.c
fuzz_srcs_pci_caps := drivers/pci_caps.c
fuzz_srcs_pci_bar := drivers/pci_bar.c
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_srcs_$$*)
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< $(fuzz_srcs_$*)
build-fuzz: $(FUZZ_BINS)
FUZZ_RUNS ?= 200000
fuzz: build-fuzz
	@rc=0; for f in $(FUZZ_BINS); do tools/fuzz-tap.sh $$f $(FUZZ_RUNS) || rc=1; done; exit $$rc

# ---- benchmarks (native, optimized, no sanitizers) ----
$(BUILD)/bench/bench_dma: tools/bench/bench_dma.c $(DMA_HOST_SRCS)
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)$(CC) -std=c11 -O2 -g $(WARN) -Wno-missing-prototypes -I. -o $@ $^ -lm
bench: $(BUILD)/bench/bench_dma
	@$(BUILD)/bench/bench_dma
# Keep this machine's figures (docs/bench.json, the JSON line) and regenerate the policy table.
bench-report: $(BUILD)/bench/bench_dma
	@$(BUILD)/bench/bench_dma | tail -n 1 > docs/bench.json
	@$(PYTHON) tools/docs/policy_table.py docs/kvm-results.json docs/bench.json --update docs/bounce.md
bench-blk: deps all
	@$(PYTHON) tools/bench-blk.py
# The KVM host rig: real KVM (nested under TCG here, direct on a KVM host), host-side observers.
# L1_KERNEL=6.12.118+deb12-amd64 pins the stock L1 kernel (a version the archive dropped comes from the cache).
kvm-test: deps all
	@$(PYTHON) tools/rig/rig.py --tap $(if $(L1_KERNEL),--l1-kernel $(L1_KERNEL))
# The rig N times (default 10): per scenario, in how many runs every check held (build/kvm/soak/).
kvm-soak: deps all
	@$(PYTHON) tools/rig/soak.py -n $(or $(N),10) $(if $(L1_KERNEL),-- --l1-kernel $(L1_KERNEL))
# The README's rig tables, generated from the last rig run's results (kept as docs/kvm-results.json).
kvm-report:
	@test -f $(BUILD)/kvm/results.json || { echo "no $(BUILD)/kvm/results.json: run make kvm-test first"; exit 1; }
	cp $(BUILD)/kvm/results.json docs/kvm-results.json
	@$(PYTHON) tools/rig/report.py docs/kvm-results.json --update README.md
	@$(PYTHON) tools/docs/policy_table.py docs/kvm-results.json docs/bench.json --update docs/bounce.md

# ---- run and test ----
BOOT    ?=
MACHINE ?= q35
MEM     ?= 512M
CMDLINE ?=
SMP ?= 1
# The data disk rides along read-only as a virtio-blk-pci device: a device to see (its probe, its
# interrupt route with CMDLINE=io=irq) and for tests=blk.
run: deps all disks
	@set -e; for b in $(if $(BOOT),$(BOOT),efi pvh); do \
		echo "==== make run: booting via $$b on -machine $(MACHINE) -m $(MEM) ===="; \
		$(PYTHON) tools/run --boot $$b --machine $(MACHINE) --memory $(MEM) --smp $(SMP) --cmdline "$(CMDLINE)" \
			--drive "if=none,id=data,file=$(BUILD)/disks/data.img,format=raw,readonly=on" \
			--device "virtio-blk-pci,drive=data"; \
	done

test: deps
	@tools/test-all.sh

check-source:
	@$(PYTHON) tools/check-layers.py && $(PYTHON) tools/check-units.py
format:
	@find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print | xargs clang-format -i
format-check:
	@$(PYTHON) tools/format-check.py

clean:
	rm -rf $(BUILD)/guest $(BUILD)/efi $(BUILD)/pvh $(BUILD)/host $(BUILD)/tools $(BUILD)/test-logs \
		$(BUILD)/fuzz $(BUILD)/bench \
		$(BUILD)/bounce.efi $(BUILD)/bounce.elf
distclean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/guest $(BUILD)/host -name '*.d' 2>/dev/null)
.SECONDARY:
