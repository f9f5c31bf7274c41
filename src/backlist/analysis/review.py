"""A review of any span (a year by default) shaped like the ones writers publish: the numbers
against the same span before, the pieces by theme with a line each, the top pieces, the
interviews, what was new, candidates for favourites, and charts.

Three steps, so the web app can reuse each: `collect_review` gathers a ReviewData from the
library, `render_review` writes Markdown from it, `draw_review_charts` draws the charts (SVG and
PNG); `write_review` does all three. Undated pieces are listed apart, never guessed into the span;
a piece whose date is known only as bounds counts when both bounds lie in the span, and is listed
apart ("may fall in the span") when they only overlap it (backlist.when words and places them).
Archive text is data: everything from the archive goes through backlist.safe before Markdown.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from backlist.analysis import charts as ch
from backlist.analysis.metrics import doc_format
from backlist.model import Document
from backlist.safe import md_link, md_text
from backlist.store.base import DocFilter
from backlist.when import sort_day, span_relation, when_text

PREFERRED_METRICS = ("views", "page_views", "unique_opens", "open_rate", "opens", "likes")
KIND_WORDS = {"post": "post", "episode": "episode", "transcript": "transcript"}
MAX_LISTED = 10
MAX_UNDATED = 100
MAX_NEW = 8


@dataclass
class Span:
    since: dt.date
    until: dt.date

    @property
    def is_year(self) -> bool:
        return (self.since.month, self.since.day, self.until.month, self.until.day) == (1, 1, 12, 31) \
            and self.since.year == self.until.year

    @property
    def label(self) -> str:
        """"2025", "March–June 2025", "November 2024–February 2025" or "2025-03-04 to 2025-06-10"."""
        s, u = self.since, self.until
        if self.is_year:
            return str(s.year)
        if s.day != 1 or u != _month_end(u):
            return f"{s.isoformat()} to {u.isoformat()}"
        first, last = calendar.month_name[s.month], calendar.month_name[u.month]
        if (s.year, s.month) == (u.year, u.month):
            return f"{first} {s.year}"
        if s.year == u.year:
            return f"{first}–{last} {s.year}"
        return f"{first} {s.year}–{last} {u.year}"

    def contains(self, date: str | None) -> bool:
        return bool(date) and self.since.isoformat() <= (date or "")[:10] <= self.until.isoformat()

    def previous(self) -> Span:
        """The same span just before: the year before, the same months before, or as many days."""
        s, u = self.since, self.until
        if s.day == 1 and u == _month_end(u):
            months = (u.year - s.year) * 12 + u.month - s.month + 1
            start = _add_months(s, -months)
            return Span(start, _month_end(_add_months(start, months - 1)))
        days = (u - s).days + 1
        return Span(s - dt.timedelta(days=days), s - dt.timedelta(days=1))


def _month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _add_months(d: dt.date, n: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + n
    return dt.date(m // 12, m % 12 + 1, 1)


def parse_day(value: str | dt.date, end: bool = False) -> dt.date:
    """"2025" / "2025-03" / "2025-03-04" (or a date) as a day; a year or month given as `until`
    means its last day."""
    if isinstance(value, dt.date):
        return value
    v = value.strip()
    if re.fullmatch(r"\d{4}", v):
        return dt.date(int(v), 12, 31) if end else dt.date(int(v), 1, 1)
    if re.fullmatch(r"\d{4}-\d{2}", v):
        first = dt.date(int(v[:4]), int(v[5:]), 1)
        return _month_end(first) if end else first
    return dt.date.fromisoformat(v[:10])


@dataclass
class Counts:
    pieces: int = 0
    interviews: int = 0
    words: int = 0
    readings: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


@dataclass
class NewEntity:
    name: str
    kind: str  # model, org or person
    first: Document  # the first piece in the span that mentions it
    pieces: int  # pieces in the span that mention it


@dataclass
class Favourite:
    doc: Document
    reasons: list[str]


@dataclass
class ReviewData:
    span: Span
    before: Span
    pieces: list[Document]  # the writer's own dated pieces in the span, oldest first
    readings: list[Document]
    undated: list[Document]
    counts: Counts
    counts_before: Counts
    earlier_exists: bool  # any dated piece before the span at all
    themes: list[tuple[str, list[Document]]]  # taxonomy topic -> pieces; ch.OTHER for untagged
    has_topics: bool
    topic_of: dict[str, str]  # doc id -> its first topic (ch.OTHER when none)
    topic_order: list[str]  # the taxonomy's order, which fixes each topic's colour
    summaries: dict[str, str]
    metric: str | None = None
    top: list[tuple[Document, float]] = field(default_factory=list)
    metric_coverage: int = 0  # pieces in the span with the metric
    interviews: list[tuple[Document, list[str]]] = field(default_factory=list)
    new_entities: list[NewEntity] = field(default_factory=list)
    favourites: list[Favourite] = field(default_factory=list)
    # pieces whose date bounds overlap the span without lying inside it: not counted, listed apart
    bounded: list[Document] = field(default_factory=list)


@dataclass
class ReviewResult:
    path: Path
    charts: list[ch.Chart]
    data: ReviewData


# --- collect --------------------------------------------------------------------------------

def _norm_words(text: str | None) -> set[str]:
    return {w for w in re.findall(r"\w+", (text or "").lower()) if len(w) > 2}


def _strip_heading(text: str, *heads: str | None) -> str:
    """The text without a leading copy of its title or subtitle (saved pages often start so)."""
    text = " ".join(text.split())
    for head in heads:
        h = " ".join((head or "").split())
        if h and text.lower().startswith(h.lower()):
            text = text[len(h):].lstrip(" .:-—")
    return text


def key_sentence(doc: Document) -> str:
    """One sentence that sums the piece up and is not its title: the first that says something
    (8-60 words, not a greeting, not mostly the title's words), else the subtitle if it differs
    from the title, else nothing."""
    title = _norm_words(doc.title)
    text = _strip_heading(doc.text, doc.title, doc.subtitle)
    for sent in re.split(r"(?<=[.!?])\s+", text):
        words = sent.split()
        if not 8 <= len(words) <= 60 or re.match(r"(?i)(hi|hello|thanks|welcome|housekeeping|note:)", sent):
            continue
        if re.match(r"^[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3}: ", sent):  # a speaker's turn
            continue
        mine = _norm_words(sent)
        stem = (doc.title or "").rstrip(" .…").lower()
        if stem and sent.lower().startswith(stem):  # titles cut from the first sentence
            continue
        if mine and len(mine & title) / len(mine) < 0.6:
            return sent if len(words) <= 40 else " ".join(words[:40]) + " …"
    sub = " ".join((doc.subtitle or "").split())
    if sub and _norm_words(sub) != title:
        return sub
    return ""


def _count(docs: list[Document]) -> Counts:
    pieces = [d for d in docs if not d.is_reading]
    return Counts(pieces=len(pieces),
                  interviews=sum(1 for d in pieces if doc_format(d) == "interview"),
                  words=sum(d.words for d in pieces),
                  readings=len(docs) - len(pieces),
                  kinds=Counter(d.kind for d in pieces))


def pick_metric(docs: list[Document]) -> str | None:
    have = Counter(m for d in docs for m in d.metrics)
    for m in PREFERRED_METRICS:
        if have.get(m):
            return m
    return have.most_common(1)[0][0] if have else None


def _themes(library, pieces: list[Document]) -> tuple[list[tuple[str, list[Document]]], dict[str, str],
                                                      list[str], bool]:
    """Pieces grouped by their first topic, biggest theme first (taxonomy order breaks ties),
    untagged pieces last under "Other"."""
    tags = library.store.doc_topics()
    order = _taxonomy_order(library, tags)
    topic_of = {d.id: (tags.get(d.id) or [(ch.OTHER, 0, False)])[0][0] for d in pieces}
    groups: dict[str, list[Document]] = {}
    for d in pieces:
        groups.setdefault(topic_of[d.id], []).append(d)
    rank = {t: i for i, t in enumerate(order)}
    themes = sorted(groups.items(), key=lambda kv: (kv[0] == ch.OTHER, -len(kv[1]),
                                                   rank.get(kv[0], len(rank)), kv[0]))
    return themes, topic_of, order, bool(tags)


def _taxonomy_order(library, tags: dict) -> list[str]:
    from backlist.analysis.topics import load_topics
    from backlist.errors import BacklistError

    try:
        names = [t.name for t in load_topics(library)]
    except BacklistError:
        names = []
    extra = sorted({t for rows in tags.values() for t, _, _ in rows} - set(names))
    return names + extra


def _top(pieces: list[Document], metric: str | None) -> tuple[list[tuple[Document, float]], int]:
    if not metric:
        return [], 0
    have = [d for d in pieces if metric in d.metrics]
    ranked = sorted(have, key=lambda d: (-d.metrics[metric], d.date or ""))
    return [(d, d.metrics[metric]) for d in ranked], len(have)


def _interviews(pieces: list[Document]) -> list[tuple[Document, list[str]]]:
    out = []
    for d in pieces:
        if doc_format(d) == "interview":
            guests = d.metadata.get("guests") or [s for s in d.speakers if s not in d.authors]
            out.append((d, [str(g) for g in guests]))
    return out


def _new_entities(library, span: Span, pieces: list[Document], all_docs: list[Document]) -> list[NewEntity]:
    """Models, labs and people first mentioned in the span (the writer and other authors aside);
    a model version counts when its family was known before."""
    authors = {a for d in all_docs for a in d.authors}
    by_id = {d.id: d for d in pieces}
    first: dict[tuple[str, str], str] = {}
    parent: dict[tuple[str, str], str | None] = {}
    hits: dict[tuple[str, str], list[Document]] = {}
    for r in library.store.entity_rows():
        key = (r["entity"], r["kind"])
        if r["kind"] not in ("model", "org", "person") or r["duplicate_of"] or not r["date"]:
            continue
        if r["role"] == "speaker" or (r["kind"] == "person" and r["entity"] in authors):
            continue
        first[key] = min(first.get(key, r["date"]), r["date"])
        parent[key] = r["parent"]
        if r["doc_id"] in by_id and by_id[r["doc_id"]] not in hits.setdefault(key, []):
            hits[key].append(by_id[r["doc_id"]])
    new = {k for k, d in first.items() if span.contains(d) and hits.get(k)}
    out = [NewEntity(name, kind, min(hits[(name, kind)], key=lambda d: sort_day(d) or ""),
                     len(hits[(name, kind)]))
           for name, kind in new if not (parent[(name, kind)] and (parent[(name, kind)], kind) in new)]
    return sorted(out, key=lambda e: (-e.pieces, sort_day(e.first) or "", e.name))


def _favourites(pieces: list[Document], top: list[tuple[Document, float]], metric: str | None,
                citations: Mapping[str, int] | None) -> list[Favourite]:
    """Candidates for the writer to pick favourites from: the best by the metric, the most cited
    by later pieces (when citation counts are given), the longest."""
    if len(pieces) < 2:
        return []
    picks: dict[str, Favourite] = {}

    def add(d: Document, reason: str) -> None:
        picks.setdefault(d.id, Favourite(d, [])).reasons.append(reason)

    k = max(1, min(3, len(pieces) // 3))  # a few per measure, fewer in a thin span
    name = _metric_name(metric or "")
    for i, (d, v) in enumerate(top[:k], start=1):
        add(d, f"{'most' if i == 1 else _ordinal(i) + ' most'} {name}: {_fmt_metric(metric or '', v)}")
    if citations:
        cited = sorted((d for d in pieces if citations.get(d.id)), key=lambda d: -citations[d.id])
        for d in cited[:k]:
            add(d, f"cited by {_n(citations[d.id], 'later piece')}")
    for i, d in enumerate(sorted(pieces, key=lambda d: -d.words)[:k], start=1):
        add(d, f"{'longest' if i == 1 else _ordinal(i) + ' longest'}: {d.words:,} words")
    return list(picks.values())[:8]


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def collect_review(library, since: str | dt.date, until: str | dt.date,
                   citations: Mapping[str, int] | None = None) -> ReviewData:
    """Everything the review says, from the library. `citations` ({doc id: how many later pieces
    cite it}) is optional: without it, favourites are picked by metric and length only."""
    span = Span(parse_day(since), parse_day(until, end=True))
    before = span.previous()
    all_docs = library.list(DocFilter(include_duplicates=False))
    since_day, until_day = span.since.isoformat(), span.until.isoformat()
    where = {d.id: span_relation(d, since_day, until_day) for d in all_docs}
    in_span = [d for d in all_docs if where[d.id] == "in"]
    pieces = sorted((d for d in in_span if not d.is_reading), key=lambda d: sort_day(d) or "")
    themes, topic_of, order, has_topics = _themes(library, pieces)
    metric = pick_metric(pieces)
    top, coverage = _top(pieces, metric)
    earlier = any(span_relation(d, None, _day_before(span.since)) == "in" and not d.is_reading
                  for d in all_docs)
    before_days = (before.since.isoformat(), before.until.isoformat())
    return ReviewData(
        span=span, before=before, pieces=pieces,
        readings=[d for d in in_span if d.is_reading],
        undated=[d for d in all_docs if where[d.id] == "unknown"],
        counts=_count(in_span),
        counts_before=_count([d for d in all_docs if span_relation(d, *before_days) == "in"]),
        earlier_exists=earlier, themes=themes, has_topics=has_topics, topic_of=topic_of,
        topic_order=order, summaries={d.id: key_sentence(d) for d in pieces},
        metric=metric, top=top, metric_coverage=coverage, interviews=_interviews(pieces),
        new_entities=_new_entities(library, span, pieces, all_docs),
        favourites=_favourites(pieces, top, metric, citations),
        bounded=sorted((d for d in all_docs if where[d.id] == "maybe" and not d.is_reading),
                       key=lambda d: sort_day(d) or ""))


def _day_before(day: dt.date) -> str:
    return (day - dt.timedelta(days=1)).isoformat()


# --- render ---------------------------------------------------------------------------------

def _n(n: int, word: str, plural: str | None = None) -> str:
    """1 piece, 2 pieces, 1,234 words."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _metric_name(metric: str) -> str:
    return metric.replace("_", " ")


def _fmt_metric(metric: str, value: float) -> str:
    if metric.endswith("rate") and 0 <= value <= 1:
        return f"{value:.0%}"
    return ch.number(value)


def _versus(now: int, before: int, data: ReviewData, first: bool = False) -> str:
    """", up from 1 in 2024" (the span named the first time only) and the like; nothing when the
    archive has nothing earlier to compare with."""
    if not data.earlier_exists:
        return ""
    then = "none" if before == 0 else f"{before:,}"
    when = f" in {data.before.label}" if first else ""
    if now > before:
        return f", up from {then}{when}"
    if now < before:
        return f", down from {then}{when}"
    return f", the same as{when or ' before'}"


def _opening(data: ReviewData) -> list[str]:
    c, b = data.counts, data.counts_before
    if not c.pieces:
        return [f"No dated pieces in {data.span.label}."]
    kinds = [_n(n, KIND_WORDS.get(k, k)) for k, n in c.kinds.most_common()]
    out = [f"{_n(c.pieces, 'piece')} in {data.span.label}{_versus(c.pieces, b.pieces, data, first=True)}"
           + (f": {_join(kinds)}." if len(kinds) > 1 else ".")]
    if c.interviews:
        out.append(_interview_share(c) + f"{_versus(c.interviews, b.interviews, data)}.")
    out.append(f"{_n(c.words, 'word')} in all{_versus(c.words, b.words, data)}.")
    if not data.earlier_exists:
        out.append("The archive has no dated pieces from before, so there is nothing to compare with.")
    if c.readings:
        out.append(f"Also {_n(c.readings, 'saved reading')}, not counted as pieces.")
    if data.bounded:
        one = len(data.bounded) == 1
        out.append(f"{_n(len(data.bounded), 'piece')} whose date is known only within bounds "
                   f"{'overlaps' if one else 'overlap'} {_span_word(data)}; listed at the end, "
                   "not counted.")
    if data.undated:
        one = len(data.undated) == 1
        out.append(f"{_n(len(data.undated), 'further piece')} {'carries' if one else 'carry'} no date; "
                   f"{'it is' if one else 'they are'} listed at the end, not counted in {_span_word(data)}.")
    return [" ".join(out)]


def _interview_share(c: Counts) -> str:
    """"1 of 5 pieces was an interview", "All 3 were interviews", "It was an interview"."""
    if c.pieces == 1:
        return "It was an interview"
    if c.interviews == c.pieces:
        return f"All {c.pieces} were interviews"
    verb = "was an interview" if c.interviews == 1 else "were interviews"
    return f"{c.interviews} of {_n(c.pieces, 'piece')} {verb}"


def _span_word(data: ReviewData) -> str:
    return "the year" if data.span.is_year else "the span"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _piece_line(d: Document, summary: str, extra: str = "") -> str:
    kind = "" if d.kind == "post" else f" · {md_text(d.kind)}"
    line = f"{md_link(d.title or '(untitled)', d.url)} · {md_text(when_text(d))}{kind}"
    if extra:
        line += f" · {extra}"
    return f"{line} — {md_text(summary)}" if summary else line


def _theme_section(data: ReviewData) -> list[str]:
    if not data.pieces:
        return []
    if not data.has_topics:
        lines = ["## Pieces", "", "_No themes yet: run `backlist topics suggest`, edit topics.yaml, "
                 "then `backlist tag`._", ""]
        return lines + [f"- {_piece_line(d, data.summaries[d.id])}" for d in data.pieces]
    lines = ["## Themes"]
    for name, docs in data.themes:
        heading = "Other pieces" if name == ch.OTHER else md_text(name)
        lines += ["", f"### {heading} ({_n(len(docs), 'piece')})", ""]
        lines += [f"- {_piece_line(d, data.summaries[d.id])}" for d in docs]
    return lines


def _top_section(data: ReviewData) -> list[str]:
    if not data.top:
        return []
    name = _metric_name(data.metric or "")
    lines = [f"## Top pieces by {md_text(name)}", ""]
    lines += [f"{i}. {_piece_line(d, '')}: {_fmt_metric(data.metric or '', v)} {md_text(name)}"
              for i, (d, v) in enumerate(data.top[:MAX_LISTED], start=1)]
    if data.metric_coverage < len(data.pieces):
        lines += ["", f"_{md_text(name.capitalize())} known for {data.metric_coverage} of "
                  f"{_n(len(data.pieces), 'piece')}._"]
    return lines


def _interview_section(data: ReviewData) -> list[str]:
    if not data.interviews:
        return []
    lines = ["## Interviews", ""]
    for d, guests in data.interviews:
        who = f"with {_join([md_text(g) for g in guests])}" if guests else "guests not named"
        lines.append(f"- {who}: {_piece_line(d, data.summaries.get(d.id, ''))}")
    return lines


def _new_section(data: ReviewData) -> list[str]:
    if not data.new_entities:
        return []
    lines = [f"## New in {data.span.label}", ""]
    for kind, label in (("model", "Models"), ("org", "Labs and organisations"), ("person", "People")):
        rows = [e for e in data.new_entities if e.kind == kind]
        if not rows:
            continue
        shown = _grouped_by_first(rows[:MAX_NEW])
        more = f" and {len(rows) - MAX_NEW} more" if len(rows) > MAX_NEW else ""
        lines.append(f"- **{label}:** " + "; ".join(shown) + more)
    return lines


def _grouped_by_first(rows: list[NewEntity]) -> list[str]:
    """"A, B and C (first in [piece], 2025-02-24)": names first met in the same piece together."""
    groups: dict[str, list[NewEntity]] = {}
    for e in rows:
        groups.setdefault(e.first.id, []).append(e)
    out = []
    for items in groups.values():
        d = items[0].first
        names = _join([md_text(e.name) + (f" ({_n(e.pieces, 'piece')})" if e.pieces > 1 else "")
                       for e in items])
        out.append(f"{names}, first in {md_link(d.title or '(untitled)', d.url)} "
                   f"({md_text(when_text(d))})")
    return out


def _favourites_section(data: ReviewData) -> list[str]:
    if not data.favourites:
        return []
    lines = ["## Favourites to pick from", "",
             "_Candidates by the numbers; keep the ones you would send a new reader to._", ""]
    lines += [f"- {_piece_line(f.doc, '')} — {md_text('; '.join(f.reasons))}" for f in data.favourites]
    return lines


def _bounded_section(data: ReviewData) -> list[str]:
    if not data.bounded:
        return []
    lines = [f"## Pieces that may fall in {_span_word(data)} (not counted)", ""]
    for d in data.bounded[:MAX_UNDATED]:
        lines.append(f"- {md_link(d.title or '(untitled)', d.url)} · {md_text(when_text(d))} · "
                     f"{md_text(d.kind)} · id `{d.id}`")
    if len(data.bounded) > MAX_UNDATED:
        lines.append(f"- … and {len(data.bounded) - MAX_UNDATED} more (see `backlist ls`)")
    return lines


def _undated_section(data: ReviewData) -> list[str]:
    if not data.undated:
        return []
    lines = [f"## Undated pieces (not counted in {_span_word(data)})", ""]
    for d in data.undated[:MAX_UNDATED]:
        lines.append(f"- {md_link(d.title or '(untitled)', d.url)} · {md_text(d.kind)} · id `{d.id}`")
    if len(data.undated) > MAX_UNDATED:
        lines.append(f"- … and {len(data.undated) - MAX_UNDATED} more (see `backlist ls`)")
    return lines


def _image(chart: ch.Chart, base: Path | None) -> list[str]:
    png = chart.path_png.name if base is None else chart.path_png.relative_to(base).as_posix()
    return [f"![{md_text(chart.alt)}]({quote(png)})", "", f"_{md_text(chart.title)}_"]


def render_review(data: ReviewData, charts: list[ch.Chart] | None = None,
                  base: Path | None = None) -> str:
    """The review as Markdown. Charts are linked by file name (or relative to `base`): the
    per-month chart under the opening, a metric chart under the top pieces."""
    charts = charts or []
    by_key = {c.key: c for c in charts}
    sections = [[f"# {data.span.label} in review (draft)", ""] + _opening(data)]
    if "per-month" in by_key:
        sections[0] += [""] + _image(by_key["per-month"], base)
    top = _top_section(data)
    if top and "metric" in by_key:
        top += [""] + _image(by_key["metric"], base)
    sections += [_theme_section(data), top, _interview_section(data), _new_section(data),
                 _favourites_section(data)]
    rest = [c for c in charts if c.key not in ("per-month", "metric")]
    if rest:
        sections.append(["## Charts"] + [x for c in rest for x in [""] + _image(c, base)])
    sections.append(_bounded_section(data))
    sections.append(_undated_section(data))
    return "\n\n".join("\n".join(s) for s in sections if s) + "\n"


# --- charts ---------------------------------------------------------------------------------

def _month_alt(data: ReviewData, monthly: Counter[dt.date]) -> str:
    """"Most pieces came in May (2 of 5)" and the like, said in words."""
    total, best = sum(monthly.values()), max(monthly.values())
    multi_year = data.span.since.year != data.span.until.year

    def name(m: dt.date) -> str:
        return calendar.month_name[m.month] + (f" {m.year}" if multi_year else "")

    peaks = [name(m) for m in sorted(monthly) if monthly[m] == best]
    empty = len(ch.month_starts(data.span.since, data.span.until)) - len(monthly)
    if len(peaks) > 1 and len(peaks) == len(monthly):
        most = f"{_n(best, 'piece')} in each of {_join(peaks)}"
    elif len(peaks) == len(monthly):
        most = f"The one piece came in {peaks[0]}" if total == 1 else f"All {total} pieces came in {peaks[0]}"
    elif len(peaks) == 1:
        most = f"Most pieces came in {peaks[0]}: {best} of {total}"
    else:
        most = f"The busiest months were {_join(peaks)}, with {best} of the {total} pieces each"
    none = f"; none in the other {_n(empty, 'month')}" if empty else ""
    themed = ", coloured by theme" if data.has_topics else ""
    return f"Bar chart of pieces per month, {data.span.label}{themed}. {most}{none}."


def month_chart(data: ReviewData, out_dir: Path, stem: str) -> ch.Chart | None:
    """Pieces per month by theme, or None when the span has no pieces or is under two months."""
    if not data.pieces or len(ch.month_starts(data.span.since, data.span.until)) < 2:
        return None
    counts: dict[dt.date, Counter[str]] = {}
    for d in data.pieces:
        if not d.date and (sort_day(d) or "")[:7] != (sort_day(d, newest_first=True) or "")[:7]:
            continue  # bounds wider than a month: counted, but not placed on a month
        month = dt.date.fromisoformat((d.date or sort_day(d) or "")[:10]).replace(day=1)
        counts.setdefault(month, Counter())[data.topic_of[d.id]] += 1
    colours = ch.topic_colours(data.topic_order) if data.has_topics else {ch.OTHER: ch.OKABE_ITO[0]}
    title = f"Pieces per month, {data.span.label}"
    fig = ch.monthly_counts_figure(counts, data.span.since, data.span.until, colours, title)
    alt = _month_alt(data, Counter({m: sum(c.values()) for m, c in counts.items()}))
    return ch.save(fig, out_dir, f"{stem}-per-month", title, alt, key="per-month")


def metric_chart(data: ReviewData, out_dir: Path, stem: str) -> ch.Chart | None:
    """One bar per piece for the review's metric, with its median; None under two pieces."""
    if len(data.top) < 2 or not data.metric:
        return None
    shown = data.top[:12]
    bars = [ch.Bar(d.title or d.id, v, data.topic_of.get(d.id, ch.OTHER)) for d, v in shown]
    name = _metric_name(data.metric)
    title = f"{name.capitalize()} per piece, {data.span.label}"
    colours = ch.topic_colours(data.topic_order) if data.has_topics else {ch.OTHER: ch.OKABE_ITO[0]}
    fig = ch.metric_bars_figure(bars, name, colours, title)
    med = sorted(v for _, v in shown)
    median = (med[(len(med) - 1) // 2] + med[len(med) // 2]) / 2
    best, value = shown[0]
    alt = (f"Bar chart of {name} for {_n(len(shown), 'piece')} in {data.span.label}, highest first. "
           f"{best.title or best.id} had the most, {_fmt_metric(data.metric, value)}; "
           f"the median was {_fmt_metric(data.metric, median)}.")
    slug = re.sub(r"[^a-z0-9]+", "-", (data.metric or "metric").lower()).strip("-") or "metric"
    return ch.save(fig, out_dir, f"{stem}-{slug}", title, alt, key="metric")


def draw_review_charts(data: ReviewData, out_dir: Path, stem: str = "review") -> list[ch.Chart]:
    """The review's charts as SVG and PNG files in out_dir, named stem-per-month and
    stem-METRIC; charts with nothing to show are left out."""
    return [c for c in (month_chart(data, out_dir, stem), metric_chart(data, out_dir, stem)) if c]


# --- all three ------------------------------------------------------------------------------

def write_review(library, since: str | dt.date, until: str | dt.date, out_path: Path,
                 citations: Mapping[str, int] | None = None) -> ReviewResult:
    """Collect, draw the charts beside out_path (named after it), and write the Markdown."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    data = collect_review(library, since, until, citations)
    charts = draw_review_charts(data, out_path.parent, out_path.stem)
    out_path.write_text(render_review(data, charts), encoding="utf-8")
    return ReviewResult(out_path, charts, data)


def draft_review(library, year: str, out: Path) -> Path:
    """The year's review (the CLI's `review YEAR`); kept until the CLI calls write_review."""
    return write_review(library, f"{year}-01-01", f"{year}-12-31", out).path
