import kefu.text.intent_model as intent_model


def test_the_trained_intent_model_is_cached_and_loaded_again(tmp_path, monkeypatch):
    first = intent_model._load_or_train(tmp_path)
    [cached] = tmp_path.glob("intent-*.pickle")

    def no_training(*args, **kwargs):
        raise AssertionError("the cached model should have been used")

    monkeypatch.setattr(intent_model, "train_intent_model", no_training)
    again = intent_model._load_or_train(tmp_path)
    texts = ["亲 什么时候发货", "可以便宜点吗"]
    assert (again.probabilities(texts) == first.probabilities(texts)).all()
    cached.write_bytes(b"not a pickle")  # a damaged cache is trained again, not trusted
    monkeypatch.undo()
    assert intent_model._load_or_train(tmp_path).labels == first.labels
