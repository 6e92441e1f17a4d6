"""Run a knowledge pack's test cases: build each claim, scrub it with the pack, compare the edits.

A pack directory holds ``pack.toml`` (validated by :class:`PackManifest`), ``rules/*.rules``,
``tables/*``, ``cases/*.yaml`` and ``docs/<rule-id>.md``.  A case file looks like this::

    cases:
      - name: "GP-0010 fires: zero charge on line 2"
        claim:                       # compact overrides on the pack's base claim
          lines: [{}, {charge: "0.00"}]
        want: [{rule: GP-0010, lines: [2]}]

``cases/_base.yaml`` holds the pack's base claim (``claim:``, Optum JSON shape) that compact
overrides apply to; a case may instead give a whole Optum JSON claim under ``json:``.  ``want``
lists *every* edit the case expects from the pack (rule id and 1-based line positions), so an
unexpected extra edit fails the case as much as a missing one.

A case may set ``as_of: 2025-01-01`` (rules and table rows selected as of that date) and
``processing_date: 2025-06-01``: the value of ``processing_date()`` in the rules (the date the claim
is processed).  Without it the processing date is missing, so rules that use it (timely filing,
future dates of service) stay silent: cases never depend on the day they run.

Why a compact form: a full Optum claim is ~60 lines of JSON; a case should show only what makes the
rule fire or stay silent, so a reviewer sees the point of the case at a glance.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from claims.model import Claim, ClaimKind
from claims.optum import ClaimJsonError, parse_claim_json
from dsl.compile import analyze_pack
from dsl.diagnostics import Diagnostic, Severity
from dsl.ir import CompiledRules

__all__ = [
    "CaseResult",
    "ExpectedEdit",
    "PackManifest",
    "PackReport",
    "PackTestError",
    "build_claim",
    "discover_packs",
    "engine_scrub",
    "load_bases",
    "load_manifest",
    "match_edits",
    "run_pack",
]

BASE_FILE = "_base.yaml"
_M = TypeVar("_M", bound=BaseModel)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PackTestError(Exception):
    """A pack that cannot be tested: bad manifest, bad case file, or rules that do not compile.

    ``diagnostics`` holds the compiler's diagnostics when the rules did not compile.
    """

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = tuple(diagnostics)


# --- pack.toml --------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReferenceData(_Strict):
    """One body of reference data a pack was built against (a code list, a CMS file)."""

    name: str
    source: str
    file: str | None = None
    retrieved: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None


class PackManifest(_Strict):
    """``pack.toml``.  Name, version, title, kinds and depends_on mirror the ``pack`` block."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: str
    kinds: list[Literal["professional", "institutional"]] = Field(min_length=1)
    depends_on: list[str] = []
    description: str = ""
    reference_data: list[ReferenceData] = []
    #: Every rule must have a firing and a silent case (``api.reports.coverage``); enforced by
    #: ``claimscrub test`` and by the store's publish gate.
    require_coverage: bool = False


def load_manifest(pack_dir: Path) -> PackManifest:
    """Read and validate ``pack_dir/pack.toml``; raise :class:`PackTestError` if it is bad."""
    path = pack_dir / "pack.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return PackManifest.model_validate(data)
    except FileNotFoundError as exc:
        raise PackTestError(f"{path}: no pack.toml") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PackTestError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise PackTestError(f"{path}: {problems}") from exc


def manifest_mismatches(manifest: PackManifest, rules: CompiledRules) -> list[str]:
    """Where pack.toml and the rules' ``pack`` block disagree (empty when consistent)."""
    header = rules.pack
    if header is None:
        return ["the rules have no `pack` block"]
    pairs: list[tuple[str, object, object]] = [
        ("name", manifest.name, header.name),
        ("version", manifest.version, header.version),
        ("title", manifest.title, header.title),
        ("kinds", tuple(manifest.kinds), tuple(header.claim_kinds)),
        ("depends_on", tuple(manifest.depends_on), tuple(header.depends_on)),
    ]
    return [f"{k}: pack.toml has {a!r}, rules have {b!r}" for k, a, b in pairs if a != b]


# --- case files -------------------------------------------------------------------------------


class ExpectedEdit(_Strict):
    """An edit a case expects (or one that fired): rule id, 1-based line positions, diagnosis.

    ``diagnosis`` (the code a diagnosis-scope edit is about) is optional in an expectation: when
    given it must match, when left out any diagnosis matches.
    """

    rule: str
    lines: tuple[int, ...] = ()
    diagnosis: str | None = None

    def __str__(self) -> str:
        where = f" lines {','.join(str(n) for n in self.lines)}" if self.lines else ""
        dx = f" dx {self.diagnosis}" if self.diagnosis else ""
        return f"{self.rule}{where}{dx}"

    def matches(self, actual: ExpectedEdit) -> bool:
        """Whether ``actual`` satisfies this expectation."""
        return (
            self.rule == actual.rule
            and self.lines == actual.lines
            and (self.diagnosis is None or self.diagnosis == actual.diagnosis)
        )


def match_edits(
    expected: Sequence[ExpectedEdit], actual: Sequence[ExpectedEdit]
) -> tuple[list[ExpectedEdit], list[ExpectedEdit]]:
    """Pair expectations with edits; return ``(missing, unexpected)`` (both empty: a match).

    Expectations naming a diagnosis are paired first, so a wildcard never takes the edit an exact
    expectation needs.
    """
    left = list(actual)
    missing: list[ExpectedEdit] = []
    for want in sorted(expected, key=lambda e: e.diagnosis is None):
        hit = next((i for i, got in enumerate(left) if want.matches(got)), None)
        if hit is None:
            missing.append(want)
        else:
            left.pop(hit)
    return missing, left


class Case(_Strict):
    """One case: a compact claim (overrides on the base) or a whole Optum JSON claim; its edits."""

    name: str
    kind: Literal["professional", "institutional"] | None = None  # default: the pack's first kind
    claim: dict[str, Any] | None = None
    json_claim: dict[str, Any] | None = Field(default=None, alias="json")
    as_of: date | None = None
    processing_date: date | None = None  # processing_date() in the rules; default: missing
    want: list[ExpectedEdit] = []


class CaseFile(_Strict):
    """A ``cases/*.yaml`` file."""

    cases: list[Case] = []


class BaseFile(_Strict):
    """``cases/_base.yaml``: the base claim compact cases override.

    ``claim`` is the base for the pack's first claim kind; a pack of both kinds gives the base of
    the other kind under ``professional`` or ``institutional``.
    """

    claim: dict[str, Any]
    professional: dict[str, Any] | None = None
    institutional: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case."""

    pack: str
    case: str
    file: str
    passed: bool
    expected: tuple[ExpectedEdit, ...]
    actual: tuple[ExpectedEdit, ...]
    error: str = ""

    @property
    def missing(self) -> list[ExpectedEdit]:
        """Expected edits that did not fire."""
        return match_edits(self.expected, self.actual)[0]

    @property
    def unexpected(self) -> list[ExpectedEdit]:
        """Edits that fired but were not expected."""
        return match_edits(self.expected, self.actual)[1]


@dataclass(frozen=True, slots=True)
class PackReport:
    """The outcome of one pack's cases."""

    pack: str
    directory: Path
    results: tuple[CaseResult, ...]
    warnings: tuple[Diagnostic, ...] = field(default=())
    version: str = ""
    rule_ids: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every case passed (and there was at least one)."""
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failures(self) -> list[CaseResult]:
        """The cases that failed."""
        return [r for r in self.results if not r.passed]

    @property
    def fired(self) -> list[str]:
        """Rule ids that fired in at least one case."""
        seen = {e.rule for r in self.results for e in r.actual}
        return [rid for rid in self.rule_ids if rid in seen]

    @property
    def never_fired(self) -> list[str]:
        """Rule ids no case made fire (untested rules)."""
        seen = set(self.fired)
        return [rid for rid in self.rule_ids if rid not in seen]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PackTestError(f"{path}: invalid YAML: {exc}") from exc


def _validate(model: type[_M], data: Any, path: Path) -> _M:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise PackTestError(f"{path}: {problems}") from exc


def load_bases(pack_dir: Path, default_kind: str) -> dict[str, dict[str, Any]]:
    """The base claims of ``cases/_base.yaml`` by claim kind (empty without the file)."""
    path = pack_dir / "cases" / BASE_FILE
    if not path.is_file():
        return {}
    base = _validate(BaseFile, _read_yaml(path), path)
    out = {
        k: v
        for k, v in (("professional", base.professional), ("institutional", base.institutional))
        if v is not None
    }
    out[default_kind] = base.claim
    return out


def load_cases(pack_dir: Path) -> tuple[dict[str, Any] | None, list[tuple[str, Case]]]:
    """The pack's base claim (if any) and its cases as ``(file name, case)``, in file order."""
    cases_dir = pack_dir / "cases"
    base: dict[str, Any] | None = None
    base_path = cases_dir / BASE_FILE
    if base_path.is_file():
        base = _validate(BaseFile, _read_yaml(base_path), base_path).claim
    out: list[tuple[str, Case]] = []
    for path in sorted(cases_dir.glob("*.yaml")) if cases_dir.is_dir() else []:
        if path.name.startswith("_"):
            continue
        cases = _validate(CaseFile, _read_yaml(path), path).cases
        out.extend((path.name, case) for case in cases)
    return base, out


# --- compact claims ---------------------------------------------------------------------------

_Path = tuple[str, ...]
_CLAIM_KEYS: Mapping[str, Mapping[str, _Path]] = {
    "professional": {
        "totalCharge": ("claimInformation", "claimChargeAmount"),
        "placeOfService": ("claimInformation", "placeOfServiceCode"),
        "frequency": ("claimInformation", "claimFrequencyCode"),
        "onsetDate": ("claimInformation", "claimDateInformation", "symptomDate"),
        "birthDate": ("subscriber", "dateOfBirth"),
        "sex": ("subscriber", "gender"),
        "billingNpi": ("billing", "npi"),
    },
    "institutional": {
        "totalCharge": ("claimInformation", "claimChargeAmount"),
        "facilityType": ("claimInformation", "placeOfServiceCode"),
        "frequency": ("claimInformation", "claimFrequencyCode"),
        "statementFrom": ("claimInformation", "claimDateInformation", "statementBeginDate"),
        "statementTo": ("claimInformation", "claimDateInformation", "statementEndDate"),
        "admissionType": ("claimInformation", "claimCodeInformation", "admissionTypeCode"),
        "admissionSource": ("claimInformation", "claimCodeInformation", "admissionSourceCode"),
        "patientStatus": ("claimInformation", "claimCodeInformation", "patientStatusCode"),
        "birthDate": ("subscriber", "dateOfBirth"),
        "sex": ("subscriber", "gender"),
        "billingNpi": ("billing", "npi"),
        "attendingNpi": ("attending", "npi"),
    },
}
_LINE_KEYS: Mapping[str, Mapping[str, _Path]] = {
    "professional": {
        "procedureCode": ("professionalService", "procedureCode"),
        "modifiers": ("professionalService", "procedureModifiers"),
        "charge": ("professionalService", "lineItemChargeAmount"),
        "units": ("professionalService", "serviceUnitCount"),
        "placeOfService": ("professionalService", "placeOfServiceCode"),
        "pointers": (
            "professionalService",
            "compositeDiagnosisCodePointers",
            "diagnosisCodePointers",
        ),
        "serviceDate": ("serviceDate",),
        "serviceDateEnd": ("serviceDateEnd",),
    },
    "institutional": {
        "revenueCode": ("institutionalService", "serviceLineRevenueCode"),
        "procedureCode": ("institutionalService", "procedureCode"),
        "modifiers": ("institutionalService", "procedureModifiers"),
        "charge": ("institutionalService", "lineItemChargeAmount"),
        "units": ("institutionalService", "serviceUnitCount"),
        "serviceDate": ("serviceDate",),
        "serviceDateEnd": ("serviceDateEnd",),
    },
}
_CHARGE_PATH: Mapping[str, _Path] = {
    "professional": ("professionalService", "lineItemChargeAmount"),
    "institutional": ("institutionalService", "lineItemChargeAmount"),
}


def _scalar(value: Any) -> Any:
    """YAML scalars to Optum JSON strings: dates (also ISO strings) as CCYYMMDD, numbers as text."""
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value.replace("-", "")
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    return value


def _set(obj: dict[str, Any], path: _Path, value: Any) -> None:
    """Set ``path`` in ``obj`` (creating objects on the way); ``None`` deletes the key."""
    *head, leaf = path
    for key in head:
        nxt = obj.get(key)
        if not isinstance(nxt, dict):
            if value is None:
                return
            nxt = {}
            obj[key] = nxt
        obj = nxt
    if value is None:
        obj.pop(leaf, None)
    else:
        obj[leaf] = _scalar(value)


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Deep-merge ``patch`` into ``target``; ``None`` deletes, lists replace."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = (
                copy.deepcopy(_scalar(value))
                if not isinstance(value, Mapping)
                else (copy.deepcopy(dict(value)))
            )


def _dx_entry(item: Any) -> tuple[str, str | None]:
    if isinstance(item, Mapping):
        return str(item["code"]), (str(item["poa"]) if item.get("poa") is not None else None)
    return str(item), None


def _diagnoses(doc: dict[str, Any], kind: str, compact: Mapping[str, Any]) -> None:
    info = doc.setdefault("claimInformation", {})
    if kind == "professional" and "diagnoses" in compact:
        codes = [_dx_entry(x)[0] for x in compact["diagnoses"]]
        info["healthCareCodeInformation"] = [
            {"diagnosisTypeCode": "ABK" if i == 0 else "ABF", "diagnosisCode": c}
            for i, c in enumerate(codes)
        ]
    if kind != "institutional":
        return
    if "principal" in compact:
        if compact["principal"] is None:
            info.pop("principalDiagnosis", None)
        else:
            code, poa = _dx_entry(compact["principal"])
            pdx: dict[str, Any] = {"qualifierCode": "ABK", "principalDiagnosisCode": code}
            if poa is not None:
                pdx["presentOnAdmissionIndicator"] = poa
            info["principalDiagnosis"] = pdx
    if "otherDiagnoses" in compact:
        others = []
        for item in compact["otherDiagnoses"] or ():
            code, poa = _dx_entry(item)
            odx: dict[str, Any] = {"qualifierCode": "ABF", "otherDiagnosisCode": code}
            if poa is not None:
                odx["presentOnAdmissionIndicator"] = poa
            others.append(odx)
        if others:
            info["otherDiagnosisInformationList"] = [others]
        else:
            info.pop("otherDiagnosisInformationList", None)


def _lines(doc: dict[str, Any], kind: str, compact: Sequence[Any]) -> None:
    info = doc.setdefault("claimInformation", {})
    template = (info.get("serviceLines") or [{}])[0]
    lines = []
    for n, item in enumerate(compact, 1):
        line = copy.deepcopy(template)
        if "assignedNumber" in line:
            line["assignedNumber"] = str(n)
        for key, value in (item or {}).items():
            if key == "json":
                _merge(line, value)
            elif key in _LINE_KEYS[kind]:
                _set(line, _LINE_KEYS[kind][key], value)
            else:
                raise PackTestError(f"unknown compact line key {key!r}")
        lines.append(line)
    info["serviceLines"] = lines


def _line_total(doc: Mapping[str, Any], kind: str) -> str:
    total = Decimal(0)
    for line in doc.get("claimInformation", {}).get("serviceLines", []):
        node: Any = line
        for key in _CHARGE_PATH[kind]:
            node = node.get(key, {}) if isinstance(node, Mapping) else {}
        try:
            total += Decimal(str(node))
        except InvalidOperation:
            continue
    return str(total)


def expand_claim(base: Mapping[str, Any], kind: str, compact: Mapping[str, Any]) -> dict[str, Any]:
    """The Optum JSON claim for ``compact`` overrides on ``base``.

    Keys: the claim-level aliases in ``_CLAIM_KEYS`` (``None`` removes the field), ``diagnoses``
    (professional: codes, the first is principal), ``principal`` / ``otherDiagnoses``
    (institutional: codes or ``{code, poa}``), ``lines`` (each a dict of line aliases over the
    base's first line), and ``json`` (a deep-merge patch for anything else).  Unless
    ``totalCharge`` is given, the total is recomputed as the sum of the line charges whenever
    ``lines`` is given.
    """
    doc = copy.deepcopy(dict(base))
    aliases = _CLAIM_KEYS[kind]
    for key, value in compact.items():
        if key in aliases:
            _set(doc, aliases[key], value)
        elif key not in ("lines", "diagnoses", "principal", "otherDiagnoses", "json"):
            raise PackTestError(f"unknown compact claim key {key!r}")
    _diagnoses(doc, kind, compact)
    if "lines" in compact:
        _lines(doc, kind, compact["lines"])
        if "totalCharge" not in compact:
            _set(doc, aliases["totalCharge"], _line_total(doc, kind))
    if "json" in compact:
        _merge(doc, compact["json"])
    return doc


def build_claim(case: Case, base: Mapping[str, Any] | None, kind: str) -> Claim:
    """The domain claim of ``case`` (through the Optum JSON boundary)."""
    if case.json_claim is not None:
        doc = case.json_claim
    elif base is not None:
        doc = expand_claim(base, kind, case.claim or {})
    else:
        raise PackTestError(f"case {case.name!r}: no `json` claim and no cases/{BASE_FILE}")
    return parse_claim_json(doc, kind=ClaimKind(kind))


# --- running ----------------------------------------------------------------------------------

Scrub = Callable[[Sequence[Claim], date | None, date | None], list[list[ExpectedEdit]]]
"""``(claims, as_of, processing_date) -> edits per claim``."""


def compile_checked(pack_dir: Path) -> tuple[PackManifest, CompiledRules, tuple[Diagnostic, ...]]:
    """Validate the manifest and compile the rules; raise :class:`PackTestError` on any error."""
    manifest = load_manifest(pack_dir)
    result = analyze_pack(pack_dir)
    if result.rules is None:
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        raise PackTestError(
            f"the rules do not compile ({len(errors)} error(s))", errors or result.diagnostics
        )
    mismatches = manifest_mismatches(manifest, result.rules)
    if mismatches:
        raise PackTestError(f"{pack_dir / 'pack.toml'}: " + "; ".join(mismatches))
    warnings = tuple(d for d in result.diagnostics if d.severity is not Severity.ERROR)
    return manifest, result.rules, warnings


Evaluator = Literal["numba", "reference"]


def engine_scrub(pack_dir: Path, evaluator: Evaluator = "numba") -> Scrub:
    """A scrub function over this one pack with the engine's ``Scrubber`` (built on first use)."""
    made: list[Any] = []

    def scrub(
        claims: Sequence[Claim], as_of: date | None, processing_date: date | None = None
    ) -> list[list[ExpectedEdit]]:
        if not made:
            from engine.scrubber import Scrubber

            made.append(Scrubber.from_directories([pack_dir]))
        results = made[0].scrub(
            list(claims), as_of=as_of, evaluator=evaluator, processing_date=processing_date
        )
        return [
            [
                ExpectedEdit(rule=e.rule_id, lines=tuple(e.lines), diagnosis=e.diagnosis or None)
                for e in edits
            ]
            for edits in results
        ]

    return scrub


def run_pack(
    pack_dir: Path | str, *, scrub: Scrub | None = None, evaluator: Evaluator = "numba"
) -> PackReport:
    """Run every case of the pack in ``pack_dir``; raise :class:`PackTestError` if it cannot run."""
    root = Path(pack_dir)
    manifest, rules, warnings = compile_checked(root)
    _base, cases = load_cases(root)
    bases = load_bases(root, manifest.kinds[0])
    scrub_fn = scrub if scrub is not None else engine_scrub(root, evaluator)
    results: list[CaseResult] = []
    for file, case in cases:
        expected = tuple(sorted(case.want, key=_edit_key))
        kind = case.kind or manifest.kinds[0]
        try:
            if kind not in manifest.kinds:
                raise PackTestError(f"the pack does not apply to {kind} claims")
            claim = build_claim(case, bases.get(kind), kind)
        except (ClaimJsonError, PackTestError) as exc:
            results.append(
                CaseResult(manifest.name, case.name, file, False, expected, (), f"bad claim: {exc}")
            )
            continue
        edits = scrub_fn([claim], case.as_of, case.processing_date)[0]
        actual = tuple(sorted(edits, key=_edit_key))
        results.append(
            CaseResult(
                manifest.name,
                case.name,
                file,
                match_edits(expected, actual) == ([], []),
                expected,
                actual,
            )
        )
    ids = tuple(r.id for r in rules.rules)
    return PackReport(manifest.name, root, tuple(results), warnings, manifest.version, ids)


def _edit_key(e: ExpectedEdit) -> tuple[str, tuple[int, ...], str]:
    return (e.rule, e.lines, e.diagnosis or "")


def discover_packs(root: Path) -> list[Path]:
    """Pack directories directly under ``root`` (those with a ``pack.toml``), in name order."""
    return sorted(p for p in root.iterdir() if (p / "pack.toml").is_file())
