/*
 * launchee - the command every launch variant of make bench ends with: a
 * daemon that starts, has its listening socket and exits.
 *
 *   launchee           the socket is on fd 3 (LISTEN_FDS=1, from portbind)
 *   launchee PORT      it binds TCP 127.0.0.1:PORT itself and listens
 *
 * Exits 0 only if it holds a listening TCP socket on 127.0.0.1, so a
 * variant that failed to give it one fails the run instead of being timed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(in);
	int fd = 3, on = 0;
	socklen_t onlen = sizeof(on);

	if (argc == 2) {
		in.sin_port = htons((unsigned short)atoi(argv[1]));
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&in, sizeof(in)) != 0 || listen(fd, 16) != 0) {
			perror("launchee: bind");
			return 1;
		}
	} else if (argc != 1 || !getenv("LISTEN_FDS") || strcmp(getenv("LISTEN_FDS"), "1") != 0) {
		fprintf(stderr, "usage: launchee [PORT], or with LISTEN_FDS=1 and a socket on fd 3\n");
		return 2;
	}
	if (getsockname(fd, (struct sockaddr *)&in, &len) != 0 || in.sin_family != AF_INET ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &onlen) != 0 || !on) {
		fprintf(stderr, "launchee: no listening TCP socket on fd %d\n", fd);
		return 1;
	}
	return 0;
}
