"""Pack content as data: relative path → text, read from and written to directories byte for byte.

Files are UTF-8 text.  They are read as bytes and decoded strictly, and written back encoded, so
line endings, a BOM and a missing final newline all survive an import/export round trip.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from store.errors import InvalidPackError

__all__ = [
    "FileChange",
    "PackContent",
    "RuleChange",
    "content_hash",
    "diff_contents",
    "file_sha256",
    "read_pack_dir",
    "split_rules",
    "write_pack_dir",
]

MANIFEST = "pack.toml"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SKIPPED_DIRS = frozenset({"__pycache__"})


@dataclass(frozen=True, slots=True)
class PackContent(Mapping[str, str]):
    """The files of one pack version: POSIX relative path → text."""

    files: Mapping[str, str]

    def __getitem__(self, path: str) -> str:
        return self.files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.files))

    def __len__(self) -> int:
        return len(self.files)

    @property
    def sha256(self) -> str:
        """The content hash (see :func:`content_hash`)."""
        return content_hash(self.files)

    def manifest(self) -> dict[str, object]:
        """``pack.toml`` parsed; a ``[pack]`` table, if present, is merged into the top level."""
        text = self.files.get(MANIFEST)
        if text is None:
            raise InvalidPackError(f"the pack has no {MANIFEST}")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidPackError(f"{MANIFEST}: {exc}") from exc
        inner = data.get("pack")
        if isinstance(inner, dict):
            return {**data, **inner}
        return data

    def rule_files(self) -> list[str]:
        """Paths of ``rules/*.rules``, sorted."""
        return [p for p in self if p.startswith("rules/") and p.endswith(".rules")]


def file_sha256(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of one file."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(files: Mapping[str, str]) -> str:
    """SHA-256 over the files sorted by path: for each, ``path NUL sha256(content) LF``.

    Hashing per-file digests keeps the hash unambiguous (no path/content boundary confusion) and
    lets the store compute it from the stored per-file hashes.
    """
    return content_hash_from_digests({p: file_sha256(t) for p, t in files.items()})


def content_hash_from_digests(digests: Mapping[str, str]) -> str:
    """:func:`content_hash` from per-file SHA-256 digests."""
    h = hashlib.sha256()
    for path in sorted(digests):
        h.update(f"{path}\0{digests[path]}\n".encode())
    return h.hexdigest()


def check_path(path: str) -> str:
    """``path`` as a normalised POSIX path inside the pack, else InvalidPackError."""
    if "\\" in path or "\0" in path:
        raise InvalidPackError(f"invalid file path {path!r}")
    p = PurePosixPath(path)
    if p.is_absolute() or not p.parts or any(part in ("..", ".", "") for part in p.parts):
        raise InvalidPackError(f"file path {path!r} must be relative and stay inside the pack")
    if any(part.startswith(".") for part in p.parts):
        raise InvalidPackError(f"file path {path!r}: hidden files are not part of a pack")
    return p.as_posix()


def check_name(name: str) -> str:
    """A pack name or version string: letters, digits, ``_ . -``, at most 64 characters."""
    if not _NAME.match(name):
        raise InvalidPackError(
            f"invalid name {name!r}: use letters, digits, '_', '.', '-' (at most 64 characters)"
        )
    return name


def read_pack_dir(directory: Path) -> PackContent:
    """Every regular file under ``directory`` (hidden files and ``__pycache__`` skipped) as text."""
    if not (directory / MANIFEST).is_file():
        raise InvalidPackError(f"{directory}: not a pack directory (no {MANIFEST})")
    files: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part.startswith(".") or part in _SKIPPED_DIRS for part in rel.parts):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        try:
            files[rel.as_posix()] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidPackError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return PackContent(files)


def write_pack_dir(content: Mapping[str, str], directory: Path) -> None:
    """Write ``content`` under ``directory`` (created; must be empty or absent), bytes exactly."""
    if directory.exists() and any(directory.iterdir()):
        raise InvalidPackError(f"{directory}: export target must be empty or absent")
    directory.mkdir(parents=True, exist_ok=True)
    for rel, text in sorted(content.items()):
        target = directory / check_path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


# A rule starts at a line beginning with ``rule`` (the grammar's ``rule NAME "title"? {``); it runs
# to the next item (``rule``, ``table``, ``pack``) or the end of the file.  Comment lines right
# above an item belong to it.
_ITEM = re.compile(r"^(rule|table|pack)\b[ \t]*([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)?")


def split_rules(text: str) -> dict[str, str]:
    """Rule id → the rule's source text in a ``.rules`` file (other items: ``kind:name``)."""
    lines = text.splitlines(keepends=True)
    starts: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        m = _ITEM.match(line)
        if m:
            kind, name = m.group(1), m.group(2) or "?"
            key = name if kind == "rule" else f"{kind}:{name}"
            begin = i
            while begin > 0 and lines[begin - 1].lstrip().startswith("#"):
                begin -= 1
            starts.append((begin, key))
    out: dict[str, str] = {}
    for n, (begin, key) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        body = "".join(lines[begin:end])
        unique = key
        k = 2
        while unique in out:  # a duplicate id is the compiler's to report; keep both here
            unique = f"{key}#{k}"
            k += 1
        out[unique] = body
    return out


ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One rule added, removed or changed between two versions of a ``.rules`` file."""

    rule_id: str
    change: ChangeKind
    diff: str

    def to_json(self) -> dict[str, str]:
        """JSON form."""
        return {"rule_id": self.rule_id, "change": self.change, "diff": self.diff}


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file added, removed or changed, with a unified diff and, for rule files, rule changes."""

    path: str
    change: ChangeKind
    diff: str
    rules: tuple[RuleChange, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {
            "path": self.path,
            "change": self.change,
            "diff": self.diff,
            "rules": [r.to_json() for r in self.rules],
        }


def _unified(a: str, b: str, a_name: str, b_name: str) -> str:
    return "".join(
        difflib.unified_diff(
            a.splitlines(keepends=True), b.splitlines(keepends=True), a_name, b_name
        )
    )


def _rule_changes(old: str, new: str) -> tuple[RuleChange, ...]:
    a, b = split_rules(old), split_rules(new)
    out: list[RuleChange] = []
    for key in sorted(a.keys() | b.keys()):
        if key not in b:
            out.append(RuleChange(key, "removed", _unified(a[key], "", key, "/dev/null")))
        elif key not in a:
            out.append(RuleChange(key, "added", _unified("", b[key], "/dev/null", key)))
        elif a[key] != b[key]:
            out.append(RuleChange(key, "changed", _unified(a[key], b[key], key, key)))
    return tuple(out)


def diff_contents(
    old: Mapping[str, str], new: Mapping[str, str], old_label: str = "a", new_label: str = "b"
) -> list[FileChange]:
    """File-by-file (and rule-by-rule for ``.rules`` files) differences from ``old`` to ``new``."""
    changes: list[FileChange] = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        change: ChangeKind = (
            "added" if before is None else "removed" if after is None else "changed"
        )
        diff = _unified(
            before or "",
            after or "",
            "/dev/null" if before is None else f"{old_label}/{path}",
            "/dev/null" if after is None else f"{new_label}/{path}",
        )
        rules = _rule_changes(before or "", after or "") if path.endswith(".rules") else ()
        changes.append(FileChange(path, change, diff, rules))
    return changes


_PACK_BLOCK = re.compile(r"""^\s*pack\s+[A-Za-z_][\w-]*\s*\{(?P<body>[^}]*)\}""", re.MULTILINE)
_HEADER_VERSION = re.compile(r'(\bversion\s+)"([^"\\\n]*)"')


def with_header_version(text: str, version: str) -> str:
    """Rule text with the ``version "..."`` of its ``pack`` block set to ``version``.

    The pack header in ``rules/*.rules`` must agree with ``pack.toml``; a new draft bumps both, and
    only that one string changes.  Text without a pack block is returned unchanged.
    """
    block = _PACK_BLOCK.search(text)
    if block is None:
        return text
    m = _HEADER_VERSION.search(text, block.start("body"), block.end("body"))
    if m is None:
        return text
    return f'{text[: m.start(2) - 1]}"{version}"{text[m.end(2) + 1 :]}'


def with_manifest_version(text: str, version: str) -> str:
    """``pack.toml`` text with its ``version = "..."`` (top level or ``[pack]``) set to ``version``.

    Only that one line changes, so the rest of the file stays byte-identical.  Text without such a
    line is returned unchanged.
    """
    lines = text.splitlines(keepends=True)
    section = ""
    pattern = re.compile(r"""^(\s*version\s*=\s*)(["'])(.*?)\2""")
    for i, line in enumerate(lines):
        header = re.match(r"^\s*\[([^\]]*)\]", line)
        if header:
            section = header.group(1).strip()
            continue
        if section in ("", "pack"):
            m = pattern.match(line)
            if m:
                q = m.group(2)
                lines[i] = f"{m.group(1)}{q}{version}{q}" + line[m.end() :]
                return "".join(lines)
    return text
