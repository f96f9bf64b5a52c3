#!/bin/sh
# Booted without the hypervisor: init's insmod of kvm_hv was refused with one line, without an
# oops (VMCALL is #UD here), and there is no /dev/kvm.
dmesg | grep -E "kvm_hv|Oops|invalid opcode" | sed 's/^\[[^]]*\] *//; s/^/nohv: /'
[ -e /dev/kvm ] && echo "nohv: /dev/kvm exists"
dmesg | grep -q "kvm_hv: no hypervisor" && ! dmesg | grep -qE "Oops|invalid opcode" && [ ! -e /dev/kvm ]
