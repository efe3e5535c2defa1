"""Django forms of the pages. ``apply_app_error`` puts a service's refusal beside the form's fields."""

from __future__ import annotations

from waste.errors import AppError


def apply_app_error(form, error: AppError, *, aliases: dict[str, str] | None = None) -> None:
    """Each field path of ``error`` goes beside the form field of that name (``aliases`` map other
    paths, e.g. ``codes`` → ``batches``; ``codes.3`` counts as ``codes``); anything else goes on top."""
    aliases = aliases or {}
    placed = False
    for path, messages in error.fields.items():
        head = path.split(".")[0]
        name = aliases.get(path) or aliases.get(head) or head
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
                placed = True
            else:
                form.add_error(None, message)
                placed = True
    if not placed:
        form.add_error(None, error.message)
