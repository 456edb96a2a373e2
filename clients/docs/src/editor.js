// SPDX-License-Identifier: AGPL-3.0-or-later
// One open document: Tiptap bound to the Yjs document that y-websocket keeps in sync
// with the server. Readers and commenters get a read-only editor (the server refuses
// their updates anyway); every officer's caret and name is shown to the others.
import { Editor } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import { commentHighlights, mountComments } from "./comments.js";
import { api } from "./api.js";
import { TaskBlock, taskForm } from "./task.js";
import { TaskItem, TaskList } from "@tiptap/extension-list";
import { ChartNode, ContactCard, DocEmbed, FileEmbed, ImageNode, richToolbar } from "./rich.js";
import { connect } from "./connection.js";

function caret(user) {
  const span = document.createElement("span");
  span.className = "caret";
  span.style.borderColor = user.color; // CSSOM, allowed by the page's CSP
  const label = document.createElement("span");
  label.className = "caret-label";
  label.style.backgroundColor = user.color;
  label.textContent = user.name;
  span.append(label);
  return span;
}

export function openDocument(app, session, doc, el) {
  const link = connect(session, doc, el, { onClosed: () => editor.setEditable(false) });
  const { ydoc, provider, me, people, writable } = link;
  const area = el("div", { class: "editor" });
  const side = el("aside", { class: "side" });
  const tasks = el("div", { class: "tasks" });
  const exportButton = el("button", { type: "button", class: "export" }, "导出 Word");
  exportButton.addEventListener("click", () => downloadDocx(session, doc));
  const column = el("div", { class: "doc-column" }, area);
  app.replaceChildren(
    link.header(exportButton),
    el("main", { class: "doc" }, column, el("div", { class: "side-wrap" }, people, tasks, side)),
  );
  const editor = new Editor({
    element: area,
    editable: writable,
    injectCSS: false, // the page's CSP allows no inline style; style.css has it
    extensions: [
      StarterKit.configure({ undoRedo: false }), // Yjs keeps the undo history
      Collaboration.configure({ document: ydoc, field: "default" }),
      CollaborationCaret.configure({
        provider,
        user: me,
        render: caret,
        selectionRender: () => ({ nodeName: "span", class: "caret-selection" }),
      }),
      commentHighlights(ydoc),
      TaskBlock({ ydoc, session, docId: doc.doc_id, api }),
      TaskList,
      TaskItem.configure({ nested: true }), // a reader's tick is undone (read-only)
      ImageNode(session),
      ContactCard,
      DocEmbed(session, api),
      FileEmbed(session),
      ChartNode,
    ],
  });
  if (writable) {
    tasks.append(taskForm(el, editor, session, doc.doc_id, api));
    column.prepend(richToolbar(el, editor, session, api));
  }
  const comments = mountComments(side, session, doc, ydoc, editor, el);
  return () => {
    comments.close();
    editor.destroy();
    link.close();
  };
}

// Word export: the file is fetched with the officer's token, then saved.
async function downloadDocx(session, doc) {
  const response = await fetch(`/_jwwx/client/v1/docs/${encodeURIComponent(doc.doc_id)}/export?format=docx`, {
    headers: { Authorization: `Bearer ${session.token}` },
  });
  if (!response.ok) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${doc.title}.docx`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
