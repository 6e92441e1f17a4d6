"""Claim models: plain typed domain objects, the Optum JSON boundary, the X12 837 reader/writer."""

from claims.model import (
    Claim,
    ClaimKind,
    Diagnosis,
    DiagnosisRole,
    Provider,
    ProviderRole,
    ServiceLine,
    SourceLocation,
)

__all__ = [
    "Claim",
    "ClaimKind",
    "Diagnosis",
    "DiagnosisRole",
    "Provider",
    "ProviderRole",
    "ServiceLine",
    "SourceLocation",
]
