# One entry point: make, make iso, make run, make test, make check, make size, make fuzz, make clean.
BUILD   ?= build
CC      := gcc
LD      := ld
CMDLINE ?= loglevel=info
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)

HV_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fcf-protection=none -fno-common -MMD -MP
HV_ASFLAGS := -g -Werror -MMD -MP -D__ASSEMBLY__
HV_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments

# every floor of hv/ (see scripts/check-floors.py): lib platform devices vmx dom0 hypercall, main.c
HV_SRCS := $(wildcard boot/*.S) $(wildcard hv/*.c hv/*/*.c hv/*/*.S)
HV_OBJS := $(patsubst %,$(BUILD)/%.o,$(HV_SRCS))
# hv-test.elf: the same hypervisor plus its boot-time self-tests and benchmark (command line
# selftest, bench) and their guests; hv.elf, the image users boot, has none of them
TEST_OBJS := $(BUILD)/tests/hv/selftest.c.o $(BUILD)/guests/blobs.S.o
$(BUILD)/tests/hv/selftest.c.o: HV_CFLAGS += -Ihv

# self-test guests: flat binaries loaded at guest-physical 0x1000, linked into the image
GUESTS := $(basename $(notdir $(wildcard guests/selftest/*.S)))
GUEST_BINS := $(GUESTS:%=$(BUILD)/guests/%.bin)

.PHONY: all iso run test check size fuzz fuzz-short unit system bench stages boottime dom0 clean format test-qemu install uninstall \
	test-upstream referee conform
all: $(BUILD)/hv.elf $(BUILD)/hv-test.elf $(BUILD)/hv-reloc.elf

$(BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HV_CFLAGS) -c $< -o $@

$(BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(HV_ASFLAGS) -c $< -o $@

$(BUILD)/guests/%.bin: guests/selftest/%.S guests/selftest/guest.h
	@mkdir -p $(dir $@)
	@echo "  GUEST   $<"
	$(Q)$(CC) -c -Iguests/selftest -o $(@:.bin=.o) $<
	$(Q)$(LD) -Ttext=0x1000 -e _start --oformat binary -o $@ $(@:.bin=.o)

$(BUILD)/guests/blobs.S: $(GUEST_BINS) Makefile
	$(Q)for g in $(GUESTS); do \
		printf '\t.section .rodata\n\t.balign 16\n\t.global guest_%s_start, guest_%s_end\n' $$g $$g; \
		printf 'guest_%s_start:\n\t.incbin "%s"\nguest_%s_end:\n' $$g $(BUILD)/guests/$$g.bin $$g; \
	done > $@

$(BUILD)/guests/blobs.S.o: $(BUILD)/guests/blobs.S
	$(Q)$(CC) $(HV_ASFLAGS) -c $< -o $@

$(BUILD)/hv.elf: $(HV_OBJS) boot/hv.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(HV_LDFLAGS) -T boot/hv.ld -o $@ $(HV_OBJS)

$(BUILD)/hv-test.elf: $(HV_OBJS) $(TEST_OBJS) boot/hv.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(HV_LDFLAGS) -T boot/hv.ld -o $@ $(HV_OBJS) $(TEST_OBJS)

# hv-reloc.elf: hv.elf whose multiboot2 header asks GRUB for 8 MiB or above, so that it runs
# 6 MiB above where it is linked (the firmware-took-2-MiB case; system case bochs_relocated)
$(BUILD)/boot/mb2hdr-reloc.o: boot/mb2hdr.S
	$(Q)$(CC) $(HV_ASFLAGS) -DHV_RELOC_MIN=0x800000 -c $< -o $@

$(BUILD)/hv-reloc.elf: $(filter-out $(BUILD)/boot/mb2hdr.S.o,$(HV_OBJS)) $(BUILD)/boot/mb2hdr-reloc.o boot/hv.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(HV_LDFLAGS) -T boot/hv.ld -o $@ $(filter %.o,$^)

# dom0: the kernel is built once per configuration, cached outside the clone (scripts/dom0-kernel.sh)
DOM0 := $(BUILD)/dom0
DOM0_CMDLINE ?= console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog
dom0: $(DOM0)/vmlinux $(DOM0)/initramfs.cpio
$(DOM0)/vmlinux: guests/dom0/dom0.config scripts/dom0-kernel.sh
	@mkdir -p $(dir $@)
	kdir=$$(scripts/dom0-kernel.sh | tail -n 1) && echo "$$kdir" > $(DOM0)/kdir && \
		objcopy --strip-all "$$kdir/vmlinux" $@
DOM0_TOOLS := hvlog cpucheck drain
$(DOM0)/%: guests/dom0/%.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# kernel modules for dom0, built against its kernel tree in a scratch copy under build/
DOM0_MODULES := kvm_hv hvcall_test hvhostile_test
define dom0_module
	@rm -rf $(BUILD)/modules/$* && mkdir -p $(BUILD)/modules/$*
	cp $< compat/kvmabi/hvabi.h $(BUILD)/modules/$*/
	echo 'obj-m := $*.o' > $(BUILD)/modules/$*/Kbuild
	$(MAKE) -s -C "$$(cat $(DOM0)/kdir)" M="$(abspath $(BUILD)/modules/$*)" modules
	cp $(BUILD)/modules/$*/$*.ko $@
endef
# kvm_hv is several files (compat/kvmabi/hvk_*.c), linked into one module (compat/kvmabi/Kbuild)
KVM_HV_SRC := $(wildcard compat/kvmabi/*.c compat/kvmabi/*.h) compat/kvmabi/Kbuild
$(DOM0)/kvm_hv.ko: $(KVM_HV_SRC) $(DOM0)/vmlinux
	@rm -rf $(BUILD)/modules/kvm_hv && mkdir -p $(BUILD)/modules/kvm_hv
	cp $(KVM_HV_SRC) $(BUILD)/modules/kvm_hv/
	$(MAKE) -s -C "$$(cat $(DOM0)/kdir)" M="$(abspath $(BUILD)/modules/kvm_hv)" modules
	cp $(BUILD)/modules/kvm_hv/kvm_hv.ko $@
$(DOM0)/%.ko: tests/kvm/%.c compat/kvmabi/hvabi.h $(DOM0)/vmlinux
	$(dom0_module)

# KVM API tests: static programs run in dom0 against /dev/kvm
DOM0_KVM_TESTS := kvm_basic kvm_fuzz kvm_state kvm_device kvm_bench kvm_modes kvm_irqchip kvm_smp kvm_caps \
	kvm_conform kvm_mem
$(DOM0)/%: tests/kvm/%.c tests/kvm/kvm_util.h compat/kvmabi/hv_devices.h
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

DOM0_INITRAMFS_DEPS := guests/dom0/init $(wildcard guests/dom0/tests/*.sh) scripts/dom0-initramfs.sh \
	$(DOM0_TOOLS:%=$(DOM0)/%) $(DOM0_MODULES:%=$(DOM0)/%.ko) $(DOM0_KVM_TESTS:%=$(DOM0)/%)
DOM0_INITRAMFS_FILES = $(foreach t,$(DOM0_TOOLS) $(DOM0_KVM_TESTS),$(DOM0)/$(t):bin/$(t)) \
	$(foreach m,$(DOM0_MODULES),$(DOM0)/$(m).ko:lib/modules/$(m).ko)
$(DOM0)/initramfs.cpio: $(DOM0_INITRAMFS_DEPS)
	@mkdir -p $(dir $@)
	scripts/dom0-initramfs.sh $@ $(DOM0_INITRAMFS_FILES)

# The upstream KVM selftests (scripts/kvm-selftests.sh, cached in /var/cache/hv): ~65 MB of
# static programs, so they go into a second initramfs (the normal one plus /selftests) that only
# the selftests system case boots. selftests-dir names the cached build; it is rewritten only
# when that changes, so the initramfs is not rebuilt for nothing.
$(DOM0)/selftests-dir: $(DOM0)/vmlinux FORCE
	@d=$$(scripts/kvm-selftests.sh | tail -n 1) && \
		{ [ "$$(cat $@ 2>/dev/null)" = "$$d" ] || echo "$$d" >$@; }
$(DOM0)/initramfs-selftests.cpio: $(DOM0_INITRAMFS_DEPS) $(DOM0)/selftests-dir
	d=$$(cat $(DOM0)/selftests-dir) && scripts/dom0-initramfs.sh $@ $(DOM0_INITRAMFS_FILES) \
		"$$d/bin:selftests" "$$d/tests.list:selftests/tests.list"

# the selftests system case alone (builds what it needs, prints the per-test table)
test-upstream: $(BUILD)/hv.elf
	tests/system/run.sh bochs_dom0_selftests

# the QEMU conformance guest (tests/conform/): a 32-bit Multiboot kernel QEMU boots with -kernel
QCONFORM := $(BUILD)/qconform/qconform.elf
QCONFORM_CFLAGS := -m32 -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none
$(QCONFORM): tests/conform/qconform.c tests/conform/start.S tests/conform/qconform.ld
	@mkdir -p $(dir $@)
	$(CC) $(QCONFORM_CFLAGS) -c tests/conform/qconform.c -o $(@D)/qconform.o
	$(CC) -m32 -Werror -c tests/conform/start.S -o $(@D)/start.o
	$(LD) -m elf_i386 $(HV_LDFLAGS) -T tests/conform/qconform.ld -o $@ $(@D)/start.o $(@D)/qconform.o

# Debian's QEMU in dom0 booting a small Linux guest (scripts/qemu-in-dom0.sh) and printing QEMU's
# output; make test runs the same boot as the system case bochs_dom0_qemu
test-qemu: $(BUILD)/hv.elf
	scripts/qemu-in-dom0.sh

iso: $(BUILD)/hv.iso
$(BUILD)/hv.iso: $(BUILD)/hv.elf $(DOM0)/vmlinux $(DOM0)/initramfs.cpio scripts/mkiso.sh FORCE
	scripts/mkiso.sh $@ $(BUILD)/hv.elf "$(CMDLINE)" $(DOM0)/vmlinux "$(DOM0_CMDLINE)" \
		$(DOM0)/initramfs.cpio initrd

run: $(BUILD)/hv.iso
	scripts/run.sh $(BUILD)/hv.iso

unit:
	$(MAKE) -f tests/unit/unit.mk BUILD=$(BUILD) run

fuzz:
	$(MAKE) -f tests/fuzz/fuzz.mk BUILD=$(BUILD) run FUZZ_SECONDS=$${FUZZ_SECONDS:-60}

fuzz-short:
	$(MAKE) -f tests/fuzz/fuzz.mk BUILD=$(BUILD) run FUZZ_SECONDS=10

system: $(BUILD)/hv.elf $(BUILD)/hv-test.elf
	tests/system/run.sh

check:
	scripts/check.sh

bench: $(BUILD)/hv-test.elf
	scripts/bench.sh

stages:
	scripts/stages.sh

boottime: $(BUILD)/hv.elf dom0
	scripts/boottime.sh

# the KVM tests on Linux KVM (natively in Bochs) and here, side by side (tests/kvm/REFERENCE.md)
referee:
	scripts/referee.sh

# the guest conformance suites (tests/kvm/kvm_conform.c over /dev/kvm, tests/conform/ under QEMU)
# on Linux KVM and here, check by check
conform:
	scripts/conform.sh

size: $(BUILD)/hv.elf
	scripts/size.sh $(BUILD)/hv.elf

test:
	scripts/test-all.sh

# as root on a lab machine: the hypervisor into /boot, a GRUB entry per kernel, kvm_hv by DKMS
install uninstall: all
	scripts/install/install.sh $@

# the files scripts/check.sh holds to clang-format (kernel code follows checkpatch instead)
format:
	clang-format -i $$(git ls-files 'hv/*.[ch]' 'boot/*.[ch]' 'tests/hv/*.[ch]' 'tests/unit/*.[ch]' \
		'tests/fuzz/*.[ch]' 'compat/*.h' 'tests/kvm/*.[ch]' 'tests/conform/*.c' | \
		xargs grep -L MODULE_LICENSE)

clean:
	rm -rf $(BUILD)

FORCE:
-include $(HV_OBJS:.o=.d) $(TEST_OBJS:.o=.d)
