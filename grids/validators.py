"""Checks for the identifiers the township's spreadsheets carry (身份证号, 手机号, division codes)."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
PHONE_PATTERN = re.compile(r"^1[0-9]{10}$")


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def birth_date_from_id(id_number: str) -> dt.date:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError as exc:
        raise ValidationError(_("身份证号中的出生日期无效")) from exc


def validate_id_number(value: str) -> str:
    """Return the normalised number or raise a ValidationError a clerk can act on."""
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValidationError(_("身份证号应为18位，当前为%(n)d位") % {"n": len(number)})
    if not ID_PATTERN.match(number):
        raise ValidationError(_("身份证号只能包含数字，最后一位可以是X"))
    birth = birth_date_from_id(number)
    if birth > dt.date.today() or birth.year < 1880:
        raise ValidationError(_("身份证号中的出生日期无效"))
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验位错误"))
    return number


def validate_phone(value: str) -> str:
    phone = (value or "").strip().replace(" ", "").replace("-", "")
    if not PHONE_PATTERN.match(phone):
        raise ValidationError(_("手机号应为以1开头的11位数字"))
    return phone


def validate_digits(value: str, length: int, label: str) -> str:
    code = (value or "").strip()
    # ASCII only: str.isdigit() also accepts '４' and '²', which the database's CHECK refuses.
    if not (len(code) == length and code.isascii() and code.isdigit()):
        raise ValidationError(_("%(label)s应为%(n)d位数字") % {"label": label, "n": length})
    return code


# The largest primary key the database holds (a 64-bit BigAutoField).
MAX_ID = 2**63 - 1


def parse_id(value) -> int | None:
    """A row id from a form or query string, or None: ASCII digits only (``'²'.isdigit()`` is
    true, ``int('²')`` fails) and no larger than a database id, so it is never sent to SQL."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def clean_text(value, *, max_length: int) -> str:
    """Text typed into a search box or a field read without a Django form: NUL removed
    (PostgreSQL can neither store nor compare it: a 500), trimmed, at most ``max_length``."""
    return str(value or "").replace("\x00", "").strip()[:max_length]


def written_text(value, *, max_length: int, label: str) -> str:
    """Text a person writes for the record (a reason, an objection, a decision), read without a
    Django form: NUL removed, trimmed, and refused with a message naming the field when it is
    longer than its column, rather than cut short or failing in the database."""
    text = str(value or "").replace("\x00", "").strip()
    if len(text) > max_length:
        raise ValidationError(
            _("%(label)s最多%(max)s个字，现在有%(n)s个字，请精简后再提交")
            % {"label": label, "max": max_length, "n": len(text)}
        )
    return text


def parse_ids(values) -> list[int]:
    """The valid ids among ``values`` (e.g. ``request.POST.getlist("present")``), in order."""
    return [pk for pk in map(parse_id, values) if pk is not None]


def id_number_tail(value: str) -> str | None:
    """The last four characters of an ID number typed into a search box (``005x`` → ``005X``),
    or None when ``value`` is not one: all that a masked list shows of the number."""
    text = (value or "").strip().upper()
    if (
        len(text) == 4
        and text.isascii()
        and text[:3].isdigit()
        and (text[3].isdigit() or text[3] == "X")
    ):
        return text
    return None
