"""The thin system-call layer under the confinement: ctypes bindings and kernel constants.

Trusted code, loaded by the template BEFORE ``pivot_root`` (every libc symbol is resolved
at import, while there is still a filesystem to resolve it from) and inherited by each
child through ``fork()``. The supervisor never imports it. Nothing here decides
anything: ``template_side.py`` and ``child_side.py`` say what to call and why, and a
failed call becomes ``ConfinementUnavailable`` naming the missing feature (``fail``,
``check``).
"""

from __future__ import annotations

import ctypes
import errno
import os

from sandbox.errors import ConfinementUnavailable

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MNT_DETACH = 0x2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SECCOMP_MODE_FILTER = 2  # PR_SET_SECCOMP's argument

CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_SYS_ADMIN = 6, 7, 8, 21
LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
prctl = _libc.prctl
prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
prctl.restype = ctypes.c_int
unshare = _libc.unshare
unshare.argtypes = (ctypes.c_int,)
unshare.restype = ctypes.c_int
mount = _libc.mount
mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
mount.restype = ctypes.c_int
umount2 = _libc.umount2
umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
umount2.restype = ctypes.c_int
sethostname = _libc.sethostname
sethostname.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
sethostname.restype = ctypes.c_int
syscall = _libc.syscall
syscall.restype = ctypes.c_long


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


capget = _libc.capget
capget.argtypes = (ctypes.POINTER(CapHeader), ctypes.POINTER(CapData))
capget.restype = ctypes.c_int
capset = _libc.capset
capset.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
capset.restype = ctypes.c_int


class EmptyCaps:
    """capset()'s arguments for "no capability at all", by address (see ``Prepared``):
    built once in the template, passed to capset by each child."""

    def __init__(self) -> None:
        self.header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
        self.data = (CapData * 2)()
        self.header_address = ctypes.addressof(self.header)
        self.data_address = ctypes.addressof(self.data)


def fail(feature: str, what: str, err: int | None = None) -> ConfinementUnavailable:
    """The error for a failed call: ``what`` was being done, ``err`` (default: errno) is why."""
    if err is None:
        err = ctypes.get_errno()
    name = errno.errorcode.get(err, str(err))
    return ConfinementUnavailable(feature, f"{what}: {name} ({os.strerror(err)})")


def check(result: int, feature: str, what: str) -> None:
    """Raise ``fail(feature, what)`` unless a libc call returned 0."""
    if result != 0:
        raise fail(feature, what)
