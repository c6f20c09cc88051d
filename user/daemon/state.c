// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/state.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The rename is durable only once the directory entry is: fsync the directory too. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int state_save(const char *dir, const char *name, const json_t *doc)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	/* compact: the file is for limpetd (limpetctl config export pretty-prints it); written
	 * whole on every refresh, 10 000 servers indented cost twice the bytes and time */
	char *text = json_dumps(doc, JSON_COMPACT);
	int fd = -1, err;

	if (!text)
		return -ENOMEM;
	if (snprintf(path, sizeof(path), "%s/%s.json", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.json.tmp", dir, name) >= (int)sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, text, strlen(text));
	err = err ?: write_all(fd, "\n", 1);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	fd = -1;
	if (!err && rename(tmp, path))
		err = -errno;
	err = err ?: sync_dir(dir);
out:
	if (err)
		unlink(tmp);
	free(text);
	return err;
}

int state_find(const char *dir, char out[PATH_MAX])
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		/* temp files start with a dot: a crash may leave one, never a config */
		if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		if (found++ == 1)
			pr_err("%s: several saved configs (%s, %s, ...): choose one with --config",
			       dir, strrchr(out, '/') + 1, e->d_name);
		else if (found == 1)
			snprintf(out, PATH_MAX, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return found == 1 ? 0 : found ? -EEXIST : -ENOENT;
}
