"""Offline JSON-LD: a document loader that never fetches, and URDNA2015 canonical N-Quads.

didkit (ssi) expands documents strictly and with its own bundled contexts; the one place we
need JSON-LD ourselves is building EthereumPersonalSignature2021 proofs, whose signing input is
the canonical N-Quads of the proof options and of the document (PyLD, same algorithm).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyld import jsonld

from did.contexts import CREDENTIALS_V1, CREDENTIALS_V1_URL
from did.errors import HolderSigningError

_OFFLINE_CONTEXTS: Mapping[str, dict[str, Any]] = {CREDENTIALS_V1_URL: CREDENTIALS_V1}


def offline_document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Serve the contexts we ship; refuse every other URL (no network access, ever)."""
    document = _OFFLINE_CONTEXTS.get(url)
    if document is None:
        raise HolderSigningError(
            f"JSON-LD context {url} is not available offline; define terms in an inline @context "
            f"(known contexts: {', '.join(_OFFLINE_CONTEXTS)})"
        )
    return {"contextUrl": None, "documentUrl": url, "document": document}


def canonical_nquads(document: Mapping[str, Any], expand_context: Any = None) -> str:
    """URDNA2015 canonical N-Quads of ``document`` (each line ends with a newline)."""
    options: dict[str, Any] = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": offline_document_loader,
    }
    if expand_context is not None:
        options["expandContext"] = expand_context
    try:
        return str(jsonld.normalize(dict(document), options))
    except jsonld.JsonLdError as exc:
        cause = exc.cause if isinstance(getattr(exc, "cause", None), HolderSigningError) else None
        raise HolderSigningError(f"JSON-LD canonicalization failed: {cause or exc}") from None
