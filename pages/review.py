"""月度考评 (管理员 and 领导): a month's ranking and suggestions, the editable 通报 draft, the review
workbook download, and (office only) publishing the month and the differences since publication."""

import datetime as dt

import streamlit as st

from data.db import get_db
from data.facts import load_facts
from data.publish import (
    PublishError,
    changes_since_published,
    diff_published,
    publish_month,
    published_months,
    unpublish_month,
)
from metrics.monthly import month_bounds
from metrics.scorecard import scorecard
from reports.bulletin import bulletin_text
from reports.excel import ranking_frame, review_workbook, suggestion_frame
from ui import cache, fmt, widgets
from ui.session import current_as_of

scope = widgets.page_scope("pages/review.py")
db = cache.db()


@st.cache_data(max_entries=16, show_spinner="正在生成月度考评工作簿…")
def _workbook(db_path: str, version: int, month: str, bulletin: str) -> bytes:
    return review_workbook(load_facts(get_db(db_path)), month, bulletin=bulletin)


@st.cache_data(max_entries=16, show_spinner=False)
def _draft(db_path: str, version: int, month: str) -> str:
    return bulletin_text(load_facts(get_db(db_path)), month)


def _months(start: str, as_of: dt.date) -> list[str]:
    """Every month from the plan's start to the last one that has ended by the as-of date."""
    end = as_of if month_bounds(f"{as_of:%Y-%m}")[1] == as_of else as_of.replace(day=1) - dt.timedelta(days=1)
    year, month = (int(x) for x in start.split("-"))
    out = []
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


st.title("月度考评")
months = _months(load_facts(db).settings.get("plan_start_month", "2023-05"), current_as_of())
if not months:
    st.info("考评日之前还没有已结束的考评月份。")
    st.stop()
month = st.selectbox("考评月份", months, index=len(months) - 1, format_func=fmt.fmt_month, key="review_month")
as_of = month_bounds(month)[1]
facts = load_facts(db)
st.caption(f"按{fmt.fmt_date(as_of)}（月末）的数据计算；排名在同类单位内进行，得分变化与上月末比较。")

published = published_months(db)
published = published.filter(published["month"] == month)
if published.height:
    row = published.row(0, named=True)
    st.info(f"本月结果已于{fmt.fmt_date(row['published_at'].date())}由 {row['published_by']} 发布，发布后的数据更正不会改变已发布结果。")

st.subheader("排名汇总")
widgets.show_table(
    ranking_frame(facts, as_of).select("unit_kind", "rank", "unit", "composite", "grade", "composite_change",
                                       "rank_change", "red_lights", "suggestion"),
    scores=("composite", "composite_change"),
    labels={"composite_change": "得分较上月", "rank_change": "名次较上月（正数为上升）"}, key="review_ranking")

st.subheader("表扬和约谈建议")
widgets.show_table(suggestion_frame(facts, as_of).select("suggestion", "unit", "unit_kind", "composite", "grade",
                                                         "reason"),
                   scores=("composite",), labels={"reason": "理由"}, empty="本月没有表扬或约谈建议。",
                   key="review_suggestions")

st.subheader("通报（草稿，可修改）")
draft = _draft(str(db.path), db.version, month)
text = st.text_area("通报内容", value=draft, height=420, key=f"review_bulletin_{month}",
                    disabled=not scope.is_admin)
st.download_button("下载月度考评工作簿", _workbook(str(db.path), db.version, month, text),
                   file_name=f"月度考评_{month}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="review_download")

st.subheader("发布")
if published.height:
    diff = diff_published(db, month, scorecard(facts, as_of))
    if diff.height:
        st.warning(f"已发布结果与按当前数据重新计算的结果有 {diff.height} 处不同（已发布结果不变）：")
        st.dataframe(diff.select("unit", "label", "old", "new").rename(
            {"unit": "单位名称", "label": "项目", "old": "已发布", "new": "重新计算"}), hide_index=True,
            width="stretch", key="review_diff")
        st.caption("发布之后记录的数据变更（差异的来源）：")
        st.dataframe(changes_since_published(db, month), hide_index=True, width="stretch", key="review_changes")
    else:
        st.success("按当前数据重新计算，结果与已发布的一致。")
    if scope.is_admin:
        sure = st.checkbox("确认撤销本月发布（操作将记入操作日志）", key=f"review_unpublish_sure_{month}")
        if st.button("撤销发布", disabled=not sure, key=f"review_unpublish_{month}"):
            unpublish_month(db, scope, month)
            st.rerun()
elif scope.is_admin:
    st.caption("发布后，本月结果将被固定；之后的数据更正只显示差异，不会悄悄改变已发布的结果。")
    if st.button("发布本月考评结果", type="primary", key=f"review_publish_{month}"):
        try:
            publish_month(db, scope, month)
        except PublishError as exc:
            st.error(str(exc))
        else:
            st.rerun()
else:
    st.caption("本月结果尚未发布。")

# -- 督查督办 (the supervision loop, ui/supervision_review.py) -----------------------------------------
from ui.supervision_review import draw_review_section  # noqa: E402

draw_review_section(scope, month, bulletin=text)
