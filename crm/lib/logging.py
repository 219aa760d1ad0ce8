"""Logging helpers wired in by LOGGING (crm/settings/base.py)."""

import logging


class ClientErrorOneLine(logging.Filter):
    """Turns django.request's 4xx warnings into one line: who, what URL, which status.

    Django logs a refused permission (PermissionDenied) as a warning with the exception attached, so
    every 403 printed a traceback in the console. A 4xx is the client's doing, not a bug: the line is
    enough. 5xx records are left alone and keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is None or not 400 <= status < 500:
            return True
        record.msg = f"{record.getMessage()} (user {self._who(record)}, {status})"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True

    @staticmethod
    def _who(record: logging.LogRecord) -> str:
        # A request refused before AuthenticationMiddleware ran has no user.
        user = getattr(getattr(record, "request", None), "user", None)
        if user is None or not user.is_authenticated:
            return "anonymous"
        return user.get_username()
