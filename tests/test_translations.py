"""The zh_Hans catalogues are complete: every message of every app's catalogue is translated (and not
fuzzy), its placeholders match, and every string the source marks for translation is in its catalogue.

Apps are found, not listed: every top-level package with an ``apps.py`` (waste, logistics, recycling,
and any later one such as web) whose source marks a string must have
``<app>/locale/zh_Hans/LC_MESSAGES/django.po`` (and ``djangojs.po`` when its JavaScript does)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

REPO = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(REPO.glob("*/locale/zh_Hans/LC_MESSAGES/*.po"))
APPS = sorted(p.parent.name for p in REPO.glob("*/apps.py"))


def key(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


def test_it_finds_a_catalogue_for_each_domain_app():
    found = {po.relative_to(REPO).parts[0] for po in CATALOGUES}
    assert {"waste", "logistics", "recycling"} <= found


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(REPO)))
def test_it_translates_every_message(po):
    catalogue = polib.pofile(str(po))
    live = [e for e in catalogue if not e.obsolete]

    untranslated = [e.msgid for e in live if not e.translated() and "fuzzy" not in e.flags]
    fuzzy = [e.msgid for e in live if "fuzzy" in e.flags]

    assert live, "an empty catalogue"
    assert not untranslated, f"untranslated in {po.relative_to(REPO)}: {untranslated}"
    assert not fuzzy, f"fuzzy (needs review) in {po.relative_to(REPO)}: {fuzzy}"
    for entry in live:  # Chinese, not the English copied over
        text = "".join(entry.msgstr_plural.values()) if entry.msgid_plural else entry.msgstr
        assert text.strip(), entry.msgid


def test_it_gives_one_message_one_translation_across_apps():
    # Django merges every app's catalogue into one: a message translated two ways shows whichever
    # catalogue wins everywhere (a page's column header would rename a status in the API).
    # A message that means two things takes a context (pgettext) instead.
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in CATALOGUES:
        for entry in polib.pofile(str(po)):
            if entry.obsolete or not entry.msgstr:
                continue
            first = seen.setdefault(key(entry), (entry.msgstr, str(po.relative_to(REPO))))
            if first[0] != entry.msgstr:
                clashes.append(f"{entry.msgid!r}: {first[0]} ({first[1]}) / {entry.msgstr} ({po.relative_to(REPO)})")
    assert not clashes, "\n".join(clashes)


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(REPO)))
def test_it_keeps_the_placeholders_of_every_message(po):
    # msgfmt -c checks %(name)s / {name} formats and the header; a wrong placeholder is a 500 at run time.
    done = subprocess.run(["msgfmt", "--check", "-o", os.devnull, str(po)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def extracted(app: str, domain: str, tmp_path: Path) -> set[str]:
    """The messages makemessages finds in a copy of the app's source (the tree is left untouched).
    ``-P``: the copy is the working directory, and its modules (selectors.py) must not shadow the stdlib."""
    copy = tmp_path / app
    shutil.copytree(
        REPO / app,
        copy,
        ignore=shutil.ignore_patterns("locale", "__pycache__", "migrations", "data", "*.mo", "*.pyc", "vendor"),
    )
    (copy / "locale").mkdir()  # where makemessages writes the fresh catalogue
    env = {**os.environ, "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "django", "makemessages", "-l", "zh_Hans", "-d", domain, "--no-location"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    fresh = copy / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    return {key(e) for e in polib.pofile(str(fresh))} if fresh.exists() else set()


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_it_has_every_marked_string_in_the_catalogue(app, domain, tmp_path):
    if domain == "djangojs" and not any((REPO / app).rglob("*.js")):
        return  # nothing to extract: no JavaScript in this app
    marked = extracted(app, domain, tmp_path)
    po = REPO / app / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    if not marked:
        return
    assert po.exists(), f"{app} marks {len(marked)} strings but has no {po.relative_to(REPO)}"
    known = {key(e) for e in polib.pofile(str(po)) if not e.obsolete}
    missing = sorted(marked - known)
    assert not missing, (
        f"{len(missing)} marked strings are not in {po.relative_to(REPO)}; run "
        f"`django-admin makemessages -l zh_Hans` in {app}/ and translate them: {missing}"
    )


def test_it_fills_every_placeholder_of_every_marked_string():
    """``_("… %(name)s …") % {...}`` with a key missing or extra is a KeyError at run time: a 500."""
    import ast
    import re

    wrong = []
    for app in APPS:
        for path in (REPO / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)):
                    continue
                call, values = node.left, node.right
                if not (
                    isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and isinstance(values, ast.Dict)
                ):
                    continue
                if call.func.id not in {"_", "gettext", "gettext_lazy", "pgettext", "gettext_noop"}:
                    continue
                text = call.args[-1] if call.args else None
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    names = set(re.findall(r"%\((\w+)\)", text.value))
                    keys = {k.value for k in values.keys if isinstance(k, ast.Constant)}
                    if names != keys:
                        wrong.append(f"{path.relative_to(REPO)}:{node.lineno} {sorted(names ^ keys)}")
    assert not wrong, wrong


# One word per thing across every app and page (README "Languages" → Terms): a driver who reads 车次 on
# the phone and 行程 in an alert, or 站点 for a stop of the round and for a station, cannot tell they are
# the same. For each English term: the Chinese word the glossary uses, and words that must not stand in.
GLOSSARY_NOT = {
    r"\btrips?\b": ("车次", ("行程", "趟次")),
    r"\bstops?\b": ("停靠点", ("站点",)),
    r"\bmanifests?\b": ("联单", ("清单", "单据")),
    r"\bhazardous waste\b": ("危险废物", ("危废", "有害废物")),
    r"\bdrivers?\b": ("驾驶员", ("司机",)),
}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(REPO)))
def test_it_uses_the_glossary_word_for_each_term(po):
    wrong = []
    for entry in polib.pofile(str(po)):
        if entry.obsolete:
            continue
        english = entry.msgid + " " + entry.msgid_plural
        chinese = "".join(entry.msgstr_plural.values()) if entry.msgid_plural else entry.msgstr
        for pattern, (word, avoided) in GLOSSARY_NOT.items():
            if not re.search(pattern, english, re.IGNORECASE):
                continue
            for other in avoided:
                if other in chinese:
                    wrong.append(f"{entry.msgid!r}: {other} → {word} ({chinese})")
    assert not wrong, f"{po.relative_to(REPO)}:\n" + "\n".join(wrong)
