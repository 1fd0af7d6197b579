"""One self-contained HTML report for one or more runs: metric plots with intervals, latency
distributions, and a per-question table a person can browse. No external assets: plots are
inline SVG (matplotlib), styles and the filter script are inline.
"""

from __future__ import annotations

import html
import io
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


def _question_rows(preds: list[dict]) -> str:
    rows = []
    for p in preds:
        e = html.escape
        if "error" in p:
            rows.append(
                f"<tr><td>{e(p['id'])}</td><td>{e(p['question'])}</td><td class=err colspan=4>{e(p['error'])}</td></tr>"
            )
            continue
        cited = "".join(
            f"<details><summary>[{c['number']}] {e(c['chunk_id'])}</summary><blockquote>{e(c['passage'])}</blockquote></details>"
            for c in p.get("citations", [])
        )
        scores = p.get("scores", {})
        score_text = " ".join(f"{k} {scores[k]:.2f}" for k in ("ndcg@10", "rougeL") if scores.get(k) is not None)
        decision = ""
        if p.get("gold_decision"):
            ok = "ok" if p.get("decision") == p["gold_decision"] else "bad"
            decision = (
                f"<br><span class={ok}>decision {e(str(p.get('decision')))} / gold {e(p['gold_decision'])}</span>"
            )
        answer = "<i>abstained</i> " + e(p.get("answer", "")) if p.get("abstained") else e(p.get("answer", ""))
        rows.append(
            f"<tr><td>{e(p['id'])}</td><td>{e(p['question'])}</td><td class=ans>{answer}{decision}</td>"
            f"<td>{e(p.get('reference_answer') or '')}</td><td>{cited}</td><td>{score_text}</td></tr>"
        )
    return "\n".join(rows)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1400px;color:#222}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #ddd;padding:.4rem;vertical-align:top}
th{background:#f4f4f4;text-align:left}small{color:#666}.ans{white-space:pre-wrap}.err{color:#b00}
.ci.few{color:#bbb}.n{color:#888;margin-left:.3rem}
.ok{color:#070}.bad{color:#b00}blockquote{margin:.3rem 0;padding:.3rem;background:#fafafa;border-left:3px solid #ccc}
input{padding:.4rem;width:24rem;margin:.5rem 0}details summary{cursor:pointer;color:#036}
"""
_SCRIPT = """
function filterRows(box, id){const q=box.value.toLowerCase();
for(const tr of document.querySelectorAll('#'+id+' tbody tr')){tr.style.display=tr.textContent.toLowerCase().includes(q)?'':'none';}}
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
            f"<tr><td>latency: {stage} p50 / p95 (ms)</td>"
            + "".join(
                f"<td>{m['latency'][stage]['p50'] or 0:.0f} / {m['latency'][stage]['p95'] or 0:.0f}</td>"
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
    for i, (name, preds) in enumerate(zip(names, predictions, strict=True)):
        sections.append(
            f"<h2>Questions: {e(name)}</h2><input placeholder='filter questions…' oninput=\"filterRows(this,'q{i}')\">"
            f"<table id=q{i}><thead><tr><th>id</th><th>question</th><th>answer</th><th>reference</th>"
            f"<th>cited passages</th><th>scores</th></tr></thead><tbody>{_question_rows(preds)}</tbody></table>"
        )

    page = f"""<!doctype html><html><head><meta charset=utf-8><title>rag-oracle evaluation: {e(", ".join(names))}</title>
<style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>
<h1>rag-oracle evaluation</h1><ul>{"".join(info)}</ul>
<h2>Metrics</h2>{"".join(table)}
<h2>Metrics with 95% intervals</h2>{_metrics_plot(names, metrics)}
<h2>Latency per stage</h2>{_latency_plot(names, predictions)}
{"".join(sections)}
</body></html>"""
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
