"""The workbench's HTML pages, one router per page group."""

from kefu.web.pages import audit, docs, imports, login, orders, reveal, shop, users

routers = [login.router, shop.router, imports.router, orders.router, reveal.router, users.router, audit.router, docs.router]
