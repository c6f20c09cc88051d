// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The PROXY protocol header a backend connection starts with (haproxy's proxy-protocol.txt):
 * the client's address and the VIP it connected to, in text (v1) or binary (v2).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "l7/engine.h"

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static size_t pp_v1(char *out, const struct sockaddr *src, const struct sockaddr *dst)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	uint16_t sp, dp;
	int n;

	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;

		inet_ntop(AF_INET, &a->sin_addr, s, sizeof(s));
		inet_ntop(AF_INET, &b->sin_addr, d, sizeof(d));
		sp = ntohs(a->sin_port);
		dp = ntohs(b->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const void *)src, *b = (const void *)dst;

		inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof(s));
		inet_ntop(AF_INET6, &b->sin6_addr, d, sizeof(d));
		sp = ntohs(a->sin6_port);
		dp = ntohs(b->sin6_port);
	}
	n = snprintf(out, L7_PP_MAX, "PROXY %s %s %s %u %u\r\n",
		     src->sa_family == AF_INET ? "TCP4" : "TCP6", s, d, sp, dp);
	return (size_t)n;
}

static size_t pp_v2(char *out, const struct sockaddr *src, const struct sockaddr *dst)
{
	uint8_t *p = (uint8_t *)out;
	uint16_t len;

	memcpy(p, v2_sig, sizeof(v2_sig));
	p[12] = 0x21;	/* version 2, PROXY */
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;

		p[13] = 0x11;	/* TCP over IPv4 */
		len = 12;
		memcpy(p + 16, &a->sin_addr, 4);
		memcpy(p + 20, &b->sin_addr, 4);
		memcpy(p + 24, &a->sin_port, 2);
		memcpy(p + 26, &b->sin_port, 2);
	} else {
		const struct sockaddr_in6 *a = (const void *)src, *b = (const void *)dst;

		p[13] = 0x21;	/* TCP over IPv6 */
		len = 36;
		memcpy(p + 16, &a->sin6_addr, 16);
		memcpy(p + 32, &b->sin6_addr, 16);
		memcpy(p + 48, &a->sin6_port, 2);
		memcpy(p + 50, &b->sin6_port, 2);
	}
	p[14] = len >> 8;
	p[15] = len & 0xff;
	return 16 + len;
}

size_t l7_pp_build(char out[L7_PP_MAX], uint8_t version, const struct sockaddr *src,
		   const struct sockaddr *dst)
{
	return version == 1 ? pp_v1(out, src, dst) : pp_v2(out, src, dst);
}
