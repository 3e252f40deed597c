from kefu.config import SHOP_RULE_DEFAULTS
from kefu.domain.risk.extortion import RiskInputs, RiskRules, score_buyer

RULES = RiskRules.from_config(SHOP_RULE_DEFAULTS["extortion_risk"])


def codes(score):
    return [s.code for s in score.signals]


def test_a_loyal_buyer_asking_normally_is_low_risk():
    score = score_buyer(RiskInputs(paid_orders_before=6, province="浙江", messages=["这件有M码吗？", "谢谢亲"]), RULES)
    assert score.level == "low" and score.score == 0


def test_the_seeds_pattern_new_remote_cod_same_day():
    inputs = RiskInputs(paid_orders_before=0, province="新疆", messages=["今天能发货吗？发新疆，货到付款"])
    score = score_buyer(inputs, RULES)
    assert codes(score) == ["new_buyer", "remote_cod_same_day"]
    assert score.level == "medium" and score.signals[1].evidence.startswith("今天能发货吗")


def test_extortion_language_and_off_platform_payment_make_it_high_and_are_quoted():
    inputs = RiskInputs(paid_orders_before=0, messages=["衣服有线头，不赔我200就给差评", "加微信转账给我"])
    score = score_buyer(inputs, RULES)
    assert score.level == "high"
    assert {"extortion_language", "off_platform_payment"} <= set(codes(score))
    assert next(s for s in score.signals if s.code == "extortion_language").evidence == "衣服有线头，不赔我200就给差评"


def test_history_counts_are_capped_and_12315_is_not_a_signal():
    inputs = RiskInputs(paid_orders_before=2, past_complaints=9, messages=["我要打12315投诉"])
    score = score_buyer(inputs, RULES)
    assert codes(score) == ["past_complaints"] and score.score == 30


def test_invoice_trap_is_recognised():
    score = score_buyer(RiskInputs(paid_orders_before=1, messages=["开发票要补税点吗？不开发票我就投诉"]), RULES)
    assert "invoice_trap" in codes(score)
