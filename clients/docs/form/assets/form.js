// SPDX-License-Identifier: AGPL-3.0-or-later
// The collection form page (/_jwwx/docs/form/#form=ID): the officer fills in a form
// with his own Matrix session — the web client's of this tab (sessionStorage
// "jwwx.web.session", as the editor page), or this page's login form (the standard
// /login). The server checks every answer; its error is shown as it says it.
// Plain files, no build step (docs/documents.md, "Collection forms").

const FORMS = "/_jwwx/client/v1/docs/forms";
const SESSION = "jwwx.web.session";
const app = document.getElementById("app");

function loadSession() {
  try {
    const found = JSON.parse(sessionStorage.getItem(SESSION) || "null");
    return found && found.token && found.userId ? found : null;
  } catch {
    return null;
  }
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function call(method, path, body, token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function formId() {
  const found = new URLSearchParams(location.hash.slice(1)).get("form");
  return found || "";
}

function showTime(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function showLogin(message) {
  const user = el("input", { type: "text", name: "user", autocomplete: "username" });
  const password = el("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
  });
  const error = el("p", { class: "error", hidden: true });
  const form = el(
    "form",
    { class: "card login" },
    el("h1", { text: "登录后填写收集表" }),
    message ? el("p", { class: "meta", text: message }) : null,
    el("label", { text: "账号" }, user),
    el("label", { text: "密码" }, password),
    error,
    el("button", { type: "submit", text: "登录" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await call("POST", "/_matrix/client/v3/login", {
        type: "m.login.password",
        identifier: { type: "m.id.user", user: user.value.trim() },
        password: password.value,
        initial_device_display_name: "警务文档 · 收集表",
      });
      sessionStorage.setItem(
        SESSION,
        JSON.stringify({
          token: answer.access_token,
          userId: answer.user_id,
          deviceId: answer.device_id,
        }),
      );
      start();
    } catch (e) {
      error.hidden = false;
      error.textContent = e.message;
    }
  });
  app.replaceChildren(form);
}

function field(question, mine) {
  const { id, type, title, required } = question;
  const legend = el(
    "legend",
    { text: title },
    required ? el("span", { class: "required", text: "*" }) : null,
  );
  const box = el("fieldset", { class: "question", "data-question": id }, legend);
  const value = mine ? mine[id] : undefined;
  if (type === "single" || type === "multiple") {
    for (const option of question.options) {
      const input = el("input", {
        type: type === "single" ? "radio" : "checkbox",
        name: id,
        value: option,
      });
      input.checked = type === "single" ? value === option : (value || []).includes(option);
      box.append(el("label", { class: "choice" }, input, el("span", { text: option })));
    }
    return box;
  }
  let input;
  if (type === "text") {
    input = el("textarea", { name: id, maxlength: question.max_length });
  } else if (type === "number") {
    input = el("input", {
      type: "number",
      name: id,
      step: "any",
      inputmode: "decimal",
      min: question.min,
      max: question.max,
    });
  } else {
    input = el("input", { type: "date", name: id });
  }
  if (value !== undefined && value !== null) input.value = String(value);
  box.append(input);
  return box;
}

// The answers as typed: the server judges them (a number that does not parse is sent
// as typed, so that its error names the question).
function collect(form, questions) {
  const answers = {};
  for (const { id, type } of questions) {
    if (type === "multiple") {
      const chosen = [...form.querySelectorAll(`input[name="${CSS.escape(id)}"]:checked`)];
      if (chosen.length) answers[id] = chosen.map((i) => i.value);
    } else if (type === "single") {
      const chosen = form.querySelector(`input[name="${CSS.escape(id)}"]:checked`);
      if (chosen) answers[id] = chosen.value;
    } else {
      const input = form.elements.namedItem(id);
      const raw = input.value;
      if (raw.trim() === "") continue;
      if (type === "number") {
        const number = Number(raw);
        answers[id] = Number.isFinite(number) ? number : raw;
      } else {
        answers[id] = raw;
      }
    }
  }
  return answers;
}

function showForm(session, form) {
  const mine = form.my_answer ? form.my_answer.answers : null;
  const head = el(
    "section",
    { class: "card" },
    el("h1", { text: form.title }),
    form.description ? el("p", { class: "description", text: form.description }) : null,
    form.deadline
      ? el("p", { class: "meta", text: `截止：${showTime(form.deadline)}` })
      : null,
    el("p", {
      class: "meta",
      text: [form.anonymous ? "匿名填写" : "实名填写", form.editable ? "提交后可修改" : "提交后不可修改"].join(" · "),
    }),
  );
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const note = el("p", { class: "done", role: "status", hidden: true });
  const submit = el("button", { type: "submit", text: mine ? "修改答案" : "提交" });
  const body = el(
    "form",
    { class: "answer", novalidate: true },
    head,
    ...form.questions.map((q) => field(q, mine)),
    error,
    note,
    submit,
  );
  const why = form.closed
    ? "收集表已截止"
    : form.status !== "published"
      ? "收集表尚未发布"
      : mine && !form.editable
        ? "你已提交，此收集表不允许修改"
        : !form.can_answer
          ? form.role === "creator"
            ? "预览：你不在填写范围内"
            : "你不在填写范围内"
          : "";
  if (why) {
    submit.hidden = true;
    for (const input of body.querySelectorAll("input, textarea, button")) input.disabled = true;
    note.hidden = false;
    note.className = mine ? "done" : "status";
    note.textContent = why;
  }
  body.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    note.hidden = true;
    submit.disabled = true;
    try {
      const saved = await call(
        "PUT",
        `${FORMS}/${encodeURIComponent(form.form_id)}/answer`,
        { answers: collect(body, form.questions) },
        session.token,
      );
      note.hidden = false;
      note.className = "done";
      note.textContent = saved.edited ? "已修改，谢谢。" : "已提交，谢谢。";
      if (form.editable) {
        submit.textContent = "修改答案";
        submit.disabled = false;
      } else {
        for (const input of body.querySelectorAll("input, textarea")) input.disabled = true;
      }
    } catch (e) {
      error.hidden = false;
      error.textContent = e.message;
      submit.disabled = false;
      const question = e.body && e.body.question;
      const box = question && body.querySelector(`[data-question="${CSS.escape(question)}"]`);
      if (box) box.scrollIntoView({ block: "center" });
    }
  });
  app.replaceChildren(body);
  if (form.role === "creator") app.append(resultsPanel(session, form));
}

// The creator's panel: who answered and who has not (per unit), the summaries per
// question, a reminder, the export (.xlsx), the answers as a sheet document, closing.
function resultsPanel(session, form) {
  const base = `${FORMS}/${encodeURIComponent(form.form_id)}`;
  const panel = el("section", { class: "card results" }, el("h2", { text: "填写情况" }));
  const content = el("div", {}, el("p", { class: "status", text: "正在统计…" }));
  const note = el("p", { class: "note meta", role: "status" });
  const action = (cls, label, run) => {
    const button = el("button", { type: "button", class: `secondary ${cls}`, text: label });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await run();
      } catch (e) {
        note.textContent = e.message;
      } finally {
        button.disabled = false;
      }
    });
    return button;
  };
  const tools = el(
    "div",
    { class: "tools" },
    action("remind", "提醒未填写", async () => {
      const answer = await call("POST", `${base}/remind`, {}, session.token);
      note.textContent = `已提醒 ${answer.reminded} 人`;
    }),
    action("export", "导出 Excel", async () => {
      const response = await fetch(`${base}/export?format=xlsx`, {
        headers: { Authorization: `Bearer ${session.token}` },
      });
      if (!response.ok) throw new Error(`导出失败（HTTP ${response.status}）`);
      const link = el("a", {
        href: URL.createObjectURL(await response.blob()),
        download: `${form.title}.xlsx`,
      });
      document.body.append(link);
      link.click();
      link.remove();
      note.textContent = "已导出";
    }),
    action("to-sheet", "转为表格", async () => {
      const doc = await call("POST", `${base}/to-sheet`, {}, session.token);
      note.replaceChildren(
        el("a", {
          class: "sheet-link",
          href: `/_jwwx/docs/app/#doc=${encodeURIComponent(doc.doc_id)}`,
          text: `打开表格《${doc.title}》`,
        }),
      );
    }),
  );
  panel.append(content, tools, note);
  if (form.status !== "published") {
    content.replaceChildren(el("p", { class: "meta", text: "草稿：发布后才能填写" }));
    tools.hidden = true;
    return panel;
  }
  call("GET", `${base}/results`, undefined, session.token)
    .then((results) => content.replaceChildren(...describe(results)))
    .catch((e) => content.replaceChildren(el("p", { class: "error", text: e.message })));
  return panel;
}

function describe(results) {
  const total = el(
    "p",
    { class: "totals", "data-answered": results.answered, "data-pending": results.pending },
    document.createTextNode(
      `应填 ${results.expected} 人，已填 ${results.answered} 人，未填 ${results.pending} 人`,
    ),
  );
  const units = el("ul", { class: "units" });
  for (const unit of results.units) {
    const pending = unit.pending.map((p) => p.name || p.user_id).join("、");
    units.append(
      el(
        "li",
        {},
        el("strong", { text: unit.name }),
        document.createTextNode(` 已填 ${unit.answered}/${unit.expected}`),
        pending ? el("div", { class: "meta", text: `未填：${pending}` }) : null,
      ),
    );
  }
  const questions = el("ol", { class: "summary" });
  for (const q of results.questions) {
    let text = `${q.answered} 人作答`;
    if (q.options) text += "：" + q.options.map((o) => `${o.option} ${o.count}`).join("，");
    else if (q.mean !== undefined) text += `：平均 ${q.mean}，最小 ${q.min}，最大 ${q.max}`;
    else if (q.earliest) text += `：${q.earliest} 至 ${q.latest}`;
    questions.append(el("li", {}, el("strong", { text: q.title }), el("div", { class: "meta", text })));
  }
  return [total, units, questions];
}

async function start() {
  const id = formId();
  if (!id) {
    app.replaceChildren(el("p", { class: "status", text: "链接中没有收集表（#form=…）" }));
    return;
  }
  const session = loadSession();
  if (!session) {
    showLogin();
    return;
  }
  try {
    const form = await call("GET", `${FORMS}/${encodeURIComponent(id)}`, undefined, session.token);
    showForm(session, form);
  } catch (e) {
    if (e.status === 401) {
      sessionStorage.removeItem(SESSION);
      showLogin("登录已失效，请重新登录");
      return;
    }
    app.replaceChildren(el("p", { class: "error", text: e.message }));
  }
}

window.addEventListener("hashchange", start);
start();
