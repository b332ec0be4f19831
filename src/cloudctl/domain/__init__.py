"""The domain layer: the rules of the register, pupils and consent, as plain functions on a session."""
