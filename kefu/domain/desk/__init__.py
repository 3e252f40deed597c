"""The service desk's pure rules: response KPIs, knowledge facts, retrieval ranking and reply-draft composition."""
