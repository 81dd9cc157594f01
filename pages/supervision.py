"""督查督办: 约谈 and 整改承诺 (office records, leaders read, a unit sees its own), the 督查 proposals,
延期申请 (units ask, the office decides), the authorisation register and the 督办单 for download."""

import datetime as dt

import streamlit as st

from data.services import supervision as sv
from data.services import units
from data.storage.scope import PermissionDenied
from metrics.registry import KPIS
from reports.docx_official import font_report
from ui import fmt, widgets

scope, as_of = widgets.page_context("pages/supervision.py")
today = dt.date.today()
LABELS = {"held_on": "约谈日期", "attendees": "参加人员", "reasons": "约谈事由", "promise": "整改承诺",
          "due_on": "整改期限", "state": "整改情况", "follow_up": "跟踪说明", "reason": "理由",
          "due_at_request": "原完成时限", "proposed_due": "申请延期至", "requested_on": "申请日期",
          "approved_due": "批准延期至", "decided_on": "审批日期", "request_id": "申请编号",
          "purpose": "用途", "use_until": "使用期限至", "days_left": "剩余天数", "catalog_code": "目录编码",
          "item": "督办事项", "kind": "类别", "deadline": "时限", "days_overdue": "逾期天数", "day_kind": "计"}


def done(message: str) -> None:
    st.session_state["sv_flash"] = message
    st.rerun()


st.caption(f"考评日：{fmt.fmt_date(as_of)}。约谈后的整改承诺按期限逐项跟踪；逾期未整改或连续两个月被约谈的单位列入督查建议。")
if flash := st.session_state.pop("sv_flash", None):
    st.success(flash)
names = ["约谈与整改", "延期申请", "授权管理"] + (["督办单"] if scope.sees_all else [])
tabs = dict(zip(names, st.tabs(names), strict=True))

with tabs["约谈与整改"]:
    talks = sv.interviews(scope, as_of)
    widgets.show_table(talks.select("month", "unit", "held_on", "attendees", "reasons"),
                       labels=LABELS, empty="截至考评日没有约谈记录。", key="sv_interviews")
    if talks.height:
        st.caption(f"截至考评日共约谈{talks.height}次，最近一次：{talks['unit'][0]}，{fmt.fmt_date(talks['held_on'][0])}。")
    st.markdown("**整改承诺**")
    promised = sv.commitments(scope, as_of)
    if promised.height:
        counts = sv.commitment_counts(scope, as_of)
        st.caption(f"共{promised.height}项整改承诺：" + "、".join(f"{s}{k}项" for s, k in counts.items()) + "。")
    widgets.show_table(promised.select("unit", "month", "promise", "due_on", "state", "follow_up"),
                       labels=LABELS, empty="截至考评日没有整改承诺。", key="sv_commitments")
    if scope.sees_all:
        st.markdown("**建议督查的单位**")
        widgets.show_table(sv.inspection_list(scope, as_of).select("unit", "reason"), labels=LABELS,
                           empty="截至考评日没有需要督查的单位。", key="sv_inspection")
    if scope.is_admin:
        st.subheader("记录约谈")
        unit_ids = dict(units.visible_units(scope).select("unit", "unit_id").iter_rows())
        month = st.text_input("考评月份（如2023-10）", value=f"{as_of:%Y-%m}", key="sv_month")
        unit = st.selectbox("约谈单位", list(unit_ids), key="sv_unit")
        unit_id = int(unit_ids[unit])
        try:
            suggested = sv.suggested_reasons(scope, month, unit_id)
        except sv.SupervisionError as exc:
            suggested = ""
            st.error(str(exc))
        kpis = {k.label: k for k in KPIS}
        with st.form("sv_interview_form"):
            held_on = st.date_input("约谈日期", value=min(today, as_of), key="sv_held_on")
            attendees = st.text_input("参加人员", key="sv_attendees")
            reasons = st.text_area("约谈事由（已按当月考评预填红灯任务和失分较多的指标，可修改）", value=suggested,
                                   key=f"sv_reasons_{month}_{unit_id}")
            st.markdown("整改承诺（可选，一项；更多承诺可在下方追加）")
            kind = st.radio("承诺类型", ["不填", "指标达到目标值", "完成任务"], horizontal=True, key="sv_kind")
            label = st.selectbox("指标", list(kpis), key="sv_indicator")
            target = st.number_input("目标值（比率填百分数，如90；红灯任务数填个数；得分填分数）", 0.0, 100.0, 90.0,
                                     key="sv_target")
            task_no = st.number_input("任务序号", 1, 15, 1, key="sv_task")
            due_on = st.date_input("整改期限", value=None, key="sv_due")
            submitted = st.form_submit_button("保存约谈记录")
        if submitted:
            promise = []
            if kind == "指标达到目标值":
                k = kpis[label]
                promise = [{"indicator": k.code, "due_on": due_on,
                            "target": target / 100 if k.kind in ("rate", "flag") else target}]
            elif kind == "完成任务":
                promise = [{"task_no": int(task_no), "due_on": due_on}]
            try:
                sv.record_interview(scope, month, unit_id, held_on, attendees, reasons, promise)
            except (sv.SupervisionError, PermissionDenied) as exc:
                st.error(str(exc))
            else:
                done(f"已记录{unit}{fmt.fmt_month(month)}的约谈。")
        if talks.height:
            with st.expander("追加整改承诺"):
                held = {i: f"{u}·{m}" for i, u, m in talks.select("interview_id", "unit", "month").iter_rows()}
                pick = st.selectbox("约谈记录", list(held), key="sv_add_pick", format_func=held.get)
                add_task = st.number_input("完成任务序号", 1, 15, 1, key="sv_add_task")
                add_due = st.date_input("整改期限", value=None, key="sv_add_due")
                if st.button("追加", key="sv_add"):
                    try:
                        sv.add_commitment(scope, pick, {"task_no": int(add_task), "due_on": add_due})
                    except (sv.SupervisionError, PermissionDenied) as exc:
                        st.error(str(exc))
                    else:
                        done("已追加整改承诺。")

with tabs["延期申请"]:
    asked = sv.extension_requests(scope)
    widgets.show_table(asked.select("request_id", "task_no", "unit", "reason", "due_at_request", "proposed_due",
                                    "requested_on", "status", "approved_due", "decided_on", "refusal_reason"),
                       labels=LABELS, empty="还没有延期申请。", key="sv_extensions")
    if scope.can_write:
        st.subheader("申请延期")
        with st.form("sv_extension_form"):
            choices = sv.extendable_assignments(scope, as_of).rows()
            pick = st.selectbox("任务与单位", range(len(choices)), key="sv_ext_pick",
                                format_func=lambda i: f"任务{choices[i][0]}·{choices[i][2]}")
            reason = st.text_area("延期理由", key="sv_ext_reason")
            proposed = st.date_input("申请延期至", value=None, key="sv_ext_due")
            asked_now = st.form_submit_button("提交延期申请")
        if asked_now and choices:
            task, unit_id, unit = choices[pick]
            try:
                if proposed is None:
                    raise sv.SupervisionError("请填写申请延期至的日期。")
                sv.request_extension(scope, task, unit_id, reason, proposed, today=today)
            except (sv.SupervisionError, PermissionDenied) as exc:
                st.error(str(exc))
            else:
                done(f"已提交{unit}任务{task}的延期申请，待办公室审批。")
    waiting = {r["request_id"]: r for r in sv.extension_requests(scope, "待审批").iter_rows(named=True)}
    if scope.is_admin and waiting:
        st.subheader("审批延期申请")
        rid = st.selectbox("待审批的申请", list(waiting), key="sv_decide_pick",
                           format_func=lambda i: "任务{}·{}·申请延期至{}".format(
                               waiting[i]["task_no"], waiting[i]["unit"], fmt.fmt_date(waiting[i]["proposed_due"])))
        approved = st.date_input("批准延期至（不填则按申请日期）", value=None, key="sv_decide_due")
        refusal = st.text_input("驳回理由（驳回时必填）", key="sv_decide_reason")
        left, right = st.columns(2)
        try:
            if left.button("批准", type="primary", key="sv_approve"):
                sv.approve_extension(scope, rid, approved, today=today)
                done("已批准延期申请，新的完成时限从今天起计入考评。")
            if right.button("驳回", key="sv_refuse"):
                sv.refuse_extension(scope, rid, refusal, today=today)
                done("已驳回延期申请。")
        except (sv.SupervisionError, PermissionDenied) as exc:
            st.error(str(exc))

with tabs["授权管理"]:
    state = st.radio("状态", ["全部", *sv.AUTHORISATION_STATES], horizontal=True, key="sv_auth_state")
    shown = sv.authorisations(scope, as_of, None if state == "全部" else state)
    widgets.show_table(shown.select("requester", "provider", "code", "catalog_code", "purpose", "reply_result",
                                    "replied_on", "use_until", "days_left", "state"),
                       labels={**LABELS, "state": "授权状态"}, empty="没有符合条件的授权。", key="sv_auth")
    if scope.sees_all and sv.authorisations(scope, as_of).height:
        for by, title in (("requester", "按使用单位"), ("provider", "按提供单位")):
            st.markdown(f"**{title}**")
            widgets.show_table(sv.authorisation_counts(scope, as_of, by), key=f"sv_auth_{by}")

if scope.sees_all:
    with tabs["督办单"]:
        items = sv.notice_list(scope, as_of)
        st.caption("需要督办的单位：红灯任务、逾期未办的共享申请环节（按工作日计）和逾期未整改的承诺。")
        widgets.show_table(items.select("unit", "kind", "item", "deadline", "days_overdue", "day_kind"),
                           labels=LABELS, empty="截至考评日没有需要督办的单位。", key="sv_notices")
        issued = st.date_input("发文日期", value=today, key="sv_issued")
        if items.height and st.button("生成全部督办单", key="sv_notices_make"):
            payload, count = sv.notices_document(scope, as_of, issued)
            for note in font_report():
                st.caption(note)
            st.download_button(f"下载全部督办单（Word，{count}个单位）", payload,
                               file_name=f"督办单_{as_of.isoformat()}.docx", key="sv_notices_download",
                               mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
