"""followsun: a follow-the-sun escalation router for global customer support."""
