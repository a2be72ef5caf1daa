// pthread_mutex.c: the baseline of the mutex benchmarks, a glibc
// process-shared robust pthread mutex between two processes.
//
//   pthread_mutex handoff N   N rounds of hand-offs between a parent and
//                             a forked child: the holder waits until the
//                             other is blocked in pthread_mutex_lock (the
//                             FUTEX_WAITERS bit of the lock word), stores
//                             the time and unlocks; the other measures the
//                             time to its return. Prints the 2N latencies
//                             in ns, one a line.
//   pthread_mutex recover N   N rounds: a forked child locks, the parent
//                             blocks in pthread_mutex_lock, the child is
//                             SIGKILLed; prints the ns from the kill to
//                             the parent's EOWNERDEAD, one a line.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t m;
	_Atomic int64_t t0, t1;
	_Atomic int64_t seq, ready;
};

static int64_t now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// POLL returns once cond holds: it watches for 50 us, then yields between
// looks, as the Go side's poll does (locks_test.go), so that a hand-off
// starts as soon as the waiter has announced itself.
#define POLL(cond) do { \
		int64_t end_ = now() + 50000; \
		while (!(cond)) \
			if (now() > end_) sched_yield(); \
	} while (0)

// waiters reports whether a process is blocked on the mutex: glibc sets
// FUTEX_WAITERS in the lock word of a robust mutex when it sleeps.
static int waiters(struct shared *s) {
	return (atomic_load((_Atomic int *)&s->m.__data.__lock) & 0x80000000) != 0;
}

static void lock(struct shared *s) {
	int r = pthread_mutex_lock(&s->m);
	if (r == EOWNERDEAD) pthread_mutex_consistent(&s->m);
	else if (r != 0) { fprintf(stderr, "pthread_mutex_lock: %s\n", strerror(r)); exit(1); }
}

int main(int argc, char **argv) {
	if (argc < 3) { fprintf(stderr, "usage: pthread_mutex handoff|recover N\n"); return 1; }
	long n = atol(argv[2]);
	struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED) { perror("mmap"); return 1; }
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&s->m, &a);
	int64_t *lat = calloc(2 * n + 1, sizeof *lat);
	if (strcmp(argv[1], "handoff") == 0) {
		lock(s);
		pid_t pid = fork();
		if (pid == 0) {
			for (long i = 0; i < n; i++) {
				lock(s);
				atomic_store(&s->t1, now());
				atomic_fetch_add(&s->seq, 1);
				POLL(waiters(s));
				atomic_store(&s->t0, now());
				pthread_mutex_unlock(&s->m);
				POLL(atomic_load(&s->ready) == i + 1); // the parent's turn
			}
			_exit(0);
		}
		for (long i = 0; i < n; i++) {
			POLL(waiters(s));
			int64_t seq = atomic_load(&s->seq);
			atomic_store(&s->t0, now());
			pthread_mutex_unlock(&s->m);
			POLL(atomic_load(&s->seq) != seq);
			lat[2 * i] = atomic_load(&s->t1) - atomic_load(&s->t0);
			lock(s);
			lat[2 * i + 1] = now() - atomic_load(&s->t0);
			atomic_store(&s->ready, i + 1);
		}
		waitpid(pid, NULL, 0);
		for (long i = 0; i < 2 * n; i++) printf("%lld\n", (long long)lat[i]);
		return 0;
	}
	for (long i = 0; i < n; i++) {
		atomic_store(&s->ready, 0);
		pid_t pid = fork();
		if (pid == 0) {
			lock(s);
			atomic_store(&s->ready, 1);
			for (;;) pause();
		}
		while (!atomic_load(&s->ready)) sched_yield();
		pid_t w = fork(); // the killer, once the parent sleeps in the lock
		if (w == 0) {
			while (!waiters(s)) sched_yield();
			atomic_store(&s->t0, now());
			kill(pid, SIGKILL);
			_exit(0);
		}
		lock(s);
		lat[i] = now() - atomic_load(&s->t0);
		pthread_mutex_unlock(&s->m);
		waitpid(pid, NULL, 0);
		waitpid(w, NULL, 0);
	}
	for (long i = 0; i < n; i++) printf("%lld\n", (long long)lat[i]);
	return 0;
}
