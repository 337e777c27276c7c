/*
 * proxy/sockio.c - writing buffered bytes to a non-blocking socket, for both sides.
 */
#include <errno.h>
#include <sys/socket.h>

#include "proxy/proxy_int.h"
#include "core/banned.h"

/*
 * Sends <b>'s bytes from *<off> while the socket takes them, advancing *<off>. Clears
 * *<ready> when the socket would block (edge-triggered: the next write edge sets it again).
 * Returns 0, or -1 if the connection failed (reset, broken pipe).
 */
int
pc_send_pending(int fd, const struct pc_buf *b, size_t *off, bool *ready)
{
	ssize_t n;

	while (*off < b->len && *ready) {
		/* MSG_NOSIGNAL: a peer that went away is an error code here, not a SIGPIPE. */
		n = send(fd, b->data + *off, b->len - *off, MSG_NOSIGNAL);
		if (n > 0) {
			/* A short write filled the socket buffer: the next write edge says when
			 * there is room again, so no send is spent just to learn EAGAIN. */
			if ((size_t)n < b->len - *off)
				*ready = false;
			*off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			*ready = false;
			break;
		}
		return -1;
	}
	return 0;
}
