"""Learner records: profile, consent, consultations, goals, plans, exams, outcomes, audit."""
