"""Bundled knowledge packs: data folders, not Python; this module only says where they are."""

from pathlib import Path

BUNDLED_DIR = Path(__file__).resolve().parent


def bundled_pack_dirs() -> list[Path]:
    """Every bundled pack directory (one with a ``pack.toml``), sorted by name."""
    return sorted(p for p in BUNDLED_DIR.iterdir() if (p / "pack.toml").is_file())


__all__ = ["BUNDLED_DIR", "bundled_pack_dirs"]
