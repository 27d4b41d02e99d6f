"""Mail to users, through the SMTP server the settings name.

Sending never fails the action that asked for it: a mail that cannot go (no server
set, the server down or refusing) is logged and reported as not sent.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from centrex.config import Settings

log = logging.getLogger(__name__)

# Seconds an SMTP server may take per step: a person waits for the page.
TIMEOUT = 10


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def can_send(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def send(settings: Settings, mail: Mail) -> bool:
    """Send `mail`; True when the server took it."""
    if not can_send(settings):
        log.warning("no mail to %s (%s): CENTREX_SMTP_HOST is not set", mail.to, mail.subject)
        return False
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="centrex")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT) as server:
            if settings.smtp_starttls:
                server.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                server.login(settings.smtp_username, settings.smtp_password)
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail to %s (%s) not sent: %s", mail.to, mail.subject, exc)
        return False
    log.info("mail to %s sent: %s", mail.to, mail.subject)
    return True
