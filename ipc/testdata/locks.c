// locks.c: a peer of the ipc Mutex and Semaphore in C, written from
// docs/ipc-layout.md (section 8) alone: C11 atomics, the futex system
// call, OFD locks. The Go tests build it with gcc and run it against Go.
//
//   locks count PATH N       lock the mutex at offset 0 of the file PATH
//                            (/dev/shm/NAME) N times, each time adding 1
//                            to the u64 at offset 8192 with a plain load
//                            and store; print "ownerdead" for a lock taken
//                            from a dead holder (then mark it consistent)
//                            and "done" at the end
//   locks hold PATH          lock the mutex, print "locked" (or
//                            "ownerdead"), and hold it until killed
//   locks acquire PATH N     take N permits of the semaphore at offset 0,
//                            print "acquired", hold them until killed
//   locks churn PATH N       take and give back 1 permit N times, then
//                            print "done"
//
// It joins only objects with the LOCKS flag. Exit status: 0 done, 1
// error, 4 the mutex is not recoverable.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PEER_NAME "locks"
#include "ipcpeer.h"

enum {
	OFF_MAGIC = 0, OFF_MAJOR = 8, OFF_HEADER_SIZE = 12, OFF_KIND = 16, OFF_FLAGS = 20, OFF_LINE_SIZE = 24,
	OFF_SLOT_COUNT = 28, OFF_CAPACITY = 32, OFF_DATA_OFFSET = 40, OFF_LOCK_BASE = 48, OFF_LOCK_DEV = 56,
	OFF_LOCK_INO = 64, OFF_STATE = 72,
	OFF_SLOTS = 256, SLOT_STRIDE = 128, SLOT_OWNER = 0, SLOT_ROLE = 8, SLOT_START = 16, SLOT_PIDNS = 24,
	SLOT_PERMITS = 64,
	// Mutex (kind 3).
	OFF_LOCK = 128, OFF_MUTEX_SEQ = 136, OFF_MUTEX_SLEEPERS = 140,
	// Semaphore (kind 4).
	OFF_COUNT = 128, OFF_SEM_MAX = 136, OFF_SEM_SEQ = 140, OFF_SEM_SLEEPERS = 144,
	GUARDED = 8192,
};

static unsigned char *mem;
static uint32_t slots, slot, bit;
static uint64_t lock_base, epoch;
static int fd;

#define U32(off) ((_Atomic uint32_t *)(mem + (off)))
#define U64(off) ((_Atomic uint64_t *)(mem + (off)))
#define SLOT(i, f) (OFF_SLOTS + (i) * SLOT_STRIDE + (f))

static int lockbyte(int cmd, uint32_t i) { return lock_byte(fd, lock_base, cmd, i); }

static void sem_recover(uint32_t i);

// join: sections 2.2, 8.1 and 8.2.
static void join(const char *path, uint32_t kind) {
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) die(path);
	struct stat st;
	if (fstat(fd, &st) < 0) die("fstat");
	if (st.st_size < 256) { fprintf(stderr, "locks: region too small\n"); exit(1); }
	mem = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) die("mmap");
	for (int i = 0;; i++) {
		uint64_t m = atomic_load(U64(OFF_MAGIC));
		uint32_t s = atomic_load(U32(OFF_STATE));
		if (m != 0 && memcmp(mem, "MMKITIPC", 8) != 0) { fprintf(stderr, "locks: foreign magic\n"); exit(1); }
		if (m != 0 && s == 2) break;
		if (s > 2 || i > 2000) { fprintf(stderr, "locks: header state %u\n", s); exit(1); }
		usleep(1000);
	}
	slots = *(uint32_t *)(mem + OFF_SLOT_COUNT);
	uint32_t flags = *(uint32_t *)(mem + OFF_FLAGS);
	if (*(uint16_t *)(mem + OFF_MAJOR) != 1 || *(uint32_t *)(mem + OFF_KIND) != kind || slots < 1 || slots > 32 ||
	    *(uint32_t *)(mem + OFF_HEADER_SIZE) != 256 + 128 * slots || *(uint32_t *)(mem + OFF_LINE_SIZE) != 128 ||
	    (flags & ~1u) != 0 || *(uint64_t *)(mem + OFF_CAPACITY) != 0 || *(uint64_t *)(mem + OFF_DATA_OFFSET) != 0 ||
	    256 + 128 * slots > (uint64_t)st.st_size) {
		fprintf(stderr, "locks: header refused\n");
		exit(1);
	}
	if (!(flags & 1)) { fprintf(stderr, "locks: this peer joins only objects with LOCKS\n"); exit(1); }
	if ((uint64_t)st.st_dev != *(uint64_t *)(mem + OFF_LOCK_DEV) || (uint64_t)st.st_ino != *(uint64_t *)(mem + OFF_LOCK_INO)) {
		fprintf(stderr, "locks: the file is not the object's lock file\n");
		exit(1);
	}
	lock_base = *(uint64_t *)(mem + OFF_LOCK_BASE);
	for (slot = 0; slot < slots; slot++)
		if (lockbyte(F_OFD_SETLK, slot)) break;
	if (slot == slots) { fprintf(stderr, "locks: every slot is in use\n"); exit(1); }
	bit = 1u << slot;
	// Section 4.1 steps 3-5: the lock proves the previous owner dead.
	uint64_t old = atomic_load(U64(SLOT(slot, SLOT_OWNER)));
	epoch = ((old >> 8) + 1) & 0xffffff;
	uint64_t pid = (uint32_t)getpid();
	atomic_store(U64(SLOT(slot, SLOT_OWNER)), 1 | epoch << 8 | pid << 32);
	*(uint32_t *)(mem + SLOT(slot, SLOT_ROLE)) = 0;
	*(uint64_t *)(mem + SLOT(slot, SLOT_START)) = field22();
	struct stat ns;
	if (stat("/proc/self/ns/pid", &ns) < 0) die("stat /proc/self/ns/pid");
	*(uint64_t *)(mem + SLOT(slot, SLOT_PIDNS)) = ns.st_ino;
	atomic_store(U64(SLOT(slot, SLOT_OWNER)), 2 | epoch << 8 | pid << 32);
	atomic_fetch_and(U32(kind == 3 ? OFF_MUTEX_SLEEPERS : OFF_SEM_SLEEPERS), ~bit);
	if (kind == 4) sem_recover(slot);
}

static void wake(int seq, int sleepers, int n) {
	if (atomic_load(U32(sleepers)) != 0) {
		atomic_fetch_add(U32(seq), 1);
		futex(U32(seq), FUTEX_WAKE, n, NULL);
	}
}

// sleep_on is steps 1-4 of section 8.3 around try(), which returns
// non-zero once it succeeded.
static int sleep_on(int seq, int sleepers, int (*try)(void)) {
	struct timespec ts = {0, 50 * 1000 * 1000};
	for (;;) {
		uint32_t s = atomic_load(U32(seq));
		atomic_fetch_or(U32(sleepers), bit);
		int r = try();
		if (r) {
			atomic_fetch_and(U32(sleepers), ~bit);
			return r;
		}
		futex(U32(seq), FUTEX_WAIT, s, &ts);
	}
}

// The mutex: section 8.4.
static uint64_t mine(void) { return 1 | epoch << 8 | (uint64_t)slot << 32; }

static int try_lock(void) { // 1 taken, 2 taken from a dead holder
	for (;;) {
		uint64_t w = atomic_load(U64(OFF_LOCK));
		if (w == 0) {
			if (atomic_compare_exchange_strong(U64(OFF_LOCK), &w, mine())) return 1;
			continue;
		}
		if ((w & 0xff) == 3) { fprintf(stderr, "locks: the mutex is not recoverable\n"); exit(4); }
		uint32_t h = w >> 32;
		if (h >= slots) { fprintf(stderr, "locks: corrupt lock word\n"); exit(1); }
		uint64_t o = atomic_load(U64(SLOT(h, SLOT_OWNER)));
		int gone = (o & 0xff) != 2 || ((o >> 8) & 0xffffff) != ((w >> 8) & 0xffffff) || (h != slot && !lockbyte(F_OFD_GETLK, h));
		if (!gone) return 0;
		if (atomic_compare_exchange_strong(U64(OFF_LOCK), &w, (mine() & ~0xffull) | 2)) return 2;
	}
}

static int lock(void) { // 0, or 1 when the owner died
	uint64_t z = 0;
	if (atomic_compare_exchange_strong(U64(OFF_LOCK), &z, mine())) return 0;
	return sleep_on(OFF_MUTEX_SEQ, OFF_MUTEX_SLEEPERS, try_lock) == 2;
}

static void mark_consistent(void) {
	uint64_t w = (mine() & ~0xffull) | 2;
	if (!atomic_compare_exchange_strong(U64(OFF_LOCK), &w, mine())) { fprintf(stderr, "locks: not inconsistent\n"); exit(1); }
}

static void unlock(void) {
	uint64_t w = mine();
	if (!atomic_compare_exchange_strong(U64(OFF_LOCK), &w, 0)) { fprintf(stderr, "locks: unlock of a mutex not held\n"); exit(1); }
	wake(OFF_MUTEX_SEQ, OFF_MUTEX_SLEEPERS, 1);
}

// The semaphore: section 8.5.
static uint32_t held, want;

static int move(uint32_t n, int release) { // steps 1-4; 0 when it cannot
	_Atomic uint64_t *cw = U64(OFF_COUNT), *pw = U64(SLOT(slot, SLOT_PERMITS));
	uint64_t flight = (uint64_t)bit << 32;
	uint32_t k = release ? (n < held ? n : held) : n, max = *(uint32_t *)(mem + OFF_SEM_MAX);
	atomic_store(pw, held | (uint64_t)k << 32 | (release ? 1ull << 63 : 0));
	for (;;) {
		uint64_t c = atomic_load(cw);
		uint32_t avail = (uint32_t)c;
		if (release ? (uint64_t)avail + n > max : avail < n) {
			atomic_store(pw, held);
			return 0;
		}
		uint64_t next = (c & ~0xffffffffull) | flight | (uint32_t)(release ? avail + n : avail - n);
		if (atomic_compare_exchange_strong(cw, &c, next)) break;
	}
	held = release ? held - k : held + n;
	atomic_store(pw, held);
	atomic_fetch_and(cw, ~flight);
	if (release) wake(OFF_SEM_SEQ, OFF_SEM_SLEEPERS, INT_MAX);
	return 1;
}

static int try_acquire(void) { return move(want, 0); }

static void acquire(uint32_t n) {
	want = n;
	if (!move(n, 0)) sleep_on(OFF_SEM_SEQ, OFF_SEM_SLEEPERS, try_acquire);
}

static void sem_recover(uint32_t i) {
	_Atomic uint64_t *cw = U64(OFF_COUNT), *pw = U64(SLOT(i, SLOT_PERMITS));
	uint64_t flight = 1ull << (32 + i), p = atomic_load(pw);
	uint32_t h = (uint32_t)p, pend = (p >> 32) & 0x7fffffff;
	if (atomic_load(cw) & flight) {
		h = p >> 63 ? h - pend : h + pend;
		atomic_store(pw, h);
		atomic_fetch_and(cw, ~flight);
	} else if (pend) {
		atomic_store(pw, h);
	}
	if (h == 0) return;
	uint32_t max = *(uint32_t *)(mem + OFF_SEM_MAX);
	atomic_store(pw, h | (uint64_t)h << 32 | 1ull << 63);
	for (;;) {
		uint64_t c = atomic_load(cw);
		uint32_t avail = (uint32_t)c, back = avail < max ? (h < max - avail ? h : max - avail) : 0;
		if (atomic_compare_exchange_strong(cw, &c, (c & ~0xffffffffull) | flight | (avail + back))) break;
	}
	atomic_store(pw, 0);
	atomic_fetch_and(cw, ~flight);
	wake(OFF_SEM_SEQ, OFF_SEM_SLEEPERS, INT_MAX);
}

int main(int argc, char **argv) {
	if (argc < 3) { fprintf(stderr, "usage: locks count|hold|acquire|churn PATH [N]\n"); return 1; }
	const char *cmd = argv[1];
	long n = argc > 3 ? atol(argv[3]) : 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "count") == 0 || strcmp(cmd, "hold") == 0) {
		join(argv[2], 3);
		if (strcmp(cmd, "hold") == 0) {
			puts(lock() ? "ownerdead" : "locked");
			for (;;) pause();
		}
		for (long i = 0; i < n; i++) {
			if (lock()) {
				puts("ownerdead");
				mark_consistent();
			}
			volatile uint64_t *counter = (volatile uint64_t *)(mem + GUARDED);
			*counter = *counter + 1;
			unlock();
		}
		puts("done");
		return 0;
	}
	join(argv[2], 4);
	if (strcmp(cmd, "acquire") == 0) {
		acquire(n);
		puts("acquired");
		for (;;) pause();
	}
	for (long i = 0; i < n; i++) {
		acquire(1);
		if (!move(1, 1)) { fprintf(stderr, "locks: release past the maximum\n"); return 1; }
	}
	puts("done");
	return 0;
}
