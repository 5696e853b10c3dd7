"""Rasa-side NLU components of the spine-clinic assistant.

- :mod:`clinic_nlu.red_flags`: deterministic, negation-aware red-flag detection (no Rasa imports).
- :mod:`clinic_nlu.red_flag_component`: runs it on every message, after the classifiers.
- :mod:`clinic_nlu.minilm`: all-MiniLM-L6-v2 in NumPy (no Rasa imports).
- :mod:`clinic_nlu.minilm_featurizer`: its sentence/word embeddings as DIET features.
"""
