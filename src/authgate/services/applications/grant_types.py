"""The grant registry: what each grant is called, once, for every layer that names grants.

Each grant's ``GrantSpec`` is declared in ``oauth/grants/specs.py``, which registers them here (and is
all the CLI imports of the grants), and is its class's ``SPEC``; ``oauth/grants/registry.py`` registers
the classes, one line per grant. The
client service (accepted names and ProcessMaker's aliases, ``refresh_token`` implied by refreshable
grants), the metadata, the admin pages, the metrics and the CLI all read this registry, so a new
grant touches none of them. It holds data only, so that the services, which sit below the protocol
core, can read it without importing ``oauth/``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GrantSpec:
    name: str
    """authgate's short name, as stored in a client's ``grants``."""
    label: str
    """How the admin pages name it."""
    urn: str | None = None
    """The token endpoint's ``grant_type``; None for a client kind that is no token endpoint grant."""
    refreshable: bool = False
    """Its tokens may come with a refresh token, so a client given it also gets ``refresh_token``."""
    alias: str | None = None
    """ProcessMaker's (Passport's) name for it, accepted as well."""


PERSONAL_ACCESS = GrantSpec("personal_access", "Personal access", alias="personal_access_client")
"""Passport's personal access client: it owns personal access tokens; it has no token endpoint grant."""


class GrantRegistry:
    """The registered grants, in the order the CLI, the API docs and the error messages list them."""

    def __init__(self):
        self._specs: dict[str, GrantSpec] = {}

    def register(self, spec: GrantSpec) -> GrantSpec:
        known = self._specs.get(spec.name)
        if known is not None and known != spec:
            raise ValueError(f"grant {spec.name!r} is already registered differently")
        self._specs[spec.name] = spec
        return spec

    def unregister(self, name: str) -> None:
        self._specs.pop(name, None)

    def specs(self) -> tuple[GrantSpec, ...]:
        return tuple(self._specs.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def aliases(self) -> dict[str, str]:
        """ProcessMaker's name -> authgate's."""
        return {spec.alias: spec.name for spec in self._specs.values() if spec.alias}

    def choices(self) -> list[str]:
        """Every name a caller may give: the aliases, then authgate's names."""
        return [*self.aliases(), *self._specs]

    def labels(self) -> dict[str, str]:
        return {spec.name: spec.label for spec in self._specs.values()}

    def refreshable(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self._specs.values() if spec.refreshable)

    def urns(self) -> tuple[str, ...]:
        return tuple(spec.urn for spec in self._specs.values() if spec.urn)

    def name_of(self, grant_type: str) -> str:
        """authgate's name for a token endpoint ``grant_type``; an unknown one is returned as it is."""
        for spec in self._specs.values():
            if spec.urn == grant_type:
                return spec.name
        return grant_type


GRANTS = GrantRegistry()
