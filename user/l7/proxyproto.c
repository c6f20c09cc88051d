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

/* The address bytes of an AF_INET or AF_INET6 socket address, and its port (network order). */
static const void *sa_ip(const struct sockaddr *sa, uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		*port = in->sin_port;
		return &in->sin_addr;
	}
	const struct sockaddr_in6 *in6 = (const void *)sa;

	*port = in6->sin6_port;
	return &in6->sin6_addr;
}

static size_t pp_v1(char *out, const struct sockaddr *src, const struct sockaddr *dst)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	uint16_t sp, dp;
	int n;

	inet_ntop(src->sa_family, sa_ip(src, &sp), s, sizeof(s));
	inet_ntop(src->sa_family, sa_ip(dst, &dp), d, sizeof(d));
	n = snprintf(out, L7_PP_MAX, "PROXY %s %s %s %u %u\r\n",
		     src->sa_family == AF_INET ? "TCP4" : "TCP6", s, d, ntohs(sp), ntohs(dp));
	return (size_t)n;
}

/* Both addresses, then both ports: 12 bytes for IPv4, 36 for IPv6. */
static size_t pp_v2(char *out, const struct sockaddr *src, const struct sockaddr *dst)
{
	uint8_t *p = (uint8_t *)out;
	size_t alen = src->sa_family == AF_INET ? 4 : 16;
	uint16_t len = 2 * alen + 4, sp, dp;

	memcpy(p, v2_sig, sizeof(v2_sig));
	p[12] = 0x21;	/* version 2, PROXY */
	p[13] = alen == 4 ? 0x11 : 0x21;	/* TCP over IPv4 / IPv6 */
	p[14] = len >> 8;
	p[15] = len & 0xff;
	memcpy(p + 16, sa_ip(src, &sp), alen);
	memcpy(p + 16 + alen, sa_ip(dst, &dp), alen);
	memcpy(p + 16 + 2 * alen, &sp, 2);
	memcpy(p + 18 + 2 * alen, &dp, 2);
	return 16 + len;
}

size_t l7_pp_build(char out[L7_PP_MAX], uint8_t version, const struct sockaddr *src,
		   const struct sockaddr *dst)
{
	return version == 1 ? pp_v1(out, src, dst) : pp_v2(out, src, dst);
}
