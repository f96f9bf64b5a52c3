/* Every message goes to the ring; the console gets those at or above the chosen level. */
#include "log.h"
#include "console.h"
#include "logring.h"
#include "printf.h"
#include "spinlock.h"

#define LOG_RING_SIZE KiB(64)
#define LOG_LINE_MAX  512
#define LOG_PAGE      4096 /* dom0 maps header and ring page by page */

/* The ring, with a header page in front: both are mapped read-only into dom0 (hv.log=). */
static struct {
	struct hvlog_header h __aligned(LOG_PAGE);
	char ring[LOG_RING_SIZE] __aligned(LOG_PAGE); /* the page after the header */
} exported;

static struct logring ring;
static spinlock_t log_lock;
static enum log_level console_level = LOG_INFO;

/* dom0 shares the console: while it is in the middle of a line, our lines wait here. */
static bool dom0_midline;
static char pending[4096];
static size_t npending;

void log_init(void)
{
	logring_init(&ring, exported.ring, sizeof(exported.ring));
	__builtin_memcpy(exported.h.magic, HVLOG_MAGIC, sizeof(exported.h.magic));
	exported.h.size = sizeof(exported.ring);
}

uint64_t log_export(const void **page)
{
	*page = &exported;
	return sizeof(exported);
}

static void console_out(const char *s, size_t n)
{
	if (dom0_midline && npending + n > sizeof(pending)) {
		console_write("\n", 1); /* dom0 holds the line too long: break it */
		console_write(pending, npending);
		npending = 0;
		dom0_midline = false;
	}
	if (!dom0_midline) {
		console_write(s, n);
		return;
	}
	__builtin_memcpy(pending + npending, s, n);
	npending += n;
}

void log_dom0_putc(char c)
{
	spin_lock(&log_lock);
	console_putc_raw(c);
	dom0_midline = c != '\n';
	if (!dom0_midline && npending) {
		console_write(pending, npending);
		npending = 0;
	}
	spin_unlock(&log_lock);
}

bool log_set_level(const char *name)
{
	static const char *const names[] = {
		[LOG_ERR] = "err", [LOG_WARN] = "warn", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"};

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (!__builtin_strcmp(names[i], name)) {
			console_level = (enum log_level)i;
			return true;
		}
	return false;
}

void hv_log(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2; /* truncated: still end the line */
	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	spin_lock(&log_lock);
	logring_write(&ring, line, (size_t)n);
	__atomic_store_n(&exported.h.head, ring.head, __ATOMIC_RELEASE);
	if (level <= console_level)
		console_out(line, (size_t)n);
	spin_unlock(&log_lock);
}

void log_emergency(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	console_write(line, (size_t)MIN(n, (int)sizeof(line) - 1));
}

void log_dump_tail(unsigned lines)
{
	uint64_t seq = logring_tail(&ring, lines);
	char chunk[128];
	size_t n;

	while ((n = logring_read(&ring, &seq, chunk, sizeof(chunk))) > 0)
		console_write(chunk, n);
}
