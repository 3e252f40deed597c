"""messaging: tables of kefu/store/messaging_tables.py, and procrastinate's queue schema on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 20:20:00
"""
from alembic import op
import sqlalchemy as sa
import kefu.store.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('message_templates',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('template_key', sa.String(length=60), nullable=False),
    sa.Column('voice', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_message_templates_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('shop_id', 'template_key', 'voice', name='uq_message_templates_key')
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('order_id', sa.String(length=80), nullable=True),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('template_key', sa.String(length=60), nullable=True),
    sa.Column('voice', sa.String(length=20), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('variables', sa.JSON(), nullable=True),
    sa.Column('channel', sa.String(length=30), nullable=True),
    sa.Column('idempotency_key', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('claimed_until', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('provider_message_id', sa.String(length=120), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('sent_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('updated_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_outbox_messages_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_outbox_messages_order_id_orders')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_outbox_messages_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name='uq_outbox_messages_idempotency_key')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_customer', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_queue', ['shop_id', 'status', 'created_at'], unique=False)

    op.create_table('message_decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_message_decisions_message_id_outbox_messages')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_message_decisions_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_decisions'))
    )
    with op.batch_alter_table('message_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_message_decisions_message', ['message_id', 'at'], unique=False)

    op.create_table('message_suppressions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('sign_name', sa.String(length=60), nullable=True),
    sa.Column('source_text', sa.Text(), nullable=True),
    sa.Column('created_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_message_suppressions_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_message_suppressions_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_suppressions')),
    sa.UniqueConstraint('shop_id', 'customer_id', 'scope', name='uq_message_suppressions_customer')
    )

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # the task queue's own tables, in their own schema (kefu.queue.schema)
        from kefu.queue.schema import apply_queue_schema

        apply_queue_schema(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from kefu.queue.schema import drop_queue_schema

        drop_queue_schema(bind)
    op.drop_table('message_suppressions')
    with op.batch_alter_table('message_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_message_decisions_message')
    op.drop_table('message_decisions')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_queue')
        batch_op.drop_index('ix_outbox_messages_due')
        batch_op.drop_index('ix_outbox_messages_customer')
    op.drop_table('outbox_messages')
    op.drop_table('message_templates')
