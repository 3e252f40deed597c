"""The workbench's HTML pages, one router per page group."""

from kefu.web.pages import audit, docs, imports, login, orders, reveal, shop, users

routers = [login.router, shop.router, orders.router, imports.router, reveal.router, users.router, audit.router, docs.router]

try:  # TEMPORARY until kefu.services.customer360 / stats land
    from kefu.web.pages import customers, dashboard

    routers[2:2] = [dashboard.router, customers.router]
except ImportError:
    pass
