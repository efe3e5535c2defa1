"""Steps shared by the phone's browser tests."""

from __future__ import annotations

QUEUE_JS = "window.idb.openDB('zw-phone').then((db) => db.getAll('queue'))"
REGISTRATION_JS = """navigator.serviceWorker.getRegistration('/m/').then((r) => r ? {
  installing: r.installing && r.installing.state, waiting: r.waiting && r.waiting.state,
  active: r.active && r.active.state } : null)"""
READS_JS = "window.idb.openDB('zw-phone').then((db) => db.getAllKeys('reads'))"


def queue(page) -> list[dict]:
    """The scans kept on the phone (IndexedDB), as the app stores them."""
    return page.evaluate(QUEUE_JS)


def type_code(page, code: str) -> None:
    page.get_by_label("或输入标签上的编码").fill(code)
    page.get_by_role("button", name="查询").click()
    page.locator("#batch-code").filter(has_text=code).wait_for()


def controlled(page, poll) -> None:
    """Until the service worker controls the page (it has then cached the app shell). A page whose
    navigation began while the worker was activating stays uncontrolled until it is loaded again,
    as on a real phone: reload it then."""

    def check():
        if page.evaluate("Boolean(navigator.serviceWorker.controller)"):
            return True
        registration = page.evaluate(REGISTRATION_JS)
        if registration and registration["active"] == "activated":
            page.reload()
            page.wait_for_load_state()
        return False

    # Generous: installing caches ~3 MB (the QR reader's .wasm) from the live server of a busy test machine.
    poll(
        check,
        page=page,
        timeout_ms=60_000,
        message=lambda: f"no service worker: {page.evaluate(REGISTRATION_JS)}",
    )


def round_saved(page, poll, codes) -> None:
    """Until today's round and each of its batches are kept on the phone for offline use."""

    def saved():
        keys = page.evaluate(READS_JS)
        return "/api/v1/trips/today/" in keys and all(f"/api/v1/batches/{c}/" in keys for c in codes)

    poll(saved, page=page, timeout_ms=30_000, message="today's round was not saved on the phone")
