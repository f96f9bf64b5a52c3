# Host unit tests (cmocka) of the pure hypervisor code: the hv/*.c files themselves are compiled.
# Usage, from the repository root: make -f tests/unit/unit.mk BUILD=build run
BUILD ?= build
CC := gcc
OUT := $(BUILD)/unit
UNIT_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Ihv
UNIT_LIBS := -lcmocka

TESTS := printf mb2 frames acpi cmdline logring x86dec ept vmxcaps pvh uart16550 pit ioapic pic vlapic \
	msr_filter

# hv sources under test, per test binary (never hv/lib/string.c: it would clash with libc)
hv_printf := hv/lib/printf.c
hv_mb2 := hv/platform/mb2.c hv/lib/printf.c
hv_frames := hv/platform/frames.c
hv_acpi := hv/platform/acpi.c hv/lib/printf.c
hv_cmdline := hv/lib/cmdline.c
hv_logring := hv/lib/logring.c
hv_x86dec := hv/vmx/x86dec.c hv/vmx/x86alu.c
hv_ept := hv/vmx/ept.c
hv_vmxcaps := hv/vmx/caps.c hv/lib/printf.c
hv_pvh := hv/dom0/pvh.c hv/dom0/bzimage.c hv/lib/printf.c
hv_uart16550 := hv/devices/uart16550.c
hv_vlapic := hv/devices/vlapic.c hv/devices/vlapic_timer.c
hv_ioapic := hv/devices/ioapic.c
hv_pic := hv/devices/pic.c
hv_pit := hv/devices/pit.c
hv_msr_filter := hv/vmx/msr_filter.c

HV_HEADERS := $(wildcard hv/*.h hv/*/*.h compat/kvmabi/*.h)
BINS := $(patsubst %,$(OUT)/test_%,$(TESTS))

.PHONY: all run clean
all: $(BINS)

define unit_test
$(OUT)/test_$(1): tests/unit/test_$(1).c $(hv_$(1)) $(HV_HEADERS) tests/unit/unit.mk
	@mkdir -p $(OUT)
	$(CC) $(UNIT_CFLAGS) -o $$@ tests/unit/test_$(1).c $(hv_$(1)) $(UNIT_LIBS)
endef
$(foreach t,$(TESTS),$(eval $(call unit_test,$(t))))

run: $(BINS)
	@tests/unit/run.sh $(BINS)

clean:
	rm -rf $(OUT)
