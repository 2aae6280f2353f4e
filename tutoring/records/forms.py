"""Forms of learner records: profile, status, consent, consultation, goals, plan, exams, outcomes."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tutoring.records import labels

E = type[enum.Enum]


def choices(table: Mapping, blank=None) -> list[SelectChoice]:
    """Return select choices from a label table, optionally with a first empty choice."""
    options = [SelectChoice(member.value, text) for member, text in table.items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + options


def member(enum_class: E, value: str | None):
    """Return the enum member named by a form value, or None for an empty choice."""
    return enum_class(value) if value else None


def optional_int(value):
    return int(value) if value not in (None, "", "None") else None


NOT_RECORDED = _l("Not recorded")


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Shown on the schedule and the record. A name the learner chose is fine."),
    )
    furigana = StringField(_l("Reading of the name (furigana)"), validators=[Length(max=100)])
    birth_year = IntegerField(
        _l("Birth year"),
        validators=[Optional()],
        description=_l("Only the year. Leave empty if the learner prefers not to say."),
    )
    age_band = SelectField(
        _l("Age band"),
        choices=choices(labels.AGE_BANDS, NOT_RECORDED),
        description=_l(
            "Tells whether guardian consent is needed when the birth year is not known."
        ),
    )
    school_situation = SelectField(
        _l("School situation"), choices=choices(labels.SCHOOL_SITUATIONS, NOT_RECORDED)
    )
    enrolled_on = DateField(_l("Joined the program on"), validators=[Optional()])
    coordinator_id = SelectField(
        _l("Coordinator"), coerce=optional_int, validators=[Optional()], choices=[]
    )
    preferred_contact = SelectField(
        _l("Preferred contact"), choices=choices(labels.CONTACTS, NOT_RECORDED)
    )
    contact_detail = StringField(
        _l("Contact detail"),
        validators=[Length(max=100)],
        description=_l(
            "Only if the program contacts the learner this way: a phone number or LINE name."
        ),
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("Support status"), choices=choices(labels.STATUSES))
    since = DateField(_l("From"), validators=[InputRequired()])


class ConsentForm(FlaskForm):
    given_by = StringField(
        _l("Given by"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("The guardian's name and relation, e.g. mother."),
    )
    given_on = DateField(_l("Given on"), validators=[InputRequired()])
    method = RadioField(
        _l("How"), choices=choices(labels.CONSENT_METHODS), validators=[InputRequired()]
    )


class WithdrawConsentForm(FlaskForm):
    withdrawn_on = DateField(_l("Withdrawn on"), validators=[InputRequired()])


class ConsultationForm(FlaskForm):
    held_on = DateField(_l("Held on"), validators=[InputRequired()])
    session_id = SelectField(
        _l("Session"), coerce=optional_int, validators=[Optional()], choices=[]
    )
    own_words = TextAreaField(
        _l("In the learner's own words"),
        validators=[Length(max=5000)],
        description=_l("What the learner said about their future, as they said it."),
    )
    notes = TextAreaField(
        _l("Staff notes"),
        validators=[Length(max=10000)],
        description=_l("Situation, wishes and worries. Staff only."),
    )


class GoalForm(FlaskForm):
    text = StringField(_l("Goal"), validators=[DataRequired(), Length(max=300)])
    target_on = DateField(_l("Target date"), validators=[Optional()])
    status = SelectField(_l("State"), choices=choices(labels.GOAL_STATUSES))


class PlanForm(FlaskForm):
    subject_id = SelectField(_l("Subject"), coerce=optional_int, choices=[])
    materials = StringField(
        _l("Materials"),
        validators=[Length(max=300)],
        description=_l("Textbooks, workbooks, past papers."),
    )
    plan = TextAreaField(_l("Plan"), validators=[Length(max=5000)])
    target_round_id = SelectField(
        _l("Aiming at the round"), coerce=optional_int, validators=[Optional()], choices=[]
    )


class CreditForm(FlaskForm):
    subject_id = SelectField(_l("Subject"), coerce=optional_int, choices=[])
    source = SelectField(_l("Counted because of"), choices=choices(labels.CREDIT_SOURCES))
    earned_on = DateField(_l("Earned on"), validators=[Optional()])


class OutcomeForm(FlaskForm):
    kind = SelectField(_l("Outcome"), choices=choices(labels.OUTCOMES))
    occurred_on = DateField(_l("From"), validators=[InputRequired()])
    note = StringField(
        _l("Note"),
        validators=[Length(max=200)],
        description=_l("For a referral: the agency. Keep it short."),
    )


class RoundForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2000, 2100)])
    number = RadioField(
        _l("Round"),
        choices=[
            SelectChoice("1", _l("First (August)")),
            SelectChoice("2", _l("Second (November)")),
        ],
        validators=[InputRequired()],
    )
    exam_on = DateField(
        _l("First day of the exam"),
        validators=[InputRequired()],
        description=_l("As in the official schedule of the Ministry of Education."),
    )


class SubjectForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50)])
    kind = SelectField(_l("Counts as"), choices=choices(labels.SUBJECT_KINDS))
    position = IntegerField(_l("Order"), validators=[InputRequired(), NumberRange(0, 999)])
    active = BooleanField(_l("In use"), default=True)


class EraseForm(FlaskForm):
    confirmation = StringField(
        _l("Type the learner's name to confirm"), validators=[DataRequired(), Length(max=100)]
    )


def attempt_form(subjects, rounds, data=None) -> FlaskForm:
    """Return a form for an exam attempt with one result choice per subject."""
    result_choices = [SelectChoice("", _l("Not taken"))] + choices(labels.RESULTS)

    class AttemptForm(FlaskForm):
        round_id = SelectField(
            _l("Exam round"),
            coerce=optional_int,
            choices=[SelectChoice("", _l("Choose a round"))]
            + [SelectChoice(str(r.id), labels.round_label(r)) for r in rounds],
        )
        certificate_obtained = BooleanField(_l("The certificate was obtained with this round"))

    for subject in subjects:
        setattr(
            AttemptForm,
            f"subject_{subject.id}",
            SelectField(subject.name, choices=result_choices, default=""),
        )
    form = AttemptForm(data=data) if data else AttemptForm()
    form.subject_fields = [form[f"subject_{s.id}"] for s in subjects]
    return form
