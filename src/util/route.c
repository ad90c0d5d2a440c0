/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aidc_route_addr: the kernel's choice of source address towards a host,
 * read back from a connected (never used) UDP socket.
 */
#include "util/route.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int aidc_route_addr(const char *host, unsigned port, char *out, size_t n, char *why, size_t whyn)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *ai = NULL;
	char ps[16];
	snprintf(ps, sizeof ps, "%u", port);
	int g = getaddrinfo(host, ps, &hints, &ai);
	if (g != 0) {
		snprintf(why, whyn, "cannot resolve %s: %s", host, gai_strerror(g));
		return -1;
	}
	int rc = -1;
	snprintf(why, whyn, "no route to %s: no address", host);
	for (struct addrinfo *p = ai; p && rc; p = p->ai_next) {
		int fd = socket(p->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) == 0 &&
		    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    getnameinfo((struct sockaddr *)&ss, sl, out, (socklen_t)n, NULL, 0,
				NI_NUMERICHOST) == 0)
			rc = 0;
		else
			snprintf(why, whyn, "no route to %s: %s", host, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	freeaddrinfo(ai);
	return rc;
}
