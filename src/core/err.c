/*
 * core/err.c - the error list, deny reasons and status texts.
 * Owns: the mapping code -> name/message/status. Nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/core.h"
#include "core/banned.h"

static const char *const errmsg[PC_E_COUNT] = {
	[PC_EOK] = "ok",
#define PC_ERR_MSG(n, s) [PC_E##n] = s,
	PC_ERRLIST(PC_ERR_MSG)
#undef PC_ERR_MSG
};

const char *
pc_strerror(int err)
{
	if (err < 0)
		err = err < -PC_E_COUNT ? PC_E_COUNT : -err;	/* never negate INT_MIN */
	if (err >= PC_E_COUNT)
		return "unknown error";
	return errmsg[err];
}

int
pc_err_errno(int errnum)
{
	switch (errnum) {
	case ENOMEM:
	case ENOBUFS:
		return -PC_ENOMEM;
	case EAGAIN:
		return -PC_EAGAIN;
	case ENOENT:
		return -PC_ENOENT;
	case EINVAL:
		return -PC_EINVAL;
	case ETIMEDOUT:
		return -PC_ETIMEDOUT;
	case ECONNREFUSED:
		return -PC_ECONNREFUSED;
	case ECONNRESET:
	case EPIPE:
		return -PC_ECLOSED;
	case ERANGE:
	case EOVERFLOW:
		return -PC_ERANGE;
	default:
		return -PC_EIO;
	}
}

void
pc_panic(const char *file, int line, const char *what)
{
	char	msg[512];
	int	n;

	n = snprintf(msg, sizeof(msg), "portcullis: assertion failed at %s:%d: %s\n", file,
	    line, what);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg));
	abort();
}

static const struct {
	const char	*name;
	int		 status;
} reasons[PC_R_COUNT] = {
#define PC_REASON_ROW(n, st, s) [PC_R_##n] = { s, st },
	PC_REASONLIST(PC_REASON_ROW)
#undef PC_REASON_ROW
};

const char *
pc_reason_name(enum pc_reason r)
{
	if ((unsigned)r >= PC_R_COUNT)
		return "unknown";
	return reasons[r].name;
}

int
pc_reason_status(enum pc_reason r)
{
	if ((unsigned)r >= PC_R_COUNT)
		return 500;
	return reasons[r].status;
}

const char *
pc_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}
