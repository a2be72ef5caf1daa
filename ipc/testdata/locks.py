#!/usr/bin/env python3
"""A peer of the ipc Mutex and Semaphore in Python, written from
docs/ipc-layout.md (section 8) alone, with the standard library only:
mmap and struct for the memory, fcntl for the OFD locks, ctypes for the
futex system call and for a compare-and-swap.

  locks.py count PATH N     lock the mutex at offset 0 of the file PATH
                            (/dev/shm/NAME) N times, each time adding 1 to
                            the u64 at offset 8192 with a plain load and
                            store; print "ownerdead" for a lock taken from
                            a dead holder (then mark it consistent), and
                            "done" at the end
  locks.py hold PATH        lock the mutex, print "locked" (or
                            "ownerdead"), and hold it until killed
  locks.py acquire PATH N   take N permits of the semaphore at offset 0,
                            print "acquired", and hold them until killed

Python has no compare-and-swap, and FUTEX_WAKE_OP cannot stand in for
one (section 8.7): the peer maps a page of its own executable and runs
two x86-64 functions from it, `lock cmpxchg` on 8 and on 4 bytes. A
locked instruction is a full barrier, which the Dekker pairs of section
8.3 need. Plain loads and stores are single aligned accesses through
ctypes. It joins only objects with the LOCKS flag.

Exit status: 0 done, 1 error, 4 the mutex is not recoverable.
"""

import ctypes
import mmap
import os
import platform
import sys
import time
from fcntl import F_OFD_GETLK, F_OFD_SETLK

from ipcpeer import Mapping, Timespec, fail

OFF_SLOTS, SLOT_STRIDE, SLOT_OWNER, SLOT_ROLE, SLOT_START, SLOT_PIDNS, SLOT_PERMITS = 256, 128, 0, 8, 16, 24, 64
OFF_LOCK, OFF_MUTEX_SEQ, OFF_MUTEX_SLEEPERS = 128, 136, 140
OFF_COUNT, OFF_SEM_MAX, OFF_SEM_SEQ, OFF_SEM_SLEEPERS = 128, 136, 140, 144
GUARDED = 8192

FUTEX_WAIT, FUTEX_WAKE = 0, 1

if platform.machine() != "x86_64":
    fail("the compare-and-swap here is x86-64 code")

# cas64(p, old, new) and cas32(p, old, new) return the value *p held.
_code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
_code.write(bytes([0x48, 0x89, 0xF0, 0xF0, 0x48, 0x0F, 0xB1, 0x17, 0xC3,  # mov rax,rsi; lock cmpxchg [rdi],rdx; ret
                   0x89, 0xF0, 0xF0, 0x0F, 0xB1, 0x17, 0xC3]))           # mov eax,esi; lock cmpxchg [rdi],edx; ret
_base = ctypes.addressof(ctypes.c_char.from_buffer(_code))
cas64 = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)(_base)
cas32 = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32)(_base + 9)


class Object(Mapping):
    def __init__(self, path, kind):
        Mapping.__init__(self, path)
        h = self.header
        _, major, _, header_size, k, flags, line_size, slots, cap, data_off, _, _, _, _ = h
        if (major != 1 or k != kind or not 1 <= slots <= 32 or header_size != 256 + 128 * slots or line_size != 128
                or flags & ~1 or cap != 0 or data_off != 0 or header_size > self.size):
            fail("header refused: %r" % (h,))
        if not flags & 1:
            fail("this peer joins only objects with LOCKS")
        if not self.same_file:
            fail("the file is not the object's lock file")
        self.slots, self.kind = slots, kind
        self.sleepers = OFF_MUTEX_SLEEPERS if kind == 3 else OFF_SEM_SLEEPERS
        self.seq = OFF_MUTEX_SEQ if kind == 3 else OFF_SEM_SEQ
        self.attach()

    def slot_off(self, i, field):
        return OFF_SLOTS + i * SLOT_STRIDE + field

    def update32(self, off, fn):  # an atomic read-modify-write through cas32
        while True:
            old = self.u32(off).value
            if cas32(self.addr(off), old, fn(old) & 0xffffffff) == old:
                return old

    def attach(self):  # section 8.2
        for i in range(self.slots):
            if self.flock(F_OFD_SETLK, i):
                break
        else:
            fail("every slot is in use")
        self.slot, self.bit = i, 1 << i
        old = self.u64(self.slot_off(i, SLOT_OWNER)).value
        self.epoch = ((old >> 8) + 1) & 0xffffff
        pid = os.getpid()
        self.u64(self.slot_off(i, SLOT_OWNER)).value = 1 | self.epoch << 8 | pid << 32
        self.u32(self.slot_off(i, SLOT_ROLE)).value = 0
        with open("/proc/self/stat") as f:
            self.u64(self.slot_off(i, SLOT_START)).value = int(f.read().rpartition(")")[2].split()[19])
        self.u64(self.slot_off(i, SLOT_PIDNS)).value = os.stat("/proc/self/ns/pid").st_ino
        self.u64(self.slot_off(i, SLOT_OWNER)).value = 2 | self.epoch << 8 | pid << 32
        self.update32(self.sleepers, lambda v: v & ~self.bit)
        if self.kind == 4 and self.u64(self.slot_off(i, SLOT_PERMITS)).value != 0:
            fail("the slot holds a dead owner's permits; this peer does not recover them")

    def wake(self, n):
        if self.u32(self.sleepers).value != 0:
            self.update32(self.seq, lambda v: v + 1)
            self.futex(self.seq, FUTEX_WAKE, n)

    def sleep_on(self, attempt):  # section 8.3
        while True:
            s = self.u32(self.seq).value
            self.update32(self.sleepers, lambda v: v | self.bit)
            r = attempt()
            if r:
                self.update32(self.sleepers, lambda v: v & ~self.bit)
                return r
            self.futex(self.seq, FUTEX_WAIT, s, Timespec(0, 50 * 1000 * 1000))

    # The mutex: section 8.4.
    def mine(self):
        return 1 | self.epoch << 8 | self.slot << 32

    def try_lock(self):  # 1 taken, 2 taken from a gone holder, 0 held
        while True:
            w = self.u64(OFF_LOCK).value
            if w == 0:
                if cas64(self.addr(OFF_LOCK), 0, self.mine()) == 0:
                    return 1
                continue
            if w & 0xff == 3:
                fail("the mutex is not recoverable", 4)
            h = w >> 32
            if h >= self.slots:
                fail("corrupt lock word %#x" % w)
            o = self.u64(self.slot_off(h, SLOT_OWNER)).value
            gone = (o & 0xff != 2 or (o >> 8) & 0xffffff != (w >> 8) & 0xffffff
                    or h != self.slot and not self.flock(F_OFD_GETLK, h))
            if not gone:
                return 0
            if cas64(self.addr(OFF_LOCK), w, self.mine() & ~0xff | 2) == w:
                return 2

    def lock(self):  # True when the owner died
        if cas64(self.addr(OFF_LOCK), 0, self.mine()) == 0:
            return False
        return self.sleep_on(self.try_lock) == 2

    def mark_consistent(self):
        w = self.mine() & ~0xff | 2
        if cas64(self.addr(OFF_LOCK), w, self.mine()) != w:
            fail("not inconsistent")

    def unlock(self):
        if cas64(self.addr(OFF_LOCK), self.mine(), 0) != self.mine():
            fail("unlock of a mutex not held")
        self.wake(1)

    # The semaphore: section 8.5, acquire only.
    def try_acquire(self, n):
        pw = self.u64(self.slot_off(self.slot, SLOT_PERMITS))
        held = pw.value & 0xffffffff
        flight = self.bit << 32
        pw.value = held | n << 32  # 1. the intent
        while True:
            c = self.u64(OFF_COUNT).value
            if c & 0xffffffff < n:
                pw.value = held
                return False
            if cas64(self.addr(OFF_COUNT), c, (c & ~0xffffffff) | flight | ((c & 0xffffffff) - n)) == c:
                break  # 2. the move
        pw.value = held + n  # 3. the account
        while True:  # 4. done
            c = self.u64(OFF_COUNT).value
            if cas64(self.addr(OFF_COUNT), c, c & ~flight) == c:
                return True

    def acquire(self, n):
        if not self.try_acquire(n):
            self.sleep_on(lambda: self.try_acquire(n))


def main():
    if len(sys.argv) < 3:
        fail("usage: locks.py count|hold|acquire PATH [N]")
    cmd, path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    out = sys.stdout
    if cmd == "acquire":
        Object(path, 4).acquire(n)
        out.write("acquired\n")
        out.flush()
        while True:
            time.sleep(3600)
    m = Object(path, 3)
    if cmd == "hold":
        out.write("ownerdead\n" if m.lock() else "locked\n")
        out.flush()
        while True:
            time.sleep(3600)
    counter = m.u64(GUARDED)
    for _ in range(n):
        if m.lock():
            out.write("ownerdead\n")
            out.flush()
            m.mark_consistent()
        counter.value = counter.value + 1
        m.unlock()
    out.write("done\n")


if __name__ == "__main__":
    main()
