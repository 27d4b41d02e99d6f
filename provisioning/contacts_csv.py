"""Personal contacts to and from CSV files, as office software and phones write them.

Pure. A header row names the columns: `name`, then `number` or `number1`…`number5`
(`;` separates them as well as `,`: French spreadsheets); rows of the same name add
their numbers to one contact. Numbers are checked later, with the tenant document.
Every bad row is reported with its line number, and then nothing is imported.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from provisioning.document import ContactDoc, DocumentInvalid, Problem
from provisioning.errors import said

MAX_NUMBERS = 5
NUMBER_COLUMNS = ["number", *(f"number{i}" for i in range(1, MAX_NUMBERS + 1))]


def parse_contacts_csv(text: str) -> list[dict[str, Any]]:
    """The contacts of the file (`{"name", "numbers"}`, file order), or DocumentInvalid
    naming every bad line."""
    text = text.removeprefix("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(rows, [])]
    columns = [i for i, h in enumerate(header) if h in NUMBER_COLUMNS]
    if "name" not in header or not columns:
        raise DocumentInvalid(
            [Problem("line 1", said("csv_columns", "needs a name column and a number column"))]
        )
    name_at = header.index("name")
    contacts: dict[str, list[str]] = {}
    problems = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        name = cells[name_at].strip()
        numbers = [cells[i].strip() for i in columns if cells[i].strip()]
        if not name or not numbers:
            problems.append(
                Problem(f"line {line}", said("csv_row", "needs a name and at least one number"))
            )
            continue
        known = contacts.setdefault(name, [])
        known += [n for n in numbers if n not in known]
        if len(known) > MAX_NUMBERS:
            problems.append(
                Problem(
                    f"line {line}",
                    said(
                        "csv_too_many_numbers",
                        "%(name)s: more than %(max)d numbers",
                        name=name,
                        max=MAX_NUMBERS,
                    ),
                )
            )
    if problems:
        raise DocumentInvalid(problems)
    return [{"name": name, "numbers": numbers} for name, numbers in contacts.items()]


def merged(current: list[dict[str, Any]], imported: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`current` with the imported contacts: one of the same name is replaced."""
    names = {c["name"].casefold() for c in imported}
    return [c for c in current if c["name"].casefold() not in names] + imported


def contacts_csv(contacts: list[ContactDoc]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", *(f"number{i}" for i in range(1, MAX_NUMBERS + 1))])
    for contact in contacts:
        writer.writerow([_cell(contact.name), *contact.numbers])
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
