"""Helpers for the browser tests."""

from __future__ import annotations


def map_drawn(page, timeout_ms: int = 15_000) -> None:
    """Until MapLibre has drawn everything. Polled from here: page.wait_for_function's repeated
    evaluation is refused by the product's CSP (no 'unsafe-eval'), page.evaluate is not."""
    waited = 0
    while not page.evaluate("document.querySelector('[data-map]')._map.loaded()"):
        assert waited < timeout_ms, "the map did not finish drawing"
        page.wait_for_timeout(100)
        waited += 100
