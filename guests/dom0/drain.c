/*
 * drain: waits until everything written to the console has left the serial port (tcdrain), so
 * the `poweroff -f` after the tests cuts off none of their output still queued in the tty.
 */
#include <fcntl.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY);

	if (fd < 0 || tcdrain(fd) < 0) {
		perror("drain: /dev/console");
		return 1;
	}
	return 0;
}
