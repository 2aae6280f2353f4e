"""Forms of study notes and case reviews."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tutoring.records import labels
from tutoring.records.forms import choices, optional_int


class NoteForm(FlaskForm):
    session_id = SelectField(
        _l("Session"), coerce=optional_int, validators=[Optional()], choices=[]
    )
    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(), Length(max=50)],
        description=_l("A subject of the list, or what you worked on."),
    )
    material = StringField(_l("Material"), validators=[Length(max=200)])
    pages = StringField(_l("Pages"), validators=[Length(max=50)])
    body = TextAreaField(
        _l("What we studied"),
        validators=[DataRequired(), Length(max=20000)],
        description=_l("Markdown works: **bold**, lists with -, links."),
    )
    homework = TextAreaField(_l("Homework"), validators=[Length(max=5000)])
    next_steps = TextAreaField(_l("Next steps"), validators=[Length(max=5000)])
    visibility = RadioField(
        _l("Who may read it"),
        choices=choices(labels.VISIBILITIES),
        validators=[InputRequired(message=_l("Choose who may read the note."))],
    )


class CaseReviewForm(FlaskForm):
    held_on = DateField(_l("Held on"), validators=[InputRequired()])
    participants = StringField(
        _l("Participants"),
        validators=[Length(max=500)],
        description=_l("Names or roles, e.g. coordinator, tutor, school counsellor."),
    )
    situation = TextAreaField(_l("The learner's situation"), validators=[Length(max=10000)])
    decisions = TextAreaField(_l("Decisions"), validators=[Length(max=10000)])
    next_review_on = DateField(_l("Next review"), validators=[Optional()])
