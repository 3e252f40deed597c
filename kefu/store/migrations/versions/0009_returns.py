"""returns: tables of kefu/store/returns_tables.py

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 20:20:00
"""
from alembic import op
import sqlalchemy as sa
import kefu.store.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('return_requests',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('refund_id', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('order_id', sa.String(length=80), nullable=True),
    sa.Column('order_no', sa.String(length=40), nullable=False),
    sa.Column('sub_order_no', sa.String(length=40), nullable=True),
    sa.Column('order_line_id', sa.String(length=120), nullable=True),
    sa.Column('product_id', sa.String(length=64), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('buyer_nick', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('sku_properties', sa.String(length=300), nullable=True),
    sa.Column('outer_id', sa.String(length=80), nullable=True),
    sa.Column('category', sa.String(length=80), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('platform_status', sa.String(length=40), nullable=True),
    sa.Column('good_status', sa.String(length=30), nullable=True),
    sa.Column('reason_text', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('reason_code', sa.String(length=30), nullable=False),
    sa.Column('reason_side', sa.String(length=12), nullable=False),
    sa.Column('refund_fee', kefu.store.types.Money(), nullable=True),
    sa.Column('item_price', kefu.store.types.Money(), nullable=True),
    sa.Column('requested_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('platform_modified_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('signed_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('signed_source', sa.String(length=20), nullable=True),
    sa.Column('return_carrier', sa.String(length=60), nullable=True),
    sa.Column('return_waybill', sa.String(length=64), nullable=True),
    sa.Column('returned_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('refund_due_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('refunded_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('prefers_exchange', sa.Boolean(), nullable=False),
    sa.Column('buyer_confirmed_non_returnable', sa.Boolean(), nullable=False),
    sa.Column('freight_insurance', sa.Boolean(), nullable=True),
    sa.Column('free_shipping', sa.Boolean(), nullable=True),
    sa.Column('condition', sa.String(length=20), nullable=True),
    sa.Column('resellable', sa.Boolean(), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decision_rules', sa.JSON(), nullable=True),
    sa.Column('decision_detail', sa.JSON(), nullable=True),
    sa.Column('freight_payer', sa.String(length=12), nullable=True),
    sa.Column('depreciation_fee', kefu.store.types.Money(), nullable=True),
    sa.Column('decided_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('override_outcome', sa.String(length=20), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('overridden_by', sa.String(length=80), nullable=True),
    sa.Column('overridden_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('handled_by', sa.String(length=80), nullable=True),
    sa.Column('handled_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_return_requests_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_return_requests_order_id_orders')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_return_requests_order_line_id_order_lines')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_return_requests_product_id_products')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_return_requests_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_requests')),
    sa.UniqueConstraint('shop_id', 'refund_id', name='uq_return_requests_refund')
    )
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.create_index('ix_return_requests_order', ['order_id'], unique=False)
        batch_op.create_index('ix_return_requests_product', ['shop_id', 'product_id', 'requested_at'], unique=False)
        batch_op.create_index('ix_return_requests_queue', ['shop_id', 'status', 'refund_due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_return_requests_queue')
        batch_op.drop_index('ix_return_requests_product')
        batch_op.drop_index('ix_return_requests_order')

    op.drop_table('return_requests')
