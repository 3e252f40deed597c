"""one waybill index on shipments: (shop_id, waybill_no) only repeated what (waybill_no) finds

Every lookup by waybill (a carrier push, a shop's own search) finds its one or two parcels through ix_shipments_waybill_only
and checks the shop on them; the second index was written on every import and on every parcel update a push makes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 02:45:00
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_waybill')


def downgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index('ix_shipments_waybill', ['shop_id', 'waybill_no'], unique=False)
