"""Rasa-side NLU components of the spine-clinic assistant.

- :mod:`clinic_nlu.triage_component`: runs the clinical triage (:mod:`clinic_triage`) on every
  message, after the classifiers, and sets the escalation intent from its level.
- :mod:`clinic_nlu.minilm`: all-MiniLM-L6-v2 in NumPy (no Rasa imports).
- :mod:`clinic_nlu.minilm_featurizer`: its sentence embedding as dense features for the linear intent classifier.
"""
