#!/usr/bin/env python3
"""Writes the seed corpora for the fuzz targets (python3 standard library only).

Usage: tests/fuzz/mkseeds.py [OUTDIR]   (default: tests/fuzz/corpus)
Creates OUTDIR/mb2/* (multiboot2 info blocks), OUTDIR/madt/* (MADTs and small physical
memory images with an RSDP at offset 0, as tests/fuzz/fuzz_madt.c expects) and OUTDIR/pvh/*
(small vmlinux-like ELF64 images with a PVH entry note, and a bzImage header).
"""
import os
import struct
import sys


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


# ---- multiboot2 ----

def tag(ttype, payload):
    return pad8(struct.pack("<II", ttype, 8 + len(payload)) + payload)


def string_tag(ttype, s):
    return tag(ttype, s.encode() + b"\0")


def module(start, end, s):
    return tag(3, struct.pack("<II", start, end) + s.encode() + b"\0")


def mmap(entries, esize=24):
    body = b""
    for base, length, mtype in entries:
        e = struct.pack("<QQII", base, length, mtype, 0)
        body += e + b"\xee" * (esize - len(e))
    return tag(6, struct.pack("<II", esize, 0) + body)


def checksum(b):
    return (-sum(b)) & 0xff


def rsdp_old(rsdt):
    r = bytearray(b"RSD PTR " + b"\0" + b"BOCHS " + b"\0" + struct.pack("<I", rsdt))
    r[8] = checksum(r)
    return bytes(r)


def rsdp_new(rsdt, xsdt, oem=b"BOCHS "):
    r = bytearray(b"RSD PTR " + b"\0" + oem + b"\x02" + struct.pack("<IIQ", rsdt, 36, xsdt)
                  + b"\0\0\0\0")
    r[8] = checksum(r[:20])
    r[32] = checksum(r)
    return bytes(r)


def info(*tags):
    body = b"".join(tags) + tag(0, b"")
    return struct.pack("<II", 8 + len(body), 0) + body


GRUB_MAP = [(0x0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2),
            (0x100000, 0x7ee0000, 1), (0x7fe0000, 0x20000, 2), (0xfffc0000, 0x40000, 2)]


def mb2_seeds():
    yield "minimal", info(mmap([(0x100000, 0x100000, 1)]))
    yield "grub", info(
        string_tag(1, "loglevel=debug poweroff"),
        string_tag(2, "GRUB 2.06"),
        tag(4, struct.pack("<II", 639, 130048)),
        module(0x400000, 0x9a3000, "/boot/bzImage console=ttyS0"),
        module(0x9a3000, 0x1000000, "/boot/initrd.img"),
        mmap(GRUB_MAP),
        tag(21, struct.pack("<I", 0x100000)),
        tag(14, rsdp_old(0x7fe1000)),
        tag(15, rsdp_new(0x7fe1000, 0x7fe1100)),
    )
    yield "overlap", info(
        string_tag(1, ""),
        mmap([(0x0, 0x200000, 1), (0x100000, 0x80000, 2), (0x200000, 0x100000, 1),
              (0x800000, 0x100000, 3), (0x880000, 0x100000, 4), (0xa00000, 0x100000, 5),
              (0xc00000, 0x100000, 7), (0x1000000, 0x0, 1),
              (0x100000000, 0x40000000, 1)], esize=32),
        module(0x180000, 0x1c0000, "m"),
    )
    yield "many-modules", info(
        mmap([(0x0, 0x9f000, 1), (0x100000, 0x3f00000, 1)]),
        *[module(0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "mod%d" % i) for i in range(16)]
    )


# ---- ACPI ----

def sdt(sig, body, revision=1):
    t = bytearray(sig + struct.pack("<IBB", 36 + len(body), revision, 0) + b"HVTEST"
                  + b"FUZZSEED" + struct.pack("<I", 1) + b"HVFZ" + struct.pack("<I", 1) + body)
    t[9] = checksum(t)
    return bytes(t)


def madt():
    e = b""
    e += struct.pack("<BBBBI", 0, 8, 0, 0, 1)           # LAPIC uid 0 id 0 enabled
    e += struct.pack("<BBBBI", 0, 8, 1, 1, 1)           # LAPIC uid 1 id 1 enabled
    e += struct.pack("<BBBBI", 0, 8, 2, 2, 0)           # disabled
    e += struct.pack("<BBBBI", 0, 8, 3, 3, 2)           # online-capable
    e += struct.pack("<BBBBII", 1, 12, 2, 0, 0xfec00000, 0)  # IOAPIC
    e += struct.pack("<BBBBIH", 2, 10, 0, 0, 2, 0)      # ISO irq 0 -> gsi 2
    e += struct.pack("<BBBBIH", 2, 10, 0, 9, 9, 0xd)    # ISO irq 9
    e += struct.pack("<BBBHB", 4, 6, 0xff, 5, 1)          # LAPIC NMI
    e += struct.pack("<BBHQ", 5, 12, 0, 0xfee00000)     # LAPIC address override
    e += struct.pack("<BBHIII", 9, 16, 0, 0x100, 1, 4)  # x2APIC
    e += struct.pack("<BBHIB3x", 10, 12, 0, 0, 0)       # x2APIC NMI
    return sdt(b"APIC", struct.pack("<II", 0xfee00000, 1) + e, revision=3)


def fadt():
    body = bytearray(116 - 36)
    struct.pack_into("<I", body, 64 - 36, 0x604)  # PM1a_CNT_BLK
    return sdt(b"FACP", bytes(body), revision=1)


def image(xsdt, fix):
    """RSDP at 0, RSDT at 0x40, XSDT at 0x80, MADT 0x100, FACP 0x200, SSDT 0x280."""
    mem = bytearray(0x300)
    oem = b"AFUZZ " if fix else b"BFUZZ "  # byte 9 bit 0: the harness repairs checksums
    r = bytearray(rsdp_new(0x40, 0x80 if xsdt else 0, oem))
    if not xsdt:
        r[15] = 0
        r = r[:20] + b"\0" * 16
        r[8] = 0
        r[8] = checksum(r[:20])
    mem[0:36] = r
    mem[0x40:0x40 + 48] = sdt(b"RSDT", struct.pack("<III", 0x280, 0x200, 0x100))
    mem[0x80:0x80 + 60] = sdt(b"XSDT", struct.pack("<QQQ", 0x280, 0x100, 0x200))
    m = madt()
    mem[0x100:0x100 + len(m)] = m
    mem[0x200:0x200 + 116] = fadt()
    mem[0x280:0x280 + 40] = sdt(b"SSDT", b"\0\0\0\0")
    return bytes(mem)


def madt_seeds():
    yield "madt", madt()
    yield "madt-one-cpu", sdt(b"APIC", struct.pack("<IIBBBBI", 0xfee00000, 0, 0, 8, 0, 0, 1))
    yield "image-rsdt", image(xsdt=False, fix=False)
    yield "image-xsdt", image(xsdt=True, fix=False)
    yield "image-xsdt-fix", image(xsdt=True, fix=True)


# ---- PVH kernel images (ELF64) ----

PT_LOAD, PT_NOTE = 1, 4


def note(name, ntype, desc):
    n = name.encode() + b"\0"
    return (struct.pack("<III", len(n), len(desc), ntype) + n + b"\0" * (-len(n) % 4)
            + desc + b"\0" * (-len(desc) % 4))


def elf(segs, notes, data_off=0x100):
    """segs: (paddr, contents, memsz); one PT_NOTE over `notes`, placed before the contents."""
    phnum = len(segs) + 1
    ehdr = (b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
            + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0xffffffff81000000, 64, 0, 0, 64, 56,
                          phnum, 64, 0, 0))
    note_off = 64 + phnum * 56
    body = bytearray(ehdr + b"\0" * (phnum * 56) + notes)
    phdrs = [struct.pack("<IIQQQQQQ", PT_NOTE, 4, note_off, 0, 0, len(notes), len(notes), 4)]
    off = max(data_off, len(body))
    for paddr, contents, memsz in segs:
        body += b"\0" * (off - len(body)) + contents
        phdrs.append(struct.pack("<IIQQQQQQ", PT_LOAD, 5, off, 0xffffffff80000000 + paddr,
                                 paddr, len(contents), memsz, 0x1000))
        off = len(body) + (-len(body) % 16)
    body[64:64 + phnum * 56] = b"".join(phdrs)
    return bytes(body)


def pvh_seeds():
    code = bytes(range(0x90, 0xd0))
    yield "vmlinux-minimal", elf([(0x1000000, code, 0x3000)],
                                 note("Xen", 18, struct.pack("<I", 0x1000040)))
    yield "vmlinux-two-segs", elf(
        [(0x1000000, code * 2, 0x200000), (0x1200000, code, 0x10000)],
        note("GNU", 3, bytes(range(20))) + note("Linux", 0x100, b"6.6\0\0\0")
        + note("Xen", 1, struct.pack("<Q", 0xffffffff81000100))
        + note("Xen", 18, struct.pack("<Q", 0x1000100)))
    bz = bytearray(0xa00 + 0x1000)               # 4 setup sectors, then 4 KiB of code
    bz[0:2] = b"MZ"
    bz[0x1f1] = 4                                # setup_sects
    bz[0x1f4:0x1f8] = struct.pack("<I", 0x100)   # syssize (16-byte units)
    bz[0x1fe:0x200] = b"\x55\xaa"
    bz[0x200:0x202] = b"\xeb\x66"                # jmp over the header (to 0x268)
    bz[0x202:0x208] = b"HdrS" + struct.pack("<H", 0x020f)
    bz[0x211] = 1                                # loadflags: LOADED_HIGH
    bz[0x258:0x264] = struct.pack("<QI", 0x1000000, 0x20000)  # pref_address, init_size
    bz[0xa00:0xb00] = code * 4
    yield "bzimage", bytes(bz)
    yield "bzimage-short", bytes(bz[:0x400])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    for name, seeds in (("mb2", mb2_seeds()), ("madt", madt_seeds()), ("pvh", pvh_seeds())):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for seed, data in seeds:
            with open(os.path.join(d, "seed-" + seed), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
