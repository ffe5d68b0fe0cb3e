"""The one domain error of Cartograph: a rule of the domain was broken by the caller's input."""

from __future__ import annotations


class DomainError(Exception):
    """Raised by services; the API answers it with a 400 (or `status_code`) naming the field when there is one."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict:
        if self.field:
            return {"detail": f"{self.field}: {self.message}", self.field: [self.message]}
        return {"detail": self.message}
