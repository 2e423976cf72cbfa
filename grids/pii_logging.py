"""A logging filter that keeps 身份证号 and 手机号 out of every log line."""

import logging
import re

ID_NUMBER = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])")
# 13912345678, 139-1234-5678, 139 1234 5678, +86 139 1234 5678, +86-13912345678, 8613912345678:
# the country code and one space, dash or dot between the groups are optional.
PHONE = re.compile(
    r"(?<![0-9])((?:\+?86[ \-.]?)?1[0-9]{2})([ \-.]?)[0-9]{4}([ \-.]?)([0-9]{4})(?![0-9])"
)


_TRACEBACKS = logging.Formatter()


def redact(text: str) -> str:
    text = ID_NUMBER.sub(r"\1********\2", text)
    return PHONE.sub(r"\1\2****\3\4", text)


class RedactPersonalInformation(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        # A traceback repeats the exception's message (a ValidationError naming a 手机号, say);
        # format it here, redacted, so the handler's formatter prints this text instead.
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(_TRACEBACKS.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
