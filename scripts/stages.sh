#!/usr/bin/env bash
# make stages: where the cycles of a KVM guest's main exits go, stage by stage (issue 19). Builds
# the committed tree with scripts/stages.patch applied (RDTSC counters around vcpu_run's
# stages and irqchip_prepare_entry's parts, and 16 stamps along a port exit's round trip
# through dom0; each VM prints its "stage:" lines when it goes) in a scratch clone, boots it in
# Bochs with dom0test=stages (kvm_bench stages: without and with the in-kernel irqchip, on vCPU
# 0 and 1), and prints both: the guest-measured cost of each configuration, then the
# hypervisor's stages of it. In Bochs a cycle is about an instruction (a REP string
# instruction's iterations count one each). The counters themselves cost up to about 20 each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/stages
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$root" "$tmp/src"
git -C "$tmp/src" apply "$root/scripts/stages.patch"
make -s -C "$tmp/src" all dom0 >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log" >&2; exit 1; }
mkdir -p "$out"
"$tmp/src/tests/system/boot.sh" --out "$out" --hv "$tmp/src/build/hv.elf" --megs 512 \
	--timeout 600 --cmdline "poweroff loglevel=warn" \
	--module "$tmp/src/build/dom0/vmlinux" \
	"console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog dom0test=stages" \
	--module "$tmp/src/build/dom0/initramfs.cpio" initrd || true
tr -d '\r' <"$out/serial.log" | grep -E '^(kvm_bench: stages: |stage: |dom0: test stages: )'
tr -d '\r' <"$out/serial.log" | grep -q '^dom0: test stages: PASS'
