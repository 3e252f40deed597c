"""The workbench's HTML pages, one router per page group."""

from kefu.web.pages import imports, login, reveal, shop

routers = [login.router, shop.router, imports.router, reveal.router]
