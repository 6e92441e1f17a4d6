"""Every property name our models accept exists in Optum's OpenAPI documents, at the same place.

Skips when the reference documents (``../shared`` beside the checkout) are absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from claims.optum import InstitutionalClaimRequest, ProfessionalClaimRequest
from claims.optum._base import OptumModel, accepted_keys

OPENAPI = Path(__file__).resolve().parents[3] / "shared" / "reference" / "optum-openapi"
DOCUMENTS: dict[type[OptumModel], tuple[str, str]] = {
    ProfessionalClaimRequest: (
        "optum-medical-network-professional-claims-v3.json",
        "ClaimSubmissionRequest",
    ),
    InstitutionalClaimRequest: (
        "optum-medical-network-institutional-claims-v1.json",
        "InstitutionalClaimsRequest",
    ),
}


def _model_of(annotation: Any) -> type[OptumModel] | None:
    """The OptumModel inside ``X | None``, ``list[X]`` or ``list[list[X]]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation if issubclass(annotation, OptumModel) else None
    if get_origin(annotation) is not None or get_args(annotation):
        for arg in get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _schema_of(prop: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" not in prop and "items" in prop:
        prop = prop["items"]
    found: dict[str, Any] = schemas[prop["$ref"].rsplit("/", 1)[-1]]
    return found


def _walk(
    model: type[OptumModel], schema: dict[str, Any], schemas: dict[str, Any], path: str
) -> list[tuple[str, type[OptumModel], dict[str, Any]]]:
    out = [(path, model, schema)]
    for name, field in model.model_fields.items():
        sub = _model_of(field.annotation)
        alias = field.alias or name
        if sub is not None and alias in schema.get("properties", {}):
            child = _schema_of(schema["properties"][alias], schemas)
            out += _walk(sub, child, schemas, f"{path}.{alias}")
    return out


def _pairs() -> list[tuple[str, type[OptumModel], dict[str, Any]]]:
    if not OPENAPI.is_dir():
        pytest.skip(f"Optum OpenAPI documents not present at {OPENAPI}")
    out = []
    for model, (file, root) in DOCUMENTS.items():
        schemas = json.loads((OPENAPI / file).read_text())["components"]["schemas"]
        out += _walk(model, schemas[root], schemas, root)
    return out


def test_every_accepted_name_is_in_the_spec_and_every_spec_name_is_accepted() -> None:
    problems = []
    for path, model, schema in _pairs():
        spec = set(schema.get("properties", {}))
        ours = set(accepted_keys(model))
        if ours - spec:
            problems.append(f"{path} ({model.__name__}) not in spec: {sorted(ours - spec)}")
        if spec - ours:
            problems.append(
                f"{path} ({model.__name__}) spec names not accepted: {sorted(spec - ours)}"
            )
    assert not problems, "\n".join(problems)


def test_what_we_require_optum_requires() -> None:
    for path, model, schema in _pairs():
        ours = {f.alias or n for n, f in model.model_fields.items() if f.is_required()}
        assert ours <= set(schema.get("required", [])), (path, ours - set(schema["required"]))


def test_main_objects_are_all_checked() -> None:
    covered = {path for path, _, _ in _pairs()}
    for expected in (
        "ClaimSubmissionRequest.claimInformation.serviceLines.professionalService",
        "ClaimSubmissionRequest.claimInformation.healthCareCodeInformation",
        "InstitutionalClaimsRequest.claimInformation.serviceLines.institutionalService",
        "InstitutionalClaimsRequest.claimInformation.otherDiagnosisInformationList",
        "InstitutionalClaimsRequest.operatingPhysician",
    ):
        assert expected in covered
