// SPDX-License-Identifier: AGPL-3.0-or-later
// 任务: a task block in the document (modules/docs/tasks.py reads it): a title, a due
// date and steps, each with an assignee; an atom node whose attributes hold them
// (steps as JSON text). The server keeps the flow: it tells each step's assignee
// through the docs bot, and writes the progress into the Yjs map "task_progress" (task
// id → {status, current_step, done: [{by, ts}]}), shown here; only the server writes it.
// The assignee of the open step completes it here (POST …/tasks/{id}/complete).
import { Node, mergeAttributes } from "@tiptap/core";

function shortName(userId) {
  return String(userId || "").replace(/^@/, "").split(":")[0];
}

export function parseSteps(text) {
  try {
    const steps = JSON.parse(text || "[]");
    return Array.isArray(steps) ? steps : [];
  } catch {
    return [];
  }
}

// "步骤标题 @user:server" lines → steps; a bare localpart gets this server's name.
export function stepsFromLines(lines, server) {
  return lines.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const at = line.lastIndexOf(" ");
    const title = at > 0 ? line.slice(0, at).trim() : line;
    let who = at > 0 ? line.slice(at + 1).trim() : "";
    if (who && !who.startsWith("@")) who = `@${who}`;
    if (who && !who.includes(":")) who = `${who}:${server}`;
    return { title, assignee: who };
  });
}

export function TaskBlock({ ydoc, session, docId, api }) {
  const progress = ydoc.getMap("task_progress");
  return Node.create({
    name: "taskBlock",
    group: "block",
    atom: true,
    selectable: true,
    draggable: false,
    addAttributes() {
      const attr = (name) => ({
        default: null,
        parseHTML: (el) => el.getAttribute(`data-${name}`),
        renderHTML: (attrs) => (attrs[name] == null ? {} : { [`data-${name}`]: attrs[name] }),
      });
      return { taskId: attr("taskId"), title: attr("title"), due: attr("due"), steps: attr("steps"), createdBy: attr("createdBy") };
    },
    parseHTML() {
      return [{ tag: "div[data-task-block]" }];
    },
    renderHTML({ HTMLAttributes }) {
      return ["div", mergeAttributes(HTMLAttributes, { "data-task-block": "" })];
    },
    addNodeView() {
      return ({ node }) => {
        const dom = document.createElement("div");
        dom.className = "task";
        dom.contentEditable = "false";
        let current = node;
        const draw = () => {
          const attrs = current.attrs;
          const state = progress.get(attrs.taskId) || null;
          const steps = parseSteps(attrs.steps);
          dom.dataset.taskId = attrs.taskId || "";
          dom.dataset.status = state ? state.status : "new";
          const head = document.createElement("div");
          head.className = "task-head";
          head.textContent = `任务：${attrs.title || ""}` + (attrs.due ? `（截止 ${attrs.due}）` : "");
          const list = document.createElement("ol");
          steps.forEach((step, i) => {
            const item = document.createElement("li");
            const done = state && state.done && state.done[i] && state.done[i].by;
            const open = state && state.status === "open" && state.current_step === i;
            item.className = done ? "done" : open ? "open" : "";
            item.textContent = `${step.title}（${shortName(step.assignee)}）` + (done ? ` ✓ ${shortName(done)}` : "");
            if (open && step.assignee === session.userId) {
              const button = document.createElement("button");
              button.type = "button";
              button.className = "complete";
              button.textContent = "完成此步";
              button.addEventListener("click", async () => {
                button.disabled = true;
                try {
                  await api(session, "POST", `/${encodeURIComponent(docId)}/tasks/${encodeURIComponent(attrs.taskId)}/complete`, { step: i });
                } catch (e) {
                  button.disabled = false;
                  button.title = e.message;
                }
              });
              item.append(" ", button);
            }
            list.append(item);
          });
          const status = document.createElement("div");
          status.className = "task-status";
          status.textContent = !state ? "待同步" : state.status === "done" ? "已完成" : state.status === "removed" ? "已移除" : "办理中";
          dom.replaceChildren(head, list, status);
        };
        const changed = () => draw();
        progress.observe(changed);
        draw();
        return {
          dom,
          update: (updated) => {
            if (updated.type.name !== "taskBlock") return false;
            current = updated;
            draw();
            return true;
          },
          destroy: () => progress.unobserve(changed),
        };
      };
    },
  });
}

// The side panel's form: a new task block at the cursor, then the server reads it.
export function taskForm(el, editor, session, docId, api) {
  const server = session.userId.split(":").slice(1).join(":");
  const title = el("input", { name: "task-title", placeholder: "任务标题", maxlength: "200" });
  const due = el("input", { name: "task-due", type: "date" });
  const steps = el("textarea", { name: "task-steps", rows: "3", placeholder: "每行一步：步骤标题 负责人账号" });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "task-form" }, el("h2", {}, "新建任务"), title, due, steps,
    el("button", { type: "submit" }, "插入任务"), error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const list = stepsFromLines(steps.value, server);
    if (!title.value.trim() || !list.length || list.some((s) => !s.assignee)) {
      error.textContent = "请填写标题，以及每一步的标题和负责人";
      return;
    }
    error.textContent = "";
    const attrs = {
      taskId: `t-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
      title: title.value.trim(),
      due: due.value || null,
      steps: JSON.stringify(list),
      createdBy: session.userId,
    };
    editor.chain().focus().insertContent({ type: "taskBlock", attrs }).run();
    form.reset();
    // The update travels on the socket; the server reads the blocks when asked.
    setTimeout(() => api(session, "POST", `/${encodeURIComponent(docId)}/tasks/sync`, {})
      .catch((e) => { error.textContent = e.message; }), 500);
  });
  return form;
}
