"""The records part of the demo program: profiles, consent, goals, plans, notes, exams, reviews.

Called from tutoring.demo.load_demo; every part is created only when missing.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tutoring.extensions import db
from tutoring.notes import service as notes
from tutoring.notes.models import CaseReview, StudyNote, Visibility
from tutoring.people.models import ContactMethod, LearnerProfile, SchoolSituation, User
from tutoring.records import service
from tutoring.records.models import (
    ConsentMethod,
    CreditSource,
    ExamAttempt,
    ExamRound,
    ExamSubject,
    Goal,
    GuardianConsent,
    PlanItem,
    SubjectCredit,
    SubjectResult,
)
from tutoring.scheduling.models import Status, TutoringSession

# e-mail, furigana, age this year, school situation, preferred contact, guardian (minors)
DEMO_PROFILES = [
    ("learner1@example.org", "たなか ひなた", 17, SchoolSituation.DROPPED_OUT, ContactMethod.LINE,
     ("母 田中 由美", ConsentMethod.PAPER)),
    ("learner2@example.org", "いとう れん", 19, SchoolSituation.DROPPED_OUT, ContactMethod.EMAIL,
     None),
    ("learner3@example.org", "わたなべ ゆい", 16, SchoolSituation.ON_LEAVE, ContactMethod.LINE,
     ("父 渡辺 誠", ConsentMethod.ONLINE)),
    ("learner4@example.org", "やまもと みなと", 24, SchoolSituation.NEVER_ENROLLED,
     ContactMethod.PHONE, None),
]  # fmt: skip

DEMO_GOALS = {
    "learner1@example.org": [
        ("高卒認定に合格して、専門学校（調理）に進む", 1),
        ("毎週の学習を休まず続ける", 0),
    ],
    "learner2@example.org": [("残りの科目に合格して、春から職業訓練に通う", 1)],
    "learner3@example.org": [("学校に戻るか高卒認定かを、秋までに決める", 0)],
    "learner4@example.org": [("高卒認定を取って、正社員の仕事に応募する", 2)],
}

DEMO_PLANS = {
    "learner1@example.org": [
        (
            "数学",
            "高卒認定 数学 完全攻略（中学の復習から）",
            "週1回、中学数学の復習から。方程式まで進んだら過去問。",
        ),
        ("英語", "中学英語をひとつひとつわかりやすく", "単語は毎日10個、アプリで。文法は授業で。"),
    ],
    "learner2@example.org": [("数学", "過去問 5年分", "二次関数と確率を重点的に。")],
    "learner3@example.org": [
        ("国語", "高認 国語 過去問", "読む習慣づくりから。短い文章を毎週1つ。")
    ],
    "learner4@example.org": [("歴史", "高認 歴史 要点整理", "近現代を中心に年表を作る。")],
}


def _age_year(age: int) -> int:
    return service.today().year - age


def load_profiles(people: dict[str, User], coordinator: User) -> None:
    """Give the demo learners a profile, and the minors a guardian consent."""
    today = service.today()
    service.seed_subjects()
    for email, furigana, age, school, contact, guardian in DEMO_PROFILES:
        learner = people[email]
        if db.session.get(LearnerProfile, learner.id) is None:
            service.save_profile(
                coordinator,
                learner,
                name=learner.name,
                furigana=furigana,
                birth_year=_age_year(age),
                school_situation=school,
                enrolled_on=today - timedelta(weeks=6),
                preferred_contact=contact,
                coordinator=coordinator,
            )
        has_consent = db.session.scalar(
            select(GuardianConsent.id).where(GuardianConsent.learner_id == learner.id)
        )
        if guardian and has_consent is None:
            given_by, method = guardian
            service.record_consent(
                coordinator,
                learner,
                given_by=given_by,
                given_on=today - timedelta(weeks=6),
                method=method,
            )
    db.session.flush()


def _rounds(coordinator: User) -> dict[tuple[int, int], ExamRound]:
    year = service.today().year
    found = {}
    for y in (year - 1, year, year + 1):
        for number in (1, 2):
            exam_round = db.session.scalar(
                select(ExamRound).where(ExamRound.year == y, ExamRound.number == number)
            )
            found[(y, number)] = exam_round or service.save_round(
                coordinator, None, year=y, number=number, exam_on=service.default_exam_on(y, number)
            )
    return found


def _subject(name: str) -> ExamSubject | None:
    return db.session.scalar(select(ExamSubject).where(ExamSubject.name == name))


def _goals_and_plans(people: dict[str, User], coordinator: User) -> None:
    today = service.today()
    for email, goals in DEMO_GOALS.items():
        learner = people[email]
        if db.session.scalar(select(Goal.id).where(Goal.learner_id == learner.id)) is None:
            for text, years in goals:
                target = date(today.year + years, 3, 31) if years else None
                service.save_goal(coordinator, learner, None, text=text, target_on=target)
    for email, items in DEMO_PLANS.items():
        learner = people[email]
        if db.session.scalar(select(PlanItem.id).where(PlanItem.learner_id == learner.id)):
            continue
        for subject_name, materials, plan_text in items:
            service.save_plan_item(
                coordinator,
                learner,
                subject=_subject(subject_name),
                materials=materials,
                plan_text=plan_text,
            )


def _exams(people: dict[str, User], coordinator: User) -> None:
    rounds = _rounds(coordinator)
    year = service.today().year
    learner = people["learner2@example.org"]
    if db.session.scalar(select(ExamAttempt.id).where(ExamAttempt.learner_id == learner.id)):
        return
    ids = {name: _subject(name).id for name in ("国語", "英語", "数学", "公共", "地理")}
    service.save_attempt(
        coordinator,
        learner,
        None,
        exam_round=rounds[(year - 1, 2)],
        results={
            ids["国語"]: SubjectResult.PASSED,
            ids["英語"]: SubjectResult.PASSED,
            ids["数学"]: SubjectResult.FAILED,
        },
    )
    service.save_attempt(
        coordinator,
        learner,
        None,
        exam_round=rounds[(year, 1)],
        results={
            ids["数学"]: SubjectResult.PASSED,
            ids["公共"]: SubjectResult.PASSED,
            ids["地理"]: SubjectResult.FAILED,
        },
    )
    other = people["learner4@example.org"]
    if db.session.scalar(select(SubjectCredit.id).where(SubjectCredit.learner_id == other.id)):
        return
    service.save_credit(coordinator, other, subject=_subject("英語"), source=CreditSource.SCHOOL)


def _notes(people: dict[str, User]) -> None:
    for email, topic in (("learner1@example.org", "数学"), ("learner3@example.org", "国語")):
        learner = people[email]
        if db.session.scalar(select(StudyNote.id).where(StudyNote.learner_id == learner.id)):
            continue
        held = list(
            db.session.scalars(
                select(TutoringSession)
                .where(
                    TutoringSession.learner_id == learner.id,
                    TutoringSession.status == Status.HELD,
                )
                .order_by(TutoringSession.starts_at.desc())
                .limit(2)
            )
        )
        for session in reversed(held):
            tutor = session.tutor
            notes.create_note(
                tutor,
                learner,
                notes.NoteInput(
                    subject=topic,
                    material="高卒認定 完全攻略" if topic == "数学" else "高認 国語 過去問",
                    pages="p.12–15",
                    body="**今日やったこと**\n- 一次方程式の解き方\n- 文章題を2問\n\n"
                    "途中の式をていねいに書けていました。",
                    homework="p.16 の練習問題 1〜4",
                    next_steps="次回は連立方程式に入ります。",
                    visibility=Visibility.LEARNER,
                    session_id=session.id,
                ),
            )
        if held:
            notes.create_note(
                held[0].tutor,
                learner,
                notes.NoteInput(
                    subject=topic,
                    body="最近アルバイトのシフトが増えて疲れている様子。次回のケース検討で共有。",
                    visibility=Visibility.STAFF,
                    session_id=held[0].id,
                ),
            )


def _review(people: dict[str, User], coordinator: User) -> None:
    learner = people["learner1@example.org"]
    if db.session.scalar(select(CaseReview.id).where(CaseReview.learner_id == learner.id)):
        return
    today = service.today()
    notes.save_case_review(
        coordinator,
        learner,
        None,
        held_on=today - timedelta(weeks=2),
        participants="コーディネーター 佐藤、学習支援員 鈴木",
        situation="毎週休まず参加。数学は中学範囲の復習がほぼ終わった。",
        decisions="次の第1回で数学と英語を受験する方向で、春までに過去問に入る。",
        next_review_on=today + timedelta(weeks=10),
    )


def load_records(people: dict[str, User], coordinator: User) -> None:
    """Add goals, plans, exam rounds and attempts, study notes and a case review."""
    _goals_and_plans(people, coordinator)
    _exams(people, coordinator)
    _notes(people)
    _review(people, coordinator)
    db.session.flush()
