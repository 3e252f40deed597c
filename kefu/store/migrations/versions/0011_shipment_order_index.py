"""an index on shipments.order_id: every screen that shows an order's parcels looks them up by order

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 21:50:00
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index('ix_shipments_order', ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_order')
