from .catalogs import Catalog, CatalogEntry
from .parties import IdScheme, Jurisdiction, MemberRole, Membership, Organisation, Role
from .sites import RECEIVING_KINDS, Permit, Site, SiteKind

__all__ = [
    "Catalog",
    "CatalogEntry",
    "IdScheme",
    "Jurisdiction",
    "MemberRole",
    "Membership",
    "Organisation",
    "Permit",
    "RECEIVING_KINDS",
    "Role",
    "Site",
    "SiteKind",
]
