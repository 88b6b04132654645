"""The palette's other names (server/catalog/aliases.py) point at real catalogue types."""

from server.catalog import LAYERS, LOSSES, OPTIMIZERS, SCHEDULERS, catalog_json
from server.catalog.aliases import ALIASES


def test_every_alias_names_a_catalogue_type_and_reaches_the_browser() -> None:
    types = {*LAYERS, *LOSSES, *OPTIMIZERS, *SCHEDULERS}
    assert set(ALIASES) <= types, set(ALIASES) - types
    linear = next(e for e in catalog_json()["layers"] if e["type"] == "Linear")
    assert {"dense", "fc"} <= set(linear["aliases"])
    # Search words are lower case, as the palette compares them.
    assert all(a == a.lower() for words in ALIASES.values() for a in words)
