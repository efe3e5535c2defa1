"""The one application error type. Services raise it; one DRF handler renders it."""

from __future__ import annotations


class AppError(Exception):
    """A refusal the client can act on: machine code, human message, field paths."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        fields: dict[str, list[str]] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields or {}
        if status is not None:
            self.status = status

    @classmethod
    def field(cls, path: str, message: str, *, code: str = "invalid", status: int | None = None):
        return cls(message, code=code, fields={path: [message]}, status=status)


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class Forbidden(AppError):
    status = 403
