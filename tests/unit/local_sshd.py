"""A throw-away SSH endpoint on 127.0.0.1 for the client's tests (paramiko's server API in a
thread): it accepts or refuses logins, or misbehaves the ways a wrong port or a broken or
hostile host does. No mock of the client: the suite's own SSH code talks to it over TCP.

Modes:
  accept       logs the key in and answers every command with exit status 0
  refuse-auth  speaks SSH, presents its host key, refuses every login
  silent       accepts the TCP connection and never says anything
  banner-hang  sends an SSH banner, then never goes on with the key exchange
  garbage      answers like an HTTP server
  close        closes every connection at once
  slow-session logs in, then takes 3 s to open each session (a loaded node)
  sudo-password logs in; `sudo -n ...` fails as sudo does when it wants a password

Every command received is kept in ``commands`` (what the node would have run). In every
mode that logs in, `sudo -n -- id -u` answers 0 unless sudo wants a password.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import threading
import time
from pathlib import Path

import paramiko

MODES = ("accept", "refuse-auth", "silent", "banner-hang", "garbage", "close", "slow-session",
         "sudo-password")
logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL + 1)


def make_key(path: Path, passphrase: str = "") -> Path:
    """An ed25519 key pair at ``path`` (and ``path.pub``), made by ssh-keygen."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "test",
                    "-f", str(path)], check=True, stdin=subprocess.DEVNULL, timeout=30)
    return path


def public_line(path: Path) -> str:
    """``ssh-ed25519 AAAA...`` of key ``path``."""
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


class _Server(paramiko.ServerInterface):
    def __init__(self, accept: bool, session_delay: float = 0.0, sudo_password: bool = False,
                 commands: list[bytes] | None = None):
        self.accept = accept
        self.session_delay = session_delay
        self.sudo_password = sudo_password
        self.commands = [] if commands is None else commands

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_SUCCESSFUL if self.accept else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        time.sleep(self.session_delay)
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        self.commands.append(command)

        def answer() -> None:
            time.sleep(0.1)  # after paramiko has told the client the exec request succeeded
            status = 0
            if command.startswith(b"sudo -n") and self.sudo_password:
                channel.send_stderr(b"sudo: a password is required\n")
                status = 1
            elif command == b"sudo -n -- id -u":
                channel.send(b"0\n")
            channel.send_exit_status(status)
            channel.close()
        threading.Thread(target=answer, daemon=True).start()
        return True


class LocalSSHD:
    """``with LocalSSHD("refuse-auth", host_key_path) as sshd: sshd.port``"""

    def __init__(self, mode: str, host_key: Path | None = None, address: str = "127.0.0.1"):
        if mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        self.host_key = paramiko.PKey.from_path(str(host_key)) if host_key else None
        self._sock = socket.create_server((address, 0))
        self.port = self._sock.getsockname()[1]
        self._held: list[object] = []
        self.commands: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> LocalSSHD:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        for held in self._held:
            with contextlib.suppress(OSError):
                held.close()  # type: ignore[attr-defined]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        self._held.append(conn)
        try:
            if self.mode == "close":
                conn.close()
            elif self.mode == "garbage":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            elif self.mode == "banner-hang":
                conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
            elif self.mode in ("accept", "refuse-auth", "slow-session", "sudo-password"):
                transport = paramiko.Transport(conn)
                self._held.append(transport)
                transport.add_server_key(self.host_key)
                delay = 3.0 if self.mode == "slow-session" else 0.0
                transport.start_server(server=_Server(
                    self.mode != "refuse-auth", delay, self.mode == "sudo-password",
                    self.commands))
        except (OSError, EOFError, paramiko.SSHException):
            pass
