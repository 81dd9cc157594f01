"""Page helpers for the real-browser tests: log in, wait for a script run, navigate, screenshot.

Streamlit marks its root element with `data-test-script-state` (initial / running / notRunning /
rerunRequested / …); a page is settled when that says it is not running, no spinner is shown, and
that stays so for a moment (the cookie component of streamlit-authenticator triggers a second run).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from e2e_harness import SCREENSHOTS, Account
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

BUSY_STATES = {"initial", "running", "rerunRequested", "stopRequested"}
APP = '[data-testid="stApp"]'


def wait_idle(page: Page, timeout: float = 60.0, settle: float = 0.25, stable_checks: int = 3) -> None:
    """Block until the script run is over, no spinner is up, and that held for a few checks."""
    deadline = time.monotonic() + timeout
    page.wait_for_selector(APP, timeout=timeout * 1000)
    stable = 0
    while stable < stable_checks:
        if time.monotonic() > deadline:
            raise TimeoutError(f"page still running after {timeout}s: {page.url}")
        state = page.get_attribute(APP, "data-test-script-state")
        busy = (
            state in BUSY_STATES
            or page.locator('[data-testid="stSpinner"]').count() > 0
            or page.locator('[data-testid="stStatusWidgetRunningIcon"]').count() > 0
            or page.locator('[data-testid="stSkeleton"]').count() > 0
        )
        stable = 0 if busy else stable + 1
        page.wait_for_timeout(settle * 1000)


# Counts changes of the script-run state from now on: a rerun that starts and ends between two
# polls is still seen, so a wait cannot return before the run the action caused has even begun.
WATCH_RUNS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__e2eRuns = 0;
    if (window.__e2eObserver) window.__e2eObserver.disconnect();
    window.__e2eObserver = new MutationObserver((records) => { window.__e2eRuns += records.length; });
    window.__e2eObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
RAN = "() => (window.__e2eRuns || 0) > 0"


def rerun_and_wait(page: Page, action, timeout: float = 60.0, start_timeout: float = 15.0) -> None:
    """Do `action()` (a click, a key) and wait for the script run it causes to finish.

    If no run starts within `start_timeout` (an action that changes nothing), just wait idle."""
    page.evaluate(WATCH_RUNS)
    action()
    try:
        page.wait_for_function(RAN, timeout=start_timeout * 1000, polling=50)
    except PlaywrightTimeout:
        pass
    wait_idle(page, timeout=timeout)


def main_text(page: Page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text(timeout=30_000)


def sidebar(page: Page) -> Locator:
    return page.locator('[data-testid="stSidebar"]')


def assert_no_exception(page: Page, where: str = "") -> None:
    """No st.exception box and no Python traceback anywhere on the page."""
    boxes = page.locator('[data-testid="stException"]')
    if boxes.count():
        raise AssertionError(f"exception shown on {where or page.url}:\n{boxes.first.inner_text()[:2000]}")
    body = page.locator("body").inner_text()
    assert "Traceback" not in body, f"traceback text on {where or page.url}:\n{body[:2000]}"


def login_form_visible(page: Page) -> bool:
    return page.locator('input[type="password"]').count() > 0


def fill_login(page: Page, username: str, password: str) -> None:
    """Type into streamlit-authenticator's form and press its submit button."""
    form = page.locator('[data-testid="stForm"]').filter(has=page.locator('input[type="password"]')).first
    form.wait_for(timeout=30_000)
    form.locator('input:not([type="password"])').first.fill(username)
    form.locator('input[type="password"]').first.fill(password)
    rerun_and_wait(page, lambda: form.locator('[data-testid="stFormSubmitButton"] button').first.click())


def login(page: Page, base_url: str, account: Account) -> None:
    """Open the app and log in; fails when the login form is still there afterwards."""
    page.goto(base_url)
    wait_idle(page)
    fill_login(page, account.username, account.password)
    deadline = time.monotonic() + 20
    while login_form_visible(page) and time.monotonic() < deadline:
        page.wait_for_timeout(300)
    assert not login_form_visible(page), f"still on the login form as {account.username}:\n{main_text(page)[:800]}"
    # The app draws its menu on the run after the login (st.rerun): wait for it.
    page.locator('[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]').first.wait_for(timeout=60_000)
    wait_idle(page)


def logout(page: Page) -> None:
    button = page.get_by_role("button", name=re.compile("退出|注销|登出"))
    rerun_and_wait(page, lambda: button.first.click())


def nav_links(page: Page) -> list[tuple[str, str]]:
    """(label, href) of every page in the sidebar navigation, expanding 'view more' first."""
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and re.search(r"more|更多", more.first.inner_text(), re.I):
        more.first.click()
        page.wait_for_timeout(300)
    links = page.locator('[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]')
    out = []
    for i in range(links.count()):
        link = links.nth(i)
        # The text starts with the Material icon's ligature name ("leaderboard\n\n单位考评").
        lines = [line.strip() for line in link.inner_text().splitlines() if line.strip()]
        out.append((lines[-1] if lines else "", link.get_attribute("href") or ""))
    return out


def goto_nav(page: Page, label: str) -> None:
    """Click the navigation entry whose text is `label` and wait for the page to run."""
    labels = [text for text, _ in nav_links(page)]  # also expands a collapsed list
    if label not in labels:
        raise AssertionError(f"no {label!r} in the navigation: {labels}")
    link = page.locator('[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]').nth(labels.index(label))
    rerun_and_wait(page, link.click)


def screenshot(page: Page, name: str, folder: Path = SCREENSHOTS) -> Path:
    """A full-page PNG: the viewport is stretched to the height of the scrolling main area."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 900}
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]');
            const side = document.querySelector('[data-testid="stSidebarContent"]');
            return Math.max(main ? main.scrollHeight : 0, side ? side.scrollHeight : 0,
                            document.body.scrollHeight);
        }"""
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 9000))})
    page.wait_for_timeout(500)  # let Plotly re-layout to the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def safe_name(text: str) -> str:
    return re.sub(r"[^\w\u4e00-\u9fff-]+", "_", text).strip("_") or "page"


def metric_value(page: Page, label: str) -> str:
    """The value text of the st.metric whose label is `label`."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    ).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def metric_int(page: Page, label: str) -> int:
    digits = re.sub(r"[^\d-]", "", metric_value(page, label))
    return int(digits)


def choose(page: Page, label: str, option: str, scope: Locator | None = None) -> None:
    """Pick the first option containing `option` in the st.selectbox labelled `label`.

    Streamlit 1.67's selectbox is a react-aria combobox: typing filters and opens the list."""
    root = scope or page.locator('[data-testid="stMain"]')
    box = root.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)
    ).first
    field = box.locator('input[role="combobox"]').first
    listed = page.locator('[role="option"]').filter(has_text=option)
    wait_idle(page)
    field.click()
    field.fill(option)
    try:
        listed.first.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        # On a loaded machine a late rerun can redraw the box and drop what was typed: type it
        # once more. The option must still be there (this waits as long again, then fails).
        wait_idle(page)
        field.click()
        field.fill(option)
        listed.first.wait_for(timeout=30_000)
    rerun_and_wait(page, listed.first.click)


def set_as_of(page: Page, day) -> None:
    """Type the as-of date (a date or an ISO string) into the sidebar's 考评日期（截至） text field and
    press Enter, which applies it (ui/sidebar.py); the URL then carries ?as_of=<day>."""
    day = day if isinstance(day, str) else day.isoformat()
    field = page.locator('[data-testid="stSidebar"] [data-testid="stTextInput"] input').first
    field.fill(day)
    rerun_and_wait(page, lambda: field.press("Enter"))
    if f"as_of={day}" not in page.url:
        raise AssertionError(f"the URL {page.url!r} does not carry as_of={day}")


def fill_date(page: Page, field: Locator, day) -> None:
    """Type a date into a Streamlit 1.67 date field (one spin button per part). The field commits
    when focus leaves it (the next click); Enter is not pressed: it makes the field skip that blur."""
    for part, text in (("year", f"{day.year:04d}"), ("month", f"{day.month:02d}"), ("day", f"{day.day:02d}")):
        field.locator(f'[role="spinbutton"][data-type="{part}"]').click()
        page.keyboard.type(text, delay=30)


def upload_file(page: Page, path: Path, timeout: float = 180.0) -> None:
    """Hand `path` to the page's st.file_uploader and wait until the page has judged it (数据导入
    shows 检查结果 for a readable file, 无法读取 for one it cannot read)."""
    chooser = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
    chooser.set_input_files(str(path))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait_idle(page, timeout=timeout)
        text = main_text(page)
        if "检查结果" in text or "无法读取" in text or page.locator('[data-testid="stException"]').count():
            return
        page.wait_for_timeout(300)
    raise TimeoutError(f"no verdict on {path.name} after {timeout}s")
