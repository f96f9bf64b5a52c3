# Host unit tests (cmocka) of the pure hypervisor code: the hv/*.c files themselves are compiled.
# Usage, from the repository root: make -f tests/unit/unit.mk BUILD=build run
BUILD ?= build
CC := gcc
OUT := $(BUILD)/unit
UNIT_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Ihv
UNIT_LIBS := -lcmocka

TESTS := printf mb2 frames acpi cmdline logring x86dec ept vmxcaps pvh uart16550 pit ioapic pic lapic \
	msr_filter

# hv sources under test, per test binary (never hv/string.c: it would clash with libc)
hv_printf := hv/printf.c
hv_mb2 := hv/mb2.c hv/printf.c
hv_frames := hv/frames.c
hv_acpi := hv/acpi.c hv/printf.c
hv_cmdline := hv/cmdline.c
hv_logring := hv/logring.c
hv_x86dec := hv/x86dec.c
hv_ept := hv/vmx/ept.c
hv_vmxcaps := hv/vmx/caps.c hv/printf.c
hv_pvh := hv/pvh.c hv/printf.c
hv_uart16550 := hv/devices/uart16550.c
hv_lapic := hv/devices/lapic.c
hv_ioapic := hv/devices/ioapic.c
hv_pic := hv/devices/pic.c
hv_pit := hv/devices/pit.c
hv_msr_filter := hv/msr_filter.c

HV_HEADERS := $(wildcard hv/*.h hv/vmx/*.h hv/devices/*.h compat/kvmabi/*.h)
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
