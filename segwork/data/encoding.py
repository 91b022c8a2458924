"""Text encodings of CSV files: UTF-8 as is, anything else detected and transcoded.

A CSV saved by Excel on Windows is cp1252 (Western) text, one exported by some tools is UTF-16 with
a byte-order mark; DuckDB reads UTF-8 only.  :func:`detect_encoding` says what a file is, using
charset-normalizer (a maintained detector, not hand-written guessing), and :func:`utf8_copy`
writes a UTF-8 copy that the engine reads.  A file that no encoding decodes with confidence keeps
the ``not_utf8`` refusal.

The one tie-break segwork adds to the detector: single-byte code pages often decode a file
almost equally well (``Ågren`` is ``Ågren`` in cp1252, ``Ĺgren`` in cp1250, and a few accented
names give the detector too little text to tell them apart), and charset-normalizer then names any
of them, old DOS code pages included.  segwork takes cp1252, Excel's default on Western Windows
and a superset of latin-1's printable characters, whenever the detector finds it about as good as
its best guess (a "chaos" within 0.1 of the best).  ``encoding=`` names the encoding when the
detection is not what the file is (a Central European cp1250 file, say).
"""

from __future__ import annotations

import codecs
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from segwork.data.contract import ContractBreach, DataContractError

__all__ = [
    "SAMPLE_BYTES",
    "EncodingGuess",
    "detect_encoding",
    "is_utf8",
    "normalize_encoding",
    "not_decodable",
    "utf8_copy",
]

#: How much of a file is looked at to decide whether it needs detection at all (1 MiB).
SAMPLE_BYTES = 1 << 20
#: How much the detector reads of a file that is not UTF-8 (8 MiB; enough text for its statistics).
DETECT_BYTES = 8 << 20
#: The detector's "chaos" (share of odd characters) above which no guess is trusted.
MAX_CHAOS = 0.2
#: Guesses whose chaos is within this of the best one's are as good (see the module docstring):
#: on a small file the detector's language "coherence" is noise, and so are small chaos gaps.
TIE_CHAOS = 0.1
#: Preferred among guesses as good as the best (see the module docstring).
PREFERRED = ("utf_8", "cp1252")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf_32"),
    (codecs.BOM_UTF32_BE, "utf_32"),
    (codecs.BOM_UTF8, "utf_8_sig"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
)


class EncodingGuess:
    """An encoding and how it was found (``"utf-8"``, ``"detected"``, ``"given"``, ``"bom"``)."""

    __slots__ = ("encoding", "how")

    def __init__(self, encoding: str, how: str) -> None:
        self.encoding = encoding
        self.how = how

    @property
    def is_utf8(self) -> bool:
        """Whether the file can be read as it is (UTF-8, with or without a BOM)."""
        return self.encoding in ("utf_8", "utf_8_sig")

    def __repr__(self) -> str:
        return f"EncodingGuess({self.encoding!r}, {self.how!r})"


def normalize_encoding(name: str) -> str:
    """Python's canonical codec name (``"UTF-8"`` -> ``"utf_8"``, ``"latin1"`` ->
    ``"iso8859_1"``); a clear error for a name Python does not know.

    >>> normalize_encoding("Windows-1252"), normalize_encoding("UTF8")
    ('cp1252', 'utf_8')
    """
    try:
        return codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        raise ValueError(
            f"unknown encoding {name!r} (give a name such as 'utf-8' or 'cp1252')"
        ) from None


def _open_binary(path: Path) -> IO[bytes]:
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rb")


def _head(path: Path, n: int) -> bytes:
    with _open_binary(path) as f:
        return f.read(n)


def is_utf8(data: bytes, *, complete: bool) -> bool:
    """Whether ``data`` is UTF-8; a multi-byte character cut at the end counts as UTF-8 unless
    ``complete`` (the whole file was read).

    >>> is_utf8("café".encode(), complete=True), is_utf8("café".encode("cp1252"), complete=True)
    (True, False)
    >>> is_utf8("café".encode()[:-1], complete=False)
    True
    """
    decoder = codecs.getincrementaldecoder("utf_8")()
    try:
        decoder.decode(data, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _chunks(path: Path, size: int = 1 << 24) -> Iterator[bytes]:
    with _open_binary(path) as f:
        while chunk := f.read(size):
            yield chunk


def _whole_file_is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf_8")()
    try:
        for chunk in _chunks(path):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: str | Path, *, full_check: bool = False) -> EncodingGuess:
    """The encoding of a text file: UTF-8 when it is, else charset-normalizer's best guess.

    Only the first MiB is read for a file that is UTF-8 there (``full_check=True`` reads the
    whole file, for a file the engine found not to be UTF-8 further down).  A byte-order mark
    names UTF-16 / UTF-32 / UTF-8 at once.

    Raises
    ------
    DataContractError
        Rule ``not_utf8``: no encoding decodes the file with confidence.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "customers.csv"
    >>> _ = p.write_bytes("customer_id,city\\n1,Malmö\\n2,Besançon\\n3,Ågren\\n".encode("cp1252"))
    >>> detect_encoding(p)
    EncodingGuess('cp1252', 'detected')
    """
    path = Path(path)
    head = _head(path, SAMPLE_BYTES)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return EncodingGuess(name, "bom")
    complete = len(head) < SAMPLE_BYTES
    if is_utf8(head, complete=complete) and (
        complete or not full_check or _whole_file_is_utf8(path)
    ):
        return EncodingGuess("utf_8", "utf-8")
    import charset_normalizer

    sample = head if complete else _head(path, DETECT_BYTES)
    results = list(charset_normalizer.from_bytes(sample))
    if not results:
        raise not_decodable(path, "no text encoding decodes it")
    best = results[0]
    if best.chaos > MAX_CHAOS:
        raise not_decodable(
            path, f"the best guess, {best.encoding}, leaves {best.chaos:.0%} of it garbled"
        )
    for preferred in PREFERRED:
        # the detector's own measure of the preferred encoding, also when it stopped before it
        found = [r for r in results if preferred in r.could_be_from_charset]
        if not found:
            found = list(charset_normalizer.from_bytes(sample, cp_isolation=[preferred]))
        if any(r.chaos <= best.chaos + TIE_CHAOS for r in found):
            return EncodingGuess(preferred, "detected")
    return EncodingGuess(best.encoding, "detected")


def not_decodable(path: Path, why: str) -> DataContractError:
    """The ``not_utf8`` refusal of a file that cannot be decoded with confidence."""
    table = path.name.lower().split(".")[0]
    return DataContractError(
        [
            ContractBreach(
                table,
                None,
                "not_utf8",
                f"{path.name} is not UTF-8 text and its encoding cannot be told with confidence "
                f"({why}); re-save it as UTF-8 (e.g. 'CSV UTF-8' in Excel), or name its "
                "encoding: load(..., encoding='cp1252')",
                0,
                pd.DataFrame(),
            )
        ]
    )


def utf8_copy(path: str | Path, encoding: str, directory: str | Path) -> Path:
    """Write ``path`` decoded from ``encoding`` as UTF-8 into ``directory``; the copy's path.

    Decoded in chunks (memory stays flat); a byte the encoding cannot decode is refused
    (``not_utf8``, naming the encoding) rather than replaced.  A gzipped file is written
    uncompressed.
    """
    path = Path(path)
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    out = Path(directory) / name
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with out.open("w", encoding="utf-8", newline="") as f:
            for chunk in _chunks(path):
                f.write(decoder.decode(chunk))
            f.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as err:
        raise not_decodable(path, f"it is not valid {encoding}: {err.reason}") from err
    return out
