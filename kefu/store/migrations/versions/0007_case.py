"""complaint cases: tables of kefu/store/case_tables.py

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 20:20:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import kefu.store.types  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
