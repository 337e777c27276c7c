/*
 * sandbox/sandbox.h - the public interface of sandbox/: acquire, then restrict (relayd,
 * httpd). Everything that needs privilege (binding, opening logs, reading keys) is done
 * before pc_sandbox_enter(); after it the process cannot get privilege back.
 */
#ifndef PC_SANDBOX_H
#define PC_SANDBOX_H

#include <stddef.h>

#include "core/core.h"

/*
 * Sets PR_SET_NO_NEW_PRIVS: no exec can ever raise privilege again. It is per thread and
 * inherited, so it is called before any thread starts. 0 or -PC_E* (reason in <err>).
 */
PC_MUST_CHECK int pc_sandbox_prepare(char *err, size_t errlen);

/*
 * When running as root with <user> set, drops supplementary groups, the group and the
 * user to <user>'s, for every thread, then checks that root cannot be regained. <user>
 * NULL: privileges stay (logged when that means running as root). Returns 0, or -PC_E*
 * with the reason in <err>: the caller must not serve then (fail closed).
 */
PC_MUST_CHECK int pc_sandbox_drop(const char *user, char *err, size_t errlen);

#endif
