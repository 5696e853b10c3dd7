"""Rasa-side storage: the SQL tracker store with an in-memory cache of active conversations."""
