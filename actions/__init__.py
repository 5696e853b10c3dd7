"""Custom actions of the spine-clinic assistant (run by `rasa run actions`).

Modules, one concern each: ``settings`` (configuration, read once), ``facts`` (the fact book,
no Rasa imports), ``answering`` (topic answers and "tell me more"), ``triage`` (deferral of
personal questions to a clinician), ``handoff`` (putting the patient in touch with the clinic),
``escalation`` (the configured crisis line or clinic phone after a crisis or urgent message).
"""
