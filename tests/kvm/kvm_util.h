/* Shared by the KVM API tests in dom0. */
#ifndef KVM_UTIL_H
#define KVM_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>

/* Each test program sets its name; check() counts, and main ends with the summary line. */
static const char *test_name;
static int passed, failed;

static inline void check(const char *what, long got, long want)
{
	int ok = got == want;

	printf("%s: %s %s: got %ld, want %ld\n", test_name, ok ? "ok" : "FAIL", what, got, want);
	ok ? passed++ : failed++;
}

/* An ioctl's result: its return value, or -errno. */
static inline long io(int fd, unsigned long req, unsigned long arg)
{
	long r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

static inline int summary(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* The hypervisor's free frames, through the kvm_hv module (for leak checks); -1 if unknown. */
static inline long hv_free_frames(void)
{
	FILE *f = fopen("/sys/module/kvm_hv/parameters/hv_free_frames", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

#endif
