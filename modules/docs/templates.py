# SPDX-License-Identifier: AGPL-3.0-or-later
"""Business templates (业务模板): new documents that start with a form's structure.

Shipped with the module (below, built in code as the editor's node tree): 工作简报,
会议纪要, 案件协查函. Admins holding the right `docs.templates` add more from an
existing document (its content roots only, copied: no comments, no task progress),
kept SM4-sealed in jwwx_docs_templates, and remove them. Officers list them and
create a document from one (the document starts with a snapshot of the template)."""

from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from modules.docs import content

Node = tuple[str, dict[str, Any], list[Any]]  # (tag, attributes, children|text)


def _h(level: int, text: str) -> Node:
    return ("heading", {"level": level}, [text])


def _p(text: str = "") -> Node:
    return ("paragraph", {}, [text] if text else [])


def _ol(*items: str) -> Node:
    return ("orderedList", {}, [("listItem", {}, [_p(i)]) for i in items])


SHIPPED: dict[str, tuple[str, list[Node]]] = {
    "work_brief": (
        "工作简报",
        [
            _h(1, "工作简报"),
            _p("（第　期）"),
            _p("编发单位：　　　　　　　日期：　　年　月　日"),
            _h(2, "一、工作进展"),
            _p(),
            _h(2, "二、存在问题"),
            _p(),
            _h(2, "三、下步打算"),
            _p(),
            _p("报：　　　　送：　　　　发："),
        ],
    ),
    "meeting_minutes": (
        "会议纪要",
        [
            _h(1, "会议纪要"),
            _p("会议时间："),
            _p("会议地点："),
            _p("主持人："),
            _p("参会人员："),
            _p("记录人："),
            _h(2, "会议议题"),
            _ol("　"),
            _h(2, "议定事项"),
            _ol("　"),
        ],
    ),
    "case_assist_letter": (
        "案件协查函",
        [
            _h(1, "案件协查函"),
            _p("编号：〔　　〕第　　号"),
            _p("＿＿＿＿＿＿公安局："),
            _p("我局在办理＿＿＿＿＿＿案件中，需贵单位协助查询以下事项，请予支持。"),
            _h(2, "协查事项"),
            _ol("　"),
            _h(2, "协查对象"),
            _p("姓名：　　　　身份证号："),
            _p("联系人：　　　　联系电话："),
            _p("（盖章）　　　　年　月　日"),
        ],
    ),
}


def _append(parent: Any, node: Node) -> None:
    tag, attrs, children = node
    element = parent.children.append(XmlElement(tag, dict(attrs)))
    for child in children:
        if isinstance(child, str):
            element.children.append(XmlText(child))
        else:
            _append(element, child)


def shipped_state(template_id: str) -> bytes:
    """The Yjs state of a new rich document from a shipped template."""
    doc: Doc[Any] = Doc()
    root = doc.get("default", type=XmlFragment)
    with doc.transaction():
        for node in SHIPPED[template_id][1]:
            _append(root, node)
    return doc.get_update()


def copied_state(state: bytes, kind: str) -> bytes:
    """A fresh document holding only the content roots of `state` (no comments, no
    task progress, none of its history's items)."""
    old: Doc[Any] = Doc()
    old.apply_update(state)
    new: Doc[Any] = Doc()
    content.restore(new, old, kind)
    return new.get_update()


def shipped_listing() -> list[dict[str, Any]]:
    return [
        {"id": key, "name": name, "kind": "rich", "shipped": True}
        for key, (name, _) in SHIPPED.items()
    ]
