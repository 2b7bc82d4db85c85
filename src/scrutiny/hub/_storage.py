r"""Attachment storage: blobs named by their SHA-256 under the data folder, and name rules.

A file's bytes are written once, to ``DATA/blobs/ab/cd/abcd...``, whatever its
name; revisions map names to blobs. Names come from users and are checked by
:func:`clean_filename`: anything that looks like a path (``../../etc/passwd``,
``/abs``, ``C:\\x``, ``a/b``) is rejected, control characters are refused, and
the rest is normalised. Blob paths never contain a user-supplied string.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from scrutiny.hub._errors import BadRequestError, PayloadTooLargeError

CHUNK = 1024 * 1024
MAX_NAME = 200
_SHA = re.compile(r"^[0-9a-f]{64}$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_UNSAFE = re.compile(r"[^\w.\- ()+,=@]", re.UNICODE)


def clean_filename(name: object, *, field: str = "file") -> str:
    """Check and normalise an uploaded file's name.

    Parameters
    ----------
    name : object
        The name as sent by the client.
    field : str, default="file"
        The form field or JSON key the name came from (used in messages).

    Returns
    -------
    str
        The name, NFC-normalised, with characters outside letters, digits
        and ``._-()+,=@`` and spaces replaced by ``_``.

    Raises
    ------
    BadRequestError
        The name is empty, too long, hidden (starts with a dot), or looks
        like a path (separators, ``..``, a drive letter, control characters).
    """
    if not isinstance(name, str) or not name.strip():
        msg = f"{field}: the file has no name. Send a file name such as 'audit.json'."
        raise BadRequestError(msg, field=field)
    raw = unicodedata.normalize("NFC", name.strip())
    shown = raw[:80].encode("unicode_escape").decode("ascii")
    if ("/" in raw or "\\" in raw or raw in (".", "..") or _DRIVE.match(raw)
            or any(unicodedata.category(c)[0] == "C" for c in raw)):
        msg = (f"{field}: the file name {shown!r} looks like a path or holds control characters. "
               "Send the bare file name, without folders (e.g. 'report.html').")
        raise BadRequestError(msg, field=field)
    if raw.startswith("."):
        msg = f"{field}: hidden file names such as {shown!r} are not accepted. Rename the file."
        raise BadRequestError(msg, field=field)
    if len(raw) > MAX_NAME:
        msg = f"{field}: the file name is {len(raw)} characters long; the limit is {MAX_NAME}."
        raise BadRequestError(msg, field=field)
    return _UNSAFE.sub("_", raw)


class BlobStore:
    """Content-addressed files under ``root/blobs``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "blobs"

    def path(self, sha256: str) -> Path:
        """Where the blob with this hash lives (the hash is checked, never a user name)."""
        if not _SHA.match(sha256):
            msg = f"not a SHA-256 hex digest: {sha256!r}"
            raise ValueError(msg)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_stream(self, stream: BinaryIO, *, limit: int, name: str) -> tuple[str, int]:
        """Store a stream, refusing it once it passes ``limit`` bytes.

        Returns
        -------
        tuple of (str, int)
            The blob's SHA-256 and its size.

        Raises
        ------
        PayloadTooLargeError
            The stream is larger than ``limit`` bytes.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        msg = (f"{name}: the file is larger than the hub's upload limit of "
                               f"{limit} bytes. Upload a smaller file or ask the hub's "
                               "operator to raise SCRUTINY_HUB_MAX_UPLOAD_BYTES.")
                        raise PayloadTooLargeError(msg, field=name)
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            dest = self.path(sha)
            if dest.exists():
                os.unlink(tmp)
                # the blob is in use again: a sweep must treat it as new (see sweep)
                os.utime(dest)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return sha, size

    def put_bytes(self, data: bytes, *, limit: int, name: str) -> tuple[str, int]:
        """Store bytes (see :meth:`put_stream`)."""
        import io

        return self.put_stream(io.BytesIO(data), limit=limit, name=name)

    def sweep(self, referenced: set[str], *, older_than: float, dry_run: bool = False,
              now: float | None = None) -> dict[str, Any]:
        """Delete blobs no revision or audit refers to, and stale partial uploads.

        A blob (or ``.upload-*`` temporary file) is deleted only when it is not
        in ``referenced`` and was last written more than ``older_than``
        seconds ago: an upload in progress has stored its blobs but not yet
        committed the revision that names them, and a re-upload of existing
        bytes refreshes the blob's time. Safe to run while the hub serves, as
        long as ``older_than`` exceeds the longest request.

        Returns
        -------
        dict
            ``removed`` (hashes, or temporary file names), ``removed_bytes``,
            ``kept_recent`` (unreferenced but too new), ``kept_referenced``,
            ``dry_run``.
        """
        cutoff = (time.time() if now is None else now) - older_than
        removed: list[str] = []
        removed_bytes = kept_recent = kept_referenced = 0
        if not self.root.is_dir():
            return {"removed": [], "removed_bytes": 0, "kept_recent": 0,
                    "kept_referenced": 0, "dry_run": dry_run}
        candidates = [p for p in self.root.glob("*/*/*") if _SHA.match(p.name)]
        candidates += list(self.root.glob(".upload-*"))
        for path in sorted(candidates):
            is_blob = _SHA.match(path.name) is not None
            if is_blob and path.name in referenced:
                kept_referenced += 1
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed meanwhile (a finished upload's temp file)
                continue
            if stat.st_mtime > cutoff:
                kept_recent += 1
                continue
            if not dry_run:
                try:
                    if path.stat().st_mtime > cutoff:  # touched since: in use again
                        kept_recent += 1
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue
            removed.append(path.name)
            removed_bytes += stat.st_size
        return {"removed": removed, "removed_bytes": removed_bytes, "kept_recent": kept_recent,
                "kept_referenced": kept_referenced, "dry_run": dry_run}

    def read(self, sha256: str) -> bytes:
        """The bytes of a blob."""
        return self.path(sha256).read_bytes()

    def iter(self, sha256: str) -> Iterator[bytes]:
        """The bytes of a blob, in chunks."""
        with self.path(sha256).open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
