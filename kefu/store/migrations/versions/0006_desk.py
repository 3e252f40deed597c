"""service desk: tables of kefu/store/desk_tables.py

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 20:20:00
"""
from alembic import op
import sqlalchemy as sa
import kefu.store.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('buyer_key', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('waiting', sa.Boolean(), nullable=False),
    sa.Column('assigned_to', sa.String(length=80), nullable=True),
    sa.Column('last_message_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('last_buyer_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('last_intent', sa.String(length=30), nullable=True),
    sa.Column('last_sentiment', sa.String(length=10), nullable=True),
    sa.Column('angry', sa.Boolean(), nullable=False),
    sa.Column('created_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_conversations_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_conversations_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('shop_id', 'channel', 'buyer_key', name='uq_conversations_buyer')
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_conversations_inbox', ['shop_id', 'status', 'last_message_at'], unique=False)

    op.create_table('chat_messages',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=10), nullable=False),
    sa.Column('author', sa.String(length=80), nullable=True),
    sa.Column('auto_reply', sa.Boolean(), nullable=False),
    sa.Column('sent_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('intent', sa.String(length=30), nullable=True),
    sa.Column('sentiment', sa.String(length=10), nullable=True),
    sa.Column('anger', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('created_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_chat_messages_conversation_id_conversations')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_chat_messages_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_messages'))
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_chat_messages_conversation', ['conversation_id', 'sent_at'], unique=False)
        batch_op.create_index('ix_chat_messages_shop_sent', ['shop_id', 'sent_at'], unique=False)

    op.create_table('knowledge_entries',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_knowledge_entries_product_id_products')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_knowledge_entries_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_entries'))
    )
    with op.batch_alter_table('knowledge_entries', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_entries_shop_kind', ['shop_id', 'kind'], unique=False)

    op.create_table('followup_tasks',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('fact_key', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('due_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.Column('done_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_followup_tasks_conversation_id_conversations')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_followup_tasks_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_followup_tasks_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_tasks'))
    )
    with op.batch_alter_table('followup_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_followup_tasks_conversation', ['conversation_id'], unique=False)
        batch_op.create_index('ix_followup_tasks_queue', ['shop_id', 'status', 'due_at'], unique=False)

    op.create_table('customer_personality',
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('computed', sa.String(length=20), nullable=True),
    sa.Column('scores', sa.JSON(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('override', sa.String(length=20), nullable=True),
    sa.Column('overridden_by', sa.String(length=80), nullable=True),
    sa.Column('updated_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_personality_customer_id_customers')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_customer_personality_shop_id_shops')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_personality'))
    )


def downgrade() -> None:
    op.drop_table('customer_personality')
    with op.batch_alter_table('followup_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_tasks_queue')
        batch_op.drop_index('ix_followup_tasks_conversation')
    op.drop_table('followup_tasks')
    with op.batch_alter_table('knowledge_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_entries_shop_kind')
    op.drop_table('knowledge_entries')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_shop_sent')
        batch_op.drop_index('ix_chat_messages_conversation')
    op.drop_table('chat_messages')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_inbox')
        batch_op.drop_index('ix_conversations_customer')
    op.drop_table('conversations')
