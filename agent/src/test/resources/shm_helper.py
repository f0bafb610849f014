"""Makes real System V segments for the agent's integration tests, in whatever IPC namespace it
runs in (the tests start it under nsenter --ipc). Prints one line, then exits or stays:
  create KEY SIZE          create and exit (the creator is then gone: an orphan candidate)
  create KEY SIZE hold     create, attach, stay (nattch 1)
  create KEY SIZE live     create, stay without attaching (creator alive)
  attach SHMID             attach to an existing segment and stay
  recreate KEY SIZE        remove the segment with KEY and create a new one with the same KEY
"""
import ctypes
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
IPC_CREAT, IPC_EXCL, IPC_RMID = 0o1000, 0o2000, 0


def fail(what):
    err = ctypes.get_errno()
    print("error %s: errno %d" % (what, err), flush=True)
    sys.exit(1)


def create(key, size):
    shmid = libc.shmget(ctypes.c_int32(key & 0xffffffff).value, size, IPC_CREAT | IPC_EXCL | 0o600)
    if shmid < 0:
        fail("shmget")
    return shmid


def attach(shmid):
    addr = libc.shmat(shmid, None, 0)
    if addr is None or addr == ctypes.c_void_p(-1).value:
        fail("shmat")
    ctypes.memset(addr, 0x5a, 4096)  # make a page resident
    return addr


def stay():
    while True:
        time.sleep(3600)


cmd = sys.argv[1]
if cmd == "create":
    shmid = create(int(sys.argv[2], 0), int(sys.argv[3]))
    mode = sys.argv[4] if len(sys.argv) > 4 else ""
    if mode == "hold":
        attach(shmid)
    print(shmid, flush=True)
    if mode in ("hold", "live"):
        stay()
elif cmd == "attach":
    attach(int(sys.argv[2]))
    print("attached", flush=True)
    stay()
elif cmd == "recreate":
    key = ctypes.c_int32(int(sys.argv[2], 0) & 0xffffffff).value
    old = libc.shmget(key, 0, 0)
    if old < 0:
        fail("shmget existing")
    if libc.shmctl(old, IPC_RMID, None) < 0:
        fail("shmctl IPC_RMID")
    print(create(key, int(sys.argv[3])), flush=True)
else:
    print("unknown command " + cmd, flush=True)
    sys.exit(2)
