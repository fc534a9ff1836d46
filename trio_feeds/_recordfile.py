"""The recording file format: JSON lines, compressed, in parts (plain, synchronous file code).

:mod:`trio_feeds.recording` writes it (from a worker thread) and documents it for users;
:mod:`trio_feeds.replay` and ``trio-feeds conform`` read it. Nothing here imports trio.

A recording is a sequence of *records*, one JSON array per line (UTF-8, each ending in a newline):
``[kind, t, w, ...]``, where ``t`` is the engine's clock (``trio.current_time()``, seconds)
and ``w`` the wall clock (``time.time()``) when it happened. The first record of every file is
``["header", t, w, {...}]``. The file is compressed as one stream (gzip or zstd; or not at all)
and flushed at least every second, so a reader sees every record up to the last flush, and a
killed writer loses at most that last second. A file cut in the middle of a record (a kill, a
full disk) reads up to its last complete record.

With rotation, a recording is several files ("parts"); every part starts with a header (its
``part`` number and the recording's ``session`` id), and every part but the last ends with
``["next", t, w, "NAME"]``, the file name of the next part (in the same directory).
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final, Literal, Protocol

import msgspec

__all__ = [
    "FORMAT",
    "VERSION",
    "Compression",
    "PartWriter",
    "RecordReader",
    "RecordingError",
    "compression_of",
    "iter_lines",
    "iter_records",
    "part_path",
    "read_header",
]

FORMAT: Final = "trio-feeds-recording"
VERSION: Final = 1

Compression = Literal["gzip", "zstd", "none"]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_DEFAULT_LEVEL: Mapping[Compression, int] = {"gzip": 6, "zstd": 3, "none": 0}
_ZSTD_MISSING = "zstd compression needs the zstandard package: pip install 'trio-feeds[zstd]'"
# Records are encoded in chunks this long: msgspec holds the GIL while it encodes, and the
# event loop (in the other thread) must not wait for a whole second's worth of records.
_ENCODE_CHUNK = 8192
_READ_SIZE = 1 << 20


class RecordingError(ValueError):
    """A file is not a recording, is corrupt, or a part of a rotated recording is missing."""


# -- compression ---------------------------------------------------------------------------------


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes:
        """Compress ``data`` and flush, so that a reader can decode everything given so far."""

    def finish(self) -> bytes:
        """End the stream."""


class _Gzip:
    def __init__(self, level: int) -> None:
        self._z = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip member

    def compress(self, data: bytes) -> bytes:
        # Z_SYNC_FLUSH ends the deflate block on a byte boundary: everything so far decodes.
        return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._z.flush(zlib.Z_FINISH)


class _Zstd:
    def __init__(self, level: int) -> None:
        try:
            import zstandard  # noqa: PLC0415 - an optional extra, loaded only when chosen
        except ImportError:
            raise RecordingError(_ZSTD_MISSING) from None
        self._flush_block = zstandard.COMPRESSOBJ_FLUSH_BLOCK
        self._z = zstandard.ZstdCompressor(level=level, write_checksum=True).compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._z.compress(data) + self._z.flush(self._flush_block)

    def finish(self) -> bytes:
        return self._z.flush()


class _Plain:
    def compress(self, data: bytes) -> bytes:
        return data

    def finish(self) -> bytes:
        return b""


def _compressor(compression: Compression, level: int | None) -> _Compressor:
    level = _DEFAULT_LEVEL[compression] if level is None else level
    if compression == "gzip":
        return _Gzip(level)
    if compression == "zstd":
        return _Zstd(level)
    return _Plain()


def compression_of(head: bytes) -> Compression:
    """The compression of a file that starts with ``head`` (its first four bytes or more)."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


class _Decompressor:
    """Decompresses a stream given in pieces, across concatenated gzip members or zstd frames."""

    def __init__(self, compression: Compression) -> None:
        self.compression = compression
        self._errors: tuple[type[Exception], ...] = (zlib.error,)
        if compression == "zstd":
            try:
                import zstandard  # noqa: PLC0415 - an optional extra, loaded only when needed
            except ImportError:
                raise RecordingError(_ZSTD_MISSING) from None
            self._zstd = zstandard.ZstdDecompressor()
            self._errors = (zstandard.ZstdError,)
        self._d: Any = self._new()

    def _new(self) -> Any:
        if self.compression == "gzip":
            return zlib.decompressobj(31)
        if self.compression == "zstd":
            return self._zstd.decompressobj()
        return None

    def feed(self, data: bytes) -> bytes:
        if self._d is None:
            return data
        out = []
        try:
            while data:
                out.append(self._d.decompress(data))
                if not self._d.eof:
                    break
                data = self._d.unused_data  # the next member or frame follows
                self._d = self._new()
        except self._errors as exc:
            raise RecordingError(f"corrupt {self.compression} data: {exc}") from None
        return b"".join(out)


# -- writing -------------------------------------------------------------------------------------


def _finite(value: Any) -> Any:
    """JSON has no infinity or NaN: such floats are written as the strings ``"inf"``, ``"nan"``."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


_PART_TAIL = re.compile(r"(\.jsonl)?(\.gz|\.zst)?$")


def part_path(path: Path, part: int) -> Path:
    """The file of part ``part`` of a rotated recording named ``path``: ``x.00002.jsonl.gz``."""
    name = path.name
    tail = _PART_TAIL.search(name)
    cut = tail.start() if tail is not None and tail.group(0) else len(name)
    return path.with_name(f"{name[:cut]}.{part:05d}{name[cut:]}")


class PartWriter:
    """Writes records to a recording's file(s): encoding, compression, flushing, rotation.

    Not thread-safe, and synchronous: the recorder calls it from one worker thread at a time.

    Args:
        path: the file (without rotation), or the name its parts are made from (with).
        compression, level: the stream's compression and its level (``None``: the default).
        rotate_bytes: start a new part once this many (compressed) bytes are in the current one.
        rotate_seconds: start a new part once the current one is this old.
        fsync: ``os.fsync`` after every write (it then survives a machine crash too).
        overwrite: replace existing files rather than refusing.
    """

    def __init__(
        self,
        path: Path,
        *,
        compression: Compression,
        level: int | None,
        rotate_bytes: int | None,
        rotate_seconds: float | None,
        fsync: bool,
        overwrite: bool,
    ) -> None:
        self.base = path
        self.compression: Compression = compression
        self._level = level
        self._rotate_bytes = rotate_bytes
        self._rotate_seconds = rotate_seconds
        self._fsync = fsync
        self._mode = "wb" if overwrite else "xb"
        self._encode_lines = msgspec.json.Encoder().encode_lines
        self._encode = msgspec.json.Encoder().encode
        self.parts: list[Path] = []
        self.bytes_written = 0  # all parts
        self._file: IO[bytes] | None = None
        self._compressor: _Compressor = _Plain()
        self._part_bytes = 0
        self._part_started = (0.0, 0.0)
        self._needs_header = True
        _compressor(compression, level)  # fails now, not at the first write, if zstd is missing

    @property
    def rotating(self) -> bool:
        """Whether the recording is written in parts."""
        return self._rotate_bytes is not None or self._rotate_seconds is not None

    def open(self, t: float, wall: float) -> None:
        """Create the first file (raises ``FileExistsError`` unless ``overwrite``)."""
        self._open_part(t, wall)

    def _open_part(self, t: float, wall: float) -> None:
        path = part_path(self.base, len(self.parts) + 1) if self.rotating else self.base
        self._file = path.open(self._mode)
        self.parts.append(path)
        self._compressor = _compressor(self.compression, self._level)
        self._part_bytes = 0
        self._part_started = (t, wall)  # the header's times
        self._needs_header = True

    def write(self, records: list[Any], header: Mapping[str, Any], t: float, wall: float) -> None:
        """Append ``records`` (tuples, or ``msgspec.Raw`` of encoded ones), flushed to the OS.

        The current part's header goes first if nothing was written to it yet. Rotates after
        the write when the part is full or old enough.
        """
        if not records and not self._needs_header:
            if self._due_rotation(wall):
                self.rotate(header, t, wall)
            return  # nothing new: no empty flush, no fsync
        out = []
        if self._needs_header:
            out.append(self._header_line(header))
            self._needs_header = False
        for start in range(0, len(records), _ENCODE_CHUNK):
            out.append(self._encode_lines(records[start : start + _ENCODE_CHUNK]))
        self._write(b"".join(out))
        if self._due_rotation(wall):
            self.rotate(header, t, wall)

    def _header_line(self, header: Mapping[str, Any]) -> bytes:
        fields = {**header, "part": len(self.parts), "compression": self.compression}
        t, wall = self._part_started
        return self._encode(["header", t, wall, fields]) + b"\n"

    def _due_rotation(self, wall: float) -> bool:
        if self._rotate_bytes is not None and self._part_bytes >= self._rotate_bytes:
            return True
        started = self._part_started[1]
        return self._rotate_seconds is not None and wall - started >= self._rotate_seconds

    def _write(self, data: bytes) -> None:
        if self._file is None:
            raise RecordingError("the recording is closed")
        compressed = self._compressor.compress(data)
        self._file.write(compressed)
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self._part_bytes += len(compressed)
        self.bytes_written += len(compressed)

    def rotate(self, header: Mapping[str, Any], t: float, wall: float) -> None:
        """End the current part with a pointer to the next one, and start that one."""
        next_path = part_path(self.base, len(self.parts) + 1)
        self._write(self._encode(["next", t, wall, next_path.name]) + b"\n")
        self._close_part()
        self._open_part(t, wall)
        self._write(self._header_line(header))
        self._needs_header = False

    def close(self, header: Mapping[str, Any], t: float, wall: float) -> None:
        """End the stream and close the file (a header is written if the part has none yet)."""
        if self._file is None:
            return
        if self._needs_header:
            self._write(self._header_line(header))
            self._needs_header = False
        self._close_part()

    def _close_part(self) -> None:
        file, self._file = self._file, None
        if file is None:
            return
        try:
            tail = self._compressor.finish()
            file.write(tail)
            self.bytes_written += len(tail)
            file.flush()
            if self._fsync:
                os.fsync(file.fileno())
        finally:
            file.close()


def config_json(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with non-finite floats as strings (see :func:`_finite`)."""
    return {k: _finite(v) for k, v in fields.items()}


def config_from_json(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Undo :func:`config_json`."""
    return {k: float(v) if v in ("inf", "-inf", "nan") else v for k, v in fields.items()}


# -- reading -------------------------------------------------------------------------------------


class RecordReader:
    """Reads one file's records incrementally: what was flushed so far, more on the next call.

    Works on a file that is still being written: :meth:`read` returns the complete records
    that arrived since the last call (an incomplete last line waits for the rest).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: IO[bytes] = self.path.open("rb")
        self._head = b""  # the first bytes, until the compression is known
        self._decompressor: _Decompressor | None = None
        self._partial = b""  # an incomplete last line
        self._decode_lines = msgspec.json.Decoder().decode_lines
        self.lines = 0

    def __enter__(self) -> RecordReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def read_lines(self, size: int = _READ_SIZE) -> list[bytes]:
        """The complete lines decoded from the next ``size`` bytes of the file (may be none)."""
        data = self._file.read(size)
        if not data:
            return []
        if self._decompressor is None:
            self._head += data
            if len(self._head) < 4:
                return []
            data, self._head = self._head, b""
            self._decompressor = _Decompressor(compression_of(data))
        text = self._partial + self._decompressor.feed(data)
        cut = text.rfind(b"\n") + 1
        self._partial = text[cut:]
        lines = text[:cut].splitlines()
        self.lines += len(lines)
        return lines

    def read(self, size: int = _READ_SIZE) -> list[list[Any]] | None:
        """The complete records in the next ``size`` bytes; ``None`` at the end of the file."""
        before = self._file.tell()
        lines = self.read_lines(size)
        if not lines:
            return None if self._file.tell() == before else []
        try:
            records: list[Any] = self._decode_lines(b"\n".join(lines))
        except msgspec.DecodeError as exc:
            raise RecordingError(
                f"{self.path}: not a trio-feeds recording (a line is not JSON: {exc})"
            ) from None
        if any(type(r) is not list or not r or type(r[0]) is not str for r in records):
            raise RecordingError(f"{self.path}: not a trio-feeds recording (a line is not a record)")
        return records

    @property
    def truncated(self) -> int:
        """Bytes of an incomplete last record seen so far (a cut file: they are never returned)."""
        return len(self._partial)


def check_header(record: list[Any], path: Path) -> dict[str, Any]:
    """The header fields of a file's first record; raises :class:`RecordingError` if it is not one."""
    if len(record) < 4 or record[0] != "header" or type(record[3]) is not dict:
        raise RecordingError(f"{path}: not a trio-feeds recording (no header record)")
    header: dict[str, Any] = record[3]
    if header.get("format") != FORMAT:
        raise RecordingError(f"{path}: not a trio-feeds recording")
    if header.get("version") != VERSION:
        raise RecordingError(
            f"{path}: recording format version {header.get('version')}; this reads {VERSION}"
        )
    return header


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The header of a recording's file."""
    with RecordReader(path) as reader:
        while True:
            records = reader.read(64 * 1024)
            if records is None:
                raise RecordingError(f"{path}: empty, or no complete header record")
            if records:
                return check_header(records[0], reader.path)


def iter_records(
    path: str | os.PathLike[str], *, follow_parts: bool = True
) -> Generator[list[Any], None, None]:
    """Every record of a recording, parts followed (``next`` records), headers of later parts left out.

    The first record is the first file's header. Raises :class:`RecordingError` when a part is
    missing or belongs to another recording.
    """
    current = Path(path)
    expected: tuple[Any, Any] | None = None  # (session, part) of the next file; None: the first
    while True:
        try:
            reader = RecordReader(current)
        except FileNotFoundError:
            if expected is None:
                raise  # the path given
            raise RecordingError(f"part {expected[1]} of the recording is missing: {current}") from None
        with reader:
            first = True
            next_name = None
            while (records := reader.read()) is not None:
                for record in records:
                    if first:
                        first = False
                        header = check_header(record, current)
                        found = (header.get("session"), header.get("part"))
                        if expected is None:
                            yield record
                        elif found != expected:
                            raise RecordingError(f"{current}: not part {expected[1]} of the same recording")
                        expected = (found[0], (found[1] or 1) + 1)
                    elif record[0] == "next":
                        next_name = record[3]
                    else:
                        yield record
            if first:
                raise RecordingError(f"{current}: empty, or no complete header record")
        if not follow_parts or next_name is None:
            return
        current = current.with_name(str(next_name))


def iter_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of a stream, compressed (gzip, zstd) or not, for ``conform``; a cut last line is left out."""
    head = stream.read(4)
    decompressor = _Decompressor(compression_of(head))
    partial = b""
    data = head
    while data:
        text = partial + decompressor.feed(data)
        cut = text.rfind(b"\n") + 1
        partial = text[cut:]
        yield from text[:cut].splitlines(keepends=True)
        data = stream.read(_READ_SIZE)
    if partial and decompressor.compression == "none":
        yield partial  # a plain text file may lack its last newline
