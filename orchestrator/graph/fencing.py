"""The data fence: branch output placed in a later prompt is wrapped in delimiters it cannot
forge, and the prompt says the fenced text is data, not instructions."""

from __future__ import annotations

import hashlib


def fence_text(text: str) -> str:
    """Branch output made safe to place inside the data fence: no delimiter-like runs survive."""
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››")


def fence_tag(label: str, fenced: str) -> str:
    """The tag of the fence around `fenced` (already passed through `fence_text`): a hash of
    that very text, so whoever wrote it cannot have known the tag, and a run's prompts, hence
    its answers, are reproducible from its seed (a random tag changed them from run to run)."""
    return f"{label}-{hashlib.sha256(fenced.encode()).hexdigest()[:16]}"
