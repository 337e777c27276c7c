/*
 * sandbox/sandbox.c - privilege drop and no_new_privs (STYLE.md 12, stage 1).
 * Owns: the process credentials. A seccomp allow-list is the next stage.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "observe/observe.h"
#include "sandbox/sandbox.h"
#include "core/banned.h"

int
pc_sandbox_prepare(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		(void)snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return pc_err_errno(errno);
	}
	return 0;
}

int
pc_sandbox_drop(const char *user, char *err, size_t errlen)
{
	struct passwd	 pw, *res = NULL;
	char		 buf[4096];

	if (user == NULL) {
		if (geteuid() == 0)
			pc_log_info("running as root: set 'user' to drop privileges once the "
			    "listeners are bound");
		return 0;
	}
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		(void)snprintf(err, errlen, "user '%s' does not exist", user);
		return -PC_ENOENT;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw.pw_uid)
			return 0;	/* already that user: nothing to drop */
		(void)snprintf(err, errlen, "cannot run as '%s': not started as root", user);
		return -PC_EINVAL;
	}
	/* Order matters: groups while still root, the user last. glibc applies each call to
	 * every thread of the process (the workers are already running). */
	if (setgroups(0, NULL) == -1 || setgid(pw.pw_gid) == -1 || setuid(pw.pw_uid) == -1) {
		(void)snprintf(err, errlen, "cannot switch to user '%s': %s", user,
		    strerror(errno));
		return pc_err_errno(errno);
	}
	/* Paranoia that costs nothing: if root can be regained, the drop did not happen. */
	if (setuid(0) != -1 || getuid() == 0 || geteuid() == 0) {
		(void)snprintf(err, errlen, "privileges could be regained after switching to "
		    "'%s'", user);
		return -PC_EINVAL;
	}
	pc_log_info("running as user %s (uid %u, gid %u)", user, (unsigned)pw.pw_uid,
	    (unsigned)pw.pw_gid);
	return 0;
}
