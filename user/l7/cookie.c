// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Cookie stickiness: the secret in the state dir and the tokens derived from it (cookie.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "l7/cookie.h"

#define TOKEN_MAC_LEN	16	/* 128 bits of HMAC: 22 base64url characters */
#define TOKEN_LABEL	"limpet-cookie-v1"

static void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* base64url without padding (RFC 4648 section 5): cookie-safe, no quoting needed. */
static void base64url(const uint8_t *in, size_t n, char *out)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*out++ = a[(acc >> bits) & 63];
		}
	}
	if (bits)
		*out++ = a[(acc << (6 - bits)) & 63];
	*out = '\0';
}

void l7_cookie_token(const uint8_t key[L7_SECRET_LEN], uint32_t farm, uint32_t server,
		     char out[L7_COOKIE_LEN + 1])
{
	uint8_t msg[sizeof(TOKEN_LABEL) - 1 + 8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	_Static_assert((TOKEN_MAC_LEN * 8 + 5) / 6 == L7_COOKIE_LEN, "token length");
	memcpy(msg, TOKEN_LABEL, sizeof(TOKEN_LABEL) - 1);
	be32_put(msg + sizeof(TOKEN_LABEL) - 1, farm);
	be32_put(msg + sizeof(TOKEN_LABEL) + 3, server);
	/* HMAC-SHA256 with a 32-byte key cannot fail but for lack of memory: then the token is
	 * the MAC of nothing (zeros), which matches no server's real token. */
	if (!HMAC(EVP_sha256(), key, L7_SECRET_LEN, msg, sizeof(msg), mac, &maclen))
		memset(mac, 0, TOKEN_MAC_LEN);
	base64url(mac, TOKEN_MAC_LEN, out);
}

static int read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -EIO;	/* shrunk under us */
		got += r;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += w;
	}
	return 0;
}

/* Open and check the secret file: ours to trust only if nobody else may read or write it. */
static int secret_read(const char *path, uint8_t key[L7_SECRET_LEN], char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = -errno;
		if (ret != -ENOENT)
			snprintf(err, errlen, "cookie secret %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cookie secret %s: %s", path, strerror(-ret));
	} else if (!S_ISREG(st.st_mode) || st.st_size != L7_SECRET_LEN) {
		ret = -EINVAL;
		snprintf(err, errlen,
			 "cookie secret %s: not a regular file of %d bytes; remove it to have a new "
			 "one generated (cookies issued so far become invalid), or copy another "
			 "node's", path, L7_SECRET_LEN);
	} else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = -EPERM;
		snprintf(err, errlen,
			 "cookie secret %s: mode %04o lets others read or change it; chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
	} else {
		ret = read_full(fd, key, L7_SECRET_LEN);
		if (ret)
			snprintf(err, errlen, "cookie secret %s: %s", path, strerror(-ret));
	}
	close(fd);
	return ret;
}

static int random_fill(uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		got += r;
	}
	return 0;
}

/*
 * A new secret: written whole to a temporary file (mkstemp: mode 0600), synced, then renamed
 * into place without replacing: a limpetd of another service sharing the state dir that got
 * there first wins, and both use its secret. The directory is synced so that the name
 * survives a crash that the contents did.
 */
static int secret_create(const char *dir, const char *path, uint8_t key[L7_SECRET_LEN],
			 char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	const char *what = "create";
	int fd, dfd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "cookie secret %s: path too long", path);
		return -ENAMETOOLONG;
	}
	ret = random_fill(key, L7_SECRET_LEN);
	if (ret) {
		snprintf(err, errlen, "cookie secret: getrandom: %s", strerror(-ret));
		return ret;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cookie secret: create %s: %s", tmp, strerror(-ret));
		return ret;
	}
	ret = write_full(fd, key, L7_SECRET_LEN);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (!ret && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE)) {
		ret = -errno;
		what = "rename";
	}
	if (ret)
		unlink(tmp);
	if (ret == -EEXIST)
		return secret_read(path, key, err, errlen);
	if (ret) {
		snprintf(err, errlen, "cookie secret %s: %s: %s", path, what, strerror(-ret));
		return ret;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int l7_secret_load(const char *state_dir, uint8_t key[L7_SECRET_LEN], char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, L7_SECRET_FILE) >= (int)sizeof(path)) {
		snprintf(err, errlen, "cookie secret: state dir %s: path too long", state_dir);
		return -ENAMETOOLONG;
	}
	ret = secret_read(path, key, err, errlen);
	if (ret == -ENOENT)
		ret = secret_create(state_dir, path, key, err, errlen);
	return ret;
}
