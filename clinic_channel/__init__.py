"""The Rasa input channels of the assistant, with their guards.

- :mod:`clinic_channel.patient`: the patient channel the website widget uses (docs/patient-api.md):
  signed conversation ids, retries answered once, a queue with a "busy" answer, red-flag messages
  never waiting.
- :mod:`clinic_channel.rest`: Rasa's REST channel with the same guards, for integrations and scripts.
- :mod:`clinic_channel.guard`: the request checks and rate-limit settings both share, free of Rasa.
- :mod:`clinic_channel.server_hardening`: settings of the Sanic app both run in.

Each channel's options have their defaults in one place, its ``__init__`` (the size limits both
share: :mod:`clinic_channel.guard`); credentials.yml sets an option only to change it.
"""
