// newstag editor page: paste or upload a page, tag it, filter, export, correct.
// Every piece of user or model text reaches the page through textContent, never as HTML.
"use strict";

const state = {
  topics: [], names: {}, iptc: {}, items: [], modelVersion: null, filter: null, placeFilter: null, corrections: {},
};
// The editor's "none of ours" choice: sent as topic null, shown and filtered under this key.
const NONE = "none";
const NONE_NAME = "不属于以上主题";
// Items that name no county-level place: shown and filtered under this key.
const NO_COUNTY = "none";
const NO_COUNTY_NAME = "未标明区县";

const MESSAGES = {
  empty: "请先粘贴或上传版面文字。",
  network: "无法连接标注服务，请检查网络或稍后再试。",
  413: "内容太大，超过了服务的上限。请拆分后再试。",
  415: "不支持的文件类型，请上传 .txt 或 .docx 文件。",
  503: "标注服务尚未就绪，请稍后再试。",
  token: "请先填写编辑口令，再保存更正。",
  401: "编辑口令无效，更正未保存。",
  404: "服务未开启更正功能，请联系管理员。",
};

function $(selector, root = document) { return root.querySelector(selector); }

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function showMessage(text, kind = "error") {
  const box = $("#message");
  box.textContent = text;
  box.className = kind;
  box.hidden = false;
}

function clearMessage() { $("#message").hidden = true; }

async function errorText(response) {
  let detail = "";
  try { detail = (await response.json()).error.message; } catch (_) { /* not JSON */ }
  if (MESSAGES[response.status]) return MESSAGES[response.status];
  if (response.status === 422 && /empty/.test(detail)) return MESSAGES.empty;
  return `请求失败（${response.status}）：${detail || response.statusText}`;
}

async function call(url, options) {
  try {
    return await fetch(url, options);
  } catch (_) {
    return null;
  }
}

function chip(topic, small = false) {
  const name = topic === NONE ? NONE_NAME : state.names[topic] || topic;
  const node = el("span", `chip topic-${topic}${small ? " small" : ""}`, name);
  node.dataset.topic = topic;
  return node;
}

function percent(score) { return `${Math.round(score * 100)}%`; }

function currentTopic(item) { return state.corrections[item.id] || item.topic; }

function correctionOf(item) { return state.corrections[item.id] || ""; }

// The county-level place an item most likely happened in (places come most likely first).
function countyOf(item) { return (item.places || []).find((p) => p.level === "county") || null; }

function countyKey(item) { const county = countyOf(item); return county ? county.adcode : NO_COUNTY; }

// IPTC Media Topic codes (or newstag's own URIs where IPTC has none) of a topic.
function iptcCodes(topic) { return (state.iptc[topic] || []).map((s) => s.code || s.uri); }

function placeChip(place, small) {
  const node = el("span", `place-chip${small ? " small" : ""}`, place.name);
  node.title = place.path.join(" / ");
  node.dataset.adcode = place.adcode;
  return node;
}

function shown(topic, county) {
  const topicShown = state.filter === null || state.filter === topic;
  return topicShown && (state.placeFilter === null || state.placeFilter === county);
}

// Text with the explanation's spans marked; spans are [start, end) offsets into `text`.
function highlighted(text, explanation) {
  const ranges = [];
  for (const term of explanation || []) for (const [start, end] of term.spans) ranges.push([start, end]);
  ranges.sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  const fragment = document.createDocumentFragment();
  let position = 0;
  for (const [start, end] of merged) {
    if (start > position) fragment.append(document.createTextNode(text.slice(position, start)));
    fragment.append(el("mark", "", text.slice(start, end)));
    position = end;
  }
  if (position < text.length) fragment.append(document.createTextNode(text.slice(position)));
  return fragment;
}

function renderParagraphs(list, item) {
  list.replaceChildren();
  for (const paragraph of item.paragraphs) {
    const li = el("li", "paragraph");
    const head = el("div", "para-head");
    head.append(chip(paragraph.topic, true), ` ${percent(paragraph.score)}`);
    if (paragraph.explanation && paragraph.explanation.length) {
      head.append(` · 依据：${paragraph.explanation.slice(0, 4).map((t) => t.term).join("、")}`);
    }
    const body = el("p", "para-text");
    body.append(highlighted(paragraph.text, paragraph.explanation));
    li.append(head, body);
    list.append(li);
  }
}

function renderItem(item) {
  const node = $("#item-template").content.firstElementChild.cloneNode(true);
  node.dataset.id = item.id;
  node.dataset.topic = currentTopic(item);
  const topic = currentTopic(item);
  $(".chip", node).replaceWith(chip(topic));
  node.dataset.county = countyKey(item);
  $(".places", node).append(...(item.places || []).map((place, i) => placeChip(place, i > 0)));
  $(".score", node).textContent = `置信度 ${percent(item.score)}`;
  $(".review", node).hidden = !item.needs_review;
  const others = $(".others", node);
  for (const label of item.labels.filter((t) => t !== item.topic)) others.append(chip(label, true));
  $(".headline", node).textContent = item.headline || "（无标题）";
  $(".section", node).textContent = item.section || "";
  $(".byline", node).textContent = item.byline || "无署名";
  const terms = $(".terms", node);
  if (item.explanation && item.explanation.length) {
    terms.append("判定依据：");
    for (const term of item.explanation.slice(0, 6)) terms.append(el("span", "term", term.term));
  }
  const select = $(".correct-topic", node);
  for (const t of state.topics) {
    const option = el("option", "", `${t.name}（${t.id}）`);
    option.value = t.id;
    option.selected = t.id === topic;
    select.append(option);
  }
  const none = el("option", "", NONE_NAME);
  none.value = NONE;
  none.selected = topic === NONE;
  select.append(none);
  if (state.corrections[item.id]) node.classList.add("corrected");
  $(".save-correction", node).addEventListener("click", () => saveCorrection(item, node));
  const toggle = $(".toggle", node);
  const paragraphs = $(".paragraphs", node);
  toggle.addEventListener("click", () => {
    const open = paragraphs.hidden;
    if (open) renderParagraphs(paragraphs, item);
    paragraphs.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "收起段落" : `展开段落（${item.paragraphs.length}）`;
  });
  toggle.textContent = `展开段落（${item.paragraphs.length}）`;
  node.hidden = !shown(topic, node.dataset.county);
  return node;
}

function renderFilters() {
  const counts = {};
  for (const item of state.items) counts[currentTopic(item)] = (counts[currentTopic(item)] || 0) + 1;
  const box = $("#filters");
  box.replaceChildren();
  const all = el("button", "", `全部（${state.items.length}）`);
  all.type = "button";
  all.dataset.topic = "";
  all.setAttribute("aria-pressed", String(state.filter === null));
  all.addEventListener("click", () => setFilter(null));
  box.append(all);
  for (const t of [...state.topics, { id: NONE, name: NONE_NAME }]) {
    if (!counts[t.id]) continue;
    const button = el("button", "", `${t.name}（${counts[t.id]}）`);
    button.type = "button";
    button.dataset.topic = t.id;
    button.setAttribute("aria-pressed", String(state.filter === t.id));
    button.addEventListener("click", () => setFilter(t.id));
    box.append(button);
  }
}

function renderPlaceFilters() {
  const counts = new Map();
  for (const item of state.items) {
    const county = countyOf(item);
    const key = county ? county.adcode : NO_COUNTY;
    const entry = counts.get(key) || { key, name: county ? county.name : NO_COUNTY_NAME, place: county, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  const box = $("#place-filters");
  box.replaceChildren();
  const all = el("button", "", `全部地区（${state.items.length}）`);
  all.type = "button";
  all.dataset.county = "";
  all.setAttribute("aria-pressed", String(state.placeFilter === null));
  all.addEventListener("click", () => setPlaceFilter(null));
  box.append(all);
  // Counties by how many items they have, then in page order; items without one last.
  const last = (entry) => Number(entry.key === NO_COUNTY);
  const entries = [...counts.values()].sort((a, b) => last(a) - last(b) || b.count - a.count);
  for (const entry of entries) {
    const button = el("button", "", `${entry.name}（${entry.count}）`);
    button.type = "button";
    button.dataset.county = entry.key;
    if (entry.place) button.title = entry.place.path.join(" / ");
    button.setAttribute("aria-pressed", String(state.placeFilter === entry.key));
    button.addEventListener("click", () => setPlaceFilter(entry.key));
    box.append(button);
  }
}

function applyFilters() {
  for (const node of document.querySelectorAll("#items > .item")) {
    node.hidden = !shown(node.dataset.topic, node.dataset.county);
  }
}

function setFilter(topic) {
  state.filter = topic;
  renderFilters();
  applyFilters();
}

function setPlaceFilter(county) {
  state.placeFilter = county;
  renderPlaceFilters();
  applyFilters();
}

function render() {
  const list = $("#items");
  list.replaceChildren(...state.items.map(renderItem));
  const review = state.items.filter((i) => i.needs_review).length;
  $("#summary-text").textContent =
    `共 ${state.items.length} 条稿件，${review} 条需复核 · 模型 ${state.modelVersion}`;
  renderFilters();
  renderPlaceFilters();
  $("#result").hidden = false;
}

async function tagPage() {
  const text = $("#page-text").value;
  if (!text.trim()) { showMessage(MESSAGES.empty); return; }
  const button = $("#tag-button");
  button.disabled = true;
  showMessage("正在拆分并标注……", "info");
  const response = await call("/v1/tag-page", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }),
  });
  button.disabled = false;
  if (!response) { showMessage(MESSAGES.network); return; }
  if (!response.ok) { showMessage(await errorText(response)); return; }
  const body = await response.json();
  state.items = body.items;
  state.modelVersion = body.model_version;
  state.filter = null;
  state.placeFilter = null;
  state.corrections = {};
  clearMessage();
  if (!state.items.length) { showMessage("没有找到稿件：请检查粘贴的内容。", "info"); }
  render();
}

async function uploadFile(file) {
  const form = new FormData();
  form.append("file", file);
  showMessage(`正在读取 ${file.name}……`, "info");
  const response = await call("/v1/extract", { method: "POST", body: form });
  $("#page-file").value = "";
  if (!response) { showMessage(MESSAGES.network); return; }
  if (!response.ok) { showMessage(await errorText(response)); return; }
  const body = await response.json();
  $("#page-text").value = body.text;
  await tagPage();
}

async function saveCorrection(item, node) {
  const status = $(".saved", node);
  const token = $("#editor-token").value.trim();
  status.className = "saved";
  if (!token) { status.classList.add("error"); status.textContent = MESSAGES.token; return; }
  const topic = $(".correct-topic", node).value;
  const response = await call("/v1/feedback", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({
      text: item.text, topic: topic === NONE ? null : topic, kind: "item", predicted: item.topic,
      model_version: state.modelVersion, item_id: item.id,
    }),
  });
  if (!response) { status.classList.add("error"); status.textContent = MESSAGES.network; return; }
  if (!response.ok) { status.classList.add("error"); status.textContent = await errorText(response); return; }
  const body = await response.json();
  state.corrections[item.id] = topic;
  const fresh = renderItem(item);
  $(".saved", fresh).className = "saved ok";
  $(".saved", fresh).textContent = `已保存更正（编号 ${body.id}）`;
  node.replaceWith(fresh);
  renderFilters();
}

function download(name, type, content) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = el("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@]/.test(text)) text = `'${text}`; // keep spreadsheets from running it as a formula
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function exportCsv() {
  // place and adcode: the most likely place; iptc: the codes of the item's topic (its correction, if any).
  const header = ["id", "section", "headline", "byline", "topic", "name", "score", "labels", "needs_review",
    "corrected_topic", "place", "adcode", "iptc", "text"];
  const rows = state.items.map((i) => {
    const place = (i.places || [])[0] || {};
    return [i.id, i.section, i.headline, i.byline, i.topic, i.name, i.score.toFixed(4), i.labels.join("|"),
      i.needs_review, correctionOf(i), place.name, place.adcode, iptcCodes(currentTopic(i)).join("|"), i.text];
  });
  const csv = [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n");
  download("newstag-page.csv", "text/csv;charset=utf-8", "\ufeff" + csv);
}

function exportJson() {
  const items = state.items.map((i) => ({
    ...i, corrected_topic: correctionOf(i) || null, iptc: state.iptc[currentTopic(i)] || [],
  }));
  download("newstag-page.json", "application/json",
    JSON.stringify({ model_version: state.modelVersion, items }, null, 2));
}

async function loadTopics() {
  const response = await call("/v1/topics");
  if (!response || !response.ok) { showMessage(MESSAGES[503]); return; }
  state.topics = (await response.json()).topics;
  for (const t of state.topics) {
    state.names[t.id] = t.name;
    state.iptc[t.id] = t.iptc || [];
  }
}

document.addEventListener("DOMContentLoaded", () => {
  loadTopics();
  $("#tag-button").addEventListener("click", tagPage);
  $("#clear-button").addEventListener("click", () => {
    $("#page-text").value = "";
    $("#result").hidden = true;
    state.items = [];
    clearMessage();
  });
  $("#page-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) uploadFile(file);
  });
  $("#export-csv").addEventListener("click", exportCsv);
  $("#export-json").addEventListener("click", exportJson);
  const token = $("#editor-token");
  token.value = sessionStorage.getItem("newstag-editor-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("newstag-editor-token", token.value));
});
