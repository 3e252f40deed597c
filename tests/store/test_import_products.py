"""Product catalogue import on SQLite and PostgreSQL: upserts, matching the order importer's products, bad rows."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import openpyxl
from sqlalchemy import func, select

from kefu.demo.export_writer import CatalogRow, write_catalog_csv
from kefu.ids import stable_id
from kefu.services.import_products import import_product_catalog
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import ImportRejection, ImportRun, Product, Sku

D = Decimal
SHOP = "测试小店"

ROWS = [
    CatalogRow("674512390875", "XTZ-SY001", "纯棉圆领短袖T恤女", "上衣", D("49.00"), "白色", "M", "XTZ-SY001-01M", 120),
    CatalogRow("674512390875", "XTZ-SY001", "纯棉圆领短袖T恤女", "上衣", D("49.00"), "白色", "L", "XTZ-SY001-01L", 80),
    CatalogRow("674512390875", "XTZ-SY001", "纯棉圆领短袖T恤女", "上衣", D("59.00"), "黑色", "2XL", "XTZ-SY001-022XL", 3),
    CatalogRow("688249008179", "XTZ-PS001", "珍珠发夹女", "配饰", D("19.90"), "白色珍珠", "", "XTZ-PS001-01", 0),
]


def count(store, table) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def products(store) -> dict[str, Product]:
    with store.session() as session:
        return {p.outer_id: p for p in session.scalars(select(Product))}


def skus(store) -> dict[str, Sku]:
    with store.session() as session:
        return {s.outer_sku_id: s for s in session.scalars(select(Sku))}


def test_catalogue_lands_products_and_skus(store, tmp_path):
    path = tmp_path / "商品目录.csv"
    write_catalog_csv(path, ROWS, encoding="gbk")
    result = import_product_catalog(store, path, SHOP)
    assert result.ok and result.rows_read == 4 and result.rows_landed == 4 and result.rows_rejected == 0
    assert (result.products_new, result.skus_new) == (2, 4)
    found = products(store)
    tee = found["XTZ-SY001"]
    assert tee.platform_item_id == "674512390875" and tee.product_key == "674512390875"
    assert tee.id == stable_id("product", result.shop_id, "674512390875")  # the id the order importer would give it
    assert tee.category == "上衣" and tee.price == D("49.00")  # the lowest SKU price
    assert found["XTZ-PS001"].price == D("19.90")
    by_code = skus(store)
    assert by_code["XTZ-SY001-022XL"].properties == "颜色分类：黑色;尺码：2XL"
    assert by_code["XTZ-SY001-022XL"].price == D("59.00") and by_code["XTZ-SY001-022XL"].stock == 3
    assert by_code["XTZ-PS001-01"].properties == "颜色分类：白色珍珠" and by_code["XTZ-PS001-01"].stock == 0
    with store.session() as session:
        run = session.get(ImportRun, result.run_id)
        assert (run.kind, run.status, run.rows_read, run.rows_rejected) == ("product_catalog", "done", 4, 0)


def test_reimport_changes_nothing_and_a_new_stock_figure_updates_one_sku(store, tmp_path):
    path = tmp_path / "catalog.csv"
    write_catalog_csv(path, ROWS)
    import_product_catalog(store, path, SHOP)
    again = import_product_catalog(store, path, SHOP)
    assert (again.products_new, again.products_updated, again.skus_new, again.skus_updated) == (0, 0, 0, 0)
    assert count(store, Product) == 2 and count(store, Sku) == 4
    changed = [*ROWS[:3], replace(ROWS[3], stock=25)]
    write_catalog_csv(path, changed)
    third = import_product_catalog(store, path, SHOP)
    assert (third.skus_new, third.skus_updated, third.products_updated) == (0, 1, 0)
    assert skus(store)["XTZ-PS001-01"].stock == 25


def test_english_headers_xlsx_and_excel_quirks(store, tmp_path):
    path = tmp_path / "catalog.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["item_id", " outer_id\t", "title", "category", "price", "sku_properties", "sku_outer_id", "stock"])
    sheet.append(['="612345678901"', "A-1", " 亚麻衬衫 ", "上衣", 99.5, "颜色分类:白色; 尺码:M", "A-1-WM", 7])
    sheet.append([612345678901, "A-1", "亚麻衬衫", "上衣", "109", '"颜色分类：白色;尺码：L"', "A-1-WL", "8.0"])
    book.save(path)
    result = import_product_catalog(store, path, SHOP)
    assert result.ok and result.rows_rejected == 0, result.messages()
    assert (result.products_new, result.skus_new) == (1, 2)
    product = products(store)["A-1"]
    assert product.title == "亚麻衬衫" and product.platform_item_id == "612345678901" and product.price == D("99.50")
    found = skus(store)
    assert found["A-1-WM"].properties == "颜色分类：白色;尺码：M" and found["A-1-WM"].price == D("99.50")
    assert found["A-1-WL"].properties == "颜色分类：白色;尺码：L" and found["A-1-WL"].stock == 8


def test_bad_rows_are_reported_with_file_and_line_and_good_rows_land(store, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(
        "商品ID,商家编码,宝贝标题,类目,价格,颜色分类,尺码,SKU编码,库存\n"
        "612000000001,B-1,针织开衫,上衣,159.00,粉色,S,B-1-PS,10\n"
        "612000000001,B-1,针织开衫,上衣,abc,粉色,M,B-1-PM,10\n"
        ",,,上衣,10.00,黑色,M,X,1\n"
        "612000000002,B-2,,上衣,10.00,黑色,M,B-2-BM,1\n"
        "612000000001,B-1,针织开衫,上衣,159.00,粉色,L,B-1-PL,-3\n"
        "612000000001,B-1,针织开衫,上衣,159.00,粉色,XL\n"
        "612000000001,B-1,针织开衫,上衣,-1,粉色,XL,B-1-PXL,2\n"
        "\n"
        "612000000001,B-1,针织开衫,上衣,159.00,粉色,XL,B-1-PXL,2\n",
        encoding="utf-8",
    )
    result = import_product_catalog(store, path, SHOP, display_name="upload.csv")
    assert result.ok
    assert result.rows_read == 8 and result.rows_landed == 2 and result.rows_rejected == 6
    messages = result.messages()
    assert messages[0] == "upload.csv:3: 价格 'abc' 不是金额 / is not an amount"
    assert messages[1].startswith("upload.csv:4: 商品ID/商家编码/宝贝标题 all empty")
    assert messages[2].startswith("upload.csv:5: 宝贝标题 is empty")
    assert messages[3] == "upload.csv:6: 库存 '-3' is negative"
    assert messages[4].startswith("upload.csv:7: wrong column count")
    assert messages[5] == "upload.csv:8: 价格 '-1' is negative"
    assert set(skus(store)) == {"B-1-PS", "B-1-PXL"}
    with store.session() as session:
        stored = session.scalars(select(ImportRejection.line_no).where(ImportRejection.run_id == result.run_id)).all()
        assert sorted(stored) == [3, 4, 5, 6, 7, 8]


def test_products_made_by_the_order_importer_are_found_not_duplicated(store, tmp_path):
    with store.session() as session:
        shop = get_or_create_shop(session, SHOP)
        shop_id = shop.id
        # As the order importer leaves them: one keyed by title (legacy line report), one by outer id.
        session.add(Product(id=stable_id("product", shop_id, "纯棉圆领短袖T恤女"), shop_id=shop_id,
                            product_key="纯棉圆领短袖T恤女", title="纯棉圆领短袖T恤女"))
        session.add(Product(id=stable_id("product", shop_id, "XTZ-PS001"), shop_id=shop_id, product_key="XTZ-PS001",
                            outer_id="XTZ-PS001", title="珍珠发夹"))
        # Same title, but another listing (another 商品ID): must not be taken for the catalogue's product.
        session.add(Product(id="other", shop_id=shop_id, product_key="699999999999", platform_item_id="699999999999",
                            title="珍珠发夹女"))
    path = tmp_path / "catalog.csv"
    write_catalog_csv(path, ROWS)
    result = import_product_catalog(store, path, SHOP)
    assert (result.products_new, result.products_updated) == (0, 2)
    assert count(store, Product) == 3
    found = products(store)
    assert found["XTZ-SY001"].platform_item_id == "674512390875"
    assert found["XTZ-SY001"].product_key == "纯棉圆领短袖T恤女"  # keys stay, so the order importer still finds it
    assert found["XTZ-PS001"].title == "珍珠发夹女" and found["XTZ-PS001"].platform_item_id == "688249008179"


def test_without_a_shop_name_the_only_shop_is_used(store, tmp_path):
    with store.session() as session:
        shop_id = get_or_create_shop(session, "唯一的店").id
    path = tmp_path / "catalog.csv"
    write_catalog_csv(path, ROWS[:1])
    result = import_product_catalog(store, path)
    assert result.shop_id == shop_id and result.shop_name == "唯一的店"


def test_a_file_without_a_catalogue_header_fails_and_stores_nothing(store, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\n1,2\n", encoding="utf-8")
    result = import_product_catalog(store, path, SHOP)
    assert not result.ok and result.error.startswith("notes.csv: no product catalogue header")
    assert count(store, Product) == 0
    with store.session() as session:
        assert session.get(ImportRun, result.run_id).status == "failed"
    missing = import_product_catalog(store, tmp_path / "absent.csv", SHOP)
    assert missing.error == "absent.csv: file not found"
