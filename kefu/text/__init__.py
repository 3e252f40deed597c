"""Chinese shop-text understanding: sentiment (sentiment.py), buyer requests (requests.py), topics, replies.

Nothing is imported here: a module that only needs the request rules (the parcel watch does) must not load the
sentiment model's libraries with them.
"""
