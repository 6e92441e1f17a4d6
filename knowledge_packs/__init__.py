"""Bundled knowledge packs: data folders, not Python; this module only says where they are."""

from pathlib import Path

BUNDLED_DIR = Path(__file__).resolve().parent

__all__ = ["BUNDLED_DIR"]
