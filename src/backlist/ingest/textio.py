"""Reading untrusted input: size limits, binary sniffing, encodings, zip archives, XML."""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from backlist.errors import IngestError

DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # per file; configurable with --max-file-mb
ZIP_MAX_TOTAL = 1024 * 1024 * 1024  # uncompressed bytes read from one archive
ZIP_MAX_RATIO = 200  # uncompressed/compressed above this, for members over 1 MiB, is a bomb
ZIP_MAX_MEMBERS = 100_000


@dataclass
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES


def read_bytes(path: Path, limits: Limits, label: str | None = None) -> bytes:
    label = label or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(label, f"cannot read: {exc.strerror or exc}") from exc
    if size > limits.max_bytes:
        raise IngestError(label, f"file is {_mb(size)}, over the {_mb(limits.max_bytes)} limit "
                                 "(raise it with --max-file-mb)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(label, f"cannot read: {exc.strerror or exc}") from exc
    check_not_empty_or_binary(data, label)
    return data


def check_not_empty_or_binary(data: bytes, label: str) -> None:
    if not data.strip():
        raise IngestError(label, "empty file")
    head = data[:8192]
    if b"\x00" in head and not _is_utf16(head):
        raise IngestError(label, "binary file, not text")


def _is_utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff"))


def decode(data: bytes, label: str) -> str:
    """UTF-8 first (the common case), then the best-fitting legacy encoding, else an error."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.chaos > 0.2:
        raise IngestError(label, "undecodable bytes: not UTF-8, and no other text encoding fits")
    return str(best)


def read_text(path: Path, limits: Limits, label: str | None = None) -> str:
    label = label or str(path)
    return decode(read_bytes(path, limits, label), label)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


class SafeZip:
    """Reads members of a zip in memory, refusing zip-slip names and decompression bombs."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.total = 0
        self.problems: list[IngestError] = []
        try:
            self.zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise IngestError(str(path), f"not a readable zip archive ({exc})") from exc
        infos = self.zf.infolist()
        if len(infos) > ZIP_MAX_MEMBERS:
            raise IngestError(str(path), f"zip has {len(infos)} members, over {ZIP_MAX_MEMBERS}")
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")
            norm = posixpath.normpath(name)
            if name.startswith("/") or norm.startswith("..") or ":" in name.split("/")[0]:
                self.problems.append(IngestError(f"{path}!{info.filename}",
                                                 "unsafe path in zip (zip-slip), skipped"))
                continue
            self.members[norm] = info

    def names(self) -> list[str]:
        return sorted(self.members)

    def read(self, name: str) -> bytes:
        info = self.members[name]
        label = f"{self.path}!{name}"
        if info.file_size > self.limits.max_bytes:
            raise IngestError(label, f"member is {_mb(info.file_size)}, over the "
                                     f"{_mb(self.limits.max_bytes)} limit")
        if info.file_size > 1024 * 1024 and info.compress_size and \
                info.file_size / info.compress_size > ZIP_MAX_RATIO:
            raise IngestError(label, "compression ratio too high (zip bomb), skipped")
        cap = min(self.limits.max_bytes, ZIP_MAX_TOTAL - self.total)
        buf = io.BytesIO()
        try:
            with self.zf.open(info) as fh:  # headers can lie: count what really comes out
                while chunk := fh.read(1 << 20):
                    buf.write(chunk)
                    if buf.tell() > cap:
                        raise IngestError(label, "expands beyond the size limit (zip bomb), skipped")
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            raise IngestError(label, f"corrupt zip member ({exc})") from exc
        self.total += buf.tell()
        return buf.getvalue()

    def close(self) -> None:
        self.zf.close()


def check_xml(text: str, label: str) -> None:
    """Refuse entity declarations (billion laughs, external entities) and malformed XML."""
    try:
        SafeET.fromstring(text.encode("utf-8"))
    except DefusedXmlException as exc:
        raise IngestError(label, "XML declares entities, refused (possible entity-expansion bomb: "
                                 f"{type(exc).__name__})") from exc
    except SafeET.ParseError as exc:
        raise IngestError(label, f"malformed XML ({exc})") from exc
