"""Does a free text look like it holds personal data? (issue 13: fewer personal data coming in)

Three patterns, kept few on purpose; static/js/report.js mirrors them (Unicode letters and digits as
Python's regex does) so that the report form warns before sending what the server then marks for review:

* a Swedish personnummer or samordningsnummer: YYMMDD-XXXX, YYMMDD+XXXX, YYMMDDXXXX, YYYYMMDD-XXXX or
  YYYYMMDDXXXX, with a real month, a day 01–31 (61–91 for a samordningsnummer) and a valid Luhn
  check digit over the ten digits YYMMDDXXXX;
* a phone number: +46 or 0, then 7 to 9 more digits in groups split by single spaces or dashes
  ("070-123 45 67", "+46 70 123 45 67", "0611-34 80 00"); a date written as 02-12-2026 is no phone;
* an e-mail address: something@domain.tld.

A street number ("Storgatan 12"), a date ("2026-12-02", "20261202") or a time is none of them.
It only warns and marks: it never blocks, and a wrong guess costs a coordinator one look.
"""
from __future__ import annotations

import re

PERSONNUMMER = re.compile(r"(?<![\d+-])(?:\d{2})?(\d{6})[-+]?(\d{4})(?![\d-])")
PHONE = re.compile(r"(?<![\w+])(?:\+46[ -]?|0)\d(?:[ -]?\d){6,8}(?![\d-])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
DATE_LIKE = re.compile(r"\d{2}[-.]\d{2}[-.]\d{4}")


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(digits):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def is_personnummer(match: re.Match) -> bool:
    birth, tail = match.group(1), match.group(2)
    month, day = int(birth[2:4]), int(birth[4:6])
    return 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91) and luhn_ok(birth + tail)


def findings(text: str | None) -> set[str]:
    """Which kinds of personal data the text seems to hold: "personnummer", "phone", "email"."""
    text = text or ""
    found = set()
    if any(is_personnummer(m) for m in PERSONNUMMER.finditer(text)):
        found.add("personnummer")
    if any(not DATE_LIKE.fullmatch(m.group()) for m in PHONE.finditer(text)):
        found.add("phone")
    if EMAIL.search(text):
        found.add("email")
    return found


def looks_personal(text: str | None) -> bool:
    return bool(findings(text))
