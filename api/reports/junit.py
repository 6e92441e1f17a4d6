"""JUnit XML for ``claimscrub test --junit``: what CI systems render as a test report.

Shape: ``<testsuites>`` holding one ``<testsuite name=PACK>`` per pack, one
``<testcase classname=PACK name=CASE>`` per case; a failing case carries
``<failure message=... type="CaseFailed">`` whose text lists expected, actual, missing and extra
edits.  A pack that could not be tested is a suite with one ``<testcase name="(load)">`` holding an
``<error>``.  With required coverage, each pack gets one more ``<testcase name="(rule coverage)">``
that fails when a rule lacks a firing or a silent case.  ``tests``, ``failures``, ``errors`` and
``skipped`` attributes count the ``testcase`` elements below them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

from api.packtest import CaseResult, PackReport
from api.reports.coverage import RuleCoverage

__all__ = ["BrokenPack", "JUnitPack", "case_failure_text", "junit_xml"]

COVERAGE_CASE = "(rule coverage)"
LOAD_CASE = "(load)"


@dataclass(frozen=True, slots=True)
class BrokenPack:
    """A pack argument that could not be tested, with the reason."""

    ref: str
    message: str


@dataclass(frozen=True, slots=True)
class JUnitPack:
    """One pack's run for the report; ``coverage`` is given only when coverage is required."""

    report: PackReport
    coverage: Sequence[RuleCoverage] | None = None
    time: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)


def _edits(edits: Sequence[object]) -> str:
    return ", ".join(str(e) for e in edits) or "(none)"


def case_failure_text(result: CaseResult) -> str:
    """Expected vs actual edits of a failed case, one item a line."""
    lines = []
    if result.error:
        lines.append(f"error:    {result.error}")
    lines.append(f"expected: {_edits(result.expected)}")
    lines.append(f"actual:   {_edits(result.actual)}")
    if result.missing:
        lines.append(f"missing:  {_edits(result.missing)}")
    if result.unexpected:
        lines.append(f"extra:    {_edits(result.unexpected)}")
    return "\n".join(lines)


def _failure_message(result: CaseResult) -> str:
    if result.error:
        return result.error
    return f"expected [{_edits(result.expected)}], got [{_edits(result.actual)}]"


def _suite(parent: ET.Element, pack: JUnitPack) -> tuple[int, int, int]:
    report = pack.report
    suite = ET.SubElement(parent, "testsuite", name=report.pack)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="version", value=report.version)
    ET.SubElement(props, "property", name="rules", value=str(len(report.rule_ids)))
    for key, value in sorted(pack.extra.items()):
        ET.SubElement(props, "property", name=key, value=value)
    tests = failures = 0
    for result in report.results:
        tests += 1
        case = ET.SubElement(
            suite, "testcase", classname=report.pack, name=result.case, file=result.file
        )
        if not result.passed:
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=_failure_message(result), type="CaseFailed"
            )
            failure.text = case_failure_text(result)
    if pack.coverage is not None:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=report.pack, name=COVERAGE_CASE)
        lacking = [r for r in pack.coverage if not r.covered]
        if lacking:
            failures += 1
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{len(lacking)} rule(s) lack a firing or a silent case",
                type="Coverage",
            )
            failure.text = "\n".join(f"{r.rule}: no {' and no '.join(r.lacks)}" for r in lacking)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("time", f"{pack.time:.3f}")
    return tests, failures, 0


def _broken_suite(parent: ET.Element, broken: BrokenPack) -> tuple[int, int, int]:
    suite = ET.SubElement(
        parent, "testsuite", name=broken.ref, tests="1", failures="0", errors="1", skipped="0"
    )
    case = ET.SubElement(suite, "testcase", classname=broken.ref, name=LOAD_CASE)
    error = ET.SubElement(
        case, "error", message=broken.message.splitlines()[0] if broken.message else "error"
    )
    error.text = broken.message
    return 1, 0, 1


def junit_xml(packs: Sequence[JUnitPack], broken: Sequence[BrokenPack] = ()) -> bytes:
    """The JUnit XML document (UTF-8 bytes with an XML declaration)."""
    root = ET.Element("testsuites", name="claimscrub test")
    totals = [0, 0, 0]
    for pack in packs:
        for i, n in enumerate(_suite(root, pack)):
            totals[i] += n
    for b in broken:
        for i, n in enumerate(_broken_suite(root, b)):
            totals[i] += n
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("time", f"{sum(p.time for p in packs):.3f}")
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
