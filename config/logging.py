"""Logs as one JSON object per line on stderr, for log collectors."""

import json
import logging


class OneLineJSONFormatter(logging.Formatter):
    """A log record as one JSON object on one line (tracebacks included), for log collectors."""

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # django.request adds these to the records it logs.
        if (status := getattr(record, "status_code", None)) is not None:
            entry["status"] = status
        if hasattr(request := getattr(record, "request", None), "path"):
            entry["method"] = request.method
            entry["path"] = request.path
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_logging(level):
    """The LOGGING setting: every record at `level` or above, as JSON on stderr. Not stdout: it
    carries the output of commands such as `export_paper` (a paper's text) and gunicorn's access
    log; both streams reach the journal."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": OneLineJSONFormatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # Django's own handlers (console in DEBUG, mail to ADMINS) would print some records
        # twice; its records go up to the root handler instead.
        "loggers": {"django": {"handlers": [], "level": level}},
    }
