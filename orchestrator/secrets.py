"""Secrets: keys come only from environment variables named in the config, and anything we
log or trace passes through `redact`."""

from __future__ import annotations

import logging
import os
import re

REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer\s+)?[^\s,'\"}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"),
    re.compile(r"(?i)([?&](?:api[_-]?)?key=)[^&\s'\"]+"),
    re.compile(r"(?i)((?:api[_-]?key|x-api-key|secret|token)[\"']?\s*[:=]\s*[\"']?)[^\s,'\"}]{6,}"),
    re.compile(r"()\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}"),
    re.compile(
        r"()\b(?:AIza[0-9A-Za-z_\-]{20,}|xox[abp]-[A-Za-z0-9\-]{10,}|gh[pousr]_[A-Za-z0-9]{20,})"
    ),
]


def api_key(env_var: str | None) -> str | None:
    """The key held by the named environment variable (None when unset or not configured)."""
    return os.environ.get(env_var) if env_var else None


def redact(text: str, extra: list[str] | None = None) -> str:
    """Text with key-shaped strings, Authorization headers and key= URL parameters removed."""
    for secret in extra or []:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record's message and arguments."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = secrets or []

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        return True
