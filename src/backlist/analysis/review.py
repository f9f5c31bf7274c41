"""A year-in-review draft in Markdown, with PNG charts (matplotlib), from the library's own
documents, topics, entities and metrics. Undated pieces are listed apart, never guessed."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from backlist.analysis.metrics import doc_format
from backlist.model import Document
from backlist.store.base import DocFilter

PREFERRED_METRICS = ("views", "page_views", "unique_opens", "open_rate", "opens", "likes")


def key_sentence(doc: Document) -> str:
    """The first sentence that says something: long enough, not a greeting or housekeeping."""
    for sent in re.split(r"(?<=[.!?])\s+", " ".join(doc.text.split())):
        words = sent.split()
        if 8 <= len(words) <= 60 and not re.match(r"(?i)(hi|hello|thanks|housekeeping|note:)", sent):
            return sent
    return (doc.subtitle or doc.title or "").strip()


def _cite(d: Document) -> str:
    title = f"[{d.title}]({d.url})" if d.url else f"{d.title or '(untitled)'}"
    return f"{d.date or 'undated'} · {title} ({d.kind}, id `{d.id}`)"


def pick_metric(docs: list[Document]) -> str | None:
    have = Counter(m for d in docs for m in d.metrics)
    for m in PREFERRED_METRICS:
        if have.get(m):
            return m
    return have.most_common(1)[0][0] if have else None


def draft_review(library, year: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    all_docs = library.list(DocFilter(include_duplicates=False))
    docs = [d for d in all_docs if d.date and d.date.startswith(year)]
    undated = [d for d in all_docs if not d.date]
    tags = library.store.doc_topics()
    formats = Counter(doc_format(d) for d in docs)
    kinds = Counter(d.kind for d in docs)
    lines = [f"# {year} in review (draft)", ""]
    lines.append(f"{len(docs)} dated pieces in {year}: {kinds.get('post', 0)} posts, "
                 f"{kinds.get('episode', 0)} episodes ({formats.get('interview', 0)} of all pieces "
                 f"are interviews), {kinds.get('article', 0)} saved readings. "
                 f"{sum(d.words for d in docs):,} words.")
    if undated:
        lines.append(f"{len(undated)} further pieces carry no date and are listed at the end, "
                     "not counted in the year.")
    lines.append("")

    by_topic: dict[str, list[Document]] = {}
    for d in docs:
        for t in [t for t, _, _ in tags.get(d.id, [])[:1]] or ["Untagged"]:
            by_topic.setdefault(t, []).append(d)
    if not tags:
        lines.append("_No topics yet: run `backlist topics suggest` and `backlist tag`._\n")
    lines.append("## Themes")
    for topic, items in sorted(by_topic.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"\n### {topic} ({len(items)})\n")
        for d in sorted(items, key=lambda d: d.date):
            lines.append(f"- {_cite(d)}: {key_sentence(d)}")

    metric = pick_metric(docs)
    charts = []
    if metric:
        ranked = sorted((d for d in docs if metric in d.metrics), key=lambda d: -d.metrics[metric])
        lines.append(f"\n## Top pieces by {metric}\n")
        for d in ranked[:10]:
            lines.append(f"1. {_cite(d)}: {metric} {d.metrics[metric]:g}")
        fig, ax = plt.subplots(figsize=(8, 3.5))
        pts = sorted((d.date, d.metrics[metric]) for d in ranked)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o")
        ax.set_title(f"{metric} per piece, {year}")
        ax.tick_params(axis="x", rotation=45, labelsize=7)
        fig.tight_layout()
        chart = out.parent / f"review-{year}-{metric}.png"
        fig.savefig(chart, dpi=110)
        plt.close(fig)
        charts.append((f"{metric} over the year", chart))

    interviews = [d for d in docs if doc_format(d) == "interview"]
    lines.append("\n## Interviews\n")
    for d in sorted(interviews, key=lambda d: d.date):
        guests = d.metadata.get("guests") or [s for s in d.speakers if s not in d.authors]
        lines.append(f"- {_cite(d)} with {', '.join(guests) or 'guests not named'}")
    if not interviews:
        lines.append("_No dated interviews this year._")

    ents = library.store.entity_rows()
    if ents:
        first_seen: dict[str, str] = {}
        counts: Counter[tuple[str, str]] = Counter()
        for r in ents:
            if r["role"] != "mention" or r["duplicate_of"] or not r["date"]:
                continue
            first_seen[r["entity"]] = min(first_seen.get(r["entity"], r["date"]), r["date"])
            if r["date"].startswith(year) and r["kind"] in ("model", "org") and not r["parent"]:
                counts[(r["entity"], r["kind"])] += r["mentions"]
        lines.append("\n## Most-mentioned models and labs\n")
        for (name, kind), n in counts.most_common(12):
            new = " (new this year)" if first_seen.get(name, "").startswith(year) else ""
            lines.append(f"- {name} ({kind}): {n} mentions{new}")

    months = sorted({d.date[:7] for d in docs})
    if months:
        topics = sorted(by_topic)
        fig, ax = plt.subplots(figsize=(8, 3.5))
        bottom = [0] * len(months)
        for t in topics:
            vals = [sum(1 for d in by_topic[t] if d.date.startswith(m)) for m in months]
            ax.bar(months, vals, bottom=bottom, label=t[:30])
            bottom = [a + b for a, b in zip(bottom, vals)]
        ax.set_title(f"Pieces per month by topic, {year}")
        ax.legend(fontsize=6, loc="upper left")
        ax.tick_params(axis="x", rotation=45, labelsize=7)
        fig.tight_layout()
        chart = out.parent / f"review-{year}-per-month.png"
        fig.savefig(chart, dpi=110)
        plt.close(fig)
        charts.insert(0, ("Pieces per month by topic", chart))
    if charts:
        lines.append("\n## Charts\n")
        for label, path in charts:
            lines.append(f"![{label}]({path.name})")
    if undated:
        lines.append("\n## Undated pieces (not counted in the year)\n")
        for d in undated[:200]:
            lines.append(f"- {d.title or '(untitled)'} ({d.kind}, id `{d.id}`)")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
