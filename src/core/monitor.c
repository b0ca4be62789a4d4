/* SPDX-License-Identifier: Apache-2.0 */
/* monitor.c - netlink notifications -> mgr_follow() jobs in the kernel executor */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpf/nlmon.h"
#include "core/base/log.h"
#include "core/monitor.h"

/* Changes handed to one job at most; more in one burst means "check all". */
#define MON_BATCH	64

struct monitor {
	struct exec *ex;
	struct mgr *m;
	int nl_fd;
	int stop_fd;
	pthread_t thread;
	struct nl_change c[MON_BATCH];
	size_t n;
	bool all;
	uint8_t buf[64 << 10];
};

static int follow_job(void *arg)
{
	struct monitor *mon = arg;

	return mgr_follow(mon->m, mon->c, mon->n, mon->all);
}

/* Read every datagram waiting: false when the socket failed for good. */
static bool drain(struct monitor *mon)
{
	size_t got;
	ssize_t len;
	bool more;

	for (;;) {
		len = recv(mon->nl_fd, mon->buf, sizeof(mon->buf), MSG_DONTWAIT);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			return true;
		if (len < 0 && errno == ENOBUFS) {
			/* the kernel dropped notifications: look at everything */
			log_info("netlink notifications were lost (a burst): re-checking every hook");
			mon->all = true;
			continue;
		}
		if (len < 0) {
			log_warn("Reading netlink notifications failed: %s; bpfd follows the kernel only at List and Get from now on",
				 strerror(errno));
			return false;
		}
		if (mon->all)
			continue;
		if (nlmon_parse(mon->buf, len, mon->c + mon->n, MON_BATCH - mon->n, &got, &more))
			log_debug("a malformed netlink notification was skipped");
		mon->n += got;
		if (more)
			mon->all = true;
	}
}

static void *monitor_main(void *arg)
{
	struct monitor *mon = arg;
	struct pollfd p[2] = {
		{ .fd = mon->stop_fd, .events = POLLIN },
		{ .fd = mon->nl_fd, .events = POLLIN },
	};

	/* what changed before the socket was open, and the hooks as they are */
	mon->all = true;
	(void)exec_call(mon->ex, follow_job, mon);
	mon->all = false;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (!p[1].revents)
			continue;
		if (!drain(mon))
			break;
		if (!mon->n && !mon->all)
			continue;
		if (exec_call(mon->ex, follow_job, mon) == -ESHUTDOWN)
			break;
		mon->n = 0;
		mon->all = false;
	}
	return NULL;
}

int monitor_start(struct exec *ex, struct mgr *m, struct monitor **ret)
{
	struct monitor *mon = calloc(1, sizeof(*mon));
	int err;

	if (!mon)
		return -ENOMEM;
	mon->ex = ex;
	mon->m = m;
	mon->stop_fd = -1;
	mon->nl_fd = nlmon_open();
	if (mon->nl_fd < 0) {
		err = mon->nl_fd;
		goto fail;
	}
	mon->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (mon->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&mon->thread, NULL, monitor_main, mon);
	if (err)
		goto fail;
	*ret = mon;
	return 0;
fail:
	if (mon->nl_fd >= 0)
		close(mon->nl_fd);
	if (mon->stop_fd >= 0)
		close(mon->stop_fd);
	free(mon);
	return err;
}

void monitor_stop(struct monitor *mon)
{
	uint64_t one = 1;

	if (!mon)
		return;
	if (write(mon->stop_fd, &one, sizeof(one)) < 0)
		log_warn("Failed to stop the netlink monitor: %s", strerror(errno));
	pthread_join(mon->thread, NULL);
	close(mon->nl_fd);
	close(mon->stop_fd);
	free(mon);
}
