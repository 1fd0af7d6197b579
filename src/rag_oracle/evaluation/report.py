"""One self-contained HTML report for one or more runs: metric plots with intervals, latency
distributions, and a per-question table a person can browse. No external assets: plots are
inline SVG (matplotlib), styles and the filter script are inline.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

from rag_oracle.evaluation.metrics import STAGES
from rag_oracle.evaluation.runner import load_run
from rag_oracle.optional import require

GROUPS = ("retrieval", "answer", "decision", "citations", "attribution", "nuggets", "abstention")


def _plt():
    matplotlib = require("matplotlib", extra="eval", purpose="The evaluation report")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _metrics_plot(names: list[str], metrics: list[dict]) -> str:
    plt = _plt()
    # rates only: counts (repeated references per answer) do not share the 0-1 axis
    rows = [
        (g, m)
        for g in GROUPS
        for m in metrics[0].get(g, {})
        if isinstance(metrics[0][g][m], dict) and not m.startswith("repeated_")
    ]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) * max(1, len(names)) + 1))
    height = 0.8 / len(names)
    for i, (name, met) in enumerate(zip(names, metrics, strict=True)):
        ys, means, lows, highs = [], [], [], []
        for j, (g, m) in enumerate(rows):
            entry = met.get(g, {}).get(m)
            if not entry or entry.get("mean") is None:
                continue
            ci = entry.get("ci95") or [entry["mean"], entry["mean"]]
            ys.append(j + i * height)
            means.append(entry["mean"])
            lows.append(entry["mean"] - ci[0])
            highs.append(ci[1] - entry["mean"])
        ax.barh(ys, means, height=height, xerr=[lows, highs], capsize=2, label=name)
    ax.set_yticks([j + 0.4 - height / 2 for j in range(len(rows))], [f"{g}: {m}" for g, m in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean with 95% bootstrap interval")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def _latency_plot(names: list[str], predictions: list[list[dict]]) -> str:
    plt = _plt()
    fig, axes = plt.subplots(1, len(STAGES), figsize=(10, 3))
    for ax, stage in zip(axes, STAGES, strict=True):
        data = [[p["latency_ms"][stage] for p in preds if "latency_ms" in p] or [0.0] for preds in predictions]
        ax.boxplot(data, tick_labels=names, showfliers=True)
        ax.set_title(f"{stage} (ms)")
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _svg(fig)


SMALL_N = 10  # an interval over fewer questions than this is shown greyed: too few to lean on


def _fmt(entry: dict | None) -> str:
    """Mean, 95% interval (greyed when n < 10), and n / n_undefined, for one metric of one run."""
    if not entry or entry.get("mean") is None:
        undefined = (entry or {}).get("n_undefined")
        return "–" + (f" <small class=n>n=0, undefined {undefined}</small>" if undefined else "")
    ci = entry.get("ci95")
    n, undefined = entry.get("n"), entry.get("n_undefined")
    few = n is not None and n < SMALL_N
    interval = f" <small class='{'ci few' if few else 'ci'}'>[{ci[0]:.3f}, {ci[1]:.3f}]</small>" if ci else ""
    counts = (
        f" <small class=n>n={n}" + (f", undefined {undefined}" if undefined else "") + "</small>"
        if n is not None
        else ""
    )
    return f"{entry['mean']:.3f}{interval}{counts}"


# Per-question columns of the report (higher is better for every one: rates that count failures
# are shown as 1 - rate), and the "worst" column the table is first sorted by: their minimum.
QUESTION_COLUMNS = [
    ("fully_right", lambda p: p.get("scores", {}).get("fully_right")),
    ("nuggets", lambda p: p.get("scores", {}).get("nugget_recall")),
    ("no forbidden", lambda p: _flip(p.get("scores", {}).get("forbidden"))),
    ("subject", lambda p: p.get("attribution", {}).get("subject_agreement")),
    ("population", lambda p: p.get("attribution", {}).get("population_agreement")),
    ("verdict ok", lambda p: _flip(p.get("attribution", {}).get("verdict_error"))),
    ("ndcg@10", lambda p: p.get("scores", {}).get("ndcg@10")),
    ("rougeL direct", lambda p: p.get("scores", {}).get("rougeL_direct")),
    ("draft support", lambda p: p.get("citation_metrics", {}).get("draft_support")),
]


def _flip(value: float | None) -> float | None:
    return None if value is None else 1.0 - value


def question_values(p: dict) -> dict[str, float | None]:
    """The per-question columns of one prediction, and `worst`: the lowest defined one."""
    values = {name: get(p) for name, get in QUESTION_COLUMNS}
    defined = [v for v in values.values() if v is not None]
    values["worst"] = min(defined) if defined else None
    return values


def _linked_answer(text: str, anchor: str) -> str:
    """The answer text, escaped, with every [n] marker linked to citation n of the same question."""

    def link(match: re.Match) -> str:
        numbers = [n.strip() for n in match.group(1).split(",")]
        return "".join(f"<a href='#{anchor}-c{n}'>[{n}]</a>" if n.isdigit() else f"[{n}]" for n in numbers)

    return re.sub(r"\[(\d+(?:\s*,\s*\d+)*)\]", link, html.escape(text))


def _highlighted(passage: str, spans: list[str]) -> str:
    """The passage, escaped, with the sentences the answer cited marked."""
    out = html.escape(passage)
    for span in sorted(set(spans), key=len, reverse=True):
        escaped = html.escape(span)
        if escaped and escaped in out:
            out = out.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return out


def _cell(value: float | None) -> str:
    if value is None:
        return "<td data-v='' class=undef>–</td>"
    return f"<td data-v='{value:.6f}'>{value:.2f}</td>"


def _question_rows(preds: list[dict], table_id: str) -> str:
    e = html.escape
    rows = []
    scored = [(p, question_values(p)) for p in preds]
    scored.sort(key=lambda pv: (pv[1]["worst"] is None, pv[1]["worst"] or 0.0, str(pv[0]["id"])))
    for p, values in scored:
        anchor = f"{table_id}-{re.sub(r'[^A-Za-z0-9_-]', '_', str(p['id']))}"
        if "error" in p:
            rows.append(
                f"<tr id={anchor}><td>{e(p['id'])}</td><td>{e(p['question'])}</td><td class=err colspan=3>"
                f"{e(p['error'])}</td>" + "".join(_cell(None) for _ in range(len(QUESTION_COLUMNS) + 1)) + "</tr>"
            )
            continue
        cited = "".join(
            f"<details id={anchor}-c{c['number']}><summary>[{c['number']}] {e(c['chunk_id'])}</summary>"
            f"<blockquote>{_highlighted(c['passage'], c.get('cited_spans', []))}</blockquote></details>"
            for c in p.get("citations", [])
        )
        decision = ""
        if p.get("gold_decision"):
            ok = "ok" if p.get("decision") == p["gold_decision"] else "bad"
            decision = (
                f"<br><span class={ok}>decision {e(str(p.get('decision')))} / gold {e(p['gold_decision'])}</span>"
            )
        body = _linked_answer(p.get("answer", ""), anchor)
        answer = "<i>abstained</i> " + body if p.get("abstained") else body
        rows.append(
            f"<tr id={anchor}><td>{e(p['id'])}</td><td>{e(p['question'])}</td><td class=ans>{answer}{decision}</td>"
            f"<td>{e(p.get('reference_answer') or '')}</td><td>{cited}</td>"
            + _cell(values["worst"])
            + "".join(_cell(values[name]) for name, _ in QUESTION_COLUMNS)
            + "</tr>"
        )
    return "\n".join(rows)


def _comparison(run_dirs: list[str], names: list[str]) -> str:
    """Paired comparison of every run with the first: deltas with intervals, and the questions that changed most."""
    from rag_oracle.evaluation.compare import compare_runs

    e = html.escape
    blocks = []
    for other, name in zip(run_dirs[1:], names[1:], strict=True):
        result = compare_runs(run_dirs[0], other, top=15)
        rows = "".join(
            f"<tr><td>{e(d.group)}: {e(d.metric)}</td><td>{d.a:.3f}</td><td>{d.b:.3f}</td>"
            f"<td class={'sig' if d.significant else ''}>{d.delta:+.3f}{' *' if d.significant else ''}</td>"
            f"<td>[{d.ci95[0]:+.3f}, {d.ci95[1]:+.3f}]</td><td>{d.p_value:.3f}</td><td>{d.n}</td></tr>"
            for d in result.deltas
        )
        changed = "".join(
            f"<tr><td>{e(str(c['id']))}</td><td>{e(c['question'])}</td><td>"
            + ", ".join(f"{e(k)} {v:+.3f}" for k, v in c["change"].items())
            + "</td></tr>"
            for c in result.changed
        )
        warnings = "".join(f"<p class=err>{e(w)}</p>" for w in result.warnings)
        blocks.append(
            f"<h2>{e(names[0])} vs {e(name)} ({result.paired_questions} paired questions)</h2>{warnings}"
            "<p>Paired bootstrap over questions; * the 95% interval of the difference excludes zero.</p>"
            "<table><tr><th>metric</th><th>A</th><th>B</th><th>B-A</th><th>95% CI</th><th>p</th><th>n</th></tr>"
            f"{rows}</table><h3>Questions that changed most</h3>"
            f"<table><tr><th>id</th><th>question</th><th>change</th></tr>{changed}</table>"
        )
    return "".join(blocks)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1400px;color:#222}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #ddd;padding:.4rem;vertical-align:top}
th{background:#f4f4f4;text-align:left}small{color:#666}.ans{white-space:pre-wrap}.err{color:#b00}
.ci.few{color:#bbb}.n{color:#888;margin-left:.3rem}
.ok{color:#070}.bad{color:#b00}blockquote{margin:.3rem 0;padding:.3rem;background:#fafafa;border-left:3px solid #ccc}
input{padding:.4rem;width:24rem;margin:.5rem 0}details summary{cursor:pointer;color:#036}
mark{background:#fff3a3}.undef{color:#bbb}th.sortable{cursor:pointer}th.sortable:after{content:" \\2195";color:#aaa}
.sig{font-weight:bold}
"""
_SCRIPT = """
function filterRows(box, id){const q=box.value.toLowerCase();
for(const tr of document.querySelectorAll('#'+id+' tbody tr')){tr.style.display=tr.textContent.toLowerCase().includes(q)?'':'none';}}
function sortRows(th, id, col){const body=document.querySelector('#'+id+' tbody');
const up=th.dataset.dir!=='asc';th.dataset.dir=up?'asc':'desc';
const rows=[...body.rows];rows.sort((a,b)=>{const x=a.cells[col].dataset.v,y=b.cells[col].dataset.v;
if(x===''&&y==='')return 0;if(x==='')return 1;if(y==='')return -1;return up?x-y:y-x;});
for(const r of rows)body.appendChild(r);}
"""


def write_report(run_dirs: list[str], out_file: str | Path) -> Path:
    """Write the HTML report for `run_dirs` to `out_file` and return its path."""
    runs = [load_run(r) for r in run_dirs]
    names = [Path(r).name for r in run_dirs]
    metrics = [m for _, m, _ in runs]
    predictions = [p for _, _, p in runs]
    e = html.escape

    table = ["<table><tr><th>metric</th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"]
    for group in GROUPS:
        keys = list(dict.fromkeys(k for m in metrics for k in m.get(group, {})))
        for key in keys:
            table.append(
                f"<tr><td>{group}: {e(key)}</td>"
                + "".join(f"<td>{_fmt(m.get(group, {}).get(key))}</td>" for m in metrics)
                + "</tr>"
            )
    for stage in STAGES:
        table.append(
            f"<tr><td>latency: {stage} p50 / p95 (ms), warm-up apart</td>"
            + "".join(
                f"<td>{m['latency'][stage]['p50'] or 0:.0f} / {m['latency'][stage]['p95'] or 0:.0f}"
                + (
                    f" <small class=n>warm-up {', '.join(f'{v:.0f}' for v in m['latency'][stage]['warm_up'])}</small>"
                    if m["latency"][stage].get("warm_up")
                    else ""
                )
                + "</td>"
                for m in metrics
            )
            + "</tr>"
        )
    table.append("</table>")

    info = []
    for name, (manifest, met, _) in zip(names, runs, strict=True):
        ident = manifest["identity"]
        s = ident["settings"]
        info.append(
            f"<li><b>{e(name)}</b>: {met['counts']['questions']} questions ({met['counts']['errors']} errors, "
            f"{met['counts']['abstained']} abstained); generator {e(ident['generator']['name'])}@{e(str(ident['generator']['version']))}; "
            f"retrieval {e(s['retrieve']['mode'])}; index {e(ident['index']['path'])} ({e(ident['index']['fingerprint'])}); "
            f"questions {e(ident['dataset']['path'])}; commit {e(str(manifest['git'].get('commit'))[:10])}; "
            f"{e(manifest.get('started_at') or '')}</li>"
        )

    sections = []
    columns = ["worst", *(name for name, _ in QUESTION_COLUMNS)]
    for i, (name, preds) in enumerate(zip(names, predictions, strict=True)):
        heads = "".join(
            f"<th class=sortable onclick=\"sortRows(this,'q{i}',{5 + j})\">{e(c)}</th>" for j, c in enumerate(columns)
        )
        sections.append(
            f"<h2>Questions: {e(name)}</h2><p>Worst first: <i>worst</i> is the lowest of the question's scores "
            "(failure rates shown as 1 - rate); click a column to sort by it.</p>"
            f"<input placeholder='filter questions…' oninput=\"filterRows(this,'q{i}')\">"
            f"<table id=q{i}><thead><tr><th>id</th><th>question</th><th>answer</th><th>reference</th>"
            f"<th>cited passages</th>{heads}</tr></thead><tbody>{_question_rows(preds, f'q{i}')}</tbody></table>"
        )

    page = f"""<!doctype html><html><head><meta charset=utf-8><title>rag-oracle evaluation: {e(", ".join(names))}</title>
<style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>
<h1>rag-oracle evaluation</h1><ul>{"".join(info)}</ul>
<h2>Metrics</h2>{"".join(table)}
<h2>Metrics with 95% intervals</h2>{_metrics_plot(names, metrics)}
<h2>Latency per stage</h2>{_latency_plot(names, predictions)}
{_comparison(run_dirs, names) if len(run_dirs) > 1 else ""}
{"".join(sections)}
</body></html>"""
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
