"""月度考评 (管理员 and 领导): a month's ranking and suggestions, the stored 通报, the review workbook
download, and (office only) saving the draft, publishing the month and the differences since
publication. A published month shows its frozen figures and text."""

import datetime as dt

import streamlit as st

from data.services import review
from ui import fmt, widgets
from ui.review_downloads import draw_downloads
from ui.session import current_as_of

scope = widgets.open_page("pages/review.py")
KEPT = "review_month_kept"  # not a widget key: survives switching pages


def _when(value: dt.datetime) -> str:
    return f"{fmt.fmt_date(value.date())} {value:%H:%M}"


months = review.review_months(scope, current_as_of())
if not months:
    st.info("考评日之前还没有已结束的考评月份。")
    st.stop()
kept = st.session_state.get(KEPT)
month = st.selectbox("考评月份", months, index=months.index(kept) if kept in months else len(months) - 1,
                     format_func=fmt.fmt_month, key="review_month")
st.session_state[KEPT] = month
as_of = review.month_end(month)
st.caption(f"按{fmt.fmt_date(as_of)}（月末）的数据计算；排名在同类单位内进行，得分变化与上月末比较。")

row = review.publication(scope, month)
if row:
    st.info(f"本月结果已于{fmt.fmt_date(row['published_at'].date())}由 {fmt.md_escape(row['published_by'])} 发布，以下为已发布（冻结）"
            "的结果，发布后的数据更正不会改变已发布结果。")
tables = review.month_tables(scope, month)

st.subheader("排名汇总")
widgets.show_table(
    tables["ranking"].select("unit_kind", "rank", "unit", "composite", "grade", "composite_change", "rank_change",
                             "red_lights", "suggestion"),
    scores=("composite", "composite_change"),
    labels={"composite_change": "得分较上月", "rank_change": "名次较上月（正数为上升）"}, key="review_ranking")

st.subheader("表扬和约谈建议")
widgets.show_table(tables["suggestions"].select("suggestion", "unit", "unit_kind", "composite", "grade", "reason"),
                   scores=("composite",), labels={"reason": "理由"}, empty="本月没有表扬或约谈建议。",
                   key="review_suggestions")

# -- the 通报: published text, else the latest saved version, else the generated draft -------------
pub, draft = review.stored_bulletins(scope, month)
key = f"review_bulletin_{month}"
if pub:
    base, marker = pub["text"], ("published", pub["version"])
elif draft:
    base, marker = draft["text"], ("saved", draft["version"])
else:
    base, marker = review.generated_bulletin(scope, month), ("generated",)
if key not in st.session_state or st.session_state.get(f"{key}__src") != marker:
    st.session_state[key] = base
    st.session_state[f"{key}__src"] = marker
editable = scope.is_admin and not pub

st.subheader("通报（已发布）" if pub else "通报（草稿）")
if pub:
    st.caption(f"已随考评结果发布（第{pub['version']}版），只读" + ("；如需改动，请先撤销发布。" if scope.is_admin else "。"))
elif draft:
    st.caption(f"已保存第{draft['version']}版（{draft['edited_by']}，{_when(draft['edited_at'])}）。")
else:
    st.caption("尚未保存：以下为按本月数据生成的草稿" + ("，修改后请点击“保存草稿”。" if editable else "。"))


def _save() -> None:
    try:
        version = review.save_bulletin(scope, month, st.session_state[key])
    except (review.BulletinError, review.PublishError) as exc:
        st.session_state["review_message"] = ("error", str(exc))
    else:
        st.session_state["review_message"] = ("success", f"通报草稿已保存为第{version}版。")


def _regenerate() -> None:
    st.session_state[key] = review.generated_bulletin(scope, month)
    st.session_state["review_message"] = ("info", "已按当前数据重新生成草稿，保存后生效。")


text = st.text_area("通报内容", height=420, key=key, disabled=not editable)
unsaved = editable and text != (draft["text"] if draft else base)
if editable:
    c1, c2 = st.columns(2)
    c1.button("保存草稿", type="primary", key=f"review_save_{month}", on_click=_save)
    c2.button("按当前数据重新生成", key=f"review_regen_{month}", on_click=_regenerate)
message = st.session_state.pop("review_message", None)
if message:
    getattr(st, message[0])(message[1])
history = review.bulletin_versions(scope, month)
if history.height:
    with st.expander(f"历史版本（{history.height}个）"):
        st.dataframe(history.select(
            history["version"].alias("版本"), history["edited_by"].alias("保存人"),
            history["edited_at"].map_elements(_when, return_dtype=str).alias("保存时间"),
            history["chars"].alias("字数")), hide_index=True, width="stretch", key="review_versions")
        chosen = st.selectbox("查看版本", history["version"].to_list(), key=f"review_version_{month}",
                              format_func=lambda v: f"第{v}版")
        st.text_area("该版本内容", review.bulletin_version_text(scope, month, chosen), height=240, disabled=True,
                     key=f"review_version_text_{month}_{chosen}")

draw_downloads(scope, month, None if pub else text)

st.subheader("发布")
if row:
    diff, changes = review.differences(scope, month)
    if diff.height:
        st.warning(f"已发布结果与按当前数据重新计算的结果有 {diff.height} 处不同（已发布结果不变）：")
        st.dataframe(diff.select("unit", "label", "old", "new").rename(
            {"unit": "单位名称", "label": "项目", "old": "已发布", "new": "重新计算"}), hide_index=True,
            width="stretch", key="review_diff")
        st.caption("发布之后记录的数据变更（差异的来源）：")
        st.dataframe(changes, hide_index=True, width="stretch", key="review_changes")
    else:
        st.success("按当前数据重新计算，结果与已发布的一致。")
    if scope.is_admin:
        reason = st.text_input("撤销原因", key=f"review_unpublish_reason_{month}")
        sure = st.checkbox("确认撤销本月发布（操作将记入操作日志）", key=f"review_unpublish_sure_{month}")
        if st.button("撤销发布", disabled=not (sure and reason.strip()), key=f"review_unpublish_{month}"):
            review.withdraw_review(scope, month, reason)
            st.rerun()
elif scope.is_admin:
    st.caption("发布后，本月结果和通报将被固定；之后的数据更正只显示差异，不会悄悄改变已发布的结果。")
    if unsaved:
        st.warning("通报有未保存的修改，请先保存草稿再发布（发布的是已保存的通报）。")
    sure = st.checkbox("我已核对排名、建议和通报，确认发布本月考评结果", key=f"review_publish_sure_{month}")
    if st.button("发布本月考评结果", type="primary", disabled=not sure or unsaved, key=f"review_publish_{month}"):
        try:
            review.publish_review(scope, month)
        except review.PublishError as exc:
            st.error(fmt.md_escape(str(exc)))
        else:
            st.rerun()
else:
    st.caption("本月结果尚未发布。")

# -- 督查督办 (the supervision loop, ui/supervision_review.py) -----------------------------------------
from ui.supervision_review import draw_review_section  # noqa: E402

draw_review_section(scope, month, bulletin=text)
