"""``prefetch(arr, i)``: ask the CPU to start loading ``arr[i]``'s cache line (a hint, no result).

Why: the NCCI pair lister looks up each pair its membership filter lets through in an exact hash
of tens of megabytes (a 1,000,000-pair PTP table), one random slot per pair, mostly from memory.
Prefetched when the filter lets the pair through, the slot's load overlaps the rest of the claim's
probes instead of stalling the lookup after them (``list_pairs`` ~15 % faster on the issue-4
workload).  Numba has no prefetch of its own, so this overloads a plain function with LLVM's
``llvm.prefetch`` (read, keep in every cache level, data).  Called from Python (the kernels'
plain-Python twins) it does nothing, which is what a hint may do.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = ["prefetch"]


def prefetch(arr: Any, i: int) -> None:
    """A hint that ``arr[i]`` will be read soon (no-op outside compiled code)."""


@intrinsic
def _llvm_prefetch(typingctx: Any, arr: Any, i: Any) -> Any:
    sig = types.void(arr, i)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aty = signature.args[0]
        ary = context.make_array(aty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, aty, ary, [args[1]], wraparound=False
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, fnty, "llvm.prefetch.p0i8"
        )
        # rw = 0 (read), locality = 3 (keep in every level), cache type = 1 (data)
        flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        builder.call(fn, [builder.bitcast(ptr, i8p), *flags])
        return context.get_dummy_value()

    return sig, codegen


@overload(prefetch, inline="always")
def _prefetch_impl(arr: Any, i: Any) -> Any:
    if not isinstance(arr, types.Array) or not isinstance(i, types.Integer):
        return None

    def impl(arr: Any, i: Any) -> Any:
        _llvm_prefetch(arr, i)  # type: ignore[call-arg]  # typingctx is Numba's

    return impl
