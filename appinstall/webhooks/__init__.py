"""Webhook delivery: notifications fanned out to installations, stored, signed, sent and retried."""
