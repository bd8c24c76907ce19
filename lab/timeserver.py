"""A minimal SNTP server (RFC 4330) that serves this host's clock to the nodes.

The nodes have no route out of their namespace, yet article §2.3 wants their clocks
in step (NODE-03, within 1 s; a TCG guest drifts by itself). This server answers on
UDP 123 inside the namespace (the host end of the bridge, 192.168.1.254), and the
provisioning points the nodes' chrony at it (inventory ``network.time_server``).

    python -m lab.timeserver [--port 123]     # foreground; ``lab up`` starts it detached

>>> reply = answer(bytes([0x23]) + bytes(39) + b"ORIGIN!!", 1000.0, 1000.5)
>>> reply[0] & 7, reply[1], reply[24:32] == b"ORIGIN!!"
(4, 2, True)
>>> answer(bytes([0x24]) + bytes(47), 0.0, 0.0) is None   # a server's packet: ignored
True
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time
from pathlib import Path

from lab import detached

NTP_DELTA = 2208988800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01
PACKET = 48
MODE_CLIENT, MODE_SERVER = 3, 4
STRATUM = 2  # below the host's own source: chrony takes it as an ordinary server
PRECISION = -20  # about a microsecond, log2 seconds
MODULE = "lab.timeserver"


def ntp_timestamp(t: float) -> bytes:
    """Unix time → the 64-bit NTP timestamp (seconds since 1900, 32-bit fraction)."""
    seconds = int(t)
    return struct.pack("!II", (seconds + NTP_DELTA) & 0xFFFFFFFF,
                       int((t - seconds) * 2**32) & 0xFFFFFFFF)


def answer(request: bytes, received: float, sent: float) -> bytes | None:
    """The server's reply to a client's request, or None for anything else."""
    if len(request) < PACKET or request[0] & 7 != MODE_CLIENT:
        return None
    version = (request[0] >> 3) & 7
    header = struct.pack("!BBbb", (version << 3) | MODE_SERVER, STRATUM, request[2], PRECISION)
    root_delay = root_dispersion = struct.pack("!I", 1 << 6)  # 1 ms in 16.16 fixed point
    return (header + root_delay + root_dispersion + b"LAB\0"
            + ntp_timestamp(received - 1)  # reference: when the host's clock was last set
            + request[40:48]  # origin: the client's transmit timestamp, verbatim
            + ntp_timestamp(received) + ntp_timestamp(sent))


def serve(port: int = 123, host: str = "0.0.0.0") -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))
    while True:
        request, peer = sock.recvfrom(512)
        received = time.time()
        reply = answer(request, received, time.time())
        if reply is not None:
            sock.sendto(reply, peer)


def running_pid(pidfile: Path) -> int | None:
    return detached.running_pid(pidfile, MODULE)


def start(netns: str, pidfile: Path) -> int:
    """Start the server detached inside ``netns`` (idempotent); return its pid."""
    return detached.start(MODULE, [], pidfile, prefix=("ip", "netns", "exec", netns))


def stop(pidfile: Path) -> bool:
    """Stop the server; True when one was running."""
    return detached.stop(pidfile, MODULE)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m lab.timeserver",
                                 description="serve this host's clock over SNTP")
    ap.add_argument("--port", type=int, default=123)
    serve(ap.parse_args().port)
    sys.exit(0)
