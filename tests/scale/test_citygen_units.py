"""The generator's building blocks, without a database (they run on SQLite too)."""

import datetime as dt
import random
from collections import Counter

from governance.citygen import CopyTable, _code_from, _Generator, _text
from grids.models import PUBLIC_CODE_ALPHABET
from grids.validators import id_check_char


def test_public_codes_are_unique_by_construction_and_use_the_printable_alphabet():
    rng = random.Random(1)
    codes = [_code_from(n, rng) for n in range(1, 20_001)]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 12 and set(code) <= set(PUBLIC_CODE_ALPHABET) for code in codes)


def test_id_numbers_stay_unique_and_valid_when_a_birthday_is_crowded():
    # Given more people born in one area on one day than the 500 sequence numbers per sex,
    gen = _Generator.__new__(_Generator)
    gen.id_seq = Counter()
    birth = dt.date(1970, 5, 1)
    # when numbers are drawn for 1,200 men of that day,
    numbers = [gen.id_number("431301", birth, male=True) for _ in range(1200)]
    # then none repeats, all are valid and male, and the overflow moved to the next days.
    assert len(set(numbers)) == 1200
    assert all(n[17] == id_check_char(n[:17]) and int(n[16]) % 2 == 1 for n in numbers)
    assert {n[6:14] for n in numbers} == {"19700501", "19700502", "19700503"}


def test_copy_rows_escape_tabs_newlines_and_nulls():
    class Cursor:
        def __init__(self):
            self.sent = []

        def copy_expert(self, sql, buffer):
            self.sent.append((sql, buffer.read()))

    cursor = Cursor()
    table = CopyTable(cursor, "t", ("a", "b", "c"), first_id=7)
    assert table.add("x\ty\nz\\", None, True) == 7
    table.flush()
    sql, data = cursor.sent[0]
    assert sql == "COPY t (id, a, b, c) FROM STDIN"
    assert data == "7\tx\\ty\\nz\\\\\t\\N\tt\n"
    assert _text(dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)) == "2026-01-02T03:04:00+00:00"
