"""Reading untrusted input: size limits, binary sniffing, encodings, zip archives, XML."""

from __future__ import annotations

import codecs
import errno
import io
import os
import posixpath
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from backlist.errors import IngestError

DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # per file; configurable with --max-file-mb
ZIP_MAX_TOTAL = 1024 * 1024 * 1024  # uncompressed bytes read from one archive
ZIP_MAX_RATIO = 200  # uncompressed/compressed above this, for members over 1 MiB, is a bomb
ZIP_MAX_MEMBERS = 100_000
MAX_FOLDER_DEPTH = 64  # inside one input (an export), deeper folders are not walked


_FILE_TYPES = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
               (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder"))


@dataclass
class Limits:
    """What one input may open and how much of it: files over max_bytes are refused from their
    size alone (never read or hashed), and with a root, nothing whose real path (links resolved)
    lies outside it is opened unless follow_links."""

    max_bytes: int = DEFAULT_MAX_BYTES
    root: str | None = None  # the real path of the folder the input was found in
    follow_links: bool = False


def file_type(mode: int) -> str:
    return next((name for test, name in _FILE_TYPES if test(mode)), "special file")


def inside(path: str, folder: str) -> bool:
    return path == folder or os.path.commonpath([path, folder]) == folder


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading; anything else (FIFO, device, socket) is never opened, and a
    file swapped for a FIFO in between cannot block: the open does not wait for a writer."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, f"not a regular file ({file_type(mode)})", os.fspath(path))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    fh = os.fdopen(fd, "rb")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        fh.close()
        raise OSError(errno.EINVAL, f"not a regular file ({file_type(mode)})", os.fspath(path))
    return fh


def over_limit(size: int, limits: Limits) -> str | None:
    if size > limits.max_bytes:
        return (f"file is {_mb(size)}, over the {_mb(limits.max_bytes)} limit "
                "(raise it with --max-file-mb)")
    return None


def open_input(path: str | os.PathLike[str], limits: Limits, label: str | None = None) -> BinaryIO:
    """The one way a reader opens a file: links resolved and kept inside limits.root, the size
    checked with stat before a byte is read, only regular files. Problems are one IngestError."""
    label = label or os.fspath(path)
    try:
        if limits.root is None or limits.follow_links:
            st = os.stat(path)
            _check_size_and_type(st, limits, label)
            return open_regular(path)
        real, root = os.path.realpath(path), os.path.realpath(limits.root)
        if not inside(real, root):
            raise IngestError(label, "symbolic link out of the folder or export given, not read "
                                     "(--follow-links reads it)")
        fh = os.fdopen(_open_beneath(root, real, label), "rb")
        try:
            _check_size_and_type(os.fstat(fh.fileno()), limits, label)
        except BaseException:
            fh.close()
            raise
        return fh
    except OSError as exc:
        raise IngestError(label, f"cannot read: {exc.strerror or exc}") from exc


def _check_size_and_type(st: os.stat_result, limits: Limits, label: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise IngestError(label, f"not a regular file ({file_type(st.st_mode)})")
    if reason := over_limit(st.st_size, limits):
        raise IngestError(label, reason)


def _open_beneath(root: str, real: str, label: str) -> int:
    """Open real (a path with its links resolved, inside root) one part at a time from root,
    following no link: a link swapped in after the path was resolved and checked is refused,
    never followed out of root. Non-blocking, so a FIFO swapped in cannot hang the read."""
    parts = os.path.relpath(real, root).split(os.sep)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return os.open(parts[-1], os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC,
                       dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise IngestError(label, "changed into a symbolic link while being opened, not read") \
                from exc
        raise
    finally:
        os.close(fd)


def read_bytes(path: Path, limits: Limits, label: str | None = None) -> bytes:
    label = label or str(path)
    with open_input(path, limits, label) as fh:
        try:
            data = fh.read(limits.max_bytes + 1)
        except OSError as exc:
            raise IngestError(label, f"cannot read: {exc.strerror or exc}") from exc
    if reason := over_limit(len(data), limits):  # it grew after the stat
        raise IngestError(label, reason)
    check_not_empty_or_binary(data, label)
    return data


def check_not_empty_or_binary(data: bytes, label: str) -> None:
    if not data.strip():
        raise IngestError(label, "empty file")
    head = data[:8192]
    bom = _bom(head)
    if bom is None and b"\x00" in head:
        raise IngestError(label, "binary file, not text")
    if bom is not None and not data[len(bom[1]):].strip(b"\x00 \t\r\n"):
        raise IngestError(label, "empty file")


# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE),
         ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
         ("utf-16-be", codecs.BOM_UTF16_BE))
# An encoding the bytes declare: an XML declaration, <meta charset> or http-equiv Content-Type.
_DECLARED = re.compile(
    rb"""<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"""
    rb"""|<meta[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_DECL_ENCODING = re.compile(r"""^(\ufeff?\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
# Labels that browsers (WHATWG) read as windows-1252, a superset of Latin-1's printable range.
_AS_CP1252 = {"latin_1", "iso8859_1", "ascii", "cp1252"}
# Western single-byte encodings preferred when several fit equally well (charset-normalizer
# ranks cp1250 or cp1257 level with cp1252 on French or English text: "café" became "cafť").
_WESTERN = ("cp1252", "latin_1", "iso8859_15")


def _bom(head: bytes) -> tuple[str, bytes] | None:
    return next(((enc, bom) for enc, bom in _BOMS if head.startswith(bom)), None)


def _declared(data: bytes) -> str | None:
    """The codec an XML declaration or HTML meta tag names in the first 4 KB, if Python knows it."""
    m = _DECLARED.search(data[:4096])
    if not m:
        return None
    try:
        name = codecs.lookup((m[1] or m[2]).decode("ascii")).name.replace("-", "_")
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith(("utf_16", "utf_32")):
        return None  # an ASCII-readable declaration cannot be true of UTF-16/32 bytes without a BOM
    return "cp1252" if name in _AS_CP1252 else name


def decode(data: bytes, label: str) -> str:
    """Bytes to text: a byte-order mark decides, then UTF-8, then an encoding the file declares,
    then the best-fitting legacy encoding (Western ones first when they fit as well), else an error.
    """
    bom = _bom(data[:4])
    if bom:
        try:
            return _xml_decl_utf8(data[len(bom[1]):].decode(bom[0]))
        except UnicodeDecodeError as exc:
            raise IngestError(label, f"undecodable bytes: starts with a {bom[0].upper()} byte-order "
                                     f"mark, but is not valid {bom[0].upper()} ({exc.reason})") from exc
    try:
        return _xml_decl_utf8(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    declared = _declared(data)
    for enc in ((declared, "latin_1") if declared == "cp1252" else (declared,)) if declared else ():
        try:
            return _xml_decl_utf8(data.decode(enc))
        except UnicodeDecodeError:
            continue
    return _xml_decl_utf8(_guess(data, label))


def _guess(data: bytes, label: str) -> str:
    matches = list(from_bytes(data))
    if not matches or matches[0].chaos > 0.2:
        raise IngestError(label, "undecodable bytes: not UTF-8, and no other text encoding fits")
    best = matches[0]
    western = [m for m in matches if m.encoding in _WESTERN and m.chaos <= best.chaos + 0.01]
    return str(western[0] if western else best)


def _xml_decl_utf8(text: str) -> str:
    """Decoded text is Unicode: an XML declaration naming another encoding would mislead any
    parser that reads the text back as UTF-8 (expat refuses it), so it is made to say utf-8."""
    if text.startswith("<?xml") or text.lstrip().startswith("<?xml"):
        return _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", text, count=1)
    return text


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
        except (zipfile.BadZipFile, OSError, UnicodeDecodeError, EOFError, ValueError) as exc:
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
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, zlib.error,
                NotImplementedError, UnicodeDecodeError) as exc:
            raise IngestError(label, f"corrupt zip member ({exc})") from exc
        self.total += buf.tell()
        return buf.getvalue()

    def close(self) -> None:
        self.zf.close()


def check_xml(text: str, label: str) -> None:
    """Refuse entity declarations (billion laughs, external entities) and malformed XML."""
    try:
        SafeET.fromstring(_xml_decl_utf8(text).encode("utf-8"))
    except DefusedXmlException as exc:
        raise IngestError(label, "XML declares entities, refused (possible entity-expansion bomb: "
                                 f"{type(exc).__name__})") from exc
    except SafeET.ParseError as exc:
        raise IngestError(label, f"malformed XML ({exc})") from exc
