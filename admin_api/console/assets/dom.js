// SPDX-License-Identifier: AGPL-3.0-or-later
// Building the page: every text goes in through text nodes (never innerHTML), so
// names, keywords and error messages from the server render inert.

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "readOnly", "hidden", "multiple"]);

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

export function formatTime(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// A short message at the top of the page.
export function toast(message, kind = "ok") {
  let box = document.getElementById("toasts");
  if (!box) {
    box = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const item = h("div", { class: `toast toast-${kind}`, text: message });
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

// A modal dialog; returns {body, close}. `actions` are buttons for the footer.
export function dialog(title, { wide = false, onClose } = {}) {
  const body = h("div", { class: "dialog-body" });
  const footer = h("div", { class: "dialog-footer" });
  const closeButton = h("button", { type: "button", class: "link dialog-x", "aria-label": "关闭", text: "×" });
  const box = h("div", { class: wide ? "dialog wide" : "dialog", role: "dialog", "aria-modal": "true", "aria-label": title },
    h("div", { class: "dialog-head" }, h("h2", { text: title }), closeButton), body, footer);
  const overlay = h("div", { class: "overlay" }, box);
  const onKey = (e) => {
    // The topmost dialog only (toasts are divs of <body> too: not :last-of-type).
    if (e.key === "Escape" && overlay === [...document.querySelectorAll(".overlay")].pop()) close();
  };
  const close = () => {
    if (!overlay.isConnected) return;
    overlay.remove();
    document.removeEventListener("keydown", onKey);
    if (onClose) onClose();
  };
  closeButton.addEventListener("click", close);
  document.addEventListener("keydown", onKey);
  document.body.append(overlay);
  return { body, footer, close, box };
}

export function confirmDialog(title, message, okText = "确定") {
  return new Promise((resolve) => {
    let answered = false;
    const d = dialog(title, { onClose: () => answered || resolve(false) });
    append(d.body, h("p", { text: message }));
    const ok = h("button", { type: "button", class: "primary", text: okText });
    const cancel = h("button", { type: "button", text: "取消" });
    ok.addEventListener("click", () => { answered = true; d.close(); resolve(true); });
    cancel.addEventListener("click", () => d.close());
    append(d.footer, cancel, ok);
    ok.focus();
  });
}

// A labelled form row.
export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", { class: "field-label", text: label }), input,
    hint ? h("span", { class: "field-hint", text: hint }) : null);
}

// Shows an API error inside a form (role=alert, so screen readers announce it).
export function errorBox() {
  const box = h("div", { class: "form-error", role: "alert", hidden: true });
  return {
    el: box,
    show(message) { box.textContent = message; box.hidden = false; },
    hide() { box.textContent = ""; box.hidden = true; },
  };
}

export function table(headers, rows, { className = "grid", empty = "暂无数据" } = {}) {
  const head = h("thead", {}, h("tr", {}, headers.map((t) => h("th", { text: t }))));
  const body = h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length, class: "empty", text: empty })));
  return h("table", { class: className }, head, body);
}
