// peer.c: a pipe peer in C, written from docs/ipc-layout.md alone (C11
// atomics, the futex system call, OFD locks). The Go tests build it with
// gcc and run it against Go in both directions.
//
//   peer read PATH [LIMIT]   attach as the reader of the pipe in the file
//                            PATH (/dev/shm/NAME) and copy what it carries
//                            to stdout until end of stream, or, with LIMIT,
//                            close after LIMIT bytes. A message pipe's
//                            records are written as a 4-byte little-endian
//                            length and the payload.
//   peer write PATH [hold]   attach as the writer and copy stdin into the
//                            pipe (for a message pipe, stdin holds records
//                            as above), then close; with "hold", print
//                            "written" and stay attached until killed.
//
// It joins only pipes with the LOCKS flag (a region with a file), which is
// what the section on claiming slots needs without a compare-and-swap on
// the pid. Exit status: 0 done, 1 error, 3 the peer died (ErrPeerDead).
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

#define PEER_NAME "peer"
#include "ipcpeer.h"

// Offsets of docs/ipc-layout.md.
enum {
	OFF_MAGIC = 0, OFF_MAJOR = 8, OFF_HEADER_SIZE = 12, OFF_KIND = 16, OFF_FLAGS = 20,
	OFF_LINE_SIZE = 24, OFF_SLOT_COUNT = 28, OFF_CAPACITY = 32, OFF_DATA_OFFSET = 40,
	OFF_LOCK_BASE = 48, OFF_LOCK_DEV = 56, OFF_LOCK_INO = 64, OFF_STATE = 72,
	OFF_WRITER_STATE = 128, OFF_READER_STATE = 132, OFF_TAIL = 256, OFF_HEAD = 384,
	OFF_DATA_SEQ = 512, OFF_DATA_SLEEPERS = 516, OFF_SPACE_SEQ = 640, OFF_SPACE_SLEEPERS = 644,
	OFF_SLOTS = 1024, SLOT_SIZE = 64, SLOT_OWNER = 0, SLOT_ROLE = 8, SLOT_START = 16, SLOT_PIDNS = 24,
};

static unsigned char *mem;
static size_t memsize;
static uint64_t capacity, data_off, lock_base;
static int lockfd = -1, messages, role; // role 1 writer, 2 reader
static uint64_t pos;                    // own position: tail (writer) or head (reader)

#define U32(off) ((_Atomic uint32_t *)(mem + (off)))
#define U64(off) ((_Atomic uint64_t *)(mem + (off)))

static void wake(int seq_off) {
	atomic_fetch_add(U32(seq_off), 1);
	futex(U32(seq_off), FUTEX_WAKE, INT_MAX, NULL);
}

// lock takes (cmd F_OFD_SETLK) or tests (F_OFD_GETLK) the lock byte of
// slot i; it returns 1 when the lock is taken or held by another.
static int lock(int cmd, int slot) { return lock_byte(lockfd, lock_base, cmd, (uint32_t)slot); }

static void join(const char *path) {
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) die(path);
	struct stat st;
	if (fstat(fd, &st) < 0) die("fstat");
	memsize = st.st_size;
	if (memsize < 128) { fprintf(stderr, "peer: region too small\n"); exit(1); }
	mem = mmap(NULL, memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) die("mmap");
	// Section 2.2: the magic, then the state, waiting (bounded) for ready.
	for (int i = 0;; i++) {
		uint64_t m = atomic_load(U64(OFF_MAGIC));
		uint32_t s = atomic_load(U32(OFF_STATE));
		if (m != 0 && memcmp(mem, "MMKITIPC", 8) != 0) { fprintf(stderr, "peer: foreign magic\n"); exit(1); }
		if (m != 0 && s == 2) break;
		if (s > 2) { fprintf(stderr, "peer: state %u\n", s); exit(1); }
		if (i > 2000) { fprintf(stderr, "peer: header never ready\n"); exit(1); }
		usleep(1000);
	}
	uint32_t kind = *(uint32_t *)(mem + OFF_KIND), flags = *(uint32_t *)(mem + OFF_FLAGS);
	capacity = *(uint64_t *)(mem + OFF_CAPACITY);
	data_off = *(uint64_t *)(mem + OFF_DATA_OFFSET);
	lock_base = *(uint64_t *)(mem + OFF_LOCK_BASE);
	if (*(uint16_t *)(mem + OFF_MAJOR) != 1 || (kind != 1 && kind != 2) ||
	    *(uint32_t *)(mem + OFF_HEADER_SIZE) != 1152 || *(uint32_t *)(mem + OFF_LINE_SIZE) != 128 ||
	    *(uint32_t *)(mem + OFF_SLOT_COUNT) != 2 || (flags & ~1u) != 0 ||
	    capacity < 64 || (capacity & (capacity - 1)) != 0 || data_off % 128 != 0 || data_off < 1152 ||
	    data_off > memsize || capacity > memsize - data_off) { /* no wrap-around */
		fprintf(stderr, "peer: header refused\n");
		exit(1);
	}
	messages = kind == 2;
	if (!(flags & 1)) { fprintf(stderr, "peer: this peer joins only pipes with LOCKS\n"); exit(1); }
	if ((uint64_t)st.st_dev != *(uint64_t *)(mem + OFF_LOCK_DEV) || (uint64_t)st.st_ino != *(uint64_t *)(mem + OFF_LOCK_INO)) {
		fprintf(stderr, "peer: the file is not the pipe's lock file\n");
		exit(1);
	}
	lockfd = fd; // a fresh open: its own open file description

	// Section 4.1: claim the slot.
	int slot = role == 1 ? 0 : 1;
	int state_off = role == 1 ? OFF_WRITER_STATE : OFF_READER_STATE;
	if (!lock(F_OFD_SETLK, slot)) { fprintf(stderr, "peer: the end is in use\n"); exit(1); }
	if (atomic_load(U32(state_off)) == 2) { fprintf(stderr, "peer: the end was closed\n"); exit(1); }
	int so = OFF_SLOTS + slot * SLOT_SIZE;
	uint64_t old = atomic_load(U64(so + SLOT_OWNER));
	uint64_t epoch = ((old >> 8) + 1) & 0xffffff;
	uint64_t pid = (uint32_t)getpid();
	atomic_store(U64(so + SLOT_OWNER), 1 | epoch << 8 | pid << 32);
	*(uint32_t *)(mem + so + SLOT_ROLE) = role;
	*(uint64_t *)(mem + so + SLOT_START) = field22();
	struct stat ns;
	if (stat("/proc/self/ns/pid", &ns) < 0) die("stat /proc/self/ns/pid");
	*(uint64_t *)(mem + so + SLOT_PIDNS) = ns.st_ino;
	atomic_store(U64(so + SLOT_OWNER), 2 | epoch << 8 | pid << 32);
	atomic_store(U32(role == 1 ? OFF_SPACE_SLEEPERS : OFF_DATA_SLEEPERS), 0);
	uint32_t none = 0;
	atomic_compare_exchange_strong(U32(state_off), &none, 1);
	pos = atomic_load(U64(role == 1 ? OFF_TAIL : OFF_HEAD));
	wake(OFF_DATA_SEQ);
	wake(OFF_SPACE_SEQ);
}

// Section 4.2.
static void leave(void) {
	int slot = role == 1 ? 0 : 1, so = OFF_SLOTS + slot * SLOT_SIZE;
	atomic_store(U32(role == 1 ? OFF_WRITER_STATE : OFF_READER_STATE), 2);
	wake(OFF_DATA_SEQ);
	wake(OFF_SPACE_SEQ);
	uint64_t w = atomic_load(U64(so + SLOT_OWNER));
	atomic_store(U64(so + SLOT_OWNER), w & 0xffffff00);
	close(lockfd);
	if (atomic_load(U32(role == 1 ? OFF_READER_STATE : OFF_WRITER_STATE)) == 2) {
		uint32_t ready = 2;
		atomic_compare_exchange_strong(U32(OFF_STATE), &ready, 3);
	}
}

// peer_dead: section 5.1, the peer's slot attached and its lock free.
static int peer_dead(void) {
	int peer = role == 1 ? 1 : 0;
	uint64_t w = atomic_load(U64(OFF_SLOTS + peer * SLOT_SIZE + SLOT_OWNER));
	if ((w & 0xff) == 0) return 0;
	return !lock(F_OFD_GETLK, peer) && atomic_load(U64(OFF_SLOTS + peer * SLOT_SIZE + SLOT_OWNER)) == w;
}

// await_ready is section 6.3: ready() is checked before and after the
// sleeper announces itself; sleeps are bounded so that a dead peer is
// found.
static void await_ready(int (*ready)(void)) {
	int seq = role == 1 ? OFF_SPACE_SEQ : OFF_DATA_SEQ, sleepers = role == 1 ? OFF_SPACE_SLEEPERS : OFF_DATA_SLEEPERS;
	for (;;) {
		uint32_t s = atomic_load(U32(seq));
		atomic_fetch_add(U32(sleepers), 1);
		if (ready()) {
			atomic_fetch_sub(U32(sleepers), 1);
			return;
		}
		if (peer_dead()) {
			atomic_fetch_sub(U32(sleepers), 1);
			if (ready()) return;
			fprintf(stderr, "peer: the other end's process died\n");
			exit(3);
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		futex(U32(seq), FUTEX_WAIT, s, &ts);
		atomic_fetch_sub(U32(sleepers), 1);
	}
}

static uint64_t want; // room the writer waits for

static int reader_closed(void) { return atomic_load(U32(OFF_READER_STATE)) == 2; }
static int room_ready(void) { return reader_closed() || capacity - (pos - atomic_load(U64(OFF_HEAD))) >= want; }
static int data_ready(void) { return atomic_load(U64(OFF_TAIL)) != pos || atomic_load(U32(OFF_WRITER_STATE)) == 2; }

static void publish(uint64_t newpos) {
	pos = newpos;
	atomic_store(U64(OFF_TAIL), pos); // seq_cst: the Dekker pair of 6.3
	if (atomic_load(U32(OFF_DATA_SLEEPERS)) != 0) wake(OFF_DATA_SEQ);
}

static void put(const unsigned char *p, uint64_t n) { // stream: n bytes, in pieces
	while (n > 0) {
		want = 1;
		await_ready(room_ready);
		if (reader_closed()) { fprintf(stderr, "peer: broken pipe\n"); exit(1); }
		uint64_t free = capacity - (pos - atomic_load(U64(OFF_HEAD)));
		uint64_t i = pos % capacity, c = n < free ? n : free;
		if (c > capacity - i) c = capacity - i;
		memcpy(mem + data_off + i, p, c);
		publish(pos + c);
		p += c;
		n -= c;
	}
}

static void put_record(const unsigned char *p, uint64_t n) {
	uint64_t size = (8 + n + 7) & ~7ull, i = pos % capacity, pad = capacity - i < size ? capacity - i : 0;
	if (n > capacity / 2 - 8) { fprintf(stderr, "peer: record too large\n"); exit(1); }
	want = pad + size;
	await_ready(room_ready);
	if (reader_closed()) { fprintf(stderr, "peer: broken pipe\n"); exit(1); }
	uint64_t start = (pos + pad) % capacity;
	memcpy(mem + data_off + start + 8, p, n);
	if (pad) atomic_store(U64(data_off + i), (pad - 8) | 2ull << 32);
	atomic_store(U64(data_off + start), n | 1ull << 32); // length stored last
	publish(pos + pad + size);
}

static int read_full(int fd, unsigned char *p, size_t n) {
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r == 0) return 0;
		if (r < 0) die("read stdin");
		p += r;
		n -= r;
	}
	return 1;
}

static void write_all(const unsigned char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(1, p, n);
		if (w < 0) die("write stdout");
		p += w;
		n -= w;
	}
}

static void release(uint64_t newpos) {
	pos = newpos;
	atomic_store(U64(OFF_HEAD), pos);
	if (atomic_load(U32(OFF_SPACE_SLEEPERS)) != 0) wake(OFF_SPACE_SEQ);
}

int main(int argc, char **argv) {
	if (argc < 3) { fprintf(stderr, "usage: peer read|write PATH [LIMIT|hold]\n"); return 1; }
	role = strcmp(argv[1], "write") == 0 ? 1 : 2;
	join(argv[2]);
	static unsigned char buf[1 << 16];
	if (role == 1) {
		for (;;) {
			if (messages) {
				unsigned char len[4];
				if (!read_full(0, len, 4)) break;
				uint32_t n = len[0] | len[1] << 8 | len[2] << 16 | (uint32_t)len[3] << 24;
				if (n > sizeof buf || !read_full(0, buf, n)) die("short record on stdin");
				put_record(buf, n);
			} else {
				ssize_t n = read(0, buf, sizeof buf);
				if (n < 0) die("read stdin");
				if (n == 0) break;
				put(buf, n);
			}
		}
		if (argc > 3 && strcmp(argv[3], "hold") == 0) {
			printf("written\n");
			fflush(stdout);
			for (;;) pause();
		}
		leave();
		return 0;
	}
	long long limit = argc > 3 ? atoll(argv[3]) : -1, got = 0;
	for (;;) {
		if (limit >= 0 && got >= limit) break;
		await_ready(data_ready);
		uint64_t tail = atomic_load(U64(OFF_TAIL));
		if (tail == pos) break; // the writer closed: end of stream
		if (tail - pos > capacity) { fprintf(stderr, "peer: corrupt positions\n"); return 1; }
		uint64_t i = pos % capacity;
		if (messages) {
			uint64_t h = atomic_load(U64(data_off + i)), n = h & 0xffffffff;
			unsigned type = (h >> 32) & 0xffff;
			if (type == 2) { release(pos + capacity - i); continue; }
			if (type != 1 || (h >> 48) != 0 || i + 8 + n > capacity) { fprintf(stderr, "peer: corrupt frame\n"); return 1; }
			unsigned char len[4] = {n, n >> 8, n >> 16, n >> 24};
			write_all(len, 4);
			write_all(mem + data_off + i + 8, n);
			got += n;
			release(pos + ((8 + n + 7) & ~7ull));
		} else {
			uint64_t c = tail - pos;
			if (c > capacity - i) c = capacity - i;
			if (limit >= 0 && (long long)c > limit - got) c = limit - got;
			write_all(mem + data_off + i, c);
			got += c;
			release(pos + c);
		}
	}
	leave();
	return 0;
}
