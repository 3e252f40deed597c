"""kefu: a self-hosted customer-service operations desk for Taobao/Tmall and Shopify shops."""

__version__ = "0.1.0"
