// SPDX-License-Identifier: AGPL-3.0-or-later
// Comments on a range of the document. They live in the document itself (its Yjs map
// "comments", written by the server: POST {doc}/comments), so every open editor sees
// them at once and they are sealed and chained with the content. A comment's range is
// a pair of Yjs relative positions: it follows the text as others edit around it.
import * as Y from "yjs";
import { Extension } from "@tiptap/core";
import { Plugin, PluginKey } from "@tiptap/pm/state";
import { Decoration, DecorationSet } from "@tiptap/pm/view";
import {
  absolutePositionToRelativePosition,
  relativePositionToAbsolutePosition,
  ySyncPluginKey,
} from "@tiptap/y-tiptap";
import { api, ApiError } from "./api.js";

const MAX_QUOTE = 500;

function toBase64(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function binding(editor) {
  const state = ySyncPluginKey.getState(editor.state);
  return state && state.binding ? state : null;
}

function rangeIn(state, ydoc, comment) {
  const sync = ySyncPluginKey.getState(state);
  if (!sync || !sync.binding) return null;
  const at = (b64) => relativePositionToAbsolutePosition(
    ydoc, sync.type, Y.decodeRelativePosition(fromBase64(b64)), sync.binding.mapping);
  const from = at(comment.start);
  const to = at(comment.end);
  return from === null || to === null ? null : { from: Math.min(from, to), to: Math.max(from, to) };
}

const HIGHLIGHTS = new PluginKey("commentHighlights");

// The open comments' ranges marked in the text (recomputed with every change of the
// editor's state; a change of the comments dispatches an empty transaction).
export function commentHighlights(ydoc) {
  return Extension.create({
    name: "commentHighlights",
    addProseMirrorPlugins() {
      return [new Plugin({
        key: HIGHLIGHTS,
        props: {
          decorations(state) {
            const marks = [];
            for (const c of ydoc.getMap("comments").values()) {
              if (!c || !c.id || c.resolved) continue;
              const r = rangeIn(state, ydoc, c);
              if (r && r.from < r.to && r.to <= state.doc.content.size) {
                marks.push(Decoration.inline(r.from, r.to, { class: "commented", "data-comment": c.id }));
              }
            }
            return DecorationSet.create(state.doc, marks);
          },
        },
      })];
    },
  });
}

export function mountComments(side, session, doc, ydoc, editor, el) {
  const comments = ydoc.getMap("comments");
  const canComment = doc.role !== "reader";
  const canModerate = doc.role === "owner" || doc.role === "editor";
  const list = el("ol", { class: "comments", "aria-label": "评论" });
  const text = el("textarea", { name: "comment", placeholder: "选中文字后写评论", maxlength: "2000", rows: "3" });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "comment-form" }, text, el("button", { type: "submit" }, "评论所选文字"), error);

  const range = (comment) => rangeIn(editor.state, ydoc, comment);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const { from, to } = editor.state.selection;
    const sync = binding(editor);
    if (from === to || !sync) {
      error.textContent = "请先选中要评论的文字";
      return;
    }
    const rel = (pos) => toBase64(Y.encodeRelativePosition(
      absolutePositionToRelativePosition(pos, sync.type, sync.binding.mapping)));
    try {
      await api(session, "POST", `/${encodeURIComponent(doc.doc_id)}/comments`, {
        body: text.value.trim(),
        start: rel(from),
        end: rel(to),
        quote: editor.state.doc.textBetween(from, to, " ").slice(0, MAX_QUOTE),
      });
      text.value = "";
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      error.textContent = e.message;
    }
  });

  async function act(method, comment, body) {
    try {
      await api(session, method,
        `/${encodeURIComponent(doc.doc_id)}/comments/${encodeURIComponent(comment.id)}`, body);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      error.textContent = e.message;
    }
  }

  function render() {
    const all = [...comments.values()].filter((c) => c && c.id).sort((a, b) => a.ts - b.ts);
    list.replaceChildren(...all.map((c) => {
      const mine = c.author === session.userId;
      const item = el("li", { class: c.resolved ? "comment resolved" : "comment", "data-comment": c.id },
        el("blockquote", {}, c.quote || "（原文已删除）"),
        el("p", { class: "body" }, c.body),
        el("span", { class: "author" }, c.author.replace(/^@/, "").split(":")[0]));
      item.addEventListener("click", () => {
        const r = range(c);
        if (r) editor.chain().setTextSelection(r).scrollIntoView().run();
      });
      if (canModerate || mine) {
        item.append(el("button", { type: "button", class: "resolve", onclick: (ev) => {
          ev.stopPropagation();
          act("PUT", c, { resolved: !c.resolved });
        } }, c.resolved ? "重新打开" : "解决"));
        item.append(el("button", { type: "button", class: "delete", onclick: (ev) => {
          ev.stopPropagation();
          act("DELETE", c);
        } }, "删除"));
      }
      return item;
    }));
  }

  const changed = () => {
    render();
    if (!editor.isDestroyed) editor.view.dispatch(editor.state.tr.setMeta(HIGHLIGHTS, true));
  };
  comments.observe(changed);
  render();
  side.replaceChildren(el("h2", {}, "评论"), ...(canComment ? [form] : []), list);
  return { close: () => comments.unobserve(changed) };
}
