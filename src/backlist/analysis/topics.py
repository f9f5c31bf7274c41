"""Topics: a taxonomy file the writer owns (topics.yaml), a suggested starting taxonomy from
clustering the archive's own embeddings, and tagging every document with one to three topics."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from backlist.errors import BacklistError
from backlist.store.base import DocFilter

TOPICS_FILE = "topics.yaml"
MAX_TOPICS_PER_DOC = 3


@dataclass
class Topic:
    name: str
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def topics_path(library) -> Path:
    return library.dir / TOPICS_FILE


def load_topics(library) -> list[Topic]:
    path = topics_path(library)
    if not path.exists():
        raise BacklistError(f"{path}: no taxonomy yet (run `backlist topics suggest`, then edit it)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BacklistError(f"{path}: malformed YAML ({exc})") from exc
    rows = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise BacklistError(f"{path}: expected a list under 'topics:'")
    out = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not row.get("name"):
            raise BacklistError(f"{path}: topic {n} has no name")
        out.append(Topic(str(row["name"]), str(row.get("description") or ""),
                         [str(k) for k in row.get("keywords") or []],
                         [str(e) for e in row.get("examples") or []]))
    return out


def save_topics(path: Path, topics: list[Topic]) -> None:
    data = {"topics": [{"name": t.name, "description": t.description, "keywords": t.keywords,
                        "examples": t.examples} for t in topics]}
    path.write_text("# Edit freely: names, descriptions, keywords and example document ids.\n"
                    + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100),
                    encoding="utf-8")


def _doc_matrix(library, min_words: int = 1) -> tuple[list, np.ndarray]:
    docs = [d for d in library.list(DocFilter(include_duplicates=False)) if d.words >= min_words]
    blobs = library.store.doc_vectors()
    keep, vecs = [], []
    for d in docs:
        if d.id in blobs:
            arr = np.vstack([np.frombuffer(b, dtype=np.float32) for b in blobs[d.id]])
            v = arr.mean(axis=0)
            vecs.append(v / (np.linalg.norm(v) or 1.0))
            keep.append(d)
    if not keep:
        raise BacklistError("no embedded documents: run `backlist ingest` with embeddings first")
    return keep, np.vstack(vecs)


def suggest_topics(library, n_topics: int | None = None, seed: int = 0) -> list[Topic]:
    """KMeans over document embeddings (k chosen by silhouette when not given); each cluster is
    named by its most distinctive terms (class-based TF-IDF) and gets its central documents as
    examples."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    docs, X = _doc_matrix(library, min_words=50)  # stubs would only blur the clusters
    if len(docs) < 4:
        raise BacklistError(f"only {len(docs)} documents: too few to suggest topics")
    candidates = [n_topics] if n_topics else list(range(4, min(12, len(docs) // 3) + 1)) or [2]
    best = None
    for k in candidates:
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X)
        score = silhouette_score(X, km.labels_) if 1 < k < len(docs) else 0.0
        if best is None or score > best[0]:
            best = (score, km)
    assert best is not None  # the loop above runs at least once
    km = best[1]
    names = {w.lower() for d in docs for s in d.speakers + d.authors for w in s.split()}
    labels = _distinctive_terms(docs, km.labels_, km.n_clusters, exclude=names)
    families = _family_docs(library)
    topics: list[Topic] = []
    for c in range(km.n_clusters):
        members = [i for i, lab in enumerate(km.labels_) if lab == c]
        central = sorted(members, key=lambda i: -float(X[i] @ km.cluster_centers_[c]))[:3]
        terms = labels[c]
        ids = {docs[i].id for i in members}
        ents = sorted(((len(ids & d), e) for e, d in families.items() if len(ids & d) * 2 >= len(ids)),
                      reverse=True)
        name = suggest_name([docs[i].title or "" for i in members], [docs[i].text for i in members],
                            terms, [e for _, e in ents[:3]], taken={t.name for t in topics},
                            fallback=f"Topic {c + 1}")
        topics.append(Topic(name=name,
                            description=f"{len(members)} pieces, e.g. " +
                            "; ".join(docs[i].title or docs[i].id for i in central[:2]),
                            keywords=terms[:8],
                            examples=[docs[i].id for i in central]))
    return topics


_FILLER = frozenset("""uh um yeah gonna kinda sort like okay ok really lot lots things thing
just actually mean know think going got get yes right stuff pretty little bit maybe people
way want make makes made say says said don doesn didn isn wasn ve ll re time times year years
week weeks today new good great kind doing talk guess feel interesting""".split())


def _distinctive_terms(docs, labels, k: int, exclude: set[str]) -> list[list[str]]:
    """Per cluster, class-based TF-IDF (as in BERTopic): a term's frequency in the cluster times
    log(1 + average cluster size / its frequency everywhere), for terms in two or more of the
    cluster's pieces; speaker names and conversational filler are left out."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2, max_df=0.7,
                          token_pattern=r"(?u)\b[A-Za-z][A-Za-z0-9\-]+\b")
    M = vec.fit_transform([d.text for d in docs]).tocsr()
    vocab = vec.get_feature_names_out()
    ok = np.array([not (set(t.lower().split()) & (_FILLER | exclude)) for t in vocab])
    labels = np.asarray(labels)
    per_class = np.vstack([np.asarray(M[labels == c].sum(axis=0)).ravel() for c in range(k)])
    present = np.vstack([np.asarray((M[labels == c] > 0).sum(axis=0)).ravel() for c in range(k)])
    total = per_class.sum(axis=0) + 1
    avg = per_class.sum() / k
    out = []
    for c in range(k):
        tf = per_class[c] / (per_class[c].sum() or 1)
        score = tf * np.log(1 + avg / total)
        need = min(2, int((labels == c).sum()))
        score = np.where(ok & (present[c] >= need), score, -1)
        ranked = [vocab[i] for i in score.argsort()[::-1] if score[i] > 0][:20]
        out.append(_dedupe_terms(ranked))
    return out


def _family_docs(library) -> dict[str, set[str]]:
    """{model family or lab: ids of the documents that mention it}."""
    out: dict[str, set[str]] = {}
    for r in library.store.entity_rows():
        if r["role"] == "mention" and r["kind"] in ("model", "org") and not r["parent"]:
            out.setdefault(r["entity"], set()).add(r["doc_id"])
    return out


def _occurs(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(phrase)}(?:s|es)?(?!\w)", re.I)


def _surface(phrase: str, texts: list[str]) -> str:
    """The phrase as the writer spells it ("RL", "DeepSeek", "open models"), first letter of a
    lowercase phrase left to the caller."""
    forms = Counter(m.group(0) for t in texts for m in _occurs(phrase).finditer(t))
    exact = [f for f, _ in forms.most_common() if f.lower() == phrase.lower()]
    return exact[0] if exact else phrase


def suggest_name(titles: list[str], texts: list[str], keywords: list[str],
                 entities: Sequence[str] = (), taken: Collection[str] = frozenset(),
                 fallback: str = "Topic") -> str:
    """A name a reader would recognise for a cluster: the candidate (a distinctive keyword or a
    model family / lab most members mention) that the members' titles use most, ties broken
    by keyword rank; a second, different candidate nearly as strong is joined with "and".
    E.g. keywords "open models / llama / closed" with titles about open models -> "Open models"."""
    cands = list(dict.fromkeys([k for k in keywords[:8] if k] + list(entities)))
    if not cands:
        return fallback
    scored = []
    for rank, c in enumerate(cands):
        pat = _occurs(c)
        in_titles = sum(1 for t in titles if pat.search(t)) / (len(titles) or 1)
        in_texts = sum(1 for t in texts if pat.search(t)) / (len(texts) or 1)
        score = 2 * in_titles + in_texts + (len(c.split()) > 1) * 0.3 + 0.5 / (1 + rank)
        scored.append((score, -rank, c))
    scored.sort(reverse=True)
    best = scored[0][2]
    words = [_surface(best, titles + texts)]
    for score, _, c in scored[1:]:
        if score >= 0.8 * scored[0][0] and not (set(c.lower().split()) & set(best.lower().split())):
            words.append(_surface(c, titles + texts))
            break
    name = " and ".join(words)
    name = name[:1].upper() + name[1:]
    if name in taken:
        extra = next((_surface(c, titles + texts) for _, _, c in scored[1:]
                      if f"{name} and {c}" not in taken), None)
        name = f"{name} and {extra}" if extra else f"{name} ({len(taken) + 1})"
    return name


def _dedupe_terms(terms: list[str]) -> list[str]:
    out: list[str] = []
    for t in terms:
        if any(t in o or o in t for o in out):
            continue
        out.append(t)
    return out


def tag_documents(library, min_share: float = 0.85) -> dict[str, list[tuple[str, float]]]:
    """One to three topics per document: cosine to each topic's vector (its text blended with
    its examples), plus a small bonus for its keywords; manual tags are kept as they are."""
    topics = load_topics(library)
    docs, X = _doc_matrix(library)
    emb = library.embedder()
    tvecs = emb.encode([f"{t.name}. {t.description}. {' '.join(t.keywords)}" for t in topics])
    index = {d.id: i for i, d in enumerate(docs)}
    for j, t in enumerate(topics):
        ex = [X[index[e]] for e in t.examples if e in index]
        if ex:
            v = 0.5 * tvecs[j] + 0.5 * np.mean(ex, axis=0)
            tvecs[j] = v / (np.linalg.norm(v) or 1.0)
    sims = X @ tvecs.T
    result: dict[str, list[tuple[str, float]]] = {}
    for i, d in enumerate(docs):
        low = d.text.lower()
        scores = []
        for j, t in enumerate(topics):
            hits = sum(1 for k in t.keywords if k.lower() in low)
            bonus = 0.05 * min(hits, 4) / 4 if t.keywords else 0.0
            scores.append((t.name, round(float(sims[i, j]) + bonus, 4)))
        scores.sort(key=lambda s: -s[1])
        top = scores[0][1]
        chosen = [s for s in scores[:MAX_TOPICS_PER_DOC] if s[1] >= top * min_share]
        library.store.set_doc_topics(d.id, chosen)
        result[d.id] = chosen
    return result


def set_manual_topic(library, doc_id: str, topic: str) -> None:
    names = {t.name for t in load_topics(library)}
    if topic not in names:
        raise BacklistError(f"{topic}: not a topic in {topics_path(library)}")
    doc = library.get(doc_id)
    library.store.set_doc_topics(doc.id, [(topic, 1.0)], manual=True)


def topic_counts(library) -> list[dict[str, Any]]:
    assigned = library.store.doc_topics()
    docs = {d.id: d for d in library.list(DocFilter(include_duplicates=False))}
    rows: dict[str, dict[str, Any]] = {}
    for t in load_topics(library):
        rows[t.name] = {"name": t.name, "description": t.description, "documents": 0,
                        "by_year": {}}
    for doc_id, tags in assigned.items():
        d = docs.get(doc_id)
        if d is None:
            continue
        for name, _, _ in tags:
            row = rows.setdefault(name, {"name": name, "description": "", "documents": 0,
                                         "by_year": {}})
            row["documents"] += 1
            year = d.date[:4] if d.date else "undated"
            row["by_year"][year] = row["by_year"].get(year, 0) + 1
    return list(rows.values())
