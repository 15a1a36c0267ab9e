#!/usr/bin/python3
"""Look in a backend's memory for copies of what signed requests carry.

    test/memscan.py PID

Reads the private writable memory of process PID (/proc/PID/mem; needs
root, or the same user where ptrace is not restricted; else it tries
sudo -n) and counts the copies of a signature or a token that
ddbstream_fdw made and left unwiped:

  Authorization          "AWS4-HMAC-SHA256 Credential=..." (the signer's
                         output, the header line, libcurl's list node)
  X-Amz-Security-Token   the header line with a session token, and the
                         canonical request the signer hashes
                         ("x-amz-security-token:...")
  X-aws-ec2-metadata-token   the instance-metadata token header

libcurl's own copies, inside the request it wrote ("\\r\\nAuthorization: ..."
after the previous header line), are out of ddbstream_fdw's reach
(SECURITY.md) and not counted.  A copy is matched from the middle of its
header name on, since an allocator overwrites the first bytes of a freed
block.
"""
import os
import re
import sys

# (name, what a copy looks like, what precedes it in libcurl's request)
COPIES = [
    ("Authorization", rb"AWS4-HMAC-SHA256 Credential=", b"\r\nAuthorization: "),
    ("X-Amz-Security-Token", rb"ecurity-Token: ", b"\r\nX-Amz-S"),
    ("X-Amz-Security-Token", rb"x-amz-security-token:[!-~]", None),
    ("X-aws-ec2-metadata-token", rb"etadata-token: ", b"\r\nX-aws-ec2-m"),
]


def regions(pid):
    with open("/proc/%d/maps" % pid) as maps:
        for line in maps:
            fields = line.split()
            perms = fields[1]
            if perms[0] == "r" and perms[1] == "w" and perms[3] == "p":
                start, end = (int(x, 16) for x in fields[0].split("-"))
                yield start, end        # private and writable only


def count(data, found):
    for name, pattern, libcurl in COPIES:
        for m in re.finditer(pattern, data):
            before = data[max(0, m.start() - len(libcurl)):m.start()] if libcurl else b""
            if libcurl is None or before != libcurl:
                found[name] += 1


def main():
    pid = int(sys.argv[1])
    found = {name: 0 for name, _, _ in COPIES}
    try:
        mem = open("/proc/%d/mem" % pid, "rb")
    except PermissionError:
        # not root, and ptrace is restricted (Yama): try through sudo
        if os.geteuid() != 0 and os.environ.get("MEMSCAN_SUDO") != "1":
            os.execvp("sudo", ["sudo", "-n", "env", "MEMSCAN_SUDO=1",
                               sys.executable] + sys.argv)
        sys.exit("memscan: cannot read the memory of process %d (needs root)" % pid)
    with mem:
        for start, end in regions(pid):
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            count(data, found)
    for name in found:
        print("copies of %s made by ddbstream_fdw left in memory: %d" % (name, found[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
