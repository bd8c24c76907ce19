"""The null-modem cable between the nodes' second serial ports (ttyS1).

Each node's QEMU connects its ttyS1 to a unix socket of this relay, which
copies bytes from one end to the other. Like a real cable without flow
control, it never makes a sender wait: bytes the other end cannot take now
(its heartbeat is stopped and its UART is full, or the node is off) are
dropped. Joining the two QEMUs directly would push back instead, and a node
whose peer stopped heartbeat would hang on its tty writes. The relay keeps
running across power cycles; a node that boots again reconnects by itself.

Run as ``python -m lab.cable SOCK1 SOCK2`` (``lab up`` starts it detached).
"""

from __future__ import annotations

import selectors
import socket
import sys
import time
from pathlib import Path

from lab import config, detached

CHUNK = 4096
MODULE = "lab.cable"


def socket_path(node: config.LabNode) -> Path:
    return config.state_root() / f"cable-{node.name}.sock"


def pidfile() -> Path:
    return config.state_root() / "cable.pid"


def relay(paths: tuple[Path, Path]) -> None:
    """Serve both cable ends forever (one connection per end, the newest wins)."""
    sel = selectors.DefaultSelector()
    ends: dict[int, socket.socket | None] = {0: None, 1: None}
    for side, path in enumerate(paths):
        path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen(2)
        sel.register(server, selectors.EVENT_READ, ("listen", side))

    def drop(side: int) -> None:
        conn = ends[side]
        if conn is not None:
            sel.unregister(conn)
            conn.close()
            ends[side] = None

    while True:
        for key, _ in sel.select():
            kind, side = key.data
            if kind == "listen":
                conn, _ = key.fileobj.accept()
                conn.setblocking(False)
                drop(side)
                ends[side] = conn
                sel.register(conn, selectors.EVENT_READ, ("end", side))
                continue
            try:
                data = key.fileobj.recv(CHUNK)
            except OSError:
                data = b""
            if not data:
                drop(side)
                continue
            other = ends[1 - side]
            if other is not None:
                try:
                    other.send(data)
                except BlockingIOError:
                    pass  # the far end is not reading: the bytes are lost, as on a cable
                except OSError:
                    drop(1 - side)


def _ends(sockets: tuple[Path, Path] | None) -> list[Path]:
    return list(sockets or [socket_path(n) for n in config.NODES])


def running_pid(pid_path: Path | None = None) -> int | None:
    return detached.running_pid(pid_path or pidfile(), MODULE)


def start(sockets: tuple[Path, Path] | None = None, pid_path: Path | None = None) -> int:
    """Start the relay detached (idempotent); return its pid. By default the lab's
    sockets and pid file; the Vagrant nodes' cable passes its own."""
    paths = _ends(sockets)
    pid = detached.start(MODULE, [str(p) for p in paths], pid_path or pidfile())
    deadline = time.monotonic() + 5
    while not all(p.exists() for p in paths) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pid


def stop(sockets: tuple[Path, Path] | None = None, pid_path: Path | None = None) -> bool:
    """Stop the relay; True when one was running."""
    was_running = detached.stop(pid_path or pidfile(), MODULE)
    for path in _ends(sockets):
        path.unlink(missing_ok=True)
    return was_running


if __name__ == "__main__":
    relay((Path(sys.argv[1]), Path(sys.argv[2])))
