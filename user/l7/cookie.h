/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Cookie stickiness tokens (issue 8). A token names (farmId, serverId) without revealing
 * anything: it is base64url (no padding) of the first 16 bytes of
 *   HMAC-SHA256(secret, "limpet-cookie-v1" || be32 farmId || be32 serverId)
 * so it is 22 characters, the same on every node sharing the secret, and cannot be forged or
 * moved to another farm. The proxy finds a token's server by looking it up among the tokens of
 * the farm's servers in its snapshot; a token found nowhere (tampered, foreign farm, removed
 * server) is no cookie at all.
 *
 * The secret is L7_SECRET_LEN random bytes in <state_dir>/cookie.key (mode 0600), created on
 * first start with getrandom(2); copy the file to other nodes to make cookies valid on all.
 */
#ifndef LIMPET_L7_COOKIE_H
#define LIMPET_L7_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#define L7_SECRET_LEN		32
#define L7_COOKIE_LEN		22
#define L7_SECRET_FILE		"cookie.key"
#define L7_COOKIE_NAME_DEFAULT	"LIMPETSRV"

/* Read the secret, or create it when the file does not exist. 0 or -errno with a message in
 * err (a file of the wrong size, or readable by others, is refused with the fix named). */
int l7_secret_load(const char *state_dir, uint8_t key[L7_SECRET_LEN], char *err, size_t errlen);

/* The token of (farm, server), NUL-terminated in out[L7_COOKIE_LEN + 1]. */
void l7_cookie_token(const uint8_t key[L7_SECRET_LEN], uint32_t farm, uint32_t server,
		     char out[L7_COOKIE_LEN + 1]);

#endif /* LIMPET_L7_COOKIE_H */
