"""Webhook receivers: platforms push order changes here (Shopify today); each module exposes a FastAPI `router`."""
