# libFuzzer targets over the pure hypervisor parsers: the hv/*.c files themselves are compiled.
# Usage, from the repository root: make -f tests/fuzz/fuzz.mk BUILD=build run FUZZ_SECONDS=10
# Each target runs on a copy of its committed seed corpus (tests/fuzz/corpus/<target>/, made by
# tests/fuzz/mkseeds.py) in $(BUILD)/fuzz/, so the committed corpus never grows.
BUILD ?= build
FUZZ_SECONDS ?= 60
CLANG ?= clang
OUT := $(BUILD)/fuzz
FUZZ_CFLAGS := -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Ihv

TARGETS := mb2 madt x86dec pvh
hv_mb2 := hv/platform/mb2.c hv/lib/printf.c
hv_madt := hv/platform/acpi.c hv/lib/printf.c
hv_x86dec := hv/vmx/x86dec.c hv/vmx/x86alu.c
hv_pvh := hv/dom0/pvh.c hv/dom0/bzimage.c hv/lib/printf.c

HV_HEADERS := $(wildcard hv/*.h hv/*/*.h)
BINS := $(patsubst %,$(OUT)/fuzz_%,$(TARGETS))

.PHONY: all run seeds clean
all: $(BINS)

define fuzz_target
$(OUT)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(hv_$(1)) $(HV_HEADERS) tests/fuzz/fuzz.mk
	@mkdir -p $(OUT)
	$(CLANG) $(FUZZ_CFLAGS) -o $$@ tests/fuzz/fuzz_$(1).c $(hv_$(1))
endef
$(foreach t,$(TARGETS),$(eval $(call fuzz_target,$(t))))

run: $(BINS)
	@tests/fuzz/run.sh $(OUT) $(FUZZ_SECONDS) $(TARGETS)

# Regenerates the committed seed corpora.
seeds:
	python3 tests/fuzz/mkseeds.py tests/fuzz/corpus

clean:
	rm -rf $(OUT)
