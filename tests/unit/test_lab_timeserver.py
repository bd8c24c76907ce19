"""lab/timeserver.py: the SNTP answers the nodes' chrony gets (on loopback here)."""

from __future__ import annotations

import socket
import struct
import threading
import time

from lab import timeserver


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ntp_timestamp_counts_from_1900_with_a_binary_fraction():
    sec, frac = struct.unpack("!II", timeserver.ntp_timestamp(1.5))
    assert sec == timeserver.NTP_DELTA + 1 and frac == 2**31


def test_a_client_request_gets_the_host_clock_within_a_few_milliseconds():
    port = _free_port()
    threading.Thread(target=timeserver.serve, args=(port, "127.0.0.1"), daemon=True).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)
    request = bytes([(4 << 3) | 3]) + bytes(39) + timeserver.ntp_timestamp(time.time())
    for _ in range(20):  # the server thread may not be bound yet
        client.sendto(request, ("127.0.0.1", port))
        try:
            reply, _ = client.recvfrom(512)
            break
        except OSError:
            time.sleep(0.05)
    after = time.time()
    assert reply[0] == (4 << 3) | 4 and reply[1] == timeserver.STRATUM
    assert reply[24:32] == request[40:48]  # origin echoed: how the client matches the reply
    sec, frac = struct.unpack("!II", reply[40:48])
    served = sec - timeserver.NTP_DELTA + frac / 2**32
    assert after - 1 < served <= after


def test_packets_that_are_not_client_requests_get_no_answer():
    assert timeserver.answer(b"short", 0.0, 0.0) is None
    assert timeserver.answer(bytes([(4 << 3) | 4]) + bytes(47), 0.0, 0.0) is None
