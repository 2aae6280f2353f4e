"""Forms for booking, rescheduling and cancelling sessions, and for venues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tutoring.scheduling.models import Kind, Mode
from tutoring.scheduling.service import Scope

KIND_LABELS = {Kind.STUDY: _l("Study session"), Kind.CONSULTATION: _l("Learning consultation")}
MODE_LABELS = {Mode.ONLINE: _l("Online"), Mode.IN_PERSON: _l("In person at a venue")}
DURATIONS = [
    SelectChoice(str(m), _l("%(n)d minutes", n=m)) for m in (30, 45, 60, 90, 120, 150, 180)
]
SCOPES = [
    SelectChoice(Scope.THIS, _l("This session only")),
    SelectChoice(Scope.FOLLOWING, _l("This and all following sessions of the series")),
]


def _coerce_optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class SessionForm(FlaskForm):
    learner_id = SelectField(
        _l("Learner"), coerce=_coerce_optional_int, validators=[InputRequired()]
    )
    tutor_id = SelectField(_l("Tutor"), coerce=_coerce_optional_int, validators=[InputRequired()])
    kind = RadioField(
        _l("Kind"),
        choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in Kind],
        default=Kind.STUDY.value,
    )
    mode = RadioField(
        _l("Where"),
        choices=[SelectChoice(m.value, MODE_LABELS[m]) for m in Mode],
        default=Mode.ONLINE.value,
    )
    venue_id = SelectField(_l("Venue"), coerce=_coerce_optional_int, validators=[Optional()])
    day = DateField(_l("Date"), validators=[InputRequired()])
    start_time = TimeField(_l("Start time"), validators=[InputRequired()])
    duration_minutes = SelectField(_l("Length"), choices=DURATIONS, default="120")
    weekly_until = DateField(
        _l("Repeat weekly until"),
        validators=[Optional()],
        description=_l("Leave empty for a single session. The date is included."),
    )


class RescheduleForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    start_time = TimeField(_l("Start time"), validators=[InputRequired()])
    duration_minutes = SelectField(_l("Length"), choices=DURATIONS)
    tutor_id = SelectField(_l("Tutor"), coerce=_coerce_optional_int, validators=[Optional()])
    mode = RadioField(_l("Where"), choices=[SelectChoice(m.value, MODE_LABELS[m]) for m in Mode])
    venue_id = SelectField(_l("Venue"), coerce=_coerce_optional_int, validators=[Optional()])
    scope = RadioField(_l("Apply to"), choices=SCOPES, default=Scope.THIS)


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Seen by the tutor, the learner and coordinators."),
    )
    scope = RadioField(_l("Apply to"), choices=SCOPES, default=Scope.THIS)


class VenueForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    online = BooleanField(_l("Online venue (no address)"))
    active = BooleanField(_l("In use"), default=True)
