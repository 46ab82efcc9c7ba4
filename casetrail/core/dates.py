"""Dates as people record them: possibly partial, checked against the clock and a birth date."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the year, the month or the day (a date of birth is often partial)."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("A day needs a month.")
        if not 1 <= self.year <= 9999:
            raise ValueError("The year must be between 1 and 9999.")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError("The month must be between 1 and 12.")
        if self.day is not None and self.month is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise ValueError(f"The day must be between 1 and {last}.")

    @property
    def precision(self) -> str:
        if self.day is not None:
            return "day"
        if self.month is not None:
            return "month"
        return "year"

    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return date(self.year, month, day)

    def as_text(self) -> str:
        if self.day is not None and self.month is not None:
            return date(self.year, self.month, self.day).strftime("%-d %B %Y")
        if self.month is not None:
            return date(self.year, self.month, 1).strftime("%B %Y")
        return str(self.year)

    def to_iso(self) -> str:
        """ISO-style text: 2007, 2007-03 or 2007-03-14."""
        if self.day is not None and self.month is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    @classmethod
    def from_iso(cls, text: str) -> PartialDate:
        parts = text.strip().split("-")
        if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
            raise ValueError("Use YYYY, YYYY-MM or YYYY-MM-DD.")
        numbers = [int(p) for p in parts]
        return cls(*numbers)

    @classmethod
    def from_date(cls, value: date) -> PartialDate:
        return cls(value.year, value.month, value.day)


def age_on(birth: PartialDate, on: date) -> int:
    """Age in whole years on a date, using the latest possible birth date (the youngest reading)."""
    born = birth.latest()
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return max(years, 0)


def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)
