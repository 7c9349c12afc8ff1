"""Uploads received as a stream: the multipart body parsed as it arrives, the file part written to a
staging file while its CID and content hash are computed, the size cap enforced on the way.

Memory stays flat whatever the file's size: the process holds one network message (about 64 KiB)
and one partial 256 KiB chunk of the CID computation at a time. A file over the cap is answered 413
at its first byte over the cap and its staging file is removed, as it is on any other failure
(a malformed form, a client that goes away).
"""

from __future__ import annotations

import codecs
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from anyio import to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.content import ContentDigest
from api.errors import ApiError, BadRequestError, UnprocessableError

log = logging.getLogger(__name__)

FILE_FIELD = "file"
"""The form field that carries the work's bytes."""
MAX_FIELD_BYTES = 16 * 1024
"""The most bytes of all the small form fields beside the file together (names, tags...)."""
STAGING_PREFIX = ".upload."
"""Staging files are named so; a store ignores them (they are not content)."""


class UploadTooLargeError(ApiError):
    """Raised when an uploaded file passes the upload cap (``CHAINRIGHT_API_MAX_UPLOAD_BYTES``)."""

    status = 413
    title = "Upload too large"
    type_ = "/problems/too-large"


def size_in_words(size: int) -> str:
    """``52428800`` -> ``50 MiB (52428800 bytes)``; plain bytes below 1 KiB."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            amount = size / scale
            shown = f"{amount:.0f}" if amount == int(amount) else f"{amount:.1f}"
            return f"{shown} {unit} ({size} bytes)"
    return f"{size} bytes"


def too_large_error(limit: int) -> UploadTooLargeError:
    return UploadTooLargeError(
        f"the file is larger than the {size_in_words(limit)} this platform accepts "
        "(CHAINRIGHT_API_MAX_UPLOAD_BYTES); nothing was stored", limit=limit)


@dataclass
class ReceivedUpload:
    """A file received whole and staged on disk, with what was computed on the way."""

    staged: Path
    digest: ContentDigest
    filename: str | None
    content_type: str | None
    fields: dict[str, list[str]] = field(default_factory=dict)
    """The small text fields sent beside the file, each name's values in the order sent (a field may
    repeat, as ``tags`` does); all of them together at most ``MAX_FIELD_BYTES``."""

    def last(self, name: str) -> str | None:
        """The value of a single-valued field (the last one sent), or None."""
        values = self.fields.get(name)
        return values[-1] if values else None

    @property
    def size(self) -> int:
        return self.digest.size

    def discard(self) -> None:
        """Remove the staging file (a store that took it has moved it away already)."""
        self.staged.unlink(missing_ok=True)


class _FormReader:
    """python-multipart callbacks: the file part goes to the staging file and the digest, small
    fields to memory (capped), everything else is refused."""

    def __init__(self, out: IO[bytes], limit: int, charset: str) -> None:
        self.out = out
        self.limit = limit
        self.charset = charset
        self.digest = ContentDigest()
        self.filename: str | None = None
        self.content_type: str | None = None
        self.fields: dict[str, list[str]] = {}
        self.seen_file = False
        self._field_bytes = 0
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._name: str | None = None
        self._is_file = False
        self._value = bytearray()

    def callbacks(self) -> Any:
        return {"on_part_begin": self.on_part_begin, "on_part_data": self.on_part_data,
                "on_part_end": self.on_part_end, "on_header_field": self.on_header_field,
                "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
                "on_headers_finished": self.on_headers_finished}

    def on_part_begin(self) -> None:
        self._headers = {}
        self._name = None
        self._is_file = False
        self._value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise BadRequestError("a form part has no name (Content-Disposition: form-data; name=...)")
        self._name = name.decode(self.charset, errors="replace")
        self._is_file = self._name == FILE_FIELD
        if self._is_file:
            if self.seen_file:
                raise UnprocessableError(f"send one file per upload (one '{FILE_FIELD}' part)")
            self.seen_file = True
            filename = options.get(b"filename")
            self.filename = filename.decode(self.charset, errors="replace") if filename else None
            content_type = self._headers.get(b"content-type")
            self.content_type = content_type.decode("latin-1").strip() if content_type else None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if self._is_file:
            if self.digest.size + len(piece) > self.limit:
                raise too_large_error(self.limit)
            self.digest.update(piece)
            self.out.write(piece)
            return
        self._field_bytes += len(piece)
        if self._field_bytes > MAX_FIELD_BYTES:
            raise UnprocessableError(f"the form's text fields are larger than "
                                     f"{size_in_words(MAX_FIELD_BYTES)} together; send the file and "
                                     "short fields only")
        self._value += piece

    def on_part_end(self) -> None:
        if not self._is_file and self._name is not None:
            value = bytes(self._value).decode(self.charset, errors="replace")
            self.fields.setdefault(self._name, []).append(value)


async def receive_upload(content_type: str, body: AsyncIterator[bytes], limit: int,
                         staging_dir: Path) -> ReceivedUpload:
    """Read a ``multipart/form-data`` body as it streams, staging its ``file`` part under
    ``staging_dir``; raises ``UploadTooLargeError`` past ``limit`` bytes of file (and for any other
    failure) with the staging file removed."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise UnprocessableError(f"send the work as multipart/form-data with a '{FILE_FIELD}' part")
    charset_name = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        charset = codecs.lookup(charset_name).name
    except LookupError:
        charset = "latin-1"
    staging_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=staging_dir, prefix=STAGING_PREFIX)
    staged = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            reader = _FormReader(out, limit, charset)
            parser = MultipartParser(params[b"boundary"], reader.callbacks())
            async for chunk in body:
                if chunk:
                    # hashing and the disk write run off the event loop, one network message at a time
                    await to_thread.run_sync(parser.write, chunk)
            parser.finalize()
        if not reader.seen_file:
            raise UnprocessableError(f"the form has no '{FILE_FIELD}' part: send the work as its file")
        if reader.digest.size == 0:
            raise UnprocessableError("the file is empty")
    except FormParserError as exc:
        staged.unlink(missing_ok=True)
        raise BadRequestError(f"the multipart body is malformed ({exc})") from None
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return ReceivedUpload(staged=staged, digest=reader.digest, filename=reader.filename,
                          content_type=reader.content_type, fields=reader.fields)
