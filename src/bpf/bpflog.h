/* SPDX-License-Identifier: Apache-2.0 */
/* bpflog.h - where libbpf's messages go.  The only place that calls
 * libbpf_set_print(): the rest of src/bpf picks a mode here. */
#ifndef BPFD_BPF_BPFLOG_H
#define BPFD_BPF_BPFLOG_H

enum bpflog_mode {
	BPFLOG_DEBUG = 0,	/* every line to the log at debug level (the default) */
	BPFLOG_WARN,		/* warnings as warnings, the rest at debug level */
	BPFLOG_OFF,		/* nothing: refusals that are expected */
};

/* Install the hook (once; libbpf prints to stderr until then). */
void bpflog_init(void);
/* Route libbpf's messages of the calling thread (libbpf prints from the thread that
 * called it; a forked child inherits the mode).  Returns the previous mode, so that
 * a caller can put it back. */
enum bpflog_mode bpflog_set(enum bpflog_mode mode);

#endif
