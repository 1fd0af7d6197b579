// rag-oracle web page: plain ES module, no build step, nothing loaded from outside this server.
// Every piece of text from the server goes into the page through textContent, never innerHTML.

const state = {
  sessionId: null,
  audience: "clinician",
  apiKey: sessionStorage.getItem("rag-oracle-key") || "",
  busy: false,
};

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// --- HTTP ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra = {}) {
  const h = { ...extra };
  if (state.apiKey) h.Authorization = `Bearer ${state.apiKey}`;
  return h;
}

async function errorFrom(response) {
  let code = "http_error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch (_) { /* not JSON */ }
  return new ApiError(response.status, code, message);
}

// fetch with the API key; on 401 ask for a key once and retry.
async function request(path, options = {}, retried = false) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  if (response.status === 401 && !retried) {
    await askForKey(Boolean(state.apiKey));
    return request(path, options, true);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

async function getJSON(path) {
  return (await request(path)).json();
}

async function postJSON(path, body, extraHeaders = {}) {
  return request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...extraHeaders },
    body: JSON.stringify(body),
  });
}

// Server-sent events over a POST response body (EventSource can only GET).
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

function askForKey(wasWrong) {
  const dialog = $("#key-dialog");
  $("#key-error").hidden = !wasWrong;
  $("#api-key").value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      state.apiKey = $("#api-key").value.trim();
      sessionStorage.setItem("rag-oracle-key", state.apiKey);
      resolve();
    }, { once: true });
    dialog.showModal();
  });
}

// --- rendering an answer ------------------------------------------------------------------

const SECTION_ORDER = ["direct", "conflicts", "dosing", "safety", "key_points", "evidence_note"];

function citeButtons(numbers, answer) {
  return numbers.map((n) =>
    el("button", {
      type: "button",
      class: "cite",
      title: `Show source ${n}`,
      "aria-label": `Show source ${n}`,
      dataset: { ref: String(n) },
      onclick: (event) => showSource(answer, n, event.currentTarget),
    }, String(n)));
}

function sentenceNodes(sentence, answer) {
  const nodes = [el("span", { class: sentence.supported ? "" : "flagged" }, sentence.text)];
  if (!sentence.supported) nodes.push(el("span", { class: "flag-label" }, "(not supported by its citations)"));
  nodes.push(...citeButtons(sentence.citations, answer));
  return nodes;
}

function conflictsSection(answer) {
  const items = answer.conflicts.map((c) => {
    const sides = [];
    c.values.forEach((value, i) => {
      if (i) sides.push("; ");
      sides.push(value, ...citeButtons([c.references[i]], answer));
    });
    const lead = c.outlier ? `${c.quantity}: ` : `The sources give different values for ${c.quantity}: `;
    const contexts = (c.contexts || []).map((ctx, i) =>
      el("div", { class: "conflict-context" }, ...citeButtons([c.references[i]], answer), ` \u201c${ctx}\u201d`));
    return el("li", {}, lead, ...sides, c.outlier ? ". The far-out value is not stated in this answer." : "", ...contexts);
  });
  return el("div", { class: "callout conflict section" },
    el("h3", {}, "Conflicting evidence"), el("ul", {}, items));
}

function sectionNode(section, answer) {
  if (section.kind === "direct") {
    const parts = [];
    section.sentences.forEach((s, i) => {
      if (i) parts.push(" ");
      parts.push(...sentenceNodes(s, answer));
    });
    return el("div", { class: "section direct-section" },
      el("h3", {}, "Answer"), el("p", { class: "direct" }, parts));
  }
  return el("div", { class: `section ${section.kind}` },
    el("h3", {}, section.title),
    el("ul", {}, section.sentences.map((s) => el("li", {}, sentenceNodes(s, answer)))));
}

function identifiers(ref) {
  const ids = ref.identifiers || {};
  const parts = [];
  if (ids.pmid) parts.push(`PMID ${ids.pmid}`);
  if (ids.pmcid) parts.push(`PMCID ${ids.pmcid}`);
  if (ids.doi) parts.push(`DOI ${ids.doi}`);
  if (!ids.pmid && !ids.doi && ids.file) parts.push(ids.file + (ids.page ? `, p. ${ids.page}` : ""));
  else if (ids.page) parts.push(`p. ${ids.page}`);
  return parts;
}

function referencesSection(answer) {
  const items = answer.references.map((ref) =>
    el("li", { class: "ref", id: `ref-${ref.number}` },
      el("span", { class: "ref-num" }, `[${ref.number}]`),
      el("div", {},
        el("button", {
          type: "button", class: "ref-open",
          onclick: (event) => showSource(answer, ref.number, event.currentTarget),
        }, ref.title || ref.doc_id, ref.year ? ` (${ref.year})` : ""),
        el("div", { class: "ref-ids" }, [...identifiers(ref), `passage ${ref.chunk_id}`].join(" · ")))));
  return el("div", { class: "section references" }, el("h3", {}, "References"), el("ol", {}, items));
}

function relatedSection(answer) {
  return el("div", { class: "section related" },
    el("h3", {}, "Related questions"),
    el("div", { class: "related-list" }, answer.related_questions.map((q) =>
      el("button", { type: "button", class: "chip related-q", onclick: () => ask(q) }, q))));
}

function abstentionNode(answer) {
  const seen = new Set();
  const closest = (answer.hits || []).filter((h) => !seen.has(h.document.id) && seen.add(h.document.id))
    .slice(0, 3).map((h) =>
      el("li", {}, `${h.document.title || h.document.id}${h.document.year ? ` (${h.document.year})` : ""}`));
  return el("div", { class: "abstain" },
    el("div", { class: "abstain-icon", "aria-hidden": "true" }, "?"),
    el("div", {},
      el("h3", {}, "The indexed literature does not answer this question"),
      el("p", {}, answer.abstention_reason),
      closest.length ? el("div", { class: "closest" }, "Closest documents found (they do not answer it):",
        el("ul", {}, closest)) : null));
}

function renderAnswer(container, answer) {
  container.replaceChildren();
  if (answer.abstained) {
    container.append(abstentionNode(answer));
  } else {
    if (answer.coverage) container.append(el("div", { class: "note coverage" }, answer.coverage));
    if (answer.decision) container.append(el("span", { class: "decision" }, `Verdict: ${answer.decision}`));
    const sections = [...answer.sections].sort(
      (a, b) => SECTION_ORDER.indexOf(a.kind) - SECTION_ORDER.indexOf(b.kind));
    for (const section of sections) {
      container.append(sectionNode(section, answer));
      if (section.kind === "direct" && answer.conflicts.length) container.append(conflictsSection(answer));
    }
    if (!sections.some((s) => s.kind === "direct") && answer.conflicts.length) {
      container.append(conflictsSection(answer));
    }
    for (const note of answer.notes) container.append(el("div", { class: "note" }, note));
    if (answer.references.length) container.append(referencesSection(answer));
  }
  if (answer.related_questions.length) container.append(relatedSection(answer));
  if (answer.disclaimer) container.append(el("p", { class: "disclaimer" }, answer.disclaimer));
  const total = answer.timings_ms && answer.timings_ms.total;
  container.append(el("div", { class: "footnote" },
    `${answer.generator || "generator"}${total ? ` · ${Math.round(total)} ms` : ""}`));
}

// --- the source panel ---------------------------------------------------------------------

function highlighted(passage, spans) {
  const ranges = [];
  for (const span of spans) {
    const at = passage.indexOf(span.text);
    if (at >= 0) ranges.push([at, at + span.text.length]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const nodes = [];
  let pos = 0;
  for (const [start, end] of ranges) {
    if (end <= pos) continue;
    const from = Math.max(start, pos);
    if (from > pos) nodes.push(passage.slice(pos, from));
    nodes.push(el("mark", {}, passage.slice(from, end)));
    pos = end;
  }
  nodes.push(passage.slice(pos));
  return nodes;
}

function showSource(answer, number, trigger) {
  const ref = answer.references.find((r) => r.number === number);
  if (!ref) return;
  document.querySelectorAll(".cite.active").forEach((b) => b.classList.remove("active"));
  if (trigger && trigger.classList.contains("cite")) trigger.classList.add("active");
  $("#source-kicker").textContent = `Source [${ref.number}]`;
  $("#source-title").textContent = ref.title || ref.doc_id;
  const meta = $("#source-meta");
  meta.replaceChildren();
  const rows = [["Year", ref.year], ["Document", ref.doc_id], ["Passage", ref.chunk_id]];
  const ids = ref.identifiers || {};
  for (const [key, label] of [["pmid", "PMID"], ["pmcid", "PMCID"], ["doi", "DOI"], ["file", "File"], ["page", "Page"]]) {
    if (ids[key]) rows.push([label, ids[key]]);
  }
  for (const [label, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    meta.append(el("dt", {}, label), el("dd", {}, String(value)));
  }
  $("#source-passage").replaceChildren(...highlighted(ref.passage, ref.cited_spans || []));
  $("#source-panel").hidden = false;
  document.body.classList.add("panel-open");
  $("#close-source").focus({ preventScroll: true });
}

function closeSource() {
  $("#source-panel").hidden = true;
  document.body.classList.remove("panel-open");
  document.querySelectorAll(".cite.active").forEach((b) => b.classList.remove("active"));
}

// --- conversation -------------------------------------------------------------------------

function newTurn(question) {
  $("#welcome").hidden = true;
  const node = $("#tpl-turn").content.firstElementChild.cloneNode(true);
  $(".question-text", node).textContent = question;
  $("#thread").append(node);
  node.scrollIntoView({ behavior: "smooth", block: "start" });
  return node;
}

function showTurn(node, turn) {
  $(".status", node).hidden = true;
  $(".draft", node).hidden = true;
  if (turn.standalone_question && turn.standalone_question !== turn.question) {
    const searched = $(".searched-as", node);
    $("span", searched).textContent = turn.standalone_question;
    searched.hidden = false;
  }
  renderAnswer($(".answer-body", node), turn.answer);
}

function showError(node, error) {
  $(".status", node).hidden = true;
  $(".answer-body", node).replaceChildren(el("div", { class: "error-box" }, error.message || String(error)));
}

function setBusy(busy) {
  state.busy = busy;
  $("#ask").disabled = busy;
  $("#ask").textContent = busy ? "Answering…" : "Ask";
}

function updateComposer() {
  const follow = Boolean(state.sessionId);
  $("#composer-label").textContent = follow ? "Follow-up" : "Question";
  $("#question").placeholder = follow
    ? "Ask a follow-up (e.g. “and in the elderly?”)…"
    : "Ask a clinical question…";
  $("#session-state").textContent = follow ? `Conversation ${state.sessionId.slice(0, 8)}` : "New conversation";
}

async function ask(question) {
  question = question.trim();
  if (!question || state.busy) return;
  setBusy(true);
  const node = newTurn(question);
  try {
    if (!state.sessionId) {
      const session = await (await postJSON("/v1/sessions", {})).json();
      state.sessionId = session.id;
      updateComposer();
    }
    const response = await postJSON(
      `/v1/sessions/${encodeURIComponent(state.sessionId)}/messages`,
      { content: question, stream: true, settings: { answer: { audience: state.audience } } },
      { Accept: "text/event-stream" },
    );
    let finished = false;
    await readEvents(response, (name, data) => {
      if (name === "retrieval") {
        const docs = new Set(data.hits.map((h) => h.doc_id)).size;
        $(".status-text", node).textContent =
          `Found ${data.hits.length} passages in ${docs} documents · composing and verifying the answer…`;
      } else if (name === "token") {
        const draft = $(".draft", node);
        draft.hidden = false;
        draft.textContent += data.text;
      } else if (name === "answer") {
        finished = true;
        showTurn(node, data);
      } else if (name === "error") {
        finished = true;
        showError(node, data.error);
      }
    });
    if (!finished) showError(node, new Error("the connection closed before the answer arrived"));
    refreshSessions();
  } catch (error) {
    if (error.code === "session_not_found") {
      state.sessionId = null;
      updateComposer();
    }
    showError(node, error);
  } finally {
    setBusy(false);
    $("#question").focus();
  }
}

// --- stored conversations -----------------------------------------------------------------

async function refreshSessions() {
  if ($("#sessions").hidden) return;
  const list = $("#session-list");
  try {
    const { sessions } = await getJSON("/v1/sessions");
    list.replaceChildren(...sessions.map(sessionItem));
    if (!sessions.length) list.append(el("li", { class: "session-meta" }, "No stored conversations yet."));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error-text" }, error.message));
  }
}

function sessionItem(s) {
  const when = new Date(s.updated_at).toLocaleString();
  return el("li", { class: `session-item${s.id === state.sessionId ? " current" : ""}` },
    el("button", { type: "button", class: "session-open", onclick: () => openSession(s.id) },
      el("span", { class: "session-title" }, s.title || "(untitled)"),
      el("span", { class: "session-meta" }, `${when} · ${Math.floor(s.message_count / 2)} questions`)),
    el("div", { class: "session-actions" },
      el("button", { type: "button", class: "link-btn", onclick: () => download(s.id, "markdown") }, "Markdown"),
      el("button", { type: "button", class: "link-btn", onclick: () => download(s.id, "json") }, "JSON"),
      el("button", { type: "button", class: "link-btn danger", onclick: () => removeSession(s.id) }, "Delete")));
}

async function openSession(id) {
  const session = await getJSON(`/v1/sessions/${encodeURIComponent(id)}`);
  state.sessionId = session.id;
  $("#thread").replaceChildren();
  $("#welcome").hidden = session.messages.length > 0;
  let pending = null;
  for (const message of session.messages) {
    if (message.role === "user") pending = message;
    else if (pending && message.answer) {
      const node = newTurn(pending.content);
      showTurn(node, { question: pending.content, standalone_question: pending.standalone_question, answer: message.answer });
      pending = null;
    }
  }
  updateComposer();
  refreshSessions();
}

async function download(id, format) {
  const response = await request(`/v1/sessions/${encodeURIComponent(id)}/export?format=${format}`);
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: `rag-oracle-${id.slice(0, 8)}.${format === "json" ? "json" : "md"}` });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

async function removeSession(id) {
  if (!window.confirm("Delete this conversation?")) return;
  await request(`/v1/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });
  if (id === state.sessionId) startNew();
  refreshSessions();
}

function startNew() {
  state.sessionId = null;
  $("#thread").replaceChildren();
  $("#welcome").hidden = false;
  closeSource();
  updateComposer();
  $("#question").focus();
}

// --- wiring -------------------------------------------------------------------------------

function init() {
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const box = $("#question");
    const text = box.value;
    box.value = "";
    ask(text);
  });
  $("#question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  document.querySelectorAll("#examples .chip").forEach((chip) =>
    chip.addEventListener("click", () => ask(chip.textContent)));
  document.querySelectorAll(".seg").forEach((button) =>
    button.addEventListener("click", () => {
      state.audience = button.dataset.audience;
      document.querySelectorAll(".seg").forEach((b) =>
        b.setAttribute("aria-checked", String(b === button)));
    }));
  $("#new-session").addEventListener("click", startNew);
  $("#toggle-sessions").addEventListener("click", () => {
    const panel = $("#sessions");
    panel.hidden = !panel.hidden;
    $("#toggle-sessions").setAttribute("aria-expanded", String(!panel.hidden));
    refreshSessions();
  });
  $("#close-sessions").addEventListener("click", () => { $("#sessions").hidden = true; });
  $("#close-source").addEventListener("click", closeSource);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSource();
  });
  updateComposer();
  $("#question").focus();
  checkServer();
}

// Ask for the key up front when the server wants one, and say which index answers.
async function checkServer() {
  try {
    const health = await (await fetch("/healthz")).json();
    $("#index-info").textContent = `${health.documents} documents indexed`;
    if (health.auth && !state.apiKey) await askForKey(false);
  } catch (_) { /* the first question will show the error */ }
}

init();
