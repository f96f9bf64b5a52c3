/*
 * hvlog: prints the hypervisor's log ring from dom0. The hypervisor maps the ring read-only
 * into dom0 and names its physical address on the kernel command line (hv.log=0x...).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HDR_SIZE 4096

struct hvlog_header {
	char magic[8];
	uint64_t size;
	volatile uint64_t head;
};

static unsigned long long log_address(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/cmdline", "r");
	char *p;
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strstr(buf, "hv.log=");
	return p ? strtoull(p + 7, NULL, 0) : 0;
}

int main(void)
{
	unsigned long long pa = log_address();
	const struct hvlog_header *h;
	const char *ring;
	uint64_t first, seq;
	int fd;

	if (!pa) {
		fprintf(stderr, "hvlog: no hv.log= on the kernel command line\n");
		return 1;
	}
	fd = open("/dev/mem", O_RDONLY | O_SYNC);
	if (fd < 0) {
		perror("hvlog: /dev/mem");
		return 1;
	}
	h = mmap(NULL, HDR_SIZE, PROT_READ, MAP_SHARED, fd, (off_t)pa);
	if (h == MAP_FAILED || memcmp(h->magic, "HVLOGv1", 8) || !h->size ||
	    (h->size & (h->size - 1))) {
		fprintf(stderr, "hvlog: no hypervisor log at %#llx\n", pa);
		return 1;
	}
	ring = mmap(NULL, h->size, PROT_READ, MAP_SHARED, fd, (off_t)(pa + HDR_SIZE));
	if (ring == MAP_FAILED) {
		perror("hvlog: mmap");
		return 1;
	}
	seq = h->head;
	first = seq > h->size ? seq - h->size : 0;
	for (uint64_t s = first; s < seq; s++)
		putchar(ring[s & (h->size - 1)]);
	return 0;
}
