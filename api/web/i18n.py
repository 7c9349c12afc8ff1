"""The web app's words, in English and Simplified Chinese. Pages pick the language from ``?lang=``,
then the ``lang`` cookie, then Accept-Language; the scripts get the same catalogue in the page."""

from __future__ import annotations

import json
from pathlib import Path

LANGUAGES = {"en": "English", "zh": "简体中文"}

LOCALES = Path(__file__).parent / "locales"
MESSAGES: dict[str, dict[str, str]] = {
    code: json.loads((LOCALES / f"{code}.json").read_text(encoding="utf-8")) for code in LANGUAGES}
"""Each language's words by key (api/web/locales/<code>.json); ``{name}`` marks a value filled in."""


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The language of a page: ``?lang=``, then the cookie, then Accept-Language, then English."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    for part in (accept or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def missing_keys() -> dict[str, set[str]]:
    """Keys some language lacks (a test keeps this empty)."""
    every = set().union(*(set(m) for m in MESSAGES.values()))
    return {lang: every - set(m) for lang, m in MESSAGES.items() if every - set(m)}
