"""Accounts: users and roles, login and logout, API tokens, the `users` CLI."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
