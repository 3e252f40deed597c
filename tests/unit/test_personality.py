"""Personality type from a buyer's messages: each of the four types with its evidence, and None on too little text."""

from __future__ import annotations

import pytest

from kefu.text.personality import KINDS, classify_personality, read_labelled_buyers, sentences_of

BUYERS = {
    "dominant": [
        "就要这个黑色的，直接拍了。",
        "不用推荐别的，马上给我发顺丰。",
        "价格无所谓，我没时间，今天必须发出！",
    ],
    "expressive": [
        "哇这件也太好看了吧😍😍",
        "上次买的裙子同事都夸我，回头率超高哈哈！！",
        "你觉得我穿这个是不是很显瘦呀~",
    ],
    "amiable": [
        "亲，不好意思打扰了",
        "这两个颜色我好纠结啊，不知道选哪个，你帮我选一个吧",
        "不着急的，我再想想，问问我老公，麻烦你了",
    ],
    "analytical": [
        "这款面料成分具体是什么，含棉量多少%？",
        "和上一代的型号有什么区别，有检测报告吗？",
        "如果穿了起球怎么办，质保多久，售后政策写清楚一点。",
    ],
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_type_is_recognised_with_its_evidence(kind):
    reading = classify_personality(BUYERS[kind])
    assert reading.kind == kind
    assert 1 <= len(reading.evidence) <= 3
    sentences = set(sentences_of(BUYERS[kind]))
    assert all(sentence in sentences for sentence in reading.evidence)
    assert max(reading.scores, key=reading.scores.get) == kind
    assert set(reading.scores) == set(KINDS)


def test_too_little_text_reads_as_none():
    reading = classify_personality(["在吗", "好的"])
    assert reading.kind is None and reading.evidence == ()
    assert classify_personality([]).kind is None
    assert classify_personality(["", "   "]).kind is None


def test_no_clear_winner_reads_as_none():
    mixed = ["就要这个，直接拍了", "好纠结，不知道选哪个颜色，再想想吧"]
    reading = classify_personality(mixed)
    assert reading.scores["dominant"] == reading.scores["amiable"] == 2.0
    assert reading.kind is None


def test_one_weak_cue_is_not_enough():
    assert classify_personality(["请问这件衣服是什么颜色的呀，我就要这个"]).kind is None


def test_evidence_keeps_the_buyers_order():
    reading = classify_personality(BUYERS["analytical"])
    positions = [sentences_of(BUYERS["analytical"]).index(sentence) for sentence in reading.evidence]
    assert positions == sorted(positions)


def test_sentences_split_on_chinese_punctuation():
    assert sentences_of(["好的。谢谢！在吗？", None, "嗯"]) == ["好的。", "谢谢！", "在吗？", "嗯"]


def test_labelled_buyers_file_is_read_and_bad_lines_named():
    rows = read_labelled_buyers("# c\namiable\t麻烦了 | 我再想想\nnone\t在吗\n", "b.tsv")
    assert rows == [("amiable", ["麻烦了", "我再想想"]), (None, ["在吗"])]
    with pytest.raises(ValueError, match="b.tsv:1"):
        read_labelled_buyers("bossy\t快点", "b.tsv")
