/*
 * core/banned.h - functions that have no bounds or no error reporting. Include it after
 * the system headers; using one is a compile error (HAProxy bug.h, curl BANNEDFUNC).
 */
#ifndef PC_BANNED_H
#define PC_BANNED_H
#undef strcpy
#undef strcat
#undef strncpy
#undef sprintf
#undef vsprintf
#undef strtok
#undef gets
#undef atoi
#undef atol
#pragma GCC poison strcpy strcat strncpy sprintf vsprintf strtok gets atoi atol
#endif
