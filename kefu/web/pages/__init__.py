"""The workbench's HTML pages, one router per page group."""

from kefu.web.pages import (
    audit,
    cases,
    customers,
    dashboard,
    docs,
    imports,
    login,
    messages,
    orders,
    reviews,
    reveal,
    shop,
    stock,
    users,
)

routers = [
    login.router, shop.router, dashboard.router, customers.router, orders.router, imports.router, reveal.router,
    users.router, audit.router, docs.router,
    reviews.router,
    cases.router,
    stock.router,
    messages.router,
]
