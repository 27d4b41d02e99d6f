"""A list of holidays from a CSV file, as office software writes it.

Pure. A header row names the columns: `date,name` (single days) or `from,to,name`
(ranges, both ends included); `;` separates them as well as `,` (French spreadsheets).
Dates are ISO (2026-12-25) or as French users type them (25/12/2026). Every bad row is
reported with its line number, and then nothing is imported.
"""

from __future__ import annotations

import csv
import datetime
import io
import re

from provisioning import validation as v
from provisioning.document import DocumentInvalid, HolidayDoc, Problem

_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_LAYOUTS = ({"date", "name"}, {"from", "to", "name"})


def _date(text: str) -> datetime.date:
    text = text.strip()
    french = _FRENCH_DATE.fullmatch(text)
    if french:
        day, month, year = map(int, french.groups())
        return datetime.date(year, month, day)
    return datetime.date.fromisoformat(text)


def _where(line: int) -> str:
    return f"line {line}"


def parse_holidays_csv(text: str) -> list[HolidayDoc]:
    """The holidays of the file, or DocumentInvalid naming every bad line."""
    text = text.removeprefix("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    if set(header) not in _LAYOUTS or len(header) != len(set(header)):
        raise DocumentInvalid([Problem(_where(1), "the header must be date,name or from,to,name")])
    problems: list[Problem] = []
    out = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(_where(line), f"expected {len(header)} columns"))
            continue
        cells = dict(zip(header, row, strict=True))
        try:
            name = v.check_text(cells["name"], max_length=64)
        except v.InvalidValue as exc:
            problems.append(Problem(_where(line), f"name {exc}"))
            continue
        try:
            if "date" in cells:
                out.append(HolidayDoc(name=name, date=_date(cells["date"])))
                continue
            first_day, last_day = _date(cells["from"]), _date(cells["to"])
        except ValueError:
            problems.append(Problem(_where(line), "dates must be YYYY-MM-DD or DD/MM/YYYY"))
            continue
        if last_day < first_day:
            problems.append(Problem(_where(line), "to must not be before from"))
            continue
        out.append(HolidayDoc.model_validate({"name": name, "from": first_day, "to": last_day}))
    if problems:
        raise DocumentInvalid(problems)
    return out


def merged(known: list[HolidayDoc], new: list[HolidayDoc]) -> list[HolidayDoc]:
    """`known` followed by those of `new` that are not already there (same days)."""
    days = {(h.date, h.first, h.last) for h in known}
    out = list(known)
    for holiday in new:
        key = (holiday.date, holiday.first, holiday.last)
        if key not in days:
            days.add(key)
            out.append(holiday)
    return out
