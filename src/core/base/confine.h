/* SPDX-License-Identifier: Apache-2.0 */
/* confine.h - confine a forked child that parses untrusted input */
#ifndef BPFD_CORE_BASE_CONFINE_H
#define BPFD_CORE_BASE_CONFINE_H

/*
 * For the child that parses an untrusted ELF file, first thing after fork():
 * drop every capability (for good: see caps_drop_all()), set no_new_privs and
 * install a seccomp filter that allows only what libbpf's parse needs: memory
 * management, reading files (openat read-only, pread, fstat, close), uname and
 * access (libbpf's kernel version check), write(2) to out_fd (-1: none) and
 * stderr, and exiting.  Any other system call kills the child (SIGSYS): a parse
 * that makes one has gone wrong, and the caller refuses the object.
 * 0 or -errno (logged); on error the caller must _exit() rather than parse.
 */
int confine_parser(int out_fd);

#endif
