"""reviews: tables of kefu/store/review_tables.py

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 20:20:00
"""
from alembic import op
import sqlalchemy as sa
import kefu.store.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sentiment_models',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('trained_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('shop_texts', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('about', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_sentiment_models_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sentiment_models')),
    sa.UniqueConstraint('shop_id', name=op.f('uq_sentiment_models_shop_id'))
    )

    op.create_table('reviews',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('review_key', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('parent_id', sa.String(length=32), nullable=True),
    sa.Column('tid', sa.String(length=40), nullable=True),
    sa.Column('oid', sa.String(length=40), nullable=True),
    sa.Column('order_id', sa.String(length=80), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('product_id', sa.String(length=64), nullable=True),
    sa.Column('nick', sa.String(length=200), nullable=True),
    sa.Column('num_iid', sa.String(length=40), nullable=True),
    sa.Column('item_title', sa.String(length=300), nullable=True),
    sa.Column('item_price', kefu.store.types.Money(), nullable=True),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('valid_score', sa.Boolean(), nullable=True),
    sa.Column('created_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('sentiment', sa.String(length=10), nullable=True),
    sa.Column('sentiment_score', sa.Float(), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=True),
    sa.Column('classified_by', sa.String(length=40), nullable=True),
    sa.Column('imported_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_reviews_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_reviews_order_id_orders')),
    sa.ForeignKeyConstraint(['parent_id'], ['reviews.id'], name=op.f('fk_reviews_parent_id_reviews')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_reviews_product_id_products')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_reviews_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('shop_id', 'review_key', name='uq_reviews_key')
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_reviews_order', ['order_id'], unique=False)
        batch_op.create_index('ix_reviews_parent', ['parent_id'], unique=False)
        batch_op.create_index('ix_reviews_shop_created', ['shop_id', 'created_at'], unique=False)
        batch_op.create_index('ix_reviews_shop_result', ['shop_id', 'result'], unique=False)

    op.create_table('review_replies',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('edited', sa.Boolean(), nullable=False),
    sa.Column('created_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('approved_by', sa.String(length=80), nullable=True),
    sa.Column('approved_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.Column('exported_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_replies_review_id_reviews')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_review_replies_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_replies')),
    sa.UniqueConstraint('review_id', name=op.f('uq_review_replies_review_id'))
    )
    with op.batch_alter_table('review_replies', schema=None) as batch_op:
        batch_op.create_index('ix_review_replies_queue', ['shop_id', 'status'], unique=False)

    op.create_table('review_recovery_cases',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('order_id', sa.String(length=80), nullable=True),
    sa.Column('complaint_case_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('deadline_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('cause', sa.String(length=40), nullable=True),
    sa.Column('cause_note', sa.Text(), nullable=True),
    sa.Column('remedy', sa.Text(), nullable=True),
    sa.Column('remedy_cost', kefu.store.types.Money(), nullable=True),
    sa.Column('buyer_satisfied', sa.Boolean(), nullable=True),
    sa.Column('asked_to_update', sa.Boolean(), nullable=False),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.Column('opened_by', sa.String(length=80), nullable=True),
    sa.Column('opened_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.Column('closed_at', kefu.store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_review_recovery_cases_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_review_recovery_cases_order_id_orders')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_recovery_cases_review_id_reviews')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_review_recovery_cases_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_recovery_cases')),
    sa.UniqueConstraint('review_id', name=op.f('uq_review_recovery_cases_review_id'))
    )
    with op.batch_alter_table('review_recovery_cases', schema=None) as batch_op:
        batch_op.create_index('ix_review_recovery_queue', ['shop_id', 'status', 'deadline_at'], unique=False)

    op.create_table('review_evidence',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=80), nullable=True),
    sa.Column('uploaded_at', kefu.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['review_recovery_cases.id'], name=op.f('fk_review_evidence_case_id_review_recovery_cases')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_review_evidence_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_evidence'))
    )
    with op.batch_alter_table('review_evidence', schema=None) as batch_op:
        batch_op.create_index('ix_review_evidence_case', ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_review_evidence_case')
    op.drop_table('review_evidence')
    with op.batch_alter_table('review_recovery_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_review_recovery_queue')
    op.drop_table('review_recovery_cases')
    with op.batch_alter_table('review_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_review_replies_queue')
    op.drop_table('review_replies')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_customer')
        batch_op.drop_index('ix_reviews_order')
        batch_op.drop_index('ix_reviews_parent')
        batch_op.drop_index('ix_reviews_shop_created')
        batch_op.drop_index('ix_reviews_shop_result')
    op.drop_table('reviews')
    op.drop_table('sentiment_models')

