"""Provider objects of both Optum documents, and their conversion to and from domain providers.

Why one module: both documents spell a provider the same way (an NPI, a person's or organization's
name, for most roles a ``providerType``, a taxonomy and an EIN), take the role from the property
the object sits in, let the deprecated ``providers[]`` array override those properties, and list
line providers in 2420 loops.  What differs per document (which roles exist, which extra
properties are accepted unread, the professional ``ssn``, how the service facility's NPI is named)
stays in ``professional.py`` / ``institutional.py`` as small subclasses and key tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from pydantic import model_validator

from claims.model import Claim, Provider, ProviderRole
from claims.optum._base import Code, OptumModel, error

__all__ = [
    "PROVIDER_TYPES",
    "PROVIDER_TYPE_OF",
    "ProviderName",
    "TaxonomyProvider",
    "claim_providers",
    "claim_providers_json",
    "facility_provider",
    "in_role_order",
    "line_providers",
    "line_providers_json",
    "provider_json",
    "provider_name_json",
    "unique_provider_types",
]

#: ``providerType`` values of the deprecated ``providers[]`` array, by domain role.
PROVIDER_TYPES: Mapping[str, ProviderRole] = {
    "BillingProvider": ProviderRole.BILLING,
    "RenderingProvider": ProviderRole.RENDERING,
    "ReferringProvider": ProviderRole.REFERRING,
    "AttendingProvider": ProviderRole.ATTENDING,
    "SupervisingProvider": ProviderRole.SUPERVISING,
    "OrderingProvider": ProviderRole.ORDERING,
}
PROVIDER_TYPE_OF: Mapping[ProviderRole, str] = {v: k for k, v in PROVIDER_TYPES.items()} | {
    ProviderRole.PURCHASED_SERVICE: "PurchasedServiceProvider",
}

_ROLE_ORDER = {role: i for i, role in enumerate(ProviderRole)}


def in_role_order(providers: Iterable[Provider]) -> tuple[Provider, ...]:
    """Providers in ``ProviderRole`` declaration order: the order JSON objects cannot carry."""
    return tuple(sorted(providers, key=lambda p: _ROLE_ORDER[p.role]))


# ---------------------------------------------------------------------------------------------
# JSON → domain


class ProviderName(OptumModel):
    """The identity every Optum provider object has: an NPI and a person's or organization's name.

    Entity type (NM102) is not a property in Optum's JSON; it follows from which name is given.
    """

    npi: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None

    @model_validator(mode="after")
    def _one_kind_of_name(self) -> ProviderName:
        if self.organization_name is not None and (
            self.last_name is not None or self.first_name is not None
        ):
            raise error(
                "provider_name", "give either organizationName or lastName/firstName, not both"
            )
        return self

    def to_provider(self, role: ProviderRole, *, taxonomy: str = "", tax_id: str = "") -> Provider:
        """The domain provider in ``role``."""
        person = self.last_name is not None or self.first_name is not None
        return Provider(
            role=role,
            npi=self.npi or "",
            taxonomy=taxonomy,
            entity_type="1" if person else "2",
            last_name=(self.last_name if person else self.organization_name) or "",
            first_name=self.first_name or "",
            tax_id=tax_id,
        )


class TaxonomyProvider(ProviderName):
    """A provider object with ``providerType``, ``taxonomyCode`` and ``employerId`` (NM1/PRV/REF).

    Both documents' ``billing``, ``rendering``, ``referring``... and line providers have this
    shape; each document subclasses it for the unread properties it documents (and the
    professional ``ssn``).  ``providerType`` is required by Optum but the role comes from the
    property the object sits in, except in ``providers[]``.
    """

    provider_type: str
    taxonomy_code: Code | None = None
    employer_id: str | None = None

    def tax_id(self) -> str:
        """The domain ``Provider.tax_id``: the EIN (subclasses may fall back to another id)."""
        return self.employer_id or ""

    def to_domain(self, role: ProviderRole) -> Provider:
        """The domain provider in ``role``."""
        return self.to_provider(role, taxonomy=self.taxonomy_code or "", tax_id=self.tax_id())


class _ToDomain(Protocol):
    def to_domain(self, role: ProviderRole, /) -> Provider: ...


class _Entry(_ToDomain, Protocol):
    @property
    def provider_type(self) -> str: ...


class _Facility(Protocol):
    def to_domain(self) -> Provider: ...


def unique_provider_types(entries: Sequence[_Entry] | None) -> None:
    """The check behind each request's ``providers`` validator: one entry per ``providerType``."""
    seen = [p.provider_type for p in entries or ()]
    if len(seen) != len(set(seen)):
        raise ValueError("each providerType may appear only once")


def claim_providers(
    named: Iterable[tuple[_ToDomain | None, ProviderRole]],
    entries: Iterable[_Entry] | None,
    facility: _Facility | None,
) -> tuple[Provider, ...]:
    """The claim's providers from the named properties, ``providers[]`` and the facility.

    Optum: an entry of the ``providers[]`` array overrides the named property of its role.
    """
    by_role: dict[ProviderRole, Provider] = {}
    for named_provider, role in named:
        if named_provider is not None:
            by_role[role] = named_provider.to_domain(role)
    for entry in entries or ():
        role = PROVIDER_TYPES[entry.provider_type]
        by_role[role] = entry.to_domain(role)
    if facility is not None:
        by_role[ProviderRole.SERVICE_FACILITY] = facility.to_domain()
    return in_role_order(by_role.values())


def line_providers(
    named: Iterable[tuple[_ToDomain | None, ProviderRole]], facility: _Facility | None = None
) -> tuple[Provider, ...]:
    """A service line's providers (2420 loops), in role order."""
    providers = [p.to_domain(role) for p, role in named if p is not None]
    if facility is not None:
        providers.append(facility.to_domain())
    return in_role_order(providers)


def facility_provider(name: str, npi: str | None) -> Provider:
    """The domain ``SERVICE_FACILITY`` provider: always an organization."""
    return Provider(
        role=ProviderRole.SERVICE_FACILITY, npi=npi or "", entity_type="2", last_name=name
    )


# ---------------------------------------------------------------------------------------------
# domain → JSON


def provider_name_json(provider: Provider) -> dict[str, str]:
    """Name properties: ``organizationName`` for entity type 2, ``lastName``/``firstName`` for 1."""
    if provider.entity_type == "1":
        out = {"lastName": provider.last_name}
        if provider.first_name:
            out["firstName"] = provider.first_name
        return out
    return {"organizationName": provider.last_name}


def provider_json(
    provider: Provider,
    *,
    provider_type: str | None,
    extras: bool = True,
) -> dict[str, str]:
    """An Optum provider object.  ``extras`` is False for objects without taxonomy and tax id."""
    out: dict[str, str] = {}
    if provider_type is not None:
        out["providerType"] = provider_type
    if provider.npi:
        out["npi"] = provider.npi
    if extras and provider.taxonomy:
        out["taxonomyCode"] = provider.taxonomy
    if extras and provider.tax_id:
        out["employerId"] = provider.tax_id
    out.update(provider_name_json(provider))
    return out


def claim_providers_json(
    claim: Claim,
    keys: Iterable[tuple[str, ProviderRole]],
    write: Callable[[Provider], dict[str, str]],
    out: dict[str, Any],
) -> None:
    """Put the claim's provider of each role in ``keys`` into ``out`` under its property name."""
    for key, role in keys:
        provider = claim.provider(role)
        if provider is not None:
            out[key] = write(provider)


def line_providers_json(
    providers: Iterable[Provider],
    keys: Iterable[tuple[str, ProviderRole]],
    write: Callable[[Provider], dict[str, str]],
    out: dict[str, Any],
) -> None:
    """Put a line's providers into the line object ``out``: the first one of each role in ``keys``.

    Other roles, and a second provider of a role, have no place in the 2420 loops and are left out.
    """
    key_of = {role: key for key, role in keys}
    for provider in providers:
        key = key_of.get(provider.role)
        if key is None or key in out:
            continue
        out[key] = write(provider)
