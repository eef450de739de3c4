"""Real server processes for tests: the demo site served by ``manage.py runserver`` (threaded) on a
database the test prepares, bound to a free loopback port chosen at run time.

Each server dies with the test process (``PR_SET_PDEATHSIG`` on Linux) and is stopped by the fixture
that started it; a coreutils ``timeout`` bounds its life in any case.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]
#: The longest a server may live (seconds): a test that hangs cannot leave one behind.
SERVER_LIFETIME = 300


def free_port() -> int:
    """A loopback port the kernel says is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def demo_environment(database_url: str, keys_file: Path) -> dict[str, str]:
    """The environment of a demo-site process on ``database_url`` (DEBUG off, as in production)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        DATABASE_URL=database_url,
        DEBUG="False",
        RAR_SIGNING_KEYS_FILE=str(keys_file),
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 180) -> None:
    """Run a management command of the demo site; raise with its output if it fails."""
    done = subprocess.run(
        [*MANAGE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


class LiveServer:
    """``manage.py runserver`` (one process, a thread per request) on 127.0.0.1 and a free port."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [*MANAGE, "runserver", f"127.0.0.1:{self.port}", "--noreload"]
        if shutil.which("timeout"):
            command = ["timeout", str(SERVER_LIFETIME), *command]
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own manage.py
            command,
            env=env,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )

    def wait_until_ready(self, deadline: float = 60) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/.well-known/oauth-authorization-server", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer within {deadline} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()
