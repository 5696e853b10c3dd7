"""End to end: the real Rasa server and action server write a conversation; the review app shows it
with its flags, intents and confidences (the issue's "done when", over HTTP instead of the widget)."""

from __future__ import annotations

import html
import re
from typing import Set

import pytest
import requests

from tests.support.review_app import PASSWORD, Staff, cli, review_server
from tests.support.servers import ROOT, running_servers

pytestmark = pytest.mark.integration


def rule_descriptions() -> Set[str]:
    """Every reason the triage can give: the flags' descriptions and the learned reader's."""
    from clinic_triage.engine import load_rules
    from clinic_triage.semantic import load_settings

    rules = load_rules()
    return {rules.description_of(flag) for flag in rules.flags} | {load_settings().description}


def test_rasa_conversation_shows_up_in_review_app(tmp_path):
    if not any((ROOT / "models").glob("*.tar.gz")):
        pytest.skip("no trained model in models/ (run `make train`)")
    sender = "e2e-review-patient"
    with running_servers(tmp_path) as servers:

        def say(text):
            r = requests.post(servers.webhook, json={"sender": sender, "message": text}, timeout=60)
            r.raise_for_status()
            return r.json()

        say("hello")
        say("how long is the recovery after spinal endoscopy?")
        emergency = say("I suddenly cannot feel my legs and I wet myself")
        assert any("emergency" in (m.get("text") or "").lower() for m in emergency)
        say("can I talk to a person please")
        # the callback offer: consent, then name, phone number, preferred time
        say("yes")
        say("Maria Lopez")
        say("0151 2345 6789")
        done = say("weekday mornings")
        assert any("0151 2345 6789" in (m.get("text") or "") for m in done), done
        db_url = f"sqlite:///{servers.db}"
    assert cli(db_url, "create-user", "erin", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    with review_server(db_url, tmp_path / "review.log") as base:
        staff = Staff(base).logged_in("erin")
        page = staff.get("/conversations", flag="emergency").text
        assert f"/conversation?id={sender}" in page
        page = staff.get("/conversations", flag="handoff").text
        assert f"/conversation?id={sender}" in page
        conv = staff.get("/conversation", id=sender).text
        assert "report_emergency" in conv and "utter_emergency" in conv
        assert "ask_recovery_time" in conv and "action_answer_topic" in conv
        assert re.search(r"facts <code>[^<]+</code>", conv), "fact ids of the answer are shown"
        assert re.search(r"\((0\.\d\d|1\.00)\)", conv), "confidences are shown"
        assert "action_handoff" in conv
        # the callback request is listed with the open items, phone visible; redacted in the transcript
        items = staff.get("/open").text
        # the emergency's row says why, in the words of the rules file (targets.yml)
        row = items[items.index(f"/conversation?id={sender}") :].split("</tr>")[0]
        reasons = re.findall(r"Why flagged: ([^<]+)<", row)
        assert reasons, row
        shown = {r.strip() for r in html.unescape(reasons[0]).split(";")}
        assert shown and shown <= rule_descriptions(), shown
        callbacks = items[items.index("Callback requests (") :]
        assert "Maria Lopez" in callbacks and "0151 2345 6789" in callbacks and "weekday mornings" in callbacks
        transcript = conv[conv.index('class="transcript"') :]
        assert "0151 2345 6789" not in transcript and "[phone]" in transcript
