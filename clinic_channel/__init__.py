"""The guarded input channel the website widget uses (docs/patient-api.md)."""
