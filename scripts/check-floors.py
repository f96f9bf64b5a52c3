#!/usr/bin/env python3
"""make check: the hypervisor's folders are floors, and a file includes only from its own floor or
a lower one:  lib < platform < devices < vmx < dom0 < hypercall < hv/main.c (boot/ is the platform's).
Readable by all: the ABI headers in compat/kvmabi/ and the VM interface hv/vmx/vm.h.
Prints one line per violation and exits 1 if there is any; else one line with the counts."""
import os
import re
import subprocess
import sys

FLOORS = ["lib", "platform", "devices", "vmx", "dom0", "hypercall"]
TOP = len(FLOORS)  # hv/main.c and hv/selftest.h
FOR_ALL = ("compat/kvmabi/", "hv/vmx/vm.h")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def floor(path):
    """The floor of a repository path, or None when it is on no floor."""
    parts = path.split("/")
    if parts[0] == "boot":
        return FLOORS.index("platform")
    if parts[0] != "hv":
        return None
    if len(parts) == 2:
        return TOP
    return FLOORS.index(parts[1]) if parts[1] in FLOORS else None


def name(path):
    """The floor's folder name of a path on a floor."""
    return "boot" if path.startswith("boot/") else FLOORS[floor(path)] if floor(path) < TOP else "hv"


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = subprocess.run(["git", "ls-files", "hv", "boot"], check=True, capture_output=True,
                           text=True).stdout.split()
    bad = checked = 0
    for src in files:
        if not src.endswith((".c", ".h", ".S")):
            continue
        me = floor(src)
        if me is None:
            print(f"floors: {src}: in no floor (one of hv/{{{','.join(FLOORS)}}}/ or hv/)")
            bad += 1
            continue
        with open(src, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                checked += 1
                dst = os.path.normpath(os.path.join(os.path.dirname(src), m.group(1)))
                if not os.path.isfile(dst):
                    why = "not found"
                elif dst.startswith(FOR_ALL):
                    continue
                elif floor(dst) is None:
                    why = "outside the floors"
                elif floor(dst) > me:
                    why = f"a higher floor ({name(dst)} above {name(src)})"
                else:
                    continue
                print(f"floors: {src}:{n}: includes {dst}: {why}")
                bad += 1
    print(f"floors: {checked} includes in {len(files)} files, {bad} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
