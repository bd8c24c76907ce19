"""The VM console prober (VIRT-02) against a console on loopback: its start returns only
once a reading is in, so that a fault injected next has an answer before it."""

from __future__ import annotations

import socket
import threading
import time

from fixtures.access.evidence import Timeline
from fixtures.probes.console import ConsoleProber

BANNER = r"HADEMO guest up: boot=(?P<boot>\d+) tick=(?P<tick>\d+)"


def _slow_console(delay: float) -> tuple[socket.socket, threading.Event]:
    """A console on 127.0.0.1 that prints its banner ``delay`` s after each connection
    (the lab's guest ticks once a second)."""
    server = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                time.sleep(delay)
                conn.sendall(b"HADEMO guest up: boot=5 tick=238\n")

    threading.Thread(target=serve, daemon=True).start()
    return server, done


def test_start_returns_once_the_first_reading_is_in():
    server, done = _slow_console(0.8)
    try:
        prober = ConsoleProber("127.0.0.1", server.getsockname()[1],
                               Timeline("t", time.time()), BANNER, interval=0.1)
        prober.start()
        fault = time.time()
        before = prober.report.last_answer_before(fault)
        prober.stop()
    finally:
        done.set()
        server.close()
    assert before is not None and (before.reading.boot, before.reading.tick) == (5, 238)


def test_a_silent_console_does_not_hold_the_start_past_one_reading():
    server = socket.create_server(("127.0.0.1", 0))  # accepts, never speaks
    try:
        prober = ConsoleProber("127.0.0.1", server.getsockname()[1],
                               Timeline("t", time.time()), BANNER)
        began = time.monotonic()
        prober.start()
        waited = time.monotonic() - began
        prober.stop()
    finally:
        server.close()
    assert waited <= ConsoleProber.READ_S + 1.5
    assert prober.report.observations[0].reading is None
