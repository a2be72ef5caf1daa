#!/usr/bin/env python3
"""A pipe peer in Python, written from docs/ipc-layout.md alone, with the
standard library only: mmap and struct for the memory, ctypes for the futex
system call, fcntl for the OFD locks. The Go tests run it against Go in both
directions.

  peer.py read PATH [LIMIT]   attach as the reader of the pipe in the file
                              PATH (/dev/shm/NAME) and copy what it carries
                              to stdout until end of stream, or, with LIMIT,
                              close after LIMIT bytes. A message pipe's
                              records are written as a 4-byte little-endian
                              length and the payload.
  peer.py write PATH [hold]   attach as the writer and copy stdin into the
                              pipe (for a message pipe, stdin holds records
                              as above), then close; with "hold", print
                              "written" and stay attached until killed.

Python has no atomic read-modify-write, so, as section 6.3 allows, every
addition to a shared word goes through FUTEX_WAKE_OP, which the kernel
performs atomically with a full barrier; plain loads and stores of the
aligned 8-byte positions go through ctypes, one instruction each. The
publisher always wakes (it cannot order its store before its load of the
sleepers word), which costs a system call per write and is always correct.
It joins only pipes with the LOCKS flag, where the slot's lock stands in
for the compare-and-swap that claiming would otherwise need.

Exit status: 0 done, 1 error, 3 the peer died.
"""

import ctypes
import fcntl
import os
import struct
import sys
import time

from ipcpeer import Mapping, Timespec, fail

OFF_MAGIC, OFF_MAJOR, OFF_HEADER_SIZE, OFF_KIND, OFF_FLAGS = 0, 8, 12, 16, 20
OFF_LINE_SIZE, OFF_SLOT_COUNT, OFF_CAPACITY, OFF_DATA_OFFSET = 24, 28, 32, 40
OFF_LOCK_BASE, OFF_LOCK_DEV, OFF_LOCK_INO, OFF_STATE = 48, 56, 64, 72
OFF_WRITER_STATE, OFF_READER_STATE, OFF_TAIL, OFF_HEAD = 128, 132, 256, 384
OFF_DATA_SEQ, OFF_DATA_SLEEPERS, OFF_SPACE_SEQ, OFF_SPACE_SLEEPERS = 512, 516, 640, 644
OFF_SLOTS, SLOT_SIZE, SLOT_OWNER, SLOT_ROLE, SLOT_START, SLOT_PIDNS = 1024, 64, 0, 8, 16, 24

FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAKE_OP = 0, 1, 5
FUTEX_OP_ADD, FUTEX_OP_CMP_EQ = 1, 0


class Pipe(Mapping):
    def __init__(self, path, role):
        self.role = role  # 1 writer, 2 reader
        Mapping.__init__(self, path)
        h = self.header
        _, major, _, header_size, kind, flags, line_size, slots, cap, data_off, lock_base, lock_dev, lock_ino, _ = h
        if (major != 1 or kind not in (1, 2) or header_size != 1152 or line_size != 128 or slots != 2
                or flags & ~1 or cap < 64 or cap & (cap - 1) or data_off % 128 or data_off < 1152
                or data_off + cap > self.size):
            fail("header refused: %r" % (h,))
        if not flags & 1:
            fail("this peer joins only pipes with LOCKS")
        if not self.same_file:
            fail("the file is not the pipe's lock file")
        self.cap, self.data, self.lock_base, self.messages = cap, data_off, lock_base, kind == 2
        self.slot = 0 if role == 1 else 1
        self.peer = 1 - self.slot
        self.own_state = OFF_WRITER_STATE if role == 1 else OFF_READER_STATE
        self.peer_state = OFF_READER_STATE if role == 1 else OFF_WRITER_STATE
        self.seq = OFF_SPACE_SEQ if role == 1 else OFF_DATA_SEQ
        self.sleepers = OFF_SPACE_SLEEPERS if role == 1 else OFF_DATA_SLEEPERS
        self.claim()

    def add(self, off, n, wake_also=False):
        """Adds n to the u32 at off, atomically, with a full barrier
        (FUTEX_WAKE_OP); with wake_also, wakes its waiters after."""
        op = (FUTEX_OP_ADD << 28) | (FUTEX_OP_CMP_EQ << 24) | ((n & 0xfff) << 12)
        r = self.futex(off, FUTEX_WAKE_OP, 0x7fffffff if wake_also else 0, None, off, op)
        if r < 0:
            fail("FUTEX_WAKE_OP: %s" % os.strerror(ctypes.get_errno()))

    def wake(self, off):
        self.add(off, 1, wake_also=True)

    def claim(self):  # section 4.1
        if not self.flock(fcntl.F_OFD_SETLK, self.slot):
            fail("the end is in use")
        if self.u32(self.own_state).value == 2:
            fail("the end was closed")
        so = OFF_SLOTS + self.slot * SLOT_SIZE
        old = self.u64(so + SLOT_OWNER).value
        epoch = ((old >> 8) + 1) & 0xffffff
        pid = os.getpid()
        self.u64(so + SLOT_OWNER).value = 1 | epoch << 8 | pid << 32  # the lock excludes other claimers
        self.u32(so + SLOT_ROLE).value = self.role
        with open("/proc/self/stat") as f:
            self.u64(so + SLOT_START).value = int(f.read().rpartition(")")[2].split()[19])
        self.u64(so + SLOT_PIDNS).value = os.stat("/proc/self/ns/pid").st_ino
        self.u64(so + SLOT_OWNER).value = 2 | epoch << 8 | pid << 32
        self.u32(self.sleepers).value = 0
        if self.u32(self.own_state).value == 0:
            self.u32(self.own_state).value = 1
        self.pos = self.u64(OFF_TAIL if self.role == 1 else OFF_HEAD).value
        self.wake(OFF_DATA_SEQ)
        self.wake(OFF_SPACE_SEQ)

    def leave(self):  # section 4.2
        so = OFF_SLOTS + self.slot * SLOT_SIZE
        self.u32(self.own_state).value = 2
        self.wake(OFF_DATA_SEQ)
        self.wake(OFF_SPACE_SEQ)
        w = self.u64(so + SLOT_OWNER).value
        self.u64(so + SLOT_OWNER).value = w & 0xffffff00
        os.close(self.fd)
        # Without compare-and-swap: the worst case is a "closed" written over
        # a "poisoned" that another participant stored at the same moment.
        if self.u32(self.peer_state).value == 2 and self.u32(OFF_STATE).value == 2:
            self.u32(OFF_STATE).value = 3

    def peer_dead(self):  # section 5.1
        so = OFF_SLOTS + self.peer * SLOT_SIZE
        w = self.u64(so + SLOT_OWNER).value
        if w & 0xff == 0:
            return False
        return not self.flock(fcntl.F_OFD_GETLK, self.peer) and self.u64(so + SLOT_OWNER).value == w

    def await_ready(self, ready):  # section 6.3, sleeps bounded to 50 ms
        while True:
            s = self.u32(self.seq).value
            self.add(self.sleepers, 1)
            if ready():
                self.add(self.sleepers, -1)
                return
            if self.peer_dead():
                self.add(self.sleepers, -1)
                if ready():
                    return
                fail("the other end's process died", 3)
            self.futex(self.seq, FUTEX_WAIT, s, Timespec(0, 50 * 1000 * 1000))
            self.add(self.sleepers, -1)

    def reader_closed(self):
        return self.u32(OFF_READER_STATE).value == 2

    def free(self):
        return self.cap - (self.pos - self.u64(OFF_HEAD).value)

    def publish(self, pos):
        self.pos = pos
        self.u64(OFF_TAIL).value = pos
        self.wake(OFF_DATA_SEQ)  # always: see the module's comment

    def put(self, b):
        while b:
            self.await_ready(lambda: self.reader_closed() or self.free() >= 1)
            if self.reader_closed():
                fail("broken pipe")
            i = self.pos % self.cap
            c = min(len(b), self.free(), self.cap - i)
            self.mm[self.data + i:self.data + i + c] = b[:c]
            self.publish(self.pos + c)
            b = b[c:]

    def put_record(self, b):
        n = len(b)
        if n > self.cap // 2 - 8:
            fail("record too large")
        size = (8 + n + 7) & ~7
        i = self.pos % self.cap
        pad = self.cap - i if self.cap - i < size else 0
        self.await_ready(lambda: self.reader_closed() or self.free() >= pad + size)
        if self.reader_closed():
            fail("broken pipe")
        start = (self.pos + pad) % self.cap
        self.mm[self.data + start + 8:self.data + start + 8 + n] = b
        if pad:
            self.u64(self.data + i).value = (pad - 8) | 2 << 32
        self.u64(self.data + start).value = n | 1 << 32  # length stored last
        self.publish(self.pos + pad + size)

    def release(self, pos):
        self.pos = pos
        self.u64(OFF_HEAD).value = pos
        self.wake(OFF_SPACE_SEQ)


def read_full(f, n):
    b = f.read(n)
    if len(b) != n:
        return None
    return b


def main():
    if len(sys.argv) < 3:
        fail("usage: peer.py read|write PATH [LIMIT|hold]")
    role = 1 if sys.argv[1] == "write" else 2
    p = Pipe(sys.argv[2], role)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    if role == 1:
        while True:
            if p.messages:
                head = read_full(stdin, 4)
                if head is None:
                    break
                p.put_record(read_full(stdin, struct.unpack("<I", head)[0]))
            else:
                b = stdin.read1(1 << 16)
                if not b:
                    break
                p.put(b)
        if len(sys.argv) > 3 and sys.argv[3] == "hold":
            stdout.write(b"written\n")
            stdout.flush()
            while True:
                time.sleep(3600)
        p.leave()
        return
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else -1
    got = 0
    while limit < 0 or got < limit:
        p.await_ready(lambda: p.u64(OFF_TAIL).value != p.pos or p.u32(OFF_WRITER_STATE).value == 2)
        tail = p.u64(OFF_TAIL).value
        if tail == p.pos:
            break  # the writer closed: end of stream
        if tail - p.pos > p.cap:
            fail("corrupt positions")
        i = p.pos % p.cap
        if p.messages:
            h = p.u64(p.data + i).value
            n, typ = h & 0xffffffff, (h >> 32) & 0xffff
            if typ == 2:
                p.release(p.pos + p.cap - i)
                continue
            if typ != 1 or h >> 48 or i + 8 + n > p.cap:
                fail("corrupt frame")
            stdout.write(struct.pack("<I", n) + p.mm[p.data + i + 8:p.data + i + 8 + n])
            got += n
            p.release(p.pos + ((8 + n + 7) & ~7))
        else:
            c = min(tail - p.pos, p.cap - i)
            if limit >= 0:
                c = min(c, limit - got)
            stdout.write(p.mm[p.data + i:p.data + i + c])
            got += c
            p.release(p.pos + c)
    stdout.flush()
    p.leave()


if __name__ == "__main__":
    main()
