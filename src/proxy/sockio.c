/*
 * proxy/sockio.c - moving bytes over one connection, plain or TLS, for both sides.
 * Owns: the mapping from "would block" (EAGAIN, or TLS wanting the other direction) to the
 * readiness the caller must wait for. Does not: know what the bytes mean.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy_int.h"
#include "tls/tls.h"
#include "core/banned.h"

/*
 * Reads up to <len> bytes. Returns the count (> 0), 0 at EOF, PC_SOCK_ERROR, or
 * PC_SOCK_AGAIN with *<wait> = PC_IO_READ or PC_IO_WRITE (TLS may need to write to read).
 */
ssize_t
pc_sock_read(int fd, struct ssl_st *ssl, void *buf, size_t len, unsigned *wait)
{
	ssize_t n;

	if (ssl != NULL) {
		n = pc_tls_read(ssl, buf, len);
		switch (n) {
		case PC_TLS_EOF:
			return 0;
		case PC_TLS_WANT_READ:
			*wait = PC_IO_READ;
			return PC_SOCK_AGAIN;
		case PC_TLS_WANT_WRITE:
			*wait = PC_IO_WRITE;
			return PC_SOCK_AGAIN;
		case PC_TLS_ERROR:
			return PC_SOCK_ERROR;
		default:
			return n;
		}
	}
	for (;;) {
		n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			*wait = PC_IO_READ;
			return PC_SOCK_AGAIN;
		}
		return PC_SOCK_ERROR;
	}
}

/*
 * Sends <b>'s bytes from *<off> while the connection takes them, advancing *<off>. When it
 * would block, *<wait> says on what (PC_IO_WRITE, or PC_IO_READ for TLS); it is 0 when
 * everything was sent. Returns 0, or -1 if the connection failed (reset, broken pipe).
 */
int
pc_send_pending(int fd, struct ssl_st *ssl, const struct pc_buf *b, size_t *off,
    unsigned *wait)
{
	ssize_t n;

	*wait = 0;
	while (*off < b->len) {
		if (ssl != NULL) {
			/* The same pointer and length are offered again after a WANT_*
			 * (ACCEPT_MOVING_WRITE_BUFFER allows the buffer itself to move). */
			n = pc_tls_write(ssl, b->data + *off, b->len - *off);
			if (n > 0) {
				*off += (size_t)n;
				continue;
			}
			if (n == PC_TLS_WANT_WRITE || n == PC_TLS_WANT_READ) {
				*wait = n == PC_TLS_WANT_WRITE ? PC_IO_WRITE : PC_IO_READ;
				return 0;
			}
			return -1;
		}
		/* MSG_NOSIGNAL: a peer that went away is an error code here, not a SIGPIPE. */
		n = send(fd, b->data + *off, b->len - *off, MSG_NOSIGNAL);
		if (n > 0) {
			/* A short write filled the socket buffer: the next write edge says when
			 * there is room again, so no send is spent just to learn EAGAIN. */
			*off += (size_t)n;
			if (*off < b->len) {
				*wait = PC_IO_WRITE;
				return 0;
			}
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			*wait = PC_IO_WRITE;
			return 0;
		}
		return -1;
	}
	return 0;
}
