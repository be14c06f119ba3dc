"""A minimal SMTP server on a loopback port, for drills: it takes every message (no TLS, no
authentication) and counts them by recipient; stopping it closes the port, so a client's
connection is refused, and starting it again listens on the same port."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections import Counter


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self._say("220 drill SMTP sink")
        recipients: list[str] = []
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            command = raw.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in {"EHLO", "HELO"}:
                self._say("250 drill")
            elif verb == "MAIL":
                recipients = []
                self._say("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 go ahead")
                while True:
                    line = self.rfile.readline(65536)
                    if not line or line in {b".\r\n", b".\n"}:
                        break
                with self.server.lock:
                    self.server.received.update(recipients)
                self._say("250 queued")
            elif verb == "RSET":
                recipients = []
                self._say("250 OK")
            elif verb == "NOOP":
                self._say("250 OK")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    received: Counter[str]
    lock: threading.Lock


class SmtpSink:
    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port: int = sock.getsockname()[1]
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def up(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.received = self.received
        server.lock = self.lock
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())
