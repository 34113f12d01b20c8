"""Renders one Patchew mail notification with Django's own template engine, the way
Patchew's email module does for an event (mods/email.py, `on_event`, at the commit
../shared/patchew-api/ was recorded with): subject, body, to and cc are templates
rendered with the event's parameters in a Context with autoescape off, plus `cancel`,
a callable that drops the mail; subject and body are stripped; `to` and `cc` are split
on whitespace; when `to` is empty (or reply_to_all) the series' sender is added; a
reply gets In-Reply-To and `Re: <subject>`; a mail with no subject, body or recipient
is not sent.

Reads on standard input {"notification": {...}, "event": "ResultUpdate",
"series": {"subject", "message_id", "project", "sender", "mailing_list"},
"result": {"name", "status", "log", "data", "log_path"}, "old_status"}; prints
{"sent": false} or {"sent": true, "to": [...], "cc": [...], "headers": {...}, "body"}.
Used by tests/notification.rs."""

import json
import sys

import django
from django.conf import settings

settings.configure(
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}]
)
django.setup()

from django.template import Context, Template  # noqa: E402


class Cancelled(Exception):
    pass


class Series:
    """What templates see as `obj`: Patchew's Message, reduced to its fields."""

    def __init__(self, d):
        self.subject = d["subject"]
        self.message_id = d["message_id"]
        self.project = d["project"]
        self.sender = d["sender"]
        self.mailing_list = d["mailing_list"]

    def get_sender_addr(self):
        return self.sender

    def __str__(self):
        return self.subject


class Result:
    """What templates see as `result`: Patchew's MessageResult. Without a request,
    get_log_url is a path, and None until the result is completed."""

    def __init__(self, d):
        self.name = d["name"]
        self.status = d["status"]
        self.log = d.get("log")
        self.data = d.get("data") or {}
        self._log_path = d["log_path"]

    def get_log_url(self):
        if self.status not in ("success", "failure"):
            return None
        return self._log_path

    def __str__(self):
        return "%s (%s)" % (self.name, self.status)


def render(spec):
    nt = spec["notification"]
    if not nt["enabled"] or nt["event"] != spec["event"]:
        return {"sent": False}
    mo = Series(spec["series"])
    params = {
        "obj": mo,
        "old_status": spec["old_status"],
        "result": Result(spec["result"]),
    }

    def cancel():
        raise Cancelled()

    params["cancel"] = cancel
    ctx = Context(params, autoescape=False)
    try:
        subject = Template(nt["subject_template"]).render(ctx).strip()
        body = Template(nt["body_template"]).render(ctx).strip()
        to = Template(nt["to"]).render(ctx).strip().split()
        cc = Template(nt["cc"]).render(ctx).strip().split()
    except Cancelled:
        return {"sent": False}
    headers = {}
    if nt["reply_to_all"] or not to:
        to.append(mo.get_sender_addr())
    if nt["in_reply_to"]:
        headers["In-Reply-To"] = "<%s>" % mo.message_id
    if nt["set_reply_to"]:
        headers["Reply-To"] = "<%s>" % mo.mailing_list
    if nt["reply_subject"]:
        subject = mo.subject if mo.subject.startswith("Re:") else "Re: " + mo.subject
    if not (subject and body and (to or cc)):
        return {"sent": False}
    headers["Subject"] = subject
    return {"sent": True, "to": to, "cc": cc, "headers": headers, "body": body}


if __name__ == "__main__":
    json.dump(render(json.load(sys.stdin)), sys.stdout)
