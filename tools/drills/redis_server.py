"""A redis-server of the test's own, on a loopback port of its own, that a drill can stop, start
again on the same port, freeze (SIGSTOP: it still accepts connections, the kernel completes them,
and never answers) and thaw. Never the shared server the rest of the suite uses."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

PORTS = range(6390, 6400)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        """On ``port``, or else the first free one of :data:`PORTS`."""
        self.directory = directory
        self.port = port or next((port for port in PORTS if not _listening(port)), 0)
        assert self.port, f"every port of {PORTS} is taken"
        self.process: subprocess.Popen[bytes] | None = None
        self.frozen = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> None:
        assert self.process is None or self.process.poll() is not None
        log = (self.directory / f"redis-{self.port}.log").open("ab")
        # Debian's redis-server, wherever PATH has it; a fixed command, no shell.
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(  # noqa: S603
            command,
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not _answers(self.port):
            assert self.process.poll() is None, f"redis-server exited ({self.process.returncode})"
            assert time.monotonic() < deadline, f"redis-server did not answer on {self.port} within {timeout} s"
            time.sleep(0.05)

    def kill(self) -> None:
        """Stop it the hard way (SIGKILL): connections are reset, new ones refused."""
        assert self.process is not None
        if self.frozen:
            self.thaw()
        self.process.kill()
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)
        self.frozen = False

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            if self.frozen:
                self.thaw()
            self.process.kill()
            self.process.wait(timeout=10)
