"""Rasa-side storage: the SQL tracker store with an in-memory cache of active conversations
(:mod:`clinic_store.tracker_store`), lock stores whose ticket changes are atomic across processes
(:mod:`clinic_store.lock_store`), and rate limits shared by every replica through Redis
(:mod:`clinic_store.rate_limits`)."""
