"""E-mail over SMTP: a plain-text and an HTML part, UTF-8 throughout (Japanese included)."""

from __future__ import annotations

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr

from flask import Flask, render_template

from tutoring.notify.channels import Composed, PermanentFailure, TemporaryFailure
from tutoring.notify.models import Channel, NotificationPreference
from tutoring.people.models import User


def build_email(message: Composed, *, sender: str, to: str, key: str) -> EmailMessage:
    """Return the MIME message: text/plain and text/html alternatives, base64 UTF-8 bodies."""
    email = EmailMessage(policy=SMTP)
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = to
    email["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = make_msgid(idstring=key.replace(":", "."), domain=domain)
    # RFC 3834: tells mail servers and vacation responders not to answer.
    email["Auto-Submitted"] = "auto-generated"
    # base64 keeps Japanese intact through servers without 8BITMIME.
    email.set_content(message.text(), charset="utf-8", cte="base64")
    html = render_template("notify/email.html", message=message)
    email.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return email


class EmailChannel:
    name = Channel.EMAIL

    def __init__(self, app: Flask) -> None:
        self.config = app.config

    def configured(self) -> bool:
        return bool(self.config.get("SMTP_HOST"))

    def address(self, user: User, preference: NotificationPreference) -> str | None:
        if not (preference.email_enabled and user.email and self.configured()):
            return None
        return str(Address(display_name=user.name, addr_spec=user.email))

    def send(self, message: Composed, address: str, *, key: str) -> None:
        config = self.config
        email = build_email(message, sender=config["SMTP_FROM"], to=address, key=key)
        host, port = config["SMTP_HOST"], int(config["SMTP_PORT"])
        timeout = float(config["SMTP_TIMEOUT"])
        try:
            if config.get("SMTP_SSL"):
                smtp = smtplib.SMTP_SSL(
                    host, port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
                    smtp.starttls(context=ssl.create_default_context())
                if config.get("SMTP_USERNAME"):
                    smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure("recipient refused", status_code=codes[0]) from None
            raise TemporaryFailure(
                "recipient deferred", status_code=codes[0] if codes else None
            ) from None
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPAuthenticationError):
                raise PermanentFailure(
                    f"SMTP {error.smtp_code}", status_code=error.smtp_code
                ) from None
            raise TemporaryFailure(f"SMTP {error.smtp_code}", status_code=error.smtp_code) from None
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(f"SMTP: {type(error).__name__}") from None
