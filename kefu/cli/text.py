"""CLI commands: `kefu text analyze` (intent, sentiment, anger, topics per buyer message) and `kefu text personality`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator

import typer

from kefu.config import shop_rules

BATCH_LINES = 2048  # lines analysed together: the models run once per batch, not once per line

text_app = typer.Typer(
    name="text",
    help="买家消息理解：意图、情绪、怒气、投诉主题、性格类型 / Buyer-message understanding: intent, sentiment, anger, "
    "complaint topics, personality type",
    no_args_is_help=True,
)


def _batches(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@text_app.command("analyze")
def analyze_command(
    call_threshold: float = typer.Option(
        None, "--call-threshold", min=0.0, max=1.0,
        help="怒气达到此值建议电话联系（默认取配置 text_understanding.anger_call_threshold）/ anger from which a call is "
        "suggested (default from configuration)",
    ),
) -> None:
    """从标准输入逐行读取买家消息，每行输出一个 JSON / Read buyer messages from stdin, print one JSON object per line."""
    threshold = (
        call_threshold if call_threshold is not None
        else float(shop_rules(None)["text_understanding"]["anger_call_threshold"])
    )
    out = sys.stdout
    for batch in _batches(sys.stdin, BATCH_LINES):
        out.write(analysed_json_lines(batch, threshold))
        out.flush()


def analysed_json_lines(batch: list[str], call_threshold: float) -> str:
    """The output of `kefu text analyze` for a batch of lines: one JSON object per line, newline-terminated."""
    from kefu.text.understand import analyze_many

    rows = [
        json.dumps({"text": text, **analysis.to_json(call_threshold)}, ensure_ascii=False)
        for text, analysis in zip(batch, analyze_many(batch), strict=True)
    ]
    return "\n".join(rows) + "\n"


@text_app.command("personality")
def personality_command() -> None:
    """从标准输入读取一位买家的全部消息，判断性格类型并给出依据 / Read one buyer's messages from stdin, print their
    personality type with evidence."""
    from kefu.text.personality import classify_personality

    reading = classify_personality([line.strip() for line in sys.stdin if line.strip()])
    typer.echo(json.dumps({"kind": reading.kind, "scores": reading.scores, "evidence": list(reading.evidence)},
                          ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add the `kefu text` group to the root app."""
    app.add_typer(text_app, name="text")
