"""Device authorization requests (RFC 8628 §3.2-3.5), found by the keyed hash of either code.

Every change of state is conditional on the state read (``decide`` on pending and unexpired,
``consume`` on approved), so two browsers or two polls cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authgate.storage.models import DeviceCode


class DeviceCodeStore(Protocol):
    def add(self, s: Session, row: DeviceCode) -> DeviceCode:
        """Insert ``row`` at once (its id is then set)."""

    def by_device_code(self, s: Session, device_code_hash: str) -> DeviceCode | None: ...

    def by_user_code(self, s: Session, user_code_hash: str) -> DeviceCode | None: ...

    def decide(self, s: Session, row_id: int, pending: str, status: str, user_id: int, now: datetime) -> bool:
        """Set ``status`` and the deciding user if the request is still ``pending`` and unexpired."""

    def note_poll(self, s: Session, row_id: int, polled_at: datetime, interval: int | None = None) -> None:
        """Record the poll's time, and a new ``interval`` when given."""

    def change_status(self, s: Session, row_id: int, before: str, after: str) -> bool:
        """``before`` -> ``after``; False if the request was not in ``before`` any more."""


class SqlDeviceCodeStore:
    def add(self, s: Session, row: DeviceCode) -> DeviceCode:
        s.add(row)
        s.flush()
        return row

    def by_device_code(self, s: Session, device_code_hash: str) -> DeviceCode | None:
        return s.scalar(select(DeviceCode).where(DeviceCode.device_code_hash == device_code_hash))

    def by_user_code(self, s: Session, user_code_hash: str) -> DeviceCode | None:
        return s.scalar(select(DeviceCode).where(DeviceCode.user_code_hash == user_code_hash))

    def decide(self, s: Session, row_id: int, pending: str, status: str, user_id: int, now: datetime) -> bool:
        return s.execute(
            update(DeviceCode)
            .where(DeviceCode.id == row_id, DeviceCode.status == pending, DeviceCode.expires_at > now)
            .values(status=status, user_id=user_id)
        ).rowcount == 1

    def note_poll(self, s: Session, row_id: int, polled_at: datetime, interval: int | None = None) -> None:
        values = {"last_polled_at": polled_at} if interval is None else {"last_polled_at": polled_at, "interval": interval}
        s.execute(update(DeviceCode).where(DeviceCode.id == row_id).values(**values))

    def change_status(self, s: Session, row_id: int, before: str, after: str) -> bool:
        return s.execute(
            update(DeviceCode).where(DeviceCode.id == row_id, DeviceCode.status == before).values(status=after)
        ).rowcount == 1
