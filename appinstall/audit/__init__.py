"""The audit trail: who changed an installation or its deliveries, and when; recorded in the transaction of the
change, read as an installation's history, and pruned after ``APPINSTALL_AUDIT_LOG_DAYS``."""
