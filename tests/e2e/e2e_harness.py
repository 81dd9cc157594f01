"""Harness for the real-browser tests: a county demo database, users, a `streamlit run` server.

The database is built once per session through the public command line (`python -m data demo`,
`python -m data user add`), exactly as an operator would, into a template file; every server gets
its own copy of it, so a test that writes cannot disturb another. DuckDB allows one writing
process per file, so the command line only ever touches a file no server has open.

Helpers for the pages live in `tests/e2e/browser.py`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    unit: str | None = None
    display: str = ""


# Passwords follow the policy (>= 10 characters, letters and digits).
ADMIN = Account("e2e_admin", "Office2023abc", "管理员", display="办公室刘老师")
LEADER = Account("e2e_leader", "Leader2023abc", "领导", display="张组长")
UNIT_USER = Account("e2e_police", "Police2023abc", "单位", unit="县公安局", display="公安局经办人")
ACCOUNTS = {"管理员": ADMIN, "领导": LEADER, "单位": UNIT_USER}


# -- command line ------------------------------------------------------------------------------
def memory_cap(megabytes: int | None):
    """A preexec_fn limiting the child's address space: a runaway reader then gets MemoryError
    instead of taking the whole (shared) machine down."""
    if not megabytes:
        return None

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (megabytes * 1024 * 1024, megabytes * 1024 * 1024))

    return limit


def cli(*args: str, db: Path, stdin: str | None = None, timeout: float = 300,
        memory_mb: int | None = None) -> subprocess.CompletedProcess:
    """Run `python -m <args>` against `db` from the repository root; never raises on exit codes."""
    env = {**os.environ, "DASHBOARD_DB": str(db), "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [PYTHON, "-m", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=memory_cap(memory_mb),
    )


def cli_ok(*args: str, db: Path, stdin: str | None = None, timeout: float = 300) -> str:
    proc = cli(*args, db=db, stdin=stdin, timeout=timeout)
    assert proc.returncode == 0, f"python -m {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def add_user(db: Path, account: Account) -> None:
    args = ["data", "user", "add", account.username, "--role", account.role]
    if account.unit:
        args += ["--unit", account.unit]
    if account.display:
        args += ["--display", account.display]
    cli_ok(*args, db=db, stdin=account.password + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the server --------------------------------------------------------------------------------
class StreamlitServer:
    """`python -m streamlit run serve.py` (app.py with the cookie routes) on a free port against one
    database file."""

    def __init__(self, db: Path, log_dir: Path, name: str = "server", memory_mb: int | None = None):
        self.db = db
        self.memory_mb = memory_mb
        self.log_path = log_dir / f"{name}.log"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> StreamlitServer:
        env = {**os.environ, "DASHBOARD_DB": str(self.db), "PYTHONUNBUFFERED": "1"}
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                PYTHON, "-m", "streamlit", "run", "serve.py",
                "--server.port", str(self.port),
                "--server.address", "127.0.0.1",
                "--server.headless", "true",
                "--server.fileWatcherType", "none",
                "--browser.gatherUsageStats", "false",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=memory_cap(self.memory_mb),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log()}")
            if self.healthy():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"streamlit did not answer /_stcore/health in {timeout}s:\n{self.log()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no cleanup, no checkpoint."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""




_QUERY_SCRIPT = """
import json, sys
from data.storage.db import Database
db = Database(sys.argv[1])
try:
    print(json.dumps([db.scalar(q) for q in json.loads(sys.argv[2])], default=str))
finally:
    db.close()
"""


def db_values(db: Path, *queries: str) -> list:
    """Scalars of `queries` against `db`, read in a separate process (nothing stays open here).

    Goes through data.storage.db.Database like the app does; only call it while no server has `db` open.
    """
    import json

    proc = subprocess.run(
        [PYTHON, "-c", _QUERY_SCRIPT, str(db), json.dumps(list(queries))],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def copy_db(template: Path, dest: Path) -> Path:
    shutil.copyfile(template, dest)
    wal = template.with_name(template.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, dest.with_name(dest.name + ".wal"))
    return dest


_LIGHTS_SCRIPT = """
import datetime as dt, json, sys
import polars as pl
from data.storage.db import Database
from data.storage.facts import load_facts
from metrics.tasks import assignment_status
db = Database(sys.argv[1])
try:
    uid = db.scalar("SELECT unit_id FROM units WHERE name = ?", [sys.argv[2]])
    s = assignment_status(load_facts(db), dt.date.fromisoformat(sys.argv[3])).filter(pl.col("unit_id") == uid)
    print(json.dumps(dict(zip(s["task_no"].to_list(), s["light"].to_list()))))
finally:
    db.close()
"""


def task_lights(db: Path, unit: str, as_of) -> dict[int, str]:
    """{task_no: light} of `unit`'s assignments as the engine sees them (for choosing a fixture)."""
    import json

    proc = subprocess.run(
        [PYTHON, "-c", _LIGHTS_SCRIPT, str(db), unit, as_of.isoformat()],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return {int(k): v for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}
