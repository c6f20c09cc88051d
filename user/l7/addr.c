// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Socket addresses in the dataplane's form (policy.h), so that L7 hashes as XDP does. */
#include <netinet/in.h>
#include <string.h>

#include "limpet/abi.h"
#include "l7/policy.h"

uint8_t l7_addr_words(const struct sockaddr *sa, uint32_t w[4], uint16_t *port)
{
	uint16_t p = 0;
	uint8_t fam = 0;

	memset(w, 0, 4 * sizeof(*w));
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		w[0] = in->sin_addr.s_addr;
		p = ntohs(in->sin_port);
		fam = LB_V4;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			memcpy(w, &in6->sin6_addr.s6_addr[12], 4);
			fam = LB_V4;
		} else {
			memcpy(w, &in6->sin6_addr, 16);
			fam = LB_V6;
		}
		p = ntohs(in6->sin6_port);
	}
	if (port)
		*port = p;
	return fam;
}
