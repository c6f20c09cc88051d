// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/daemonize.h"

static int ready_fd = -1;	/* the child's end of the pipe the parent waits on */

static void ignore(long result)
{
	(void)result;
}

int daemonize_begin(void)
{
	unsigned char status = 1;
	int fd[2];
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -errno;
	}
	if (pid) {
		close(fd[1]);
		while (read(fd[0], &status, 1) < 0 && errno == EINTR)
			;
		_exit(status);
	}
	close(fd[0]);
	ready_fd = fd[1];
	setsid();
	return 0;
}

void daemonize_done(void)
{
	unsigned char ok = 0;
	int null = open("/dev/null", O_RDWR);

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	/* / always exists, and a parent gone has nobody to tell: neither result matters */
	ignore(chdir("/"));
	ignore(write(ready_fd, &ok, 1));
	close(ready_fd);
	ready_fd = -1;
}
