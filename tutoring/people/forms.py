"""Forms for accounts and one's own settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tutoring.people.models import Role


def role_label(role: Role) -> str:
    """Return the role's name in the user's language."""
    return str(ROLE_LABELS[role])


ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.LIAISON: _l("Partner liaison"),
    Role.TUTOR: _l("Tutor"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.ADMIN: _l("Administrator"),
}


class NewUserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[])
    email = EmailField(
        _l("E-mail"),
        validators=[Optional(), Length(max=254)],
        description=_l("Optional for learners: they can sign in with a login name instead."),
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[Optional(), Length(max=256)],
        description=_l("Leave empty to send an invitation link instead."),
    )


class SettingsForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    room_display_name = StringField(
        _l("Name shown in video rooms"),
        validators=[Optional(), Length(max=50)],
        description=_l("Leave empty to show your name. A nickname is fine."),
    )
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("Same as the browser")),
            SelectChoice("ja", "日本語"),
            SelectChoice("en", "English"),
        ],
    )


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired()])
    next = HiddenField()
