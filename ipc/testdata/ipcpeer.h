// ipcpeer.h: what the C peers (peer.c, locks.c) share, written from
// docs/ipc-layout.md: errors, the futex call, the start time a slot
// records (section 4), the lock bytes (section 5.1). Define PEER_NAME, the
// prefix of messages, before including it.
#ifndef IPCPEER_H
#define IPCPEER_H

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
	fprintf(stderr, PEER_NAME ": %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

// futex is the system call on a shared word: never the _PRIVATE ops.
static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts) {
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

// field22 is this process's start time, field 22 of /proc/self/stat.
static uint64_t field22(void) {
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f || !fgets(buf, sizeof buf, f)) die("read /proc/self/stat");
	fclose(f);
	char *p = strrchr(buf, ')');
	if (!p) die("parse /proc/self/stat");
	// Fields after the name: 3 (state) is the first; 22 is the 20th.
	p++;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p) die("parse /proc/self/stat");
	}
	return strtoull(p + 1, NULL, 10);
}

// lock_byte takes (cmd F_OFD_SETLK) or tests (F_OFD_GETLK) the lock byte
// at base + i of fd's file; it returns 1 when the lock is taken, or held
// by another open file description.
static int lock_byte(int fd, uint64_t base, int cmd, uint32_t i) {
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)(base + i), .l_len = 1};
	if (fcntl(fd, cmd, &fl) < 0) {
		if (cmd == F_OFD_SETLK && (errno == EAGAIN || errno == EACCES)) return 0;
		die("fcntl");
	}
	return cmd == F_OFD_SETLK ? 1 : fl.l_type != F_UNLCK;
}

#endif
