"""Forms of the partners pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tutoring.partners import labels
from tutoring.records.forms import choices


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name of the organisation"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=choices(labels.KINDS))


class LiaisonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Initial password"),
        validators=[Optional(), Length(max=256)],
        description=_l("Leave empty to send an invitation link instead."),
    )


class ReferralForm(FlaskForm):
    student_name = StringField(_l("Student's name"), validators=[DataRequired(), Length(max=100)])
    school_year = StringField(
        _l("School year"),
        validators=[Length(max=30)],
        description=_l("For example: 2nd year, full-time course."),
    )
    situation = TextAreaField(
        _l("The situation"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l(
            "A few sentences: attendance, what worries the school, what the student wants."
        ),
    )
    tried = TextAreaField(_l("What has been tried"), validators=[Length(max=2000)])
    contact_route = TextAreaField(
        _l("How to reach the student"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Through whom and how: the homeroom teacher, the guardian, LINE, a visit."),
    )
    guardian_consent = RadioField(
        _l("Guardian's consent to the referral"),
        choices=choices(labels.GUARDIAN),
        validators=[InputRequired()],
    )


class AnswerForm(FlaskForm):
    message = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=2000)])


class DecisionForm(FlaskForm):
    action = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("accept", _l("Accept: make the learner's record")),
            SelectChoice("ask", _l("Ask the school or agency for more")),
            SelectChoice("decline", _l("Decline")),
        ],
        validators=[InputRequired()],
    )
    message = TextAreaField(
        _l("Message to the liaison"),
        validators=[Length(max=2000)],
        description=_l("Required when asking for more or declining: the question or the reason."),
    )


class OutreachForm(FlaskForm):
    contacted_on = DateField(_l("Date"), validators=[InputRequired()])
    way = RadioField(_l("Way"), choices=choices(labels.WAYS), validators=[InputRequired()])
    who = StringField(_l("Who"), validators=[DataRequired(), Length(max=100)])
    outcome = TextAreaField(_l("Result"), validators=[Length(max=2000)])


class PlanForm(FlaskForm):
    held_on = DateField(_l("Council meeting on"), validators=[InputRequired()])
    participants = StringField(
        _l("Participants"),
        validators=[DataRequired(), Length(max=500)],
        description=_l(
            "Including those from outside: the school, the education and welfare offices."
        ),
    )
    situation = TextAreaField(_l("Situation"), validators=[Length(max=10000)])
    decisions = TextAreaField(_l("Agreed support plan"), validators=[Length(max=10000)])
    next_review_on = DateField(_l("Next review"), validators=[Optional()])


class SharingForm(FlaskForm):
    attendance_rate = BooleanField(labels.FIELDS["attendance_rate"])
    back_at_school = BooleanField(labels.FIELDS["back_at_school"])
    exam_progress = BooleanField(labels.FIELDS["exam_progress"])
    learner_agreed_on = DateField(_l("The learner agreed on"), validators=[InputRequired()])
    guardian_name = StringField(
        _l("Guardian"),
        validators=[Length(max=100)],
        description=_l("For a minor: who agreed, e.g. mother."),
    )
    guardian_agreed_on = DateField(_l("The guardian agreed on"), validators=[Optional()])

    def chosen(self) -> list[str]:
        return [name for name in labels.FIELDS if getattr(self, name).data]


class ReferralOutForm(FlaskForm):
    agency = StringField(_l("Agency"), validators=[DataRequired(), Length(max=100)])
    referred_on = DateField(_l("Referred on"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
