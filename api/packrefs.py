"""Pack arguments of the CI commands: a pack directory, or a store version ``PACK@VERSION``.

Why one resolver: ``claimscrub test``, ``snapshot`` and ``impact`` all take "a pack" and must accept
the same two spellings.  A directory (one holding ``pack.toml``) is used in place; a store reference
is exported byte for byte into a temporary directory that lives as long as the :class:`PackRefs`
context.  The store is ``--database URL``, else ``$CLAIMSCRUB_DATABASE_URL``, else the default
SQLite file (``store.default_database_url``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ["PackRef", "PackRefError", "PackRefs", "is_store_ref"]


class PackRefError(Exception):
    """An argument that is neither a pack directory nor a version in the store."""


@dataclass(frozen=True, slots=True)
class PackRef:
    """One resolved argument: what the user wrote and the directory holding the pack's files."""

    ref: str
    directory: Path
    from_store: bool
    content_hash: str = ""  # a store version's (``store.content.content_hash``)


def is_store_ref(arg: str) -> bool:
    """Whether ``arg`` reads as ``PACK@VERSION`` rather than a path to a pack directory."""
    if Path(arg).is_dir():
        return False
    name, sep, version = arg.partition("@")
    return bool(sep and name and version and "/" not in name and "\\" not in name)


class PackRefs:
    """Resolve pack arguments; a context manager that removes exported store versions on exit.

    ``PackRefs(database).resolve(arg)`` returns a :class:`PackRef` or raises :class:`PackRefError`.
    """

    def __init__(self, database: str | None = None) -> None:
        self.database = database
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._count = 0

    def __enter__(self) -> PackRefs:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the exported store versions."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def resolve(self, arg: str) -> PackRef:
        """The pack directory for ``arg`` (exporting it from the store when it is a reference)."""
        path = Path(arg)
        if path.is_dir():
            if not (path / "pack.toml").is_file():
                raise PackRefError(f"{arg}: not a pack directory (no pack.toml)")
            return PackRef(arg, path, from_store=False)
        if not is_store_ref(arg):
            raise PackRefError(f"{arg}: no such pack directory, and not a PACK@VERSION reference")
        directory, digest = self._export(arg)
        return PackRef(arg, directory, from_store=True, content_hash=digest)

    def _export(self, ref: str) -> tuple[Path, str]:
        # Imported late: only store references need SQLAlchemy.
        from sqlalchemy.exc import SQLAlchemyError

        from store import default_database_url, export_version, make_engine, make_sessionmaker
        from store.errors import StoreError

        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="claimscrub-packs-")
        self._count += 1
        target = Path(self._tmp.name) / f"{self._count}-{ref.partition('@')[0]}"
        url = self.database or default_database_url()
        engine = make_engine(url)
        try:
            with make_sessionmaker(engine).begin() as session:
                digest = export_version(session, ref, target).content_hash
        except StoreError as exc:
            raise PackRefError(f"{ref}: {exc}") from exc
        except SQLAlchemyError as exc:
            where = engine.url.render_as_string(hide_password=True)
            raise PackRefError(f"{ref}: store at {where}: {exc.__class__.__name__}") from exc
        finally:
            engine.dispose()
        return target, digest
