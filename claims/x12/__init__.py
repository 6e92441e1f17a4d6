"""X12 005010 837P/837I: a streaming reader and a writer for the domain ``Claim``.

Pipeline (one pass per module): ``tokenizer`` (bytes → segment chunks, bounded memory) →
``_envelope`` (driver, ISA/GS/ST checks, errors) → ``reader`` (837 loops → ``Claim``);
``writer`` goes the other way.  Errors are values (``X12Error``), interleaved with claims.
"""

from claims.x12.errors import CODES, X12Error
from claims.x12.reader import looks_like_x12, read_x12
from claims.x12.writer import WriteOptions, write_x12

__all__ = ["CODES", "WriteOptions", "X12Error", "looks_like_x12", "read_x12", "write_x12"]
