"""Screening against a sanctions list file.

File format (UTF-8 text, one entry per line; blank lines and lines starting with ``#`` are
ignored):

    address,0x<40 hex digits>      an Ethereum address (any case)
    name,<full name>               a person's or entity's name

Names are compared after normalisation (Unicode NFKD, accents dropped, case-folded, punctuation
removed, whitespace collapsed) and as a set of words, so "DOE, John" matches "John Doe".
A match blocks approval and is recorded with the entry that matched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class SanctionsListError(ValueError):
    """Raised when the sanctions list file is missing or has a malformed line."""


def normalise_name(name: str) -> frozenset[str]:
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[^\w\s]", " ", ascii_only).split()
    return frozenset(words)


@dataclass(frozen=True)
class SanctionsHit:
    kind: str
    """'address' or 'name'."""
    entry: str
    line: int


@dataclass(frozen=True)
class SanctionsList:
    addresses: dict[str, int]
    names: dict[frozenset[str], tuple[str, int]]
    source: str

    @classmethod
    def load(cls, path: Path) -> SanctionsList:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SanctionsListError(f"sanctions list {path} not found; set "
                                     "CHAINRIGHT_API_SANCTIONS_FILE to an existing file") from None
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, source: str = "<text>") -> SanctionsList:
        addresses: dict[str, int] = {}
        names: dict[frozenset[str], tuple[str, int]] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            kind, _, value = line.partition(",")
            kind, value = kind.strip().lower(), value.strip()
            if kind == "address":
                if not _ADDRESS.match(value):
                    raise SanctionsListError(f"{source}:{number}: '{value}' is not a 0x address")
                addresses[value.lower()] = number
            elif kind == "name":
                words = normalise_name(value)
                if not words:
                    raise SanctionsListError(f"{source}:{number}: empty name")
                names[words] = (value, number)
            else:
                raise SanctionsListError(
                    f"{source}:{number}: unknown entry kind '{kind}' (use 'address,' or 'name,')")
        return cls(addresses=addresses, names=names, source=source)

    def screen(self, *, address: str | None, legal_name: str | None) -> list[SanctionsHit]:
        hits: list[SanctionsHit] = []
        if address and address.lower() in self.addresses:
            hits.append(SanctionsHit("address", address, self.addresses[address.lower()]))
        if legal_name:
            match = self.names.get(normalise_name(legal_name))
            if match is not None:
                hits.append(SanctionsHit("name", match[0], match[1]))
        return hits
