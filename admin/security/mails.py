"""The security mails, written in the language of the page that sends them (the
user's), after the operator portals' notifications (seed 003 §2.11)."""

from __future__ import annotations

from flask_babel import gettext as _

from centrex import mail
from centrex.config import Settings
from provisioning.account_security import Recipient

_UNEXPECTED = "If you did not expect this, contact your service provider."


def _send(settings: Settings, to: Recipient, subject: str, text: str) -> bool:
    body = "\n\n".join([_("Hello %(name)s,", name=to.name), text, _(_UNEXPECTED), ""])
    return mail.send(settings, mail.Mail(to.email, subject, body))


def security_email_changed(settings: Settings, to: Recipient, new_email: str) -> bool:
    """To the new address, and to the old one: whoever changed it, the owner hears."""
    return _send(
        settings,
        to,
        _("Security e-mail address changed"),
        _(
            "The security e-mail address of the account %(account)s is now %(email)s.",
            account=to.account,
            email=new_email,
        ),
    )


def password_changed(settings: Settings, to: Recipient) -> bool:
    return _send(
        settings,
        to,
        _("Password changed"),
        _("The password of the account %(account)s has been changed.", account=to.account),
    )


def voicemail_pin_changed(settings: Settings, to: Recipient) -> bool:
    return _send(
        settings,
        to,
        _("Voicemail PIN changed"),
        _("The voicemail PIN of the account %(account)s has been changed.", account=to.account),
    )


def reset_link(settings: Settings, to: Recipient, link: str, hours: int) -> bool:
    return _send(
        settings,
        to,
        _("Choose a new password"),
        _(
            "Someone asked to choose a new password for the account %(account)s. "
            "To do so, open this link within %(hours)d hour(s); it works once:\n\n%(link)s\n\n"
            "If it was not you, ignore this mail: your password stays as it is.",
            account=to.account,
            hours=hours,
            link=link,
        ),
    )
