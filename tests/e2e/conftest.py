"""Fixtures of the real-browser tests; the machinery is in e2e_harness.py, page helpers in e2e_browser.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_harness import (
    ACCOUNTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    StreamlitServer,
    add_user,
    cli_ok,
    copy_db,
)


def pytest_collection_modifyitems(items):
    # Every test in this folder drives a real browser: mark them all, so `-m "not e2e"` skips them.
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


# -- pytest-playwright -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1400, "height": 900},
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "accept_downloads": True,
    }


# -- session fixtures --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def county_template(e2e_dir) -> Path:
    """A county demo database (seed 1) with the three test logins; copied, never served itself."""
    db = e2e_dir / "template.duckdb"
    started = time.monotonic()
    cli_ok("data", "demo", "--scale", "county", "--seed", "1", "--db", str(db), db=db, timeout=600)
    for account in ACCOUNTS.values():
        add_user(db, account)
    print(f"\n[e2e] county demo database built in {time.monotonic() - started:.1f} s")
    return db


@pytest.fixture(scope="session")
def server_factory(e2e_dir) -> Iterator:
    """Start servers on demand (fresh copies or given files); all are stopped at the end."""
    servers: list[StreamlitServer] = []
    counter = iter(range(1000))

    def start(db: Path, name: str | None = None, memory_mb: int | None = None) -> StreamlitServer:
        server = StreamlitServer(db, e2e_dir, name or f"server{next(counter)}", memory_mb=memory_mb)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def county_server(county_template, e2e_dir, server_factory) -> StreamlitServer:
    """The shared server for read-mostly scenarios (its own copy of the county database)."""
    db = copy_db(county_template, e2e_dir / "shared.duckdb")
    return server_factory(db, "shared")


@pytest.fixture
def fresh_county_db(county_template, tmp_path) -> Path:
    """A private copy of the county database for a test that writes or kills its server."""
    return copy_db(county_template, tmp_path / "county.duckdb")
