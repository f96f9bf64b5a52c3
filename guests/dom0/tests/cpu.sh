#!/bin/sh
# dom0's CPUID and VMX behaviour (see guests/dom0/cpucheck.c).
cpucheck
