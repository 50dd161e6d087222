"""The small core every domain package builds on: configuration, extensions, the
database base classes, jobs (outbox and RQ), the client access log, mail, security
headers, error pages and the JSON API helpers."""
