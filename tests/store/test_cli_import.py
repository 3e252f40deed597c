"""`kefu import taobao` as a user runs it: rejected rows on stderr as FILE:LINE: reason, exit codes that mean something."""

import json
from pathlib import Path

from typer.testing import CliRunner

from kefu.cli import app

FIXTURES = Path(__file__).parent.parent / "fixtures" / "taobao"
runner = CliRunner()


def run(db: Path, *args: str):
    return runner.invoke(app, ["--db", f"sqlite:///{db}", *args])


def test_import_reports_bad_rows_on_stderr_and_still_exits_zero(tmp_path):
    header = (FIXTURES / "ExportOrderList202503121030.csv").read_bytes().decode("gbk").splitlines()
    bad = tmp_path / "ExportOrderList202503130900.csv"
    bad.write_bytes("\r\n".join([header[0], header[1], header[2].replace("0.00,", "零,", 1)]).encode("gbk"))
    result = run(tmp_path / "k.db", "import", "taobao", "--quiet", str(bad))
    assert result.exit_code == 0, result.output
    assert "ExportOrderList202503130900.csv:3: " in result.stderr and "is not an amount" in result.stderr
    stats = run(tmp_path / "k.db", "stats", "--json")
    assert json.loads(stats.stdout)["orders"] == 1


def test_a_file_that_cannot_be_read_exits_non_zero_with_its_name(tmp_path):
    missing = tmp_path / "ExportOrderList-missing.csv"
    result = run(tmp_path / "k.db", "import", "taobao", "--quiet", str(missing))
    assert result.exit_code != 0
    assert "ExportOrderList-missing.csv" in result.stderr and "not found" in result.stderr


def test_reimport_from_the_cli_adds_nothing(tmp_path):
    fixture = str(FIXTURES / "ExportOrderList202503121030.csv")
    assert run(tmp_path / "k.db", "import", "taobao", "-q", "--shop", "测试店", fixture).exit_code == 0
    assert run(tmp_path / "k.db", "import", "taobao", "-q", "--shop", "测试店", fixture).exit_code == 0
    counts = json.loads(run(tmp_path / "k.db", "stats", "--json").stdout)
    assert (counts["orders"], counts["customers"]) == (3, 3)
