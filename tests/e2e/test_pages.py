"""Every page of every role's menu renders at county scale, with a screenshot of each; the as-of date
in the sidebar changes the figures shown.

Screenshots go to test-artifacts/screenshots/<role>_<title>.png (git-ignored); the main ones
are copied into docs/screenshots/ by scripts/screenshots.py.
"""

from __future__ import annotations

import time

import pytest
from e2e_browser import (
    assert_no_exception,
    goto_nav,
    login,
    main_text,
    nav_links,
    screenshot,
    set_as_of,
)
from e2e_harness import ACCOUNTS, ADMIN

pytestmark = [pytest.mark.e2e]

PAGE_TIMES: dict[str, list[float]] = {}


@pytest.mark.parametrize("role", ["管理员", "领导", "单位"])
def test_every_page_of_the_menu_renders(role, page, county_server):
    login(page, county_server.url, ACCOUNTS[role])
    titles = [label for label, _ in nav_links(page)]
    assert titles, "empty navigation"
    problems = []
    for title in titles:
        started = time.monotonic()
        goto_nav(page, title)
        PAGE_TIMES.setdefault(role, []).append(time.monotonic() - started)
        shot = screenshot(page, f"{role}_{title}")
        try:
            assert_no_exception(page, f"{role} / {title}")
        except AssertionError as exc:
            problems.append(str(exc)[:600])
            continue
        headings = [h.strip() for h in page.locator("h1").all_inner_texts()]
        if title not in headings:
            problems.append(f"{role} / {title}: heading {headings} ({shot.name})")
        if len(main_text(page)) < 40:
            problems.append(f"{role} / {title}: the page is (almost) empty ({shot.name})")
    times = PAGE_TIMES[role]
    print(f"\n[e2e-pages] {role}: {len(titles)} pages, slowest {max(times):.1f} s, "
          f"mean {sum(times) / len(times):.1f} s (click to settled, incl. the wait margin)")
    assert not problems, "\n".join(problems)


def _metrics(page) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def test_changing_the_as_of_date_changes_the_figures(page, county_server):
    login(page, county_server.url, ADMIN)
    goto_nav(page, "总览")
    set_as_of(page, "2023-06-30")
    caption_mid_2023 = main_text(page)
    early = _metrics(page)
    assert "2023年6月30日" in caption_mid_2023, caption_mid_2023[:400]
    set_as_of(page, "2024-12-31")
    late = _metrics(page)
    assert "2024年12月31日" in main_text(page)
    assert early and late and early != late, (early, late)
    # The date persists across pages: 单位考评 computes as of the same day.
    goto_nav(page, "单位考评")
    assert "2024年12月31日" in main_text(page)
    assert_no_exception(page, "after changing the as-of date")
