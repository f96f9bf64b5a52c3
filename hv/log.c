/* Every message goes to the ring; the console gets those at or above the chosen level. */
#include "log.h"
#include "console.h"
#include "logring.h"
#include "printf.h"
#include "spinlock.h"

#define LOG_RING_SIZE KiB(64)
#define LOG_LINE_MAX  512

static char ring_buf[LOG_RING_SIZE];
static struct logring ring;
static spinlock_t log_lock;
static enum log_level console_level = LOG_INFO;

void log_init(void)
{
	logring_init(&ring, ring_buf, sizeof(ring_buf));
}

void log_set_level(enum log_level level)
{
	console_level = level;
}

int log_level_parse(const char *name)
{
	static const char *const names[] = {
		[LOG_ERR] = "err", [LOG_WARN] = "warn", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"};

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		const char *a = names[i], *b = name;
		while (*a && *a == *b)
			a++, b++;
		if (!*a && !*b)
			return (int)i;
	}
	return -1;
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
	if (level <= console_level)
		console_write(line, (size_t)n);
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
