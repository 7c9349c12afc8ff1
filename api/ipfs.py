"""Where uploaded works live: a local content-addressed store (the embedded default) or a
Kubo-compatible IPFS node (``/api/v0``), chosen by settings.

Both give a file the same CID (``api.content.cid_for``); the node's answer is checked against
ours, so a node with another import setup cannot anchor a CID we would not reproduce.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from api.content import ContentDigest, cid_for, cid_from_str, content_hash
from api.errors import ApiError, NotFoundError, ServiceUnavailableError

log = logging.getLogger(__name__)


def _base32(cid: str) -> str:
    """A CIDv1 in base32, whatever multibase the node answered in."""
    if cid.startswith("b"):
        return cid
    from multiformats import CID

    return str(CID.decode(cid).encode("base32"))


class ContentMismatchError(ApiError):
    """Raised when stored bytes or a node's CID disagree with the CID we compute."""

    status = 502
    title = "Content mismatch"
    type_ = "/problems/content-mismatch"


@dataclass(frozen=True)
class StoredContent:
    cid: str
    content_hash: str
    size: int


class ContentStore(Protocol):
    """What the API needs from content storage."""

    name: str
    staging_dir: Path
    """Where an upload is staged while it streams in (``api.uploads``)."""

    def add(self, data: bytes) -> StoredContent: ...

    def add_staged(self, staged: Path, digest: ContentDigest) -> StoredContent:
        """Take a staged file whose CID and hash were computed as it arrived (``digest``); the
        staging file is gone afterwards, whatever happens."""
        ...

    def get(self, cid: str) -> bytes: ...

    def has(self, cid: str) -> bool: ...


class LocalContentStore:
    """Files under ``root/<cid>``, written atomically, re-verified on read."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging_dir = root  # same file system: a staged upload is renamed into place

    def add_staged(self, staged: Path, digest: ContentDigest) -> StoredContent:
        cid = digest.cid()
        path = self._path(cid)
        try:
            if not path.exists():
                os.replace(staged, path)
        finally:
            staged.unlink(missing_ok=True)
        return StoredContent(cid=cid, content_hash=digest.content_hash, size=digest.size)

    def _path(self, cid: str) -> Path:
        cid_from_str(cid)  # validates: no path tricks through the CID
        return self.root / cid

    def add(self, data: bytes) -> StoredContent:
        cid = cid_for(data)
        path = self._path(cid)
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload.")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return StoredContent(cid=cid, content_hash=content_hash(data), size=len(data))

    def get(self, cid: str) -> bytes:
        path = self._path(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no content with CID {cid} in the local store") from None
        if cid_for(data) != cid:
            raise ContentMismatchError(f"stored bytes of {cid} no longer match their CID")
        return data

    def has(self, cid: str) -> bool:
        return self._path(cid).exists()

    def version(self, cid: str) -> tuple[str, int, int, int]:
        """What identifies the bytes stored under ``cid`` without reading them: the file's inode,
        size and modification time (a file written, replaced or removed has another; ``stat``
        raises when it is gone)."""
        st = self._path(cid).stat()
        return (str(self.root), st.st_ino, st.st_size, st.st_mtime_ns)


class IpfsNodeStore:
    """A Kubo-compatible node through ipfshttpclient.

    ``ipfshttpclient.connect()`` refuses every current daemon (it accepts 0.4.23 to < 0.8.0), so
    the client is constructed directly, which skips that version check; add/cat/pin work.
    """

    name = "ipfs"

    def __init__(self, api_multiaddr: str, timeout_s: float = 30.0, staging_dir: Path | None = None) -> None:
        import ipfshttpclient

        self.addr = api_multiaddr
        self.staging_dir = staging_dir or Path(tempfile.gettempdir()) / "chainright-uploads"
        self._client: Any = ipfshttpclient.Client(api_multiaddr, timeout=timeout_s)

    def _unavailable(self, exc: Exception) -> ServiceUnavailableError:
        return ServiceUnavailableError(
            f"the IPFS node at {self.addr} does not answer ({type(exc).__name__}); start it or "
            "unset CHAINRIGHT_API_IPFS_API to use the local store"
        )

    def _add(self, source: IO[bytes], expected: str) -> str:
        """Send ``source`` to the node (streamed by the client in small pieces) and check its CID."""
        import ipfshttpclient

        try:
            result = self._client.add(source, cid_version=1, raw_leaves=True,
                                      chunker="size-262144", pin=True,
                                      opts={"cid-base": "base32"})
        except ipfshttpclient.exceptions.Error as exc:
            raise self._unavailable(exc) from exc
        entry = result[-1] if isinstance(result, list) else result
        got = _base32(str(entry["Hash"]))
        if got != expected:
            raise ContentMismatchError(
                f"the IPFS node gave CID {got} but Chainright computes {expected}: the node's "
                "import setup differs (need CIDv1, raw leaves, 256 KiB chunks)"
            )
        return got

    def add(self, data: bytes) -> StoredContent:
        got = self._add(io.BytesIO(data), cid_for(data))
        return StoredContent(cid=got, content_hash=content_hash(data), size=len(data))

    def add_staged(self, staged: Path, digest: ContentDigest) -> StoredContent:
        try:
            with staged.open("rb") as source:
                got = self._add(source, digest.cid())
        finally:
            staged.unlink(missing_ok=True)
        return StoredContent(cid=got, content_hash=digest.content_hash, size=digest.size)

    def get(self, cid: str) -> bytes:
        import ipfshttpclient

        cid_from_str(cid)
        try:
            data: bytes = self._client.cat(cid)
        except ipfshttpclient.exceptions.ErrorResponse as exc:
            raise NotFoundError(f"the IPFS node has no content {cid} ({exc})") from None
        except ipfshttpclient.exceptions.Error as exc:
            raise self._unavailable(exc) from exc
        if cid_for(data) != cid:
            raise ContentMismatchError(f"the IPFS node returned bytes that do not hash to {cid}")
        return data

    def has(self, cid: str) -> bool:
        try:
            self.get(cid)
        except NotFoundError:
            return False
        return True

    def close(self) -> None:
        self._client.close()
