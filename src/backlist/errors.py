"""Errors that carry the file they concern, so every surface can print one clear line."""

from __future__ import annotations


class BacklistError(Exception):
    """Base class for errors shown to the user as a single line."""


class IngestError(BacklistError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NotFoundError(BacklistError):
    pass


class UsageError(BacklistError):
    pass
