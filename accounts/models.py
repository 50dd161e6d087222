"""Users, roles, API tokens and failed-login records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db
from core.roles import Role  # noqa: F401  (re-exported: the user model and its roles)


class ProviderRole(StrEnum):
    """A provider member's role inside their own organisation."""

    ADMIN = "admin"
    WORKER = "worker"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False, index=True)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    provider_role: Mapped[str | None] = mapped_column(sa.String(20))
    # use_alter: users and clients refer to each other; this key is added after both exist.
    client_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clients.id", use_alter=True, name="fk_users_client_id_clients"), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="fi")
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on password change or deactivation: invalidates every open session (on
    # top of the session rows of ``user_sessions``, which the loader also checks).
    session_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    provider = relationship("Provider", foreign_keys=[provider_id])
    client = relationship("Client", foreign_keys=[client_id])

    __table_args__ = (
        sa.CheckConstraint("role in ('admin','staff','manager','provider','client')", name="role_known"),
        sa.CheckConstraint("role <> 'provider' OR provider_id IS NOT NULL", name="provider_has_org"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the session stores id and version
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_org_admin(self) -> bool:
        return self.role == Role.PROVIDER and self.provider_role == ProviderRole.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Shown in the token list; a login names its token with the body's optional name.
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="", server_default="")
    # ``session``: from a login (POST /api/v1/tokens); ``machine``: an organisation's
    # system, created by one of its administrators for a user of its own.
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="session", server_default="session")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user = relationship("User", lazy="joined", foreign_keys=[user_id])


class LoginFailure(db.Model):
    """A failed login, counted per account and per address to throttle guessing."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    address: Mapped[str] = mapped_column(sa.String(64), nullable=False)

    __table_args__ = (
        sa.Index("ix_login_failures_email_at", "email", "at"),
        sa.Index("ix_login_failures_address_at", "address", "at"),
    )


class UserSession(db.Model):
    """One browser login. The signed session cookie carries a random id whose SHA-256
    is ``sid_hash``; the cookie counts only while this row is live (not ended, seen
    within the idle time-out, younger than the absolute time-out)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    user_agent: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # logout, password, disabled, ended (by the user on the sessions list), idle, expired, reset
    end_reason: Mapped[str | None] = mapped_column(sa.String(20))

    __table_args__ = (sa.Index("ix_user_sessions_user_ended", "user_id", "ended_at"),)


class PasswordToken(db.Model):
    """A one-time link that sets a password: a reset asked for by the user or an
    administrator's invitation. Only the SHA-256 of the token is stored."""

    __tablename__ = "password_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(sa.String(10), nullable=False)  # reset, invite
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user = relationship("User", foreign_keys=[user_id], lazy="joined")

    __table_args__ = (sa.CheckConstraint("purpose in ('reset','invite')", name="purpose_known"),)


class PasswordResetRequest(db.Model):
    """A request for a reset link (whether or not the address has an account),
    counted per address to throttle them."""

    __tablename__ = "password_reset_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    address: Mapped[str] = mapped_column(sa.String(64), nullable=False)

    __table_args__ = (
        sa.Index("ix_password_reset_requests_email_at", "email", "at"),
        sa.Index("ix_password_reset_requests_address_at", "address", "at"),
    )


class SecondFactor(db.Model):
    """A user's authenticator app (TOTP, RFC 6238). The row exists from the moment
    the user starts setting it up; it counts only once ``enabled_at`` is set (the user
    typed a right code). ``last_step`` is the 30-second time step of the last code
    accepted: a code of that step or an earlier one is never accepted again."""

    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, unique=True)
    secret: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)


class RecoveryCode(db.Model):
    """A one-time recovery code for logging in without the phone. Only the SHA-256 of
    the code is stored; a used code has ``used_at``."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
