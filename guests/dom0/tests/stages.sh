#!/bin/sh
# scripts/stages.sh's dom0 half: the guest-measured CPUID exit and port round trip without and
# with the in-kernel irqchip, on vCPU 0 and 1 (tests/kvm/kvm_bench.c, kvm_bench stages).
kvm_bench stages
