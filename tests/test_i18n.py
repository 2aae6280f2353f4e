"""Every string in the code and templates is in the Japanese catalogue, translated."""

from __future__ import annotations

import re
import subprocess
import sys

from babel.messages.pofile import read_po

from tests.conftest import ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def extracted_messages(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--omit-header",
            "tutoring",
            "templates",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def catalogue(language: str):
    with (ROOT / "tutoring/translations" / language / "LC_MESSAGES/messages.po").open(
        "rb"
    ) as handle:
        return read_po(handle)


def test_every_string_is_translated_to_japanese(tmp_path):
    japanese = catalogue("ja")
    missing = sorted(
        message
        for message in extracted_messages(tmp_path)
        if not japanese.get(message)
        or not japanese.get(message).string
        or japanese.get(message).fuzzy
    )
    assert missing == [], "run `make extract` and translate: " + "; ".join(missing)


def test_translations_keep_their_placeholders():
    for message in catalogue("ja"):
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(message.id)) == set(
                PLACEHOLDER.findall(message.string)
            ), message.id


def test_english_catalogue_exists():
    assert catalogue("en").locale.language == "en"
