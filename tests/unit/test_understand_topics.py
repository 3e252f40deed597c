"""Complaint topics and anger: the subject alone is no complaint, negations praise, cues add up."""

from __future__ import annotations

import pytest

from kefu.text.anger import anger_of
from kefu.text.topics import TOPICS, find_topics


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("色差太大 跟图片完全两个颜色", "quality.colour"),
        ("洗一次就起球 面料太差", "quality.material"),
        ("尺码偏小 平时穿M这个穿不上", "quality.size"),
        ("实物很丑 和图片不一样", "quality.style"),
        ("说好的满减怎么没减", "promotion.unclear"),
        ("不是说有运费险吗 退货运费凭什么我出", "promotion.return_freight"),
        ("物流太慢了 五天了还没到", "logistics.slow"),
        ("快递员不送上门 直接放驿站", "logistics.courier_attitude"),
        ("箱子都压烂了 杯子碎了", "logistics.damaged"),
        ("客服爱答不理 态度很差", "service.attitude"),
    ],
)
def test_each_topic_is_found(text, topic):
    assert topic in find_topics(text)


@pytest.mark.parametrize("text", ["有别的颜色吗", "这个什么材质", "尺码怎么选", "没有色差 很满意", "物流很快 谢谢", ""])
def test_subjects_questions_and_praise_name_no_topic(text):
    assert find_topics(text) == ()


def test_topics_come_in_the_fixed_order():
    found = find_topics("客服不理人 快递也慢 衣服还掉色")
    assert list(found) == sorted(found, key=TOPICS.index)
    assert set(found) == {"quality.colour", "logistics.slow", "service.attitude"}


def test_anger_grows_with_threats_insults_and_repeated_marks():
    calm = anger_of("请问什么时候发货", 0.5)
    sad = anger_of("有点失望", 0.2)
    angry = anger_of("骗子！！再不退款我就投诉", 0.05)
    assert calm == 0.0 and 0 < sad < 0.3 < angry
    assert angry >= 0.6
    assert anger_of("骗子", 0.05, complaint=True) > anger_of("骗子", 0.05)
    assert 0.0 <= anger_of("垃圾 骗子 投诉 气死了 马上给我退！！！ 都五天了", 0.0, complaint=True) <= 1.0


def test_polite_words_soften_anger():
    assert anger_of("麻烦你们 再不发货我就投诉了", 0.3) < anger_of("再不发货我就投诉了", 0.3)
