"""claimscrub engine: compiled packs over columnar claim batches (Numba) or the reference."""

from engine.batch import ClaimBatch, Interner
from engine.compiled import CompiledPack, compile_pack
from engine.edits import Edit
from engine.evaluate import evaluate
from engine.pack import PackData
from engine.scrubber import Scrubber

__all__ = [
    "ClaimBatch",
    "CompiledPack",
    "Edit",
    "Interner",
    "PackData",
    "Scrubber",
    "compile_pack",
    "evaluate",
]
