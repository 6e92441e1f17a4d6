"""The JSON boundary for claims, in the shape of Optum's Medical Network claims APIs.

``parse_claim_json`` / ``parse_claims_json`` read Optum's ``ClaimSubmissionRequest`` (Professional
Claims v3) and ``InstitutionalClaimsRequest`` (Institutional Claims v1) into ``claims.model.Claim``;
``claim_to_json`` writes them back.  The OpenAPI documents are the authority for names and nesting;
``tests/claims/test_optum_openapi.py`` checks every name both ways.

Choices, and why:

* Property names.  Declared properties are validated; properties Optum documents but the domain has
  no place for are accepted and ignored (``OptumModel.UNMODELLED``); any other name is an error at
  its path, so a typo cannot drop data silently.  Objects that are wholly unmodelled (``claimNote``,
  ``otherSubscriberInformation``...) are not looked inside.
* Required properties are those Optum requires *and* the domain always holds (so ``claim_to_json``
  always writes them).  Optum-required properties the domain may lack (``billing``,
  ``principalDiagnosis``, ``benefitsAssignmentCertificationIndicator``...) are optional here: the
  scrubber reports them as ``structure`` edits, with the same paths, instead of refusing the claim.
* Codes are stripped, upper-cased (ICD codes also lose their dot) and must be letters and digits;
  they are not checked against code lists, which is the rules' job.  Free text is kept verbatim.
* Amounts and quantities: Optum sends strings (``"100.00"``); JSON numbers are accepted too and read
  exactly (``json.loads(parse_float=Decimal)``).  They are written back as strings with the digits
  the ``Decimal`` has.  Dates are ``YYYYMMDD``; impossible dates are errors.
* Kind: the explicit argument, else ``professionalService``/``institutionalService`` in the lines,
  else a claim-level property only one document has; ``claim_to_json`` always writes one
  (``healthCareCodeInformation`` or ``claimCodeInformation``), so its output is always detectable.
* Errors: ``ClaimJsonError.errors`` holds ``{path, message, value?}`` with 0-based indexes; values
  are never shown for personal fields (see ``claims.optum.errors``).

What the documents cannot carry (``claim_to_json`` leaves it out; everything else round-trips):

* both: ``PAY_TO`` providers; a second provider of one role; provider order other than
  ``ProviderRole`` order; entity types other than ``1``/``2``; an organization's first name;
  service facility taxonomy/tax id; ``relationship_code`` other than ``18`` without a ``patient``;
  empty codes inside lists; line numbers and pointers below 1; non-finite amounts.
* professional: ``submitter``/``receiver`` identifiers; ``procedures``; statement dates; admission
  type/source and patient status; occurrence, span and value codes; ``Diagnosis.poa``; claim-level
  attending/operating/other-operating/purchased-service providers; line ``revenue_code``.
* institutional: ``onset_date``; ``discharge_date``; ``related_causes``; patient ``member_id``;
  supervising/ordering/purchased-service providers; operating physicians' taxonomy and tax id;
  POA on admitting and reason-for-visit diagnoses; more than one principal or admitting diagnosis or
  principal procedure; diagnosis order other than ``institutional.DIAGNOSIS_ORDER``; line
  ``place_of_service``, ``diagnosis_pointers`` and ``emergency``.
"""

from claims.optum.convert import claim_to_json, detect_kind, parse_claim_json, parse_claims_json
from claims.optum.errors import ClaimJsonError, JsonIssue, loc_to_path
from claims.optum.institutional import InstitutionalClaimRequest
from claims.optum.professional import ProfessionalClaimRequest

__all__ = [
    "ClaimJsonError",
    "InstitutionalClaimRequest",
    "JsonIssue",
    "ProfessionalClaimRequest",
    "claim_to_json",
    "detect_kind",
    "loc_to_path",
    "parse_claim_json",
    "parse_claims_json",
]
