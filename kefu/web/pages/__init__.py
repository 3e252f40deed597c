"""The workbench's HTML pages, one router per page group."""

from kefu.web.pages import (
    audit,
    care,
    cases,
    coupons,
    customers,
    dashboard,
    docs,
    imports,
    inbox,
    kpis,
    knowledge,
    listings,
    login,
    messages,
    orders,
    reviews,
    returns,
    reveal,
    risk,
    segments,
    shop,
    stock,
    users,
)

routers = [
    login.router, shop.router, dashboard.router, customers.router, orders.router, imports.router, reveal.router,
    users.router, audit.router, docs.router,
    stock.router,
    returns.router,
    reviews.router,
    cases.router,
    inbox.router, knowledge.router, kpis.router,
    messages.router,
    segments.router, care.router, coupons.router, risk.router, listings.router,
]
