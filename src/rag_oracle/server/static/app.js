// rag-oracle web page: plain ES module, no build step, nothing loaded from outside this server.
// Every piece of text from the server goes into the page through textContent, never innerHTML.

const state = {
  sessionId: null,
  audience: "clinician",
  apiKey: sessionStorage.getItem("rag-oracle-key") || "",
  busy: false,
  keyAsked: false,
};

const REVIEWER_KEY = "rag-oracle-reviewer";

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === "") continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// --- words for what the server sends ------------------------------------------------------

const STUDY_TYPES = {
  guideline: "Guideline",
  systematic_review: "Systematic review",
  meta_analysis: "Meta-analysis",
  rct: "Randomised trial",
  cohort: "Cohort study",
  case_control: "Case-control study",
  case_report: "Case report",
  drug_label: "Drug label or monograph",
  review: "Review",
};
const REVIEW_LABELS = { submitted: "Submitted", under_review: "Under review", approved: "Approved", flagged: "Flagged" };
const STAGE_LABELS = {
  rewriting: "Rewriting the follow-up…",
  retrieving: "Searching the literature…",
  composing: "Composing the answer…",
  verifying: "Checking every citation…",
};
const STAGE_VERBS = {
  rewriting: "rewriting the follow-up",
  retrieving: "searching the literature",
  composing: "composing the answer",
  verifying: "checking the citations",
};
const AGE_LABELS = { child: "Child (under 18)", adult: "Adult", older_adult: "Older adult (65+)" };
const PREGNANCY_LABELS = { pregnant: "Pregnant", breastfeeding: "Breastfeeding" };
const RENAL_LABELS = {
  normal: "Normal renal function",
  mild: "Mild renal impairment (CrCl 60–89 mL/min)",
  moderate: "Moderate renal impairment (CrCl 30–59 mL/min)",
  severe: "Severe renal impairment (CrCl 15–29 mL/min)",
  dialysis: "On dialysis",
};
const LINK_LABELS = [["pmid", "PMID"], ["pmcid", "PMCID"], ["doi", "DOI"]];

const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });
const DAY_TIME = new Intl.DateTimeFormat("en-GB", {
  day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
});

function formatDate(iso, withTime = false) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return (withTime ? DAY_TIME : DAY).format(date);
}

function seconds(ms) {
  if (!(ms > 0)) return "";
  return ms < 100 ? "under 0.1 s" : `${(ms / 1000).toFixed(1)} s`;
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

// "Older adult (65+) · Moderate renal impairment (CrCl 30–59 mL/min)"; [] for no context.
function contextLabels(context) {
  if (!context) return [];
  const out = [];
  if (context.age_group) out.push(AGE_LABELS[context.age_group] || context.age_group);
  if (context.pregnancy) out.push(PREGNANCY_LABELS[context.pregnancy] || context.pregnancy);
  if (context.creatinine_clearance !== null && context.creatinine_clearance !== undefined) {
    out.push(`CrCl ${context.creatinine_clearance} mL/min`);
  } else if (context.renal_function) {
    out.push(RENAL_LABELS[context.renal_function] || context.renal_function);
  }
  return out;
}

// Only links the server built (PubMed, PMC, doi.org), and only web addresses.
function safeHref(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (_) {
    return null;
  }
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

function sendJSON(method, path, body, extraHeaders = {}) {
  return request(path, {
    method,
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

// The sentence's last word and its markers never break apart: a marker alone on a line reads
// as if it cited the next sentence.
function sentenceNodes(sentence, answer) {
  const text = sentence.text;
  const cut = text.trimEnd().lastIndexOf(" ") + 1;
  const tail = [el("span", { class: sentence.supported ? "" : "flagged" }, text.slice(cut))];
  if (!sentence.supported) tail.push(el("span", { class: "flag-label" }, "(not supported by its citations)"));
  tail.push(...citeButtons(sentence.citations, answer));
  return [
    cut ? el("span", { class: sentence.supported ? "" : "flagged" }, text.slice(0, cut)) : null,
    el("span", { class: "sentence-end" }, tail),
  ];
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

function verdictBadge(answer) {
  return answer.verdict ? el("div", { class: "verdict", dataset: { verdict: answer.verdict } }, answer.verdict) : null;
}

function sectionNode(section, answer) {
  if (section.kind === "direct") {
    const parts = [];
    section.sentences.forEach((s, i) => {
      if (i) parts.push(" ");
      parts.push(...sentenceNodes(s, answer));
    });
    return el("div", { class: "section direct-section" },
      el("h3", {}, section.title || "Answer"), verdictBadge(answer), el("p", { class: "direct" }, parts));
  }
  return el("div", { class: `section ${section.kind}` },
    el("h3", {}, section.title),
    el("ul", {}, section.sentences.map((s) => el("li", {}, sentenceNodes(s, answer)))));
}

function authorLine(authors) {
  if (!authors || !authors.length) return "";
  const first = authors.slice(0, 3).join(", ");
  return authors.length > 3 ? `${first}, et al.` : first;
}

function referenceLinks(ref) {
  const links = ref.links || {};
  const ids = ref.identifiers || {};
  const out = [];
  for (const [key, label] of LINK_LABELS) {
    const href = links[key] && safeHref(links[key]);
    if (!href) continue;
    out.push(el("a", {
      class: "ref-link", href, target: "_blank", rel: "noopener noreferrer", dataset: { id: key },
    }, ids[key] ? `${label} ${ids[key]}` : label));
  }
  return out;
}

function referenceNode(ref, answer) {
  // Vancouver-like: "Okafor A, Lindqvist M, Haddad R, et al. J Affect Disord. 2020."
  const source = [authorLine(ref.authors), ref.journal, ref.year].filter(Boolean)
    .map((part) => String(part).replace(/\.$/, "")).join(". ");
  const spans = ref.cited_spans || [];
  const shown = spans.slice(0, 3);
  const ids = ref.identifiers || {};
  const file = ids.file ? `${ids.file}${ids.page ? `, p. ${ids.page}` : ""}` : "";
  const detailRows = [
    ["Document id", ref.doc_id],
    ["Passages", (ref.chunk_ids && ref.chunk_ids.length ? ref.chunk_ids : [ref.chunk_id]).join(", ")],
    ["File", file],
  ].filter(([, value]) => value);
  const links = referenceLinks(ref);
  return el("li", { class: "ref", id: `ref-${ref.number}` },
    el("span", { class: "ref-num" }, `[${ref.number}]`),
    el("div", { class: "ref-main" },
      el("button", {
        type: "button", class: "ref-open", title: "Show the cited passage",
        onclick: (event) => showSource(answer, ref.number, event.currentTarget),
      }, ref.title || ref.doc_id),
      el("div", { class: "ref-source" },
        ref.study_type ? el("span", { class: `study-type ${ref.study_type}` }, STUDY_TYPES[ref.study_type] || ref.study_type) : null,
        source ? el("span", { class: "ref-cite" }, `${source}.`) : null),
      links.length ? el("div", { class: "ref-links" }, links) : null,
      shown.length ? el("ul", { class: "cited", "aria-label": "Sentences cited from this source" },
        shown.map((s) => el("li", {}, el("q", {}, s.text)))) : null,
      spans.length > shown.length
        ? el("div", { class: "cited-more" }, `and ${plural(spans.length - shown.length, "more sentence")} in the passage`)
        : null,
      el("details", { class: "ref-details" },
        el("summary", {}, "Details"),
        el("dl", {}, detailRows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])))));
}

function referencesSection(answer) {
  return el("div", { class: "section references" },
    el("h3", {}, "References"),
    el("ol", {}, answer.references.map((ref) => referenceNode(ref, answer))));
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

// Who the answer is for: the patient context and the audience.
function answerTags(answer) {
  const tags = [];
  const labels = contextLabels(answer.patient_context);
  if (labels.length) tags.push(el("span", { class: "tag for" }, el("strong", {}, "For: "), labels.join(" · ")));
  if (answer.audience === "patient") tags.push(el("span", { class: "tag audience" }, "Written for patients"));
  if (answer.audience === "researcher") tags.push(el("span", { class: "tag audience" }, "Written for researchers"));
  return el("div", { class: "answer-tags" }, tags);
}

function datesLine(answer) {
  const d = answer.dates;
  if (!d) return null;
  const parts = [];
  if (d.index_updated && formatDate(d.index_updated)) parts.push(`Index updated ${formatDate(d.index_updated)}`);
  const undated = d.undated_sources || 0;
  const some = `${undated} cited source${undated === 1 ? "" : "s"} undated`;
  if (d.newest_evidence_year) {
    const range = d.oldest_evidence_year && d.oldest_evidence_year !== d.newest_evidence_year
      ? ` (oldest ${d.oldest_evidence_year})` : "";
    // a year is not "newest" over sources whose year is unknown
    parts.push(undated ? `newest dated source ${d.newest_evidence_year}${range}, ${some}`
      : `newest cited source ${d.newest_evidence_year}${range}`);
  } else if (undated) {
    parts.push(some);
  }
  return parts.length ? el("div", { class: "dates" }, parts.join(" · ")) : null;
}

function generatorPhrase(answer) {
  const generator = answer.generator || "";
  if (generator.startsWith("extractive")) return "quotes its sources verbatim";
  const model = answer.provenance && answer.provenance.model;
  if (generator.startsWith("llm")) return `written by ${model || "a language model"}, every sentence checked against its source`;
  return generator ? `written by ${generator}` : "";
}

function technicalDetails(answer) {
  const rows = [];
  const p = answer.provenance || {};
  if (answer.generator) rows.push(["Generator", answer.generator]);
  if (p.model) rows.push(["Model", p.model]);
  if (p.prompt_id) rows.push(["Prompt", `${p.prompt_id} v${p.prompt_version}`]);
  const timings = Object.entries(answer.timings_ms || {}).map(([k, v]) => `${k} ${Math.round(v)} ms`);
  if (timings.length) rows.push(["Timings", timings.join(" · ")]);
  if (p.embedder) rows.push(["Embedder", p.embedder]);
  if (p.package_version) rows.push(["rag-oracle", p.package_version]);
  if (p.settings_hash) rows.push(["Settings hash", p.settings_hash]);
  if (p.index_checksum) rows.push(["Index checksum", p.index_checksum]);
  if (answer.dates && answer.dates.answered_at) rows.push(["Answered at", formatDate(answer.dates.answered_at, true)]);
  if (!rows.length) return null;
  return el("details", { class: "tech" },
    el("summary", {}, "Technical details"),
    el("dl", {}, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
}

function answerFooter(answer) {
  const total = answer.timings_ms && answer.timings_ms.total;
  const parts = [];
  const time = seconds(total);
  const n = answer.references.length;
  if (answer.abstained) parts.push(time ? `Checked in ${time}` : "Checked", "no indexed source answers it");
  else parts.push(`Answered${time ? ` in ${time}` : ""} from ${plural(n, "source")}`);
  const phrase = answer.abstained ? "" : generatorPhrase(answer);
  if (phrase) parts.push(phrase);
  return el("div", { class: "answer-meta" },
    datesLine(answer),
    el("div", { class: "footnote" }, parts.join(" · ")),
    technicalDetails(answer));
}

function answerContent(answer) {
  const nodes = [];
  if (answer.abstained) {
    nodes.push(abstentionNode(answer));
  } else {
    if (answer.coverage) nodes.push(el("div", { class: "note coverage" }, answer.coverage));
    const hasDirect = answer.sections.some((s) => s.kind === "direct");
    if (!hasDirect) nodes.push(verdictBadge(answer));
    for (const section of answer.sections) {  // in the server's order
      nodes.push(sectionNode(section, answer));
      if (section.kind === "direct" && answer.conflicts.length) nodes.push(conflictsSection(answer));
    }
    if (!hasDirect && answer.conflicts.length) nodes.push(conflictsSection(answer));
    for (const note of answer.notes) nodes.push(el("div", { class: "note" }, note));
    if (answer.references.length) nodes.push(referencesSection(answer));
  }
  if (answer.related_questions.length) nodes.push(relatedSection(answer));
  if (answer.disclaimer) nodes.push(el("p", { class: "disclaimer" }, answer.disclaimer));
  nodes.push(answerFooter(answer));
  return nodes.filter(Boolean);
}

// --- review status ------------------------------------------------------------------------

function reviewSummary(review) {
  const status = review.status || "submitted";
  const who = review.reviewer ? `by ${review.reviewer}` : "";
  const when = formatDate(review.reviewed_at);
  if (status === "submitted" && !review.reviewer) return "not yet reviewed";
  return [who, when].filter(Boolean).join(" · ");
}

function reviewArea(node) {
  const turn = node.turn;
  const review = turn.review || { status: "submitted", reviewer: "", note: "", reviewed_at: null, history: [] };
  const status = review.status || "submitted";
  const form = reviewForm(node, review);
  const open = el("button", {
    type: "button", class: "link-btn review-open", "aria-expanded": "false",
    onclick: (event) => {
      form.hidden = !form.hidden;
      event.currentTarget.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) {
        const name = $(".review-reviewer", form);
        (name.value ? $(".review-note-input", form) : name).focus();
      }
    },
  }, "Review");
  const showNote = review.note && (status === "approved" || status === "flagged");
  return el("div", { class: `review-area status-${status}`, dataset: { status } },
    el("div", { class: "review" },
      el("span", { class: `review-pill status-${status}` }, REVIEW_LABELS[status] || status),
      el("span", { class: "review-meta" }, reviewSummary(review)),
      open),
    showNote ? el("p", { class: "review-note" }, el("strong", {}, "Reviewer note: "), `\u201c${review.note}\u201d`) : null,
    form);
}

function reviewForm(node, review) {
  const error = el("p", { class: "error-text review-error", role: "alert" });
  error.hidden = true;
  const name = el("input", {
    class: "review-reviewer", type: "text", maxlength: "120", required: true, autocomplete: "name",
    placeholder: "e.g. Dr A. Rao",
  });
  name.value = localStorage.getItem(REVIEWER_KEY) || "";
  const note = el("textarea", {
    class: "review-note-input", rows: "2", maxlength: "2000",
    placeholder: "What a reader should know (shown with the status)",
  });
  const history = (review.history || []).slice().reverse().map((h) =>
    el("li", {}, el("strong", {}, REVIEW_LABELS[h.status] || h.status),
      h.reviewer ? ` by ${h.reviewer}` : "", ` · ${formatDate(h.at, true)}`, h.note ? ` \u2014 \u201c${h.note}\u201d` : ""));
  const buttons = [
    ["approved", "Approve", "approve"], ["flagged", "Flag", "flag"], ["under_review", "Under review", ""],
  ].map(([status, label, cls]) => el("button", {
    type: "button", class: `btn small ${cls}`, dataset: { status },
    onclick: () => submitReview(node, status, { form, name, note, error }),
  }, label));
  const form = el("form", {
    class: "review-form",
    onsubmit: (event) => event.preventDefault(),
    onkeydown: (event) => {
      if (event.key !== "Escape") return;
      event.stopPropagation();
      form.hidden = true;
    },
  },
    el("label", { class: "field" }, el("span", {}, "Reviewer"), name),
    el("label", { class: "field" }, el("span", {}, "Note"), note),
    el("div", { class: "review-actions" }, buttons,
      el("button", { type: "button", class: "btn small ghost", onclick: () => { form.hidden = true; } }, "Cancel")),
    error,
    history.length ? el("details", { class: "review-history" },
      el("summary", {}, `History (${history.length})`), el("ul", {}, history)) : null);
  form.hidden = true;
  return form;
}

async function submitReview(node, status, { form, name, note, error }) {
  const reviewer = name.value.trim();
  if (!reviewer) {
    name.reportValidity();
    return;
  }
  localStorage.setItem(REVIEWER_KEY, reviewer);
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  error.hidden = true;
  const turn = node.turn;
  try {
    const path = `/v1/sessions/${encodeURIComponent(turn.session_id)}/messages/${turn.seq}/review`;
    const review = await (await sendJSON("PUT", path, { status, reviewer, note: note.value.trim() })).json();
    node.turn = { ...turn, review };
    $(".review-area", node).replaceWith(reviewArea(node));
  } catch (err) {
    error.textContent = err.status === 403
      ? `The review was not saved: ${err.message} (reviews are recorded only from this machine, or with the server's API key).`
      : `The review was not saved: ${err.message}`;
    error.hidden = false;
    buttons.forEach((b) => { b.disabled = false; });
  }
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
  const ids = ref.identifiers || {};
  const rows = [
    ["Authors", (ref.authors || []).join(", ")],
    ["Journal", ref.journal],
    ["Year", ref.year],
    ["Study type", ref.study_type ? STUDY_TYPES[ref.study_type] || ref.study_type : ""],
  ];
  for (const [label, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    meta.append(el("dt", {}, label), el("dd", {}, String(value)));
  }
  const links = ref.links || {};
  for (const [key, label] of LINK_LABELS) {
    if (!ids[key]) continue;
    const href = links[key] && safeHref(links[key]);
    const value = href
      ? el("a", { class: "ref-link", href, target: "_blank", rel: "noopener noreferrer" }, ids[key])
      : ids[key];
    meta.append(el("dt", {}, label), el("dd", {}, value));
  }
  if (ids.page) meta.append(el("dt", {}, "Page"), el("dd", {}, String(ids.page)));
  // developer ids (document, passage, file) only behind "Details", as in the reference list
  const dev = $("#source-dev");
  const devList = $("dl", dev);
  devList.replaceChildren();
  for (const [label, value] of [["Document", ref.doc_id], ["Passage", (ref.chunk_ids || [ref.chunk_id]).join(", ")], ["File", ids.file]]) {
    if (value) devList.append(el("dt", { class: "dev" }, label), el("dd", { class: "dev" }, String(value)));
  }
  dev.open = false;
  dev.hidden = devList.children.length === 0;
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

// --- the patient context and the audience -------------------------------------------------

function currentContext() {
  const context = {};
  const age = $("#ctx-age").value;
  const pregnancy = $("#ctx-pregnancy").value;
  const renal = $("#ctx-renal").value;
  const crcl = $("#ctx-crcl");
  if (age) context.age_group = age;
  if (pregnancy) context.pregnancy = pregnancy;
  if (renal) context.renal_function = renal;
  if (crcl.value !== "" && crcl.checkValidity()) context.creatinine_clearance = Number(crcl.value);
  return Object.keys(context).length ? context : null;
}

// The context as the API takes it: the set fields only, null for none.
function compactContext(context) {
  if (!context) return null;
  const out = Object.fromEntries(Object.entries(context).filter(([, v]) => v !== null && v !== undefined && v !== ""));
  return Object.keys(out).length ? out : null;
}

// The folded fields' summary on a phone: short words, "Older adult · Renal: moderate".
function contextShort(context) {
  if (!context) return [];
  const out = [];
  if (context.age_group) out.push({ child: "Child", adult: "Adult", older_adult: "Older adult" }[context.age_group]);
  if (context.pregnancy) out.push(PREGNANCY_LABELS[context.pregnancy]);
  if (context.creatinine_clearance !== undefined) out.push(`CrCl ${context.creatinine_clearance}`);
  else if (context.renal_function) out.push(context.renal_function === "dialysis" ? "Dialysis" : `Renal: ${context.renal_function}`);
  return out;
}

function updateContextSummary() {
  const context = currentContext();
  const labels = contextLabels(context);
  const short = contextShort(context);
  $("#context-summary").textContent = short.length ? short.join(" · ") : "Patient: any";
  $("#context-toggle").title = labels.length ? `Patient: ${labels.join(" · ")}` : "Patient context: none";
  $("#context-toggle").classList.toggle("set", labels.length > 0);
  $("#ctx-clear").hidden = labels.length === 0;
}

// --- conversation -------------------------------------------------------------------------

function newTurn(question) {
  $("#welcome").hidden = true;
  const node = $("#tpl-turn").content.firstElementChild.cloneNode(true);
  $(".question-text", node).textContent = question;
  $(".edit-search", node).addEventListener("click", () => openSearchEdit(node));
  $(".cancel-edit", node).addEventListener("click", () => closeSearchEdit(node));
  $(".search-input", node).addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeSearchEdit(node);
    }
  });
  $(".search-edit", node).addEventListener("submit", (event) => {
    event.preventDefault();
    rerunSearch(node);
  });
  $("#thread").append(node);
  return node;
}

function searchedFor(turn) {
  return (turn.answer && turn.answer.question) || turn.standalone_question || turn.question;
}

function same(a, b) {
  return (a || "").trim().replace(/\s+/g, " ") === (b || "").trim().replace(/\s+/g, " ");
}

function showTurn(node, turn) {
  node.turn = { ...turn, session_id: turn.session_id || state.sessionId };
  if (node.errorBox) node.errorBox.remove();
  node.errorBox = null;
  $(".status", node).hidden = true;
  $(".draft", node).hidden = true;
  const searched = searchedFor(turn);
  const box = $(".searched-as", node);
  $(".searched-text", box).textContent = searched;
  box.hidden = !(node.edited || !same(searched, turn.question));
  $(".edit-search", box).hidden = turn.seq === null || turn.seq === undefined;
  $(".search-edit", node).hidden = true;
  const card = $(".answer-card", node);
  card.classList.remove("stale");
  const body = $(".answer-body", node);
  const head = [];
  const tags = answerTags(turn.answer);
  const stored = turn.seq !== null && turn.seq !== undefined;
  if (tags.childElementCount || stored) {
    head.push(el("div", { class: "answer-head" }, tags, stored ? reviewArea(node) : null));
  }
  body.replaceChildren(...head, ...answerContent(turn.answer));
}

function openSearchEdit(node) {
  if (!node.turn) return;
  const form = $(".search-edit", node);
  const input = $(".search-input", form);
  input.value = searchedFor(node.turn);
  $(".searched-as", node).hidden = true;
  form.hidden = false;
  input.focus();
  input.select();
}

function closeSearchEdit(node) {
  $(".search-edit", node).hidden = true;
  if (node.turn) $(".searched-as", node).hidden = false;
}

function rerunSearch(node) {
  const text = $(".search-input", node).value.trim();
  if (!text || state.busy || !node.turn) return;
  const turn = node.turn;
  node.edited = true;
  $(".search-edit", node).hidden = true;
  $(".searched-text", node).textContent = text;
  $(".searched-as", node).hidden = false;
  node.request = {
    kind: "regenerate",
    sessionId: turn.session_id,
    seq: turn.seq,
    question: turn.question,
    standalone: text,
    context: compactContext(turn.answer.patient_context),
    audience: turn.answer.audience || state.audience,
  };
  run(node);
}

function setBusy(busy) {
  state.busy = busy;
  $("#ask").disabled = busy;
  $("#ask").textContent = busy ? "Answering…" : "Ask";
  document.querySelectorAll(".search-edit button[type=submit], .retry").forEach((b) => { b.disabled = busy; });
}

function updateComposer() {
  const follow = Boolean(state.sessionId);
  $("#composer-label").textContent = follow ? "Follow-up" : "Question";
  $("#question").placeholder = follow
    ? "Ask a follow-up (e.g. “and in the elderly?”)…"
    : "Ask a clinical question…";
}

function startStatus(node, followUp) {
  const status = $(".status", node);
  status.hidden = false;
  $(".status-detail", status).textContent = "";
  const draft = $(".draft", node);
  draft.hidden = true;
  draft.textContent = "";
  setStage(node, followUp ? "rewriting" : "retrieving", followUp);
  const started = performance.now();
  const tick = () => { $(".elapsed", status).textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`; };
  tick();
  clearInterval(node.timer);
  node.timer = setInterval(tick, 100);
}

function setStage(node, stage, followUp = true) {
  node.stage = stage;
  let label = STAGE_LABELS[stage] || `${stage}…`;
  if (stage === "rewriting" && !followUp) label = "Reading the question…";
  $(".status-text", node).textContent = label;
}

function stopStatus(node) {
  clearInterval(node.timer);
  node.timer = null;
  $(".status", node).hidden = true;
}

function showError(node, error, fromStream) {
  const req = node.request;
  let lead;
  if (fromStream && node.stage) lead = `The answer failed while ${STAGE_VERBS[node.stage] || node.stage}`;
  else if (error.status) lead = `The server did not answer the question (HTTP ${error.status})`;
  else if (error instanceof TypeError) lead = "The server could not be reached";
  else lead = "The answer did not arrive";
  const detail = error.message || String(error);
  const retry = el("button", { type: "button", class: "btn small retry", onclick: () => run(node) }, "Retry");
  const box = el("div", { class: "error-box", role: "alert" },
    el("div", {}, el("strong", {}, `${lead}:`), " ", detail,
      error.code && error.code !== "http_error" ? el("span", { class: "error-code" }, ` (${error.code})`) : null),
    el("div", { class: "error-actions" }, retry,
      el("span", { class: "muted" }, req.kind === "regenerate" ? "Re-runs the edited search." : "Your question is kept in the box below.")));
  if (node.errorBox) node.errorBox.remove();
  node.errorBox = box;
  $(".answer-card", node).insertBefore(box, $(".answer-body", node));
  box.scrollIntoView({ block: "nearest" });
  if (req.kind === "send") {
    const composer = $("#question");
    if (!composer.value.trim()) composer.value = req.question;
  }
}

async function ask(question) {
  question = question.trim();
  if (!question || state.busy) return;
  const crcl = $("#ctx-crcl");
  if (!crcl.checkValidity()) {
    crcl.reportValidity();
    return;
  }
  const node = newTurn(question);
  node.scrollIntoView({ block: "start" });
  node.request = { kind: "send", question, context: currentContext(), audience: state.audience };
  await run(node);
}

// Sends (or re-sends, for Retry) the node's request and shows its answer in the node.
async function run(node) {
  if (state.busy) return;
  const req = node.request;
  setBusy(true);
  if (node.errorBox) node.errorBox.remove();
  node.errorBox = null;
  const followUp = req.kind === "send" && document.querySelectorAll("#thread .turn").length > 1;
  if (node.turn) $(".answer-card", node).classList.add("stale");
  startStatus(node, followUp);
  let streamed = false;
  try {
    let path;
    let body;
    const settings = { answer: { audience: req.audience } };
    if (req.kind === "regenerate") {
      path = `/v1/sessions/${encodeURIComponent(req.sessionId)}/messages/${req.seq}/regenerate`;
      body = { standalone_question: req.standalone, context: req.context, settings, stream: true };
    } else {
      if (!state.sessionId) {
        const session = await (await sendJSON("POST", "/v1/sessions", {})).json();
        state.sessionId = session.id;
        updateComposer();
      }
      path = `/v1/sessions/${encodeURIComponent(state.sessionId)}/messages`;
      body = { content: req.question, stream: true, settings, context: req.context };
    }
    const response = await sendJSON("POST", path, body, { Accept: "text/event-stream" });
    streamed = true;
    let finished = false;
    if ((response.headers.get("content-type") || "").includes("application/json")) {
      finished = true;
      showTurn(node, await response.json());
    } else {
      await readEvents(response, (name, data) => {
        if (name === "stage") {
          setStage(node, data.stage, followUp);
        } else if (name === "retrieval") {
          const docs = new Set(data.hits.map((h) => h.doc_id)).size;
          $(".status-detail", node).textContent = `${plural(data.hits.length, "passage")} from ${plural(docs, "document")}`;
        } else if (name === "token") {
          const draft = $(".draft", node);
          draft.hidden = false;
          draft.textContent += data.text;
        } else if (name === "answer") {
          finished = true;
          showTurn(node, data);
        } else if (name === "error") {
          finished = true;
          showError(node, new ApiError(0, data.error.code, data.error.message), true);
        }
      });
    }
    if (!finished) showError(node, new Error("the connection closed before the answer arrived"), true);
    else if (node.turn && req.kind === "send" && same($("#question").value, req.question)) $("#question").value = "";
    refreshSessions();
  } catch (error) {
    if (error.code === "session_not_found") {
      state.sessionId = null;
      updateComposer();
    }
    showError(node, error, streamed);
  } finally {
    stopStatus(node);
    setBusy(false);
    if (!node.errorBox) $(".answer-card", node).classList.remove("stale");
    if (req.kind === "send") $("#question").focus({ preventScroll: true });
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
  const when = formatDate(s.updated_at, true);
  return el("li", { class: `session-item${s.id === state.sessionId ? " current" : ""}` },
    el("button", { type: "button", class: "session-open", onclick: () => openSession(s.id) },
      el("span", { class: "session-title" }, s.title || "(untitled)"),
      el("span", { class: "session-meta" }, `${when} · ${plural(Math.floor(s.message_count / 2), "question")}`)),
    el("div", { class: "session-actions" },
      el("button", { type: "button", class: "link-btn", onclick: () => download(s.id, "markdown") }, "Markdown"),
      el("button", { type: "button", class: "link-btn", onclick: () => download(s.id, "json") }, "JSON"),
      el("button", { type: "button", class: "link-btn danger", onclick: () => removeSession(s.id) }, "Delete")));
}

const narrow = window.matchMedia("(max-width: 760px)");

async function openSession(id) {
  const session = await getJSON(`/v1/sessions/${encodeURIComponent(id)}`);
  state.sessionId = session.id;
  closeSource();
  $("#thread").replaceChildren();
  $("#welcome").hidden = session.messages.length > 0;
  let pending = null;
  for (const message of session.messages) {
    if (message.role === "user") pending = message;
    else if (pending && message.answer) {
      const node = newTurn(pending.content);
      showTurn(node, {
        session_id: session.id,
        seq: message.seq,
        question: pending.content,
        standalone_question: pending.standalone_question,
        answer: message.answer,
        review: message.review,
      });
      pending = null;
    }
  }
  updateComposer();
  if (narrow.matches) toggleSessions(false);
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

function toggleSessions(show) {
  const panel = $("#sessions");
  panel.hidden = !show;
  $("#toggle-sessions").setAttribute("aria-expanded", String(show));
  if (show) refreshSessions();
}

// --- server status ------------------------------------------------------------------------

function showBanner(text, kind) {
  const banner = $("#banner");
  $("#banner-text").textContent = text;
  banner.className = `banner ${kind}`;
  banner.hidden = false;
}

// Polls /healthz while the model loads ("starting"), says which index answers, and asks for
// the key up front when the server wants one.
async function checkServer() {
  let health = null;
  try {
    health = await (await fetch("/healthz", { cache: "no-store" })).json();
  } catch (_) { /* unreachable or not JSON */ }
  if (!health) {
    showBanner("The server cannot be reached; trying again…", "warn");
    setTimeout(checkServer, 2000);
    return;
  }
  if (health.status === "starting" || health.ready === false) {
    showBanner("Loading the model… questions are answered as soon as it is ready.", "loading");
    setTimeout(checkServer, 1000);
    return;
  }
  if (health.status === "unhealthy") {
    const failed = Object.entries(health.checks || {}).filter(([, v]) => v !== "ok").map(([k]) => k);
    showBanner(`The server reports a problem${failed.length ? ` (${failed.join(", ")})` : ""}; answers may fail.`, "warn");
    setTimeout(checkServer, 5000);
  } else {
    $("#banner").hidden = true;
  }
  if (typeof health.documents === "number") $("#index-info").textContent = `${health.documents} documents indexed`;
  if (health.auth && !state.apiKey && !state.keyAsked) {
    state.keyAsked = true;
    await askForKey(false);
  }
}

// --- wiring -------------------------------------------------------------------------------

function init() {
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    if (state.busy) return;
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
      updateContextSummary();
    }));
  for (const id of ["#ctx-age", "#ctx-pregnancy", "#ctx-renal", "#ctx-crcl"]) {
    $(id).addEventListener("input", updateContextSummary);
  }
  $("#ctx-clear").addEventListener("click", () => {
    for (const id of ["#ctx-age", "#ctx-pregnancy", "#ctx-renal", "#ctx-crcl"]) $(id).value = "";
    updateContextSummary();
  });
  $("#context-toggle").addEventListener("click", () => {
    const open = !$("#composer").classList.contains("context-open");
    $("#composer").classList.toggle("context-open", open);
    $("#context-toggle").setAttribute("aria-expanded", String(open));
  });
  $("#new-session").addEventListener("click", startNew);
  $("#toggle-sessions").addEventListener("click", () => toggleSessions($("#sessions").hidden));
  $("#close-sessions").addEventListener("click", () => toggleSessions(false));
  $("#close-source").addEventListener("click", closeSource);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSource();
  });
  updateComposer();
  updateContextSummary();
  $("#question").focus();
  checkServer();
}

init();
