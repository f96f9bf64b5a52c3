#!/bin/sh
# The KVM API tests (tests/kvm/) against /dev/kvm.
kvm_basic
