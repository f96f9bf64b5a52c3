/*
 * acpioff: powers the machine off through the FADT's PM1a control port (ACPI S5 with
 * SLP_TYP 0, as Bochs and QEMU define it). dom0's minimal kernel has no PCI, so its ACPI
 * interpreter cannot load the DSDT and `poweroff` would only halt.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <unistd.h>

int main(void)
{
	uint8_t fadt[256];
	FILE *f = fopen("/sys/firmware/acpi/tables/FACP", "rb");
	size_t n = f ? fread(fadt, 1, sizeof(fadt), f) : 0;
	uint32_t port;

	if (f)
		fclose(f);
	if (n < 68 || memcmp(fadt, "FACP", 4)) {
		fprintf(stderr, "acpioff: no FADT\n");
		return 1;
	}
	memcpy(&port, fadt + 64, 4);
	sync();
	if (port == 0 || port > 0xfffe || iopl(3)) {
		fprintf(stderr, "acpioff: cannot use PM1a control port %#x\n", port);
		return 1;
	}
	outw(0x2000, (uint16_t)port); /* SLP_EN, SLP_TYP 0 */
	sleep(5);
	fprintf(stderr, "acpioff: still running\n");
	return 1;
}
