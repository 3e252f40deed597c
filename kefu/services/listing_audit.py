"""Listing self-audit in the store: import listings, and audit them against what the shop can keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.listing_audit import Finding, ShopPromises, audit_listing
from kefu.domain.listing_audit import Listing as ListingFacts
from kefu.ids import stable_id
from kefu.ingest.listings_file import ListingRejection, read_listings
from kefu.store.growth_tables import Listing
from kefu.store.tables import Shop


@dataclass(frozen=True)
class ListingImport:
    file_name: str
    new: int
    updated: int
    rejected: list[ListingRejection]

    def messages(self) -> list[str]:
        return [f"{self.file_name}:{r.line_no}: {r.reason}" for r in self.rejected]


def import_listings(session: Session, shop_id: str, path: Path | str, *, now: datetime) -> ListingImport:
    """Upsert every good row by listing key; bad rows are reported with their line and do not stop the rest."""
    rows, rejected = read_listings(path)
    existing = {l.listing_key: l for l in session.scalars(select(Listing).where(Listing.shop_id == shop_id))}
    new = updated = 0
    for row in rows:
        values = dict(title=row.title, price=row.price, category=row.category, description=row.description,
                      attributes=row.attributes, freight_free_everywhere=row.freight_free_everywhere,
                      freight_charged_regions=list(row.freight_charged_regions), imported_at=now)
        found = existing.get(row.listing_key)
        if found is None:
            listing = Listing(id=stable_id("listing", shop_id, row.listing_key), shop_id=shop_id,
                              listing_key=row.listing_key, **values)
            session.add(listing)
            existing[row.listing_key] = listing
            new += 1
        else:
            for key, value in values.items():
                setattr(found, key, value)
            updated += 1
    session.flush()
    return ListingImport(Path(path).name, new, updated, rejected)


def shop_promises(session: Session, shop_id: str) -> ShopPromises:
    """What the shop can keep: from its knowledge base when it has one, else from its rules."""
    rules = shop_rules(getattr(session.get(Shop, shop_id), "settings", None))
    try:
        from kefu.services.shop_facts import load_shop_facts

        facts = load_shop_facts(session, shop_id)
        same_day = bool(facts.same_day_shipping)
        hours = int(facts.ship_promise_hours or rules["watch"]["ship_promise_hours"])
        cutoff = facts.ship_cutoff.strftime("%H:%M") if facts.ship_cutoff else None
    except ImportError:
        same_day, hours, cutoff = False, int(rules["watch"]["ship_promise_hours"]), None
    returns = rules.get("returns", {})
    return ShopPromises(same_day_shipping=same_day, ship_promise_hours=hours, ship_cutoff=cutoff,
                        return_exempt_categories=tuple(returns.get("exempt_categories", ()) or ()),
                        return_exempt_keywords=tuple(returns.get("exempt_keywords", ()) or ()))


@dataclass(frozen=True)
class ListingFindings:
    listing: Listing
    findings: list[Finding]


def audit_shop(session: Session, shop_id: str) -> list[ListingFindings]:
    """Every listing with findings, the ones with the most severe problems first."""
    promises = shop_promises(session, shop_id)
    out = []
    for row in session.scalars(select(Listing).where(Listing.shop_id == shop_id).order_by(Listing.listing_key)):
        facts = ListingFacts(key=row.listing_key, title=row.title, description=row.description or "",
                             attributes=row.attributes or {}, freight_free_everywhere=row.freight_free_everywhere,
                             freight_charged_regions=tuple(row.freight_charged_regions or ()), category=row.category)
        findings = audit_listing(facts, promises)
        if findings:
            out.append(ListingFindings(row, findings))
    rank = {"high": 0, "medium": 1, "low": 2}
    return sorted(out, key=lambda lf: (rank[lf.findings[0].severity], -len(lf.findings), lf.listing.listing_key))
