"""Webhook delivery: notifications fanned out to installations, stored, signed, sent and retried.

The server's inside: nothing here is public. A connector verifies and reads webhooks with ``appinstall.connector``,
whose signature scheme (``appinstall.connector.signing``) this package signs with.
"""
