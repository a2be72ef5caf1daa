"""What the Python peers (peer.py, locks.py) share, written from
docs/ipc-layout.md with the standard library only: the mapping of the
region and its header (section 2.2), single aligned loads and stores
through ctypes, the futex system call, the lock bytes (section 5.1).
"""

import ctypes
import fcntl
import mmap
import os
import platform
import struct
import sys
import time

OFF_STATE = 72
SYS_FUTEX = {"x86_64": 202, "aarch64": 98}[platform.machine()]

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

PROG = os.path.basename(sys.argv[0])


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def fail(msg, code=1):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(code)


class Mapping:
    """The region in the file at path, mapped shared, through a fresh open
    file description (whose locks are this process's own), once its header
    is ready. header is the header line, decoded: magic, major, minor,
    header_size, kind, flags, line_size, slot_count, capacity, data_offset,
    lock_base, lock_dev, lock_ino, state."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        st = os.fstat(self.fd)
        if st.st_size < 128:
            fail("region too small")
        self.mm = mmap.mmap(self.fd, st.st_size, mmap.MAP_SHARED)
        self.size = st.st_size
        # Section 2.2: magic, then the state, waiting (bounded) for ready.
        for _ in range(2000):
            magic, state = self.mm[0:8], self.u32(OFF_STATE).value
            if magic not in (b"\0" * 8, b"MMKITIPC"):
                fail("foreign magic %r" % magic)
            if magic == b"MMKITIPC" and state == 2:
                break
            if state > 2:
                fail("state %d" % state)
            time.sleep(0.001)
        else:
            fail("header never ready")
        self.header = struct.unpack_from("<8sHHIIIIIQQQQQI", self.mm, 0)
        self.lock_base = self.header[10]
        self.same_file = (st.st_dev, st.st_ino) == (self.header[11], self.header[12])

    def u32(self, off):
        return ctypes.c_uint32.from_buffer(self.mm, off)

    def u64(self, off):
        return ctypes.c_uint64.from_buffer(self.mm, off)

    def addr(self, off):
        return ctypes.addressof(self.u32(off))

    def futex(self, off, op, val, ts=None, off2=None, val3=0):
        uaddr2 = self.addr(off2) if off2 is not None else None
        return libc.syscall(ctypes.c_long(SYS_FUTEX), ctypes.c_void_p(self.addr(off)), ctypes.c_long(op),
                            ctypes.c_long(val), ctypes.byref(ts) if ts is not None else None,
                            ctypes.c_void_p(uaddr2), ctypes.c_long(val3))

    def flock(self, cmd, slot):
        """Takes (F_OFD_SETLK) or tests (F_OFD_GETLK) slot's lock byte: True
        when taken, or held by another open file description."""
        arg = struct.pack("hhxxxxqqixxxx", fcntl.F_WRLCK, os.SEEK_SET, self.lock_base + slot, 1, 0)
        try:
            res = fcntl.fcntl(self.fd, cmd, arg)
        except OSError:
            return False  # F_OFD_SETLK: another description holds it
        return True if cmd == fcntl.F_OFD_SETLK else struct.unpack("hh", res[:4])[0] != fcntl.F_UNLCK
