// Small helpers shared by the segment editor's modules: the JSON API and the DOM.
"use strict";

export const $ = (id) => document.getElementById(id);

export async function request(method, url, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    return { ok: false, status: 0, body: { message: "The wkmp-ai service cannot be reached." } };
  }
  let data = null;
  try { data = await response.json(); } catch (err) { data = { message: `${response.status} ${response.statusText}` }; }
  return { ok: response.ok, status: response.status, body: data };
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function baseName(path) {
  const parts = path.split("/");
  return { name: parts.pop(), folder: parts.join("/") };
}
