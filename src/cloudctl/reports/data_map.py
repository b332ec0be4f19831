"""The data map: for each category of pupil data, the services and providers that receive it."""

from __future__ import annotations

from sqlmodel import Session

from cloudctl.domain.services import categories_of, ordered_services
from cloudctl.vocab.data_categories import ALL_CATEGORIES, lookup

# The keys of each row, for the header of an empty CSV.
DATA_MAP_KEYS = (
    "data_category", "recognised", "special_category", "sensitive", "services", "providers", "service_count",
)  # fmt: skip


def data_map(session: Session) -> list[dict]:
    receivers: dict[str, list[tuple[str, str, str]]] = {}
    for service, provider in ordered_services(session):
        for name in categories_of(service):
            # A service whose provider is not recorded yet is named as such, not left out of the map.
            who = provider.name if provider else f"(no provider recorded for {service.name})"
            receivers.setdefault(name, []).append((service.name, service.category, who))
    known_order = {category.label: index for index, category in enumerate(ALL_CATEGORIES)}
    rows = []
    for name in sorted(receivers, key=lambda item: (known_order.get(item, len(known_order)), item.lower())):
        category = lookup(name)
        services = receivers[name]
        rows.append(
            {
                "data_category": name,
                "recognised": category is not None,
                "special_category": bool(category and category.special),
                "sensitive": bool(category and category.sensitive),
                "services": [f"{service} ({section})" for service, section, _ in services],
                "providers": sorted({provider for _, _, provider in services}),
                "service_count": len(services),
            }
        )
    return rows
