"""身份证号 and 手机号 never reach a log line: in any spelling, and in Celery workers too."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from grids.pii_logging import redact

ROOT = Path(__file__).resolve().parents[2]

phones = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
separators = st.sampled_from(["", " ", "-", "."])
prefixes = st.sampled_from(["", "+86", "+86 ", "+86-", "86", "86 ", "(+86)"])
# Text around the number that cannot glue more digits onto it.
surroundings = st.text(
    alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="+"), max_size=20
)


def _spell(phone: str, prefix: str, sep: str) -> str:
    return f"{prefix}{phone[:3]}{sep}{phone[3:7]}{sep}{phone[7:]}"


@given(phone=phones, prefix=prefixes, sep=separators, before=surroundings, after=surroundings)
def test_phone_number_in_any_common_spelling_is_masked(phone, prefix, sep, before, after):
    text = f"{before}{_spell(phone, prefix, sep)}{after}"

    masked = redact(text)

    assert phone not in re.sub(r"[^0-9]", "", masked)
    assert f"{phone[:3]}{sep}****{sep}{phone[7:]}" in masked  # as every masked phone is shown


def test_spaced_and_dashed_phone_numbers_are_masked():
    assert redact("+86 139 1234 5678") == "+86 139 **** 5678"
    assert redact("139-1234-5678") == "139-****-5678"
    assert redact("电话+8613912345678。") == "电话+86139****5678。"


def test_celery_worker_logging_keeps_personal_information_out(tmp_path):
    # Given a process that sets up logging as `celery worker` does (it replaces the root
    # logger's handlers with its own, and gives the task logger handlers of its own)
    log_file = tmp_path / "worker.log"
    script = textwrap.dedent(
        f"""
        import logging
        import django
        django.setup()
        from governance.celery import app
        from celery.utils.log import get_task_logger
        app.log.setup(loglevel="INFO", logfile={str(log_file)!r}, redirect_stdouts=False)
        logging.getLogger("governance.tasks").warning("打电话 13812345678 身份证 43090319700101005X")
        get_task_logger("governance.tasks").warning("task: +86 139 1234 5678")
        """
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }

    # When a task logs a phone number and an ID number
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=120)

    # Then the worker's log has them masked
    text = log_file.read_text()
    assert "138****5678" in text and "430903********005X" in text
    assert "+86 139 **** 5678" in text
    assert "13812345678" not in text and "43090319700101005X" not in text
    assert "1234 5678" not in text
