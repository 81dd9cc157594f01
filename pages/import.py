"""数据导入 (管理员 and 单位): upload → validate → preview counts, errors and warnings → confirm → import.

The rules are data/imports/importer.py's (import-format.md); this page only draws. Nothing is written
until the user confirms a workbook that has no error.
"""

import hashlib

import streamlit as st

from data.services import uploads
from reports.csv_export import frame_to_csv_bytes
from ui import import_batches_view as batches
from ui import widgets
from ui.fmt import md_escape

scope = widgets.open_page("pages/import.py")

st.caption("按导入模板填写 Excel 工作簿（.xlsx），也可导入单个工作表的 CSV 文件（UTF-8 或 GBK 编码，文件名与工作表同名）。"
           "导入前先检查整个文件：有任何错误都不会写入任何数据；同一条记录重复导入只会更新，不会重复新增。"
           f"文件大小上限 {uploads.upload_limit(scope):g} MB。")
if scope.role == "单位":
    st.info("单位账号只能导入本单位的数据；导入的数据须经领导小组办公室核验后才写入并计入考评。"
            "初审、转送、对接日期和数据质量检查由领导小组办公室填写。")
st.download_button("下载导入模板", uploads.import_template(), file_name="政务数据共享导入模板.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="import_template")

done = st.session_state.pop("import_done", None)
if done:
    st.success("导入完成：" + "；".join(done))
submitted = st.session_state.pop("import_submitted", None)
if submitted:
    st.success(f"已提交第 {submitted[0]} 号导入申请（" + "；".join(submitted[1]) + "），待领导小组办公室核验后写入。")

batches.section(scope)

upload = st.file_uploader("选择要导入的文件", type=["xlsx", "xlsm", "csv", "xls"], key="import_file")
if upload is None:
    st.stop()

data = upload.getvalue()
name = md_escape(upload.name)   # a file name is user text: never markdown
with st.spinner("正在检查文件…"):
    result = uploads.check_upload(scope, data, upload.name)
if result.fatal:
    st.error(f"无法读取「{name}」：{md_escape(result.fatal)}")
    st.stop()

st.subheader("检查结果")
st.dataframe(result.counts_frame(), hide_index=True, key="import_counts")
if result.warnings.height:
    more = f"，以下仅列出前 {result.warnings.height} 条" if result.warnings_not_listed else ""
    st.warning(f"有 {result.warning_total} 条提示（不影响导入）{more}：")
    st.dataframe(result.warnings, hide_index=True, width="stretch", key="import_warnings")
if not result.ok:
    st.error(f"发现 {result.error_total} 处错误，未导入任何数据。请修改后重新上传。")
    if result.errors_not_listed:
        st.caption(f"以下仅列出前 {result.errors.height} 处错误，其余 {result.errors_not_listed} 处未列出。")
    st.dataframe(result.errors, hide_index=True, width="stretch", key="import_errors")
    st.download_button("下载错误清单（CSV）", frame_to_csv_bytes(result.errors),
                       file_name=f"导入错误_{upload.name}.csv", mime="text/csv", key="import_errors_csv")
    st.stop()

st.success("检查通过，可以提交，待领导小组办公室核验。" if scope.role == "单位" else "检查通过，可以导入。")
digest = hashlib.sha256(data).hexdigest()[:12]
if st.button("提交核验" if scope.role == "单位" else "确认导入", type="primary", key=f"import_confirm_{digest}"):
    imported = uploads.import_upload(scope, data, upload.name, result)
    if imported.batch_id is not None:
        st.session_state["import_submitted"] = (imported.batch_id, imported.summary_lines())
    else:
        st.session_state["import_done"] = imported.summary_lines()
    st.rerun()
