"""Twelve browser sessions against one server at once, while the office imports a workbook.

Each session is its own browser context (own cookies, own Streamlit session) in one Chromium,
driven by Playwright's async API from a worker thread:
- 4 leader sessions and 1 office session read page after page;
- 6 unit sessions (six different units) each submit progress reports through the 任务督办 form;
- 1 office session uploads a 3,000-row request workbook on 数据导入 and confirms it.
Afterwards: no session saw an exception, every report the page acknowledged is in the database
(no write lost), the import landed whole, and a freshly started server shows the same headline
figures as the one that served the load (no stale cache). The figures are printed with an
`[e2e-concurrency]` prefix and recorded in docs/e2e.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import threading
import time
from dataclasses import dataclass, field

import pytest
from e2e_harness import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    LEADER,
    Account,
    add_user,
    copy_db,
    db_values,
)
from e2e_workbooks import requests_workbook

pytestmark = [pytest.mark.e2e]

WRITER_UNITS = ["县财政局", "县人社局", "县民政局", "县市监局", "县卫健委", "县自然资源局"]
REPORTS_PER_WRITER = 2
IMPORT_ROWS = 3_000
READ_PAGES = ["总览", "单位考评", "任务督办", "共享申请", "目录与需求", "基础设施与安全"]
LEADER_SESSIONS = 4
WALL_LIMIT = 420.0  # seconds: the readers stop when the writers are done, or at this limit (generous: CI machines vary)
APP = '[data-testid="stApp"]'
BUSY = {"initial", "running", "rerunRequested", "stopRequested"}


@dataclass
class Tally:
    ops: int = 0
    error_count: int = 0
    errors: list[str] = field(default_factory=list)
    page_times: list[float] = field(default_factory=list)
    reports_ok: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def op(self, seconds: float | None = None) -> None:
        with self.lock:
            self.ops += 1
            if seconds is not None:
                self.page_times.append(seconds)

    def error(self, who: str, what: str) -> None:
        with self.lock:
            self.error_count += 1
            if len(self.errors) < 50:  # keep the first ones: enough to diagnose, bounded memory
                self.errors.append(f"{who}: {what[:300]}")


# -- async page helpers (the sync ones in e2e_browser.py cannot be shared across an event loop) --
async def settle(page, timeout: float = 120.0) -> float:
    """Wait until the script run is over and stayed so; return when it first went quiet."""
    deadline = time.monotonic() + timeout
    await page.wait_for_timeout(150)
    stable, quiet_since = 0, None
    while stable < 3:
        if time.monotonic() > deadline:
            raise TimeoutError(f"still running after {timeout}s on {page.url}")
        state = await page.get_attribute(APP, "data-test-script-state")
        busy = state in BUSY or await page.locator('[data-testid="stSpinner"]').count() > 0
        if busy:
            stable, quiet_since = 0, None
        else:
            stable += 1
            quiet_since = quiet_since or time.monotonic()
        await asyncio.sleep(0.2)
    return quiet_since


async def act(page, action, timeout: float = 120.0) -> float:
    """Run `action` (a coroutine function: a click) and wait for the script run it causes; return
    the seconds from the action to the end of that run."""
    from e2e_browser import RAN, WATCH_RUNS
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    await page.evaluate(WATCH_RUNS)
    started = time.monotonic()
    await action()
    try:
        await page.wait_for_function(RAN, timeout=15_000, polling=50)
    except PlaywrightTimeout:
        pass
    return await settle(page, timeout=timeout) - started


async def check_page(page, who: str, tally: Tally) -> bool:
    if await page.locator('[data-testid="stException"]').count():
        text = await page.locator('[data-testid="stException"]').first.inner_text()
        tally.error(who, f"exception on {page.url}: {text}")
        return False
    body = await page.locator("body").inner_text()
    if "Traceback" in body:
        tally.error(who, f"traceback on {page.url}")
        return False
    return True


async def nav(page, title: str) -> float:
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if await more.count() and "more" in (await more.first.inner_text()).lower():
        await more.first.click()  # a menu of more than 10 pages starts collapsed
    links = page.locator('[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]')
    texts = [t.strip().splitlines()[-1] for t in await links.all_inner_texts()]
    if title not in texts:
        raise LookupError(f"{title} not in the menu {texts}")
    return await act(page, links.nth(texts.index(title)).click)


async def open_session(browser):
    """One user's browser context and page. Twelve first loads at once on two cores may queue
    behind the others' scripts past Playwright's 30 s defaults: how long they take is the
    benchmark's business (benchmarks/concurrency.py); this test judges only that every session
    gets in and nothing it does is lost."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_navigation_timeout(180_000)
    context.set_default_timeout(120_000)
    return context, await context.new_page()


async def login(page, url: str, account: Account, attempts: int = 3) -> None:
    """Log in, retrying from a fresh load: under load the cookie component's extra run can land
    between typing and submitting."""
    for _ in range(attempts):
        await page.goto(url)
        await settle(page)
        form = page.locator('[data-testid="stForm"]').filter(has=page.locator('input[type="password"]')).first
        await form.locator('input:not([type="password"])').first.fill(account.username)
        await form.locator('input[type="password"]').first.fill(account.password)
        await act(page, form.locator('[data-testid="stFormSubmitButton"] button').first.click)
        for _ in range(60):
            if not await page.locator('input[type="password"]').count():
                await settle(page)
                return
            await asyncio.sleep(0.5)
    raise AssertionError(f"{account.username} could not log in after {attempts} attempts")


async def choose(page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)
    ).first
    entry = box.locator('input[role="combobox"]').first
    await entry.click()
    await entry.fill(option)
    await act(page, page.locator('[role="option"]').filter(has_text=option).first.click)


async def fill_date(page, field_, day: dt.date) -> None:
    for part, text in (("year", f"{day.year:04d}"), ("month", f"{day.month:02d}"), ("day", f"{day.day:02d}")):
        await field_.locator(f'[role="spinbutton"][data-type="{part}"]').click()
        await page.keyboard.type(text, delay=20)  # committed by the blur of the next click


async def headline(page) -> dict[str, str]:
    labels = await page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = await page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return dict(zip([s.strip() for s in labels], [v.strip() for v in values], strict=True))


# -- the sessions ------------------------------------------------------------------------------
async def reader(browser, url, account, who, tally, done: asyncio.Event, pages=READ_PAGES):
    context, page = await open_session(browser)
    try:
        await login(page, url, account)
        deadline = time.monotonic() + WALL_LIMIT + 60
        failures = 0
        while failures < 3 and time.monotonic() < deadline:
            for title in pages:
                try:
                    seconds = await nav(page, title)
                    if await check_page(page, who, tally):
                        tally.op(seconds)
                    failures = 0
                except Exception as exc:  # a timeout or a vanished element is an error of the run
                    tally.error(who, f"{title}: {exc!r}")
                    failures += 1
            if done.is_set():
                break
    finally:
        await context.close()


async def writer(browser, url, account, who, tally, plan: list[tuple[int, dt.date]]):
    context, page = await open_session(browser)
    try:
        await login(page, url, account)
        await nav(page, "任务督办")
        for i, (task_no, day) in enumerate(plan):
            note = f"并发测试-{account.username}-{i}"
            try:
                await choose(page, "选择任务", f"任务{task_no} ")
                form = page.locator('[data-testid="stForm"]').first
                await fill_date(page, form.locator('[data-testid="stDateInput"]').filter(has_text="报送日期").first, day)
                await form.locator("textarea").first.fill(note)
                seconds = await act(page, form.locator('[data-testid="stFormSubmitButton"] button').first.click)
                for _ in range(60):  # the acknowledgement is drawn by the run after st.rerun()
                    text = await page.locator('[data-testid="stMain"]').inner_text()
                    if "已报送" in text or await page.locator('[data-testid="stAlert"] [data-testid="stAlertContentError"]').count():
                        break
                    await asyncio.sleep(0.5)
                if "已报送" in text and await check_page(page, who, tally):
                    tally.op(seconds)
                    with tally.lock:
                        tally.reports_ok.append(note)
                else:
                    alerts = await page.locator('[data-testid="stAlert"]').all_inner_texts()
                    tally.error(who, f"report {note} not acknowledged: {alerts}")
            except Exception as exc:
                tally.error(who, f"report {note}: {exc!r}")
    finally:
        await context.close()


async def importer(browser, url, book, who, tally, result: dict):
    context, page = await open_session(browser)
    try:
        await login(page, url, ADMIN)
        await nav(page, "数据导入")
        started = time.monotonic()
        await page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(book))
        for _ in range(600):  # the upload, then the validation run
            await settle(page, timeout=300)
            text = await page.locator('[data-testid="stMain"]').inner_text()
            if "检查结果" in text or "无法读取" in text:
                break
            await asyncio.sleep(0.3)
        if "检查通过" not in await page.locator('[data-testid="stMain"]').inner_text():
            tally.error(who, "the workbook did not validate")
            return
        await act(page, page.get_by_role("button", name="确认导入").click, timeout=300)
        # The import itself runs for several seconds under load: wait for its outcome, not for the
        # first quiet moment of the page (a settle can fall between two runs).
        deadline = time.monotonic() + 300
        text = await page.locator('[data-testid="stMain"]').inner_text()
        clicked_again = False
        while "导入完成" not in text and "未导入" not in text and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            await settle(page, timeout=300)
            text = await page.locator('[data-testid="stMain"]').inner_text()
            button = page.get_by_role("button", name="确认导入")
            if not clicked_again and time.monotonic() > deadline - 240 and await button.count():
                # A click swallowed by a rerun under load: the import is idempotent, so one more
                # click is safe; the row counts checked afterwards show nothing was doubled.
                clicked_again = True
                await act(page, button.click, timeout=300)
                text = await page.locator('[data-testid="stMain"]').inner_text()
        result["seconds"] = time.monotonic() - started
        if "导入完成" in text and await check_page(page, who, tally):
            result["ok"] = True
            tally.op()
        else:
            tally.error(who, f"import not acknowledged: {text[:300]}")
    except Exception as exc:
        tally.error(who, f"import: {exc!r}")
    finally:
        await context.close()


async def run_load(url: str, writers: dict[Account, list], book, tally: Tally, result: dict) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        done = asyncio.Event()

        async def later(n: int, coro):
            # People do not all press Enter in the same second: sessions start 1 s apart.
            await asyncio.sleep(n)
            try:
                await coro
            except Exception as exc:  # a session that could not even log in is an error of the run
                tally.error(f"session {n}", repr(exc))

        # Writers first (they bound the run), then the import, then the readers.
        work = [asyncio.create_task(later(n, writer(browser, url, acc, acc.username, tally, plan)))
                for n, (acc, plan) in enumerate(writers.items())]
        work.append(asyncio.create_task(later(len(work), importer(browser, url, book, "office-import",
                                                                   tally, result))))
        jobs = [(reader, (browser, url, LEADER, f"leader{i}", tally, done)) for i in range(LEADER_SESSIONS)]
        jobs.append((reader, (browser, url, ADMIN, "office-reader", tally, done)))
        readers = [asyncio.create_task(later(len(work) + n, fn(*args))) for n, (fn, args) in enumerate(jobs)]
        try:
            await asyncio.wait_for(asyncio.gather(*work), timeout=WALL_LIMIT)
        except TimeoutError:
            tally.error("run", f"writers not done within {WALL_LIMIT}s")
        done.set()
        await asyncio.gather(*readers, return_exceptions=True)
        # The figures the loaded server shows at the end.
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        await login(page, url, ADMIN)
        await nav(page, "总览")
        figures = await headline(page)
        await browser.close()
        return figures


async def figures_of(url: str) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
        await login(page, url, ADMIN)
        await nav(page, "总览")
        figures = await headline(page)
        await browser.close()
        return figures


def in_thread(coro):
    """Run a coroutine on a fresh event loop in its own thread (pytest-playwright's sync API owns
    this one)."""
    box = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _report_plan(db, unit: str, today: dt.date) -> list[tuple[int, dt.date]]:
    """Three (task, date) pairs for which `unit` has no report yet: the writes cannot collide."""
    task_no, taken = db_values(
        db,
        f"SELECT min(a.task_no) FROM task_assignments a JOIN units u USING (unit_id) WHERE u.name = '{unit}'",
        "SELECT string_agg(CAST(reported_on AS VARCHAR), ',') FROM progress_reports r JOIN units u USING (unit_id) "
        f"WHERE u.name = '{unit}' AND r.task_no = (SELECT min(a.task_no) FROM task_assignments a "
        f"JOIN units u2 USING (unit_id) WHERE u2.name = '{unit}')",
    )
    taken = set((taken or "").split(","))
    days = [today - dt.timedelta(days=k) for k in range(1, 60) if (today - dt.timedelta(days=k)).isoformat() not in taken]
    return [(int(task_no), day) for day in days[:REPORTS_PER_WRITER]]


def test_twelve_sessions_read_and_write_while_an_import_runs(county_template, tmp_path, server_factory):
    db = copy_db(county_template, tmp_path / "concurrency.duckdb")
    accounts = {}
    today = dt.date.today()
    for n, unit in enumerate(WRITER_UNITS):
        account = Account(f"e2e_unit{n}", f"Handler{n}2023x", "单位", unit=unit)
        add_user(db, account)
        accounts[account] = _report_plan(db, unit, today)
    book = requests_workbook(tmp_path / "共享申请-并发导入.xlsx", IMPORT_ROWS, prefix="CONC")
    reports_before, requests_before = db_values(db, "SELECT count(*) FROM progress_reports",
                                                "SELECT count(*) FROM share_requests")

    server = server_factory(db, "concurrency")
    tally, result = Tally(), {}
    started = time.monotonic()
    figures_loaded = in_thread(run_load(server.url, accounts, book, tally, result))
    wall = time.monotonic() - started
    sessions = LEADER_SESSIONS + 1 + len(accounts) + 1
    times = sorted(tally.page_times)
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)] if times else float("nan")
    median = statistics.median(times) if times else float("nan")
    worst = times[-1] if times else float("nan")
    print(
        f"\n[e2e-concurrency] sessions={sessions} operations={tally.ops} errors={tally.error_count} "
        f"wall={wall:.0f}s page-time median={median:.2f}s p95={p95:.2f}s max={worst:.2f}s "
        f"reports acknowledged={len(tally.reports_ok)}/{len(accounts) * REPORTS_PER_WRITER} "
        f"import {IMPORT_ROWS} rows in {result.get('seconds', float('nan')):.1f}s"
    )
    assert server.alive(), "the server died under load"
    server.stop()

    assert tally.error_count == 0, "\n".join(tally.errors)
    assert result.get("ok"), "the import did not complete"
    # No write lost: every acknowledged report is stored once, nothing else arrived.
    notes = db_values(db, "SELECT count(*) FROM progress_reports WHERE note LIKE '并发测试-%'",
                      "SELECT count(*) FROM progress_reports",
                      "SELECT count(*) FROM share_requests WHERE code LIKE 'CONC-%'",
                      "SELECT count(*) FROM share_requests")
    assert notes[0] == len(tally.reports_ok) == len(accounts) * REPORTS_PER_WRITER
    assert notes[1] == reports_before + notes[0]
    assert notes[2] == IMPORT_ROWS and notes[3] == requests_before + IMPORT_ROWS

    # Consistent afterwards: a fresh process computes the same headline figures.
    server.start()
    figures_fresh = in_thread(figures_of(server.url))
    assert figures_loaded == figures_fresh
    assert len(figures_fresh) >= 6
