"""What the fleet tests run against: a real ``redis-server`` (Debian's, as
tests/test_compat_redis.py starts it: 127.0.0.1, a free port, no persistence) that a test can
stop, restart empty and pause; an upstream HTTP server on 127.0.0.1 that counts requests and
fails on demand; and fleet member processes (the Rust ``fleet_member`` and tests/fleet_member.py)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import redis

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server is missing: `make setup-python` installs it (Debian package redis-server)"
        self.exe = exe
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        c = self.client()
        for _ in range(400):
            try:
                c.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.01)
        raise AssertionError("redis-server did not answer in 4 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, decode_responses=True)


class Upstream:
    """Counts requests (and the most at once while ``probing``); answers 503 while
    ``failing``, else 200 after ``delay`` seconds. Paths starting with /ok always succeed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_path: dict[str, int] = {}
        self.failing = True
        self.delay = 0.0
        self.inflight = 0
        self.probing = False
        self.most_probing = 0
        self.probes = 0
        up = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with up.lock:
                    up.requests += 1
                    up.by_path[self.path] = up.by_path.get(self.path, 0) + 1
                    up.inflight += 1
                    if up.probing:
                        up.probes += 1
                        up.most_probing = max(up.most_probing, up.inflight)
                    fail, delay = up.failing and not self.path.startswith("/ok"), up.delay
                try:
                    if delay:
                        time.sleep(delay)
                    self.send_response(503 if fail else 200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                finally:
                    with up.lock:
                        up.inflight -= 1

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def rust_member_exe() -> Path:
    """The Rust member (`cargo build -p cbreaker-integration --bin fleet_member`, run here: a
    no-op when it is up to date)."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    subprocess.run(
        ["cargo", "build", "-q", "-p", "cbreaker-integration", "--bin", "fleet_member"],
        cwd=REPO,
        check=True,
    )
    exe = target / "debug" / "fleet_member"
    assert exe.exists(), exe
    return exe


class Member:
    """One member process; its JSON lines are read as they come."""

    def __init__(self, argv: list[str], kind: str) -> None:
        self.kind = kind
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in list(self.lines) if e["event"] == kind]

    def wait_for(self, kind: str, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.events(kind)
            if found:
                return found[0]
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.005)
        raise AssertionError(f"{self.kind} member: no {kind!r} line; stderr: {self.stderr()}")

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        self._close()
        return self.err

    def _close(self) -> None:
        self.reader.join(timeout=5)
        if self.proc.stderr is not None and not self.proc.stderr.closed:
            self.err = self.proc.stderr.read()
            self.proc.stderr.close()
        if self.proc.stdout is not None and not self.reader.is_alive():
            self.proc.stdout.close()

    err = ""

    def finish(self, timeout: float = 30) -> dict[str, Any]:
        self.proc.wait(timeout=timeout)
        self._close()
        assert self.proc.returncode == 0, f"{self.kind} member exited {self.proc.returncode}: {self.stderr()}"
        return self.wait_for("summary", 1)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self._close()


def member_argv(kind: str, exe: Path, flags: dict[str, Any]) -> list[str]:
    args = [str(a) for k, v in flags.items() if v is not None for a in (f"--{k}", v)]
    if kind == "rust":
        return [str(exe), *args]
    return [sys.executable, str(HERE / "fleet_member.py"), *args]


def log_entries(r: redis.Redis, name: str) -> list[list[str]]:
    """The fleet's transition log, oldest first: ``[member, "cb1", fp, generation, state,
    cause, since, deadline, k]`` (the record's fields one place on)."""
    return [e.split(" ") for e in reversed(r.lrange(f"cbreaker:{{{name}}}:log", 0, -1))]


def record(r: redis.Redis, name: str) -> Optional[list[str]]:
    """The fleet's record: ``["cb1", fp, generation, state, cause, since, deadline, k]``."""
    text = r.get(f"cbreaker:{{{name}}}:record")
    return None if text is None else text.split(" ")


def state(r: redis.Redis, name: str) -> str:
    rec = record(r, name)
    return "none" if rec is None else rec[3]


def wait_until(cond: Any, timeout: float, what: str, every: float = 0.002) -> float:
    """Waits for ``cond()``; returns the wall time (ms) it held."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)
    return time.time() * 1000
