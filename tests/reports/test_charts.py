"""Figure builders: traces, colours, titles and axis labels, checked on tiny frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from reports import charts


def test_light_matrix_cells_and_colours():
    frame = pl.DataFrame({
        "task_no": [1, 1, 2], "unit": ["县委办", "县政府办", "县委办"],
        "light": ["red", "green", "yellow"], "status": ["逾期未完成", "按期完成", "推进中"],
    })
    fig = charts.light_matrix(frame)
    heat = fig.data[0]
    assert list(heat.x) == ["县委办", "县政府办"] and list(heat.y) == ["任务1", "任务2"]
    assert [list(r) for r in heat.z] == [[0, 2], [1, None]]      # 县政府办 has no part in task 2
    assert [list(r) for r in heat.text] == [["逾期未完成", "按期完成"], ["推进中", ""]]
    colours = {c for _, c in heat.colorscale}
    assert colours == {"#d9534f", "#f0ad4e", "#5cb85c"}
    assert fig.layout.title.text == "任务 × 责任单位 红黄绿灯"
    assert fig.layout.xaxis.title.text == "责任单位" and fig.layout.yaxis.title.text == "重点任务"
    assert fig.layout.xaxis.dtick == 1                              # every unit labelled


def test_deadline_timeline_groups_by_light_and_marks_the_date():
    tasks = pl.DataFrame({
        "task_no": [1, 2, 5], "title": ["建立机制", "明确职责", "强化平台支撑"],
        "due_date": [dt.date(2023, 5, 10), dt.date(2023, 6, 10), None], "light": ["green", "red", "green"],
    })
    fig = charts.deadline_timeline(tasks, dt.date(2023, 7, 1))
    names = [t.name for t in fig.data]
    assert names == ["红灯", "绿灯"]                               # the ongoing task 5 has no date
    assert list(fig.data[0].y) == ["任务2 明确职责"] and fig.data[0].marker.color == "#d9534f"
    assert fig.layout.shapes[0].x0 == dt.date(2023, 7, 1)
    assert fig.layout.annotations[0].text == "考评日 2023年7月1日"
    assert fig.layout.xaxis.tickformat == "%Y年%m月" and fig.layout.xaxis.title.text == "完成时限"


def test_ranking_bar_coloured_by_grade():
    frame = pl.DataFrame({"unit": ["甲", "乙", "丙"], "composite": [95.0, 58.5, None],
                          "grade": ["优秀", "不合格", None]})
    fig = charts.ranking_bar(frame, "县直部门综合得分排名")
    assert [(t.name, list(t.y), t.marker.color) for t in fig.data] == [
        ("优秀", ["甲"], "#2e7d32"), ("不合格", ["乙"], "#d9534f")]
    assert fig.layout.title.text == "县直部门综合得分排名"
    assert list(fig.layout.yaxis.categoryarray) == ["乙", "甲"]   # lowest at the bottom


def test_ranking_bar_draws_at_most_the_lowest_limit():
    frame = pl.DataFrame({"unit": [f"单位{i:03d}" for i in range(150)],
                          "composite": [100.0 - i * 0.5 for i in range(150)], "grade": ["合格"] * 150})
    fig = charts.ranking_bar(frame, "县直部门综合得分排名", limit=60)
    drawn = [y for t in fig.data for y in t.y]
    assert len(drawn) == 60 and set(drawn) == {f"单位{i:03d}" for i in range(90, 150)}   # the 60 lowest
    assert list(fig.layout.yaxis.categoryarray)[0] == "单位149"                          # lowest at the bottom
    assert fig.layout.title.text == "县直部门综合得分排名（得分最低的60个单位）"
    small = charts.ranking_bar(frame.head(60), "县直部门综合得分排名", limit=60)
    assert small.layout.title.text == "县直部门综合得分排名" and sum(len(t.y) for t in small.data) == 60


def test_trend_lines_draw_rates_as_percentages():
    frame = pl.DataFrame({"as_of": [dt.date(2023, 9, 30), dt.date(2023, 10, 31)],
                          "reply_ontime_rate": [0.5, 0.75], "composite": [60.0, 70.0]})
    fig = charts.trend_lines(frame, {"reply_ontime_rate": "答复按时率"}, "全县趋势", "比率", percent=True)
    assert list(fig.data[0].y) == [50.0, 75.0] and fig.data[0].name == "答复按时率"
    assert fig.layout.yaxis.ticksuffix == "%" and fig.layout.xaxis.title.text == "月份"
    fig = charts.trend_lines(frame, {"composite": "综合得分"}, "得分", "分")
    assert list(fig.data[0].y) == [60.0, 70.0]


def test_rate_bars_colour_bands():
    frame = pl.DataFrame({"unit": ["甲", "乙", "丙", "丁"], "rate": [0.95, 0.59, 0.9, None]})
    fig = charts.rate_bars(frame, "unit", "rate", "答复按时率", "按时率")
    bar = fig.data[0]
    assert list(bar.y) == ["乙", "丙", "甲"]
    assert list(bar.x) == [59.0, 90.0, 95.0]
    assert list(bar.marker.color) == ["#d9534f", "#5cb85c", "#5cb85c"]
    assert list(bar.text) == ["59.0%", "90.0%", "95.0%"]


def test_a_zero_bar_is_visible_and_labelled_and_na_reads_not_applicable():
    frame = pl.DataFrame({"unit": ["甲", "乙", "丙"], "rate": [0.0, 0.5, None]})
    fig = charts.rate_bars(frame, "unit", "rate", "挂接率", "挂接率")
    rated, na = fig.data
    # 0 % is drawn as a thin red bar (not nothing, which would read as n/a) and labelled 0.0%.
    assert list(rated.y) == ["甲", "乙"] and rated.x[0] > 0 and rated.text[0] == "0.0%"
    assert rated.marker.color[0] == "#d9534f" and list(rated.customdata) == [0.0, 50.0]
    assert "%{customdata:.2f}%" in rated.hovertemplate          # the hover says the true 0.00%
    # n/a: no bar, a grey 不适用 label, below the rated units.
    assert list(na.y) == ["丙"] and list(na.x) == [0] and list(na.text) == ["不适用"] and na.name == "不适用"
    assert list(fig.layout.yaxis.categoryarray) == ["丙", "甲", "乙"]
    assert fig.layout.xaxis.range[0] == 0 and fig.layout.xaxis.ticksuffix == "%"


def test_score_and_red_lights_never_share_an_axis():
    frame = pl.DataFrame({"as_of": [dt.date(2024, 10, 31), dt.date(2024, 11, 30), dt.date(2024, 12, 31)],
                          "composite": [61.5, 64.0, 66.25], "red_lights": [12, 9, 7]})
    fig = charts.score_and_red_lights(frame)
    bars, line = fig.data
    assert (bars.name, bars.yaxis, list(bars.y)) == ("红灯任务（个）", "y2", [12, 9, 7])
    assert (line.name, line.yaxis, list(line.y)) == ("综合得分（单位平均）", "y", [61.5, 64.0, 66.25])
    assert tuple(fig.layout.yaxis.range) == (0, 100)                 # the score axis starts at 0
    assert fig.layout.yaxis.title.text == "综合得分（分）"
    assert fig.layout.yaxis2.title.text == "红灯任务（个）" and fig.layout.yaxis2.overlaying == "y"
    assert fig.layout.yaxis2.range[0] == 0
    assert fig.layout.title.text == "综合得分与红灯任务"
    # One axis for both is refused.
    with pytest.raises(ValueError):
        charts.trend_lines(frame, {"composite": "综合得分", "red_lights": "红灯任务"}, "综合得分与红灯任务", "分值 / 个数")


def test_month_ticks_only_where_there_is_data():
    frame = pl.DataFrame({"as_of": [dt.date(2024, 11, 30), dt.date(2024, 12, 31)], "composite": [60.0, 70.0],
                          "red_lights": [3, 2], "reply_ontime_rate": [0.5, 0.0]})
    for fig in (charts.trend_lines(frame, {"composite": "综合得分"}, "得分", "分"),
                charts.trend_lines(frame, {"reply_ontime_rate": "答复按时率"}, "比率", "比率", percent=True),
                charts.score_and_red_lights(frame)):
        # A category axis: one tick per point, none beyond the data (no 2025年1月 at 2024-12-31).
        assert fig.layout.xaxis.type == "category" and fig.layout.xaxis.tickmode == "array"
        assert list(fig.layout.xaxis.tickvals) == ["2024年11月", "2024年12月"]
        assert list(fig.layout.xaxis.ticktext) == ["2024年11月", "2024年12月"]
        assert all(list(t.x) == ["2024年11月", "2024年12月"] for t in fig.data)
        assert all("%{x}" in t.hovertemplate for t in fig.data)          # hover month in Chinese
    score = charts.trend_lines(frame, {"composite": "综合得分"}, "得分", "分")
    assert tuple(score.layout.yaxis.range) == (0, 100)
    # Twelve points: the year only at the first point and at January, on its own line; the last
    # point (D = 2025-01-02) says it stops on the 2nd.
    days = [charts_month_end(dt.date(2024, m, 1)) for m in range(2, 13)] + [dt.date(2025, 1, 2)]
    assert charts.month_tick_text(days) == ["2月<br>2024年", *[f"{m}月" for m in range(3, 13)], "1月<br>至2日<br>2025年"]


def charts_month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def test_a_month_in_progress_says_up_to_which_day():
    frame = pl.DataFrame({"as_of": [dt.date(2026, 11, 30), dt.date(2026, 12, 2)], "composite": [60.0, 61.0],
                          "red_lights": [3, 2]})
    fig = charts.score_and_red_lights(frame)
    assert list(fig.layout.xaxis.ticktext) == ["2026年11月", "2026年12月（至2日）"]


def test_red_light_axis_has_whole_number_ticks():
    frame = pl.DataFrame({"as_of": [dt.date(2024, 11, 30), dt.date(2024, 12, 31)], "composite": [60.0, 70.0],
                          "red_lights": [71, 28]})
    fig = charts.score_and_red_lights(frame)
    assert (fig.layout.yaxis2.dtick, tuple(fig.layout.yaxis2.range)) == (20, (0, 80))
    assert fig.layout.yaxis.dtick == 20


def test_share_mix_stacks_every_share_type():
    frame = pl.DataFrame({"unit": ["甲", "甲", "乙"], "share_type": ["无条件共享", "不予共享", "有条件共享"],
                          "items": [2, 1, 5]})
    fig = charts.share_mix(frame)
    assert [t.name for t in fig.data] == ["无条件共享", "有条件共享", "不予共享"]
    assert list(fig.data[0].y) == ["甲", "乙"]                    # fewest items first
    assert [list(t.x) for t in fig.data] == [[2, 0], [0, 5], [1, 0]]
    assert fig.layout.barmode == "stack"


def test_limits_keep_the_lowest_rates_and_the_largest_catalogs():
    frame = pl.DataFrame({"unit": ["甲", "乙", "丙", "丁"], "rate": [0.95, 0.59, 0.9, 0.2]})
    fig = charts.rate_bars(frame, "unit", "rate", "挂接率", "挂接率", limit=2)
    assert list(fig.data[0].y) == ["丁", "乙"] and fig.layout.title.text == "挂接率（最低的2个）"
    assert charts.rate_bars(frame, "unit", "rate", "挂接率", "挂接率", limit=4).layout.title.text == "挂接率"
    mix = pl.DataFrame({"unit": ["甲", "乙", "丙"], "share_type": ["无条件共享"] * 3, "items": [5, 1, 3]})
    fig = charts.share_mix(mix, limit=2)
    assert list(fig.data[0].y) == ["丙", "甲"] and "目录最多的2个单位" in fig.layout.title.text


def test_a_unit_named_with_markup_is_a_label_not_a_link():
    link = '<a href="http://evil.example/">点我</a>'
    frame = pl.DataFrame({"unit": [link, "乙"], "composite": [95.0, 58.5], "grade": ["优秀", "不合格"]})
    fig = charts.ranking_bar(frame, "县直部门综合得分排名")
    labels = [y for t in fig.data for y in t.y] + list(fig.layout.yaxis.categoryarray)
    assert '&lt;a href="http://evil.example/"&gt;点我&lt;/a&gt;' in labels  # shown as typed
    assert not any("<" in str(label) for label in labels)
    matrix = charts.light_matrix(pl.DataFrame({"unit": [link], "task_no": [1], "light": ["red"], "status": ["逾期未完成"]}))
    assert all("<" not in str(x) for x in matrix.data[0].x)
